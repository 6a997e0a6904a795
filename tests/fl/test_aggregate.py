"""Aggregation strategies and the proof-free FedAvg baseline (real torch, real digits)."""

from __future__ import annotations

import pytest
import torch

from zkpot.aggregate import (
    AggregationError,
    FedAvg,
    LeaderModel,
    LocalTrainConfig,
    ModelUpdate,
    accuracy,
    count_correct,
    plain_fedavg,
    strategy_for,
)
from zkpot.data import (
    LabelFlipConfig,
    PartitionConfig,
    TestSetConfig,
    flip_labels,
    load_digits,
    partition,
    round_test_set,
    split_holdout,
)
from zkpot.model_codec import StateDict
from zkpot.models import MLP_DIGITS, TINY_MLP, build_model


def _state(seed: int) -> StateDict:
    return {k: v.clone() for k, v in build_model(TINY_MLP, seed=seed).state_dict().items()}


def test_fedavg_is_the_weighted_mean_of_verified_models_only() -> None:
    a, b, c = _state(1), _state(2), _state(3)
    updates = [
        ModelUpdate("0xA", a, weight=30, verified=True),
        ModelUpdate("0xB", b, weight=10, verified=True),
        ModelUpdate("0xC", c, weight=1000, verified=False),
    ]
    result = FedAvg().aggregate(updates, leader="0xA")
    for key in a:
        expected = (0.75 * a[key].double() + 0.25 * b[key].double()).float()
        assert torch.equal(result[key], expected)
        assert result[key].dtype == a[key].dtype
    equal = FedAvg(weighting="equal").aggregate(updates, leader="0xA")
    assert torch.allclose(equal["0.weight"], (a["0.weight"] + b["0.weight"]) / 2)


def test_fedavg_is_bit_identical_whatever_the_arrival_order() -> None:
    updates = [ModelUpdate(f"0x{i}", _state(i), weight=i + 1, verified=True) for i in range(5)]
    forward = FedAvg().aggregate(updates, leader="0x0")
    backward = FedAvg().aggregate(list(reversed(updates)), leader="0x0")
    assert all(torch.equal(forward[k], backward[k]) for k in forward)


def test_fedavg_refuses_what_it_cannot_aggregate() -> None:
    with pytest.raises(AggregationError, match="No verified model"):
        FedAvg().aggregate([ModelUpdate("0xA", _state(1))], leader="0xA")
    big = build_model(MLP_DIGITS).state_dict()
    with pytest.raises(AggregationError, match="does not have the same tensors"):
        FedAvg().aggregate(
            [ModelUpdate("0xA", _state(1), verified=True), ModelUpdate("0xB", big, verified=True)],
            leader="0xA",
        )
    with pytest.raises(AggregationError, match="appears twice"):
        FedAvg().aggregate(
            [
                ModelUpdate("0xA", _state(1), verified=True),
                ModelUpdate("0xA", _state(2), verified=True),
            ],
            leader="0xA",
        )
    with pytest.raises(AggregationError, match="positive sum"):
        FedAvg().aggregate([ModelUpdate("0xA", _state(1), weight=0, verified=True)], leader="0xA")


def test_integer_buffers_are_copied_not_averaged() -> None:
    a = {"w": torch.ones(2), "steps": torch.tensor(3)}
    b = {"w": torch.zeros(2), "steps": torch.tensor(7)}
    result = FedAvg().aggregate(
        [ModelUpdate("0xB", b, verified=True), ModelUpdate("0xA", a, verified=True)], leader="0xA"
    )
    assert result["steps"].item() == 3 and torch.equal(result["w"], torch.full((2,), 0.5))


def test_leader_model_policy_returns_the_leaders_weights() -> None:
    a, b = _state(1), _state(2)
    updates = [ModelUpdate("0xA", a, verified=True), ModelUpdate("0xB", b, verified=True)]
    result = LeaderModel().aggregate(updates, leader="0xB")
    assert all(torch.equal(result[k], b[k]) for k in b)
    result["0.weight"].add_(1.0)  # a copy: mutating it leaves the participant's model alone
    assert not torch.equal(result["0.weight"], b["0.weight"])
    with pytest.raises(AggregationError, match="leader 0xC"):
        LeaderModel().aggregate(updates, leader="0xC")
    unverified_leader = [ModelUpdate("0xA", a, verified=True), ModelUpdate("0xB", b)]
    with pytest.raises(AggregationError, match="leader 0xB"):
        LeaderModel().aggregate(unverified_leader, leader="0xB")


def test_policies_by_name() -> None:
    assert isinstance(strategy_for("fedavg"), FedAvg)
    assert isinstance(strategy_for("leader-model"), LeaderModel)
    with pytest.raises(AggregationError, match="Unknown aggregation policy 'median'"):
        strategy_for("median")


def test_plain_fedavg_baseline_learns_and_is_deterministic() -> None:
    digits = load_digits()
    train, pool = split_holdout(digits, 0.25, seed=0)
    clients = partition(train, PartitionConfig(participants=3, seed=0))
    tests = [round_test_set(pool, r, TestSetConfig(64, 2, seed=0)).combined() for r in range(3)]
    local = LocalTrainConfig(epochs=3, lr=0.05, batch_size=32)

    def factory() -> torch.nn.Module:
        return build_model(MLP_DIGITS, seed=0)

    untrained = accuracy(factory(), tests[0])
    first = plain_fedavg(factory, clients, tests, local=local, seed=1)
    again = plain_fedavg(factory, clients, tests, local=local, seed=1)
    assert first.accuracies == again.accuracies
    assert first.accuracies[-1] > 0.85 > untrained + 0.5
    assert all(torch.equal(first.final_state[k], again.final_state[k]) for k in first.final_state)

    # With every client poisoned the baseline learns the flipped labels, not the digits.
    poisoned = [flip_labels(c, LabelFlipConfig()) for c in clients]
    bad = plain_fedavg(factory, poisoned, tests, local=local, seed=1)
    assert bad.accuracies[-1] < 0.2
    model = factory()
    model.load_state_dict(first.final_state)
    assert count_correct(model, tests[2]) == round(first.accuracies[2] * len(tests[2]))


def _sha_commitment(state: StateDict) -> str:
    import hashlib

    from zkpot.model_codec import serialize_state_dict

    return "0x" + hashlib.sha256(serialize_state_dict(state)).hexdigest()


def test_leader_accepts_only_models_matching_their_onchain_commitment() -> None:
    from zkpot.aggregate import check_received
    from zkpot.model_codec import RejectionReason

    honest, swapped, stranger = _state(1), _state(2), _state(3)
    onchain = {
        "0xA": _sha_commitment(honest).upper().replace("0X", "0x"),  # case does not matter
        # B committed another model than it sent (bytes, as the chain client returns them).
        "0xB": bytes.fromhex(_sha_commitment(_state(9))[2:]),
    }
    accepted, rejected = check_received(
        {"0xA": honest, "0xB": swapped, "0xC": stranger},
        onchain,
        lambda payload: _sha_commitment(payload.state),
        weights={"0xA": 40.0},
    )
    assert [(u.participant, u.weight, u.verified) for u in accepted] == [("0xA", 40.0, True)]
    reasons = {r.participant: r.reason for r in rejected}
    assert "does not match the on-chain" in reasons["0xB"]
    assert reasons["0xC"] == "no verified submission on chain"
    codes = {r.participant: r.code for r in rejected}
    assert codes == {
        "0xB": RejectionReason.COMMITMENT_MISMATCH,
        "0xC": RejectionReason.NOT_VERIFIED,
    }
    result = FedAvg().aggregate(accepted, leader="0xA")
    assert all(torch.equal(result[k], honest[k]) for k in honest)
