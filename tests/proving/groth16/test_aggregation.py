"""Proven aggregation with real proofs on the tiny MLP (K = 2): the fixed-point aggregate,
its round trip to a torch model, float FedAvg beside it, and a leader that cheats."""

from __future__ import annotations

import copy
import dataclasses
import random
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from torch import nn

from zkpot import aggregate, data, models, train
from zkpot.errors import ProvingError
from zkpot.proving import circuit, fixedpoint
from zkpot.proving.groth16 import aggregation, circom, prover, solidity

SLOTS = 2
EVAL = slice(1200, 1797)
"""The digits evaluation set: every model here trains on a shard of digits[:1200]."""
SAME_ACCURACY = 0.01
"""Float FedAvg and the fixed-point aggregate may classify a few near-tied samples
differently (their parameters differ by up to one unit), so "same accuracy" is checked to
1 % of the set. Measured with these set-ups (two tiny models, 5 to 20 epochs): 0 or 1
samples of 597 apart on float argmax, 1 to 3 on the fixed-point count."""


def tiny_spec() -> circuit.CircuitSpec:
    return circuit.CircuitSpec(models.TINY_MLP, samples=4, backend="groth16")


def local_model(seed: int, epochs: int = 10) -> nn.Module:
    digits = data.load_digits()
    shard = slice(seed * 400, seed * 400 + 400)
    model = models.build_model(models.TINY_MLP, seed=0)  # every round starts from one model
    return train.train_local(model, digits.X[shard], digits.y[shard], epochs=epochs, lr=0.05,
                             batch_size=32, seed=seed)


def eval_count(model: nn.Module) -> int:
    digits = data.load_digits()
    return train.count_correct(model, digits.X[EVAL], digits.y[EVAL])


def fixed_point_count(spec: circuit.CircuitSpec, model: nn.Module) -> int:
    digits = data.load_digits()
    logits = fixedpoint.logits(spec, model, digits.X[EVAL])
    return int(fixedpoint.strict_wins(logits, digits.y[EVAL]).sum())


@dataclasses.dataclass(frozen=True)
class Round:
    """Two included local models (A, B), an outsider D, and the honest global model."""

    agg: aggregation.AggregationSpec
    circ: aggregation.Groth16AggregationCircuit
    work: Path
    models: dict[str, nn.Module]
    blindings: dict[str, circuit.Blinding]
    commitments: dict[str, bytes]
    weights: list[int]
    """A's and B's verified counts (what the chain records)."""
    global_params: aggregation.ModelParams
    global_blinding: circuit.Blinding
    public: aggregation.AggregationStatement
    """The statement the contract would recompute: [C_A, C_B], [w_A, w_B], C_global."""

    def inputs(self, names: list[str], public: aggregation.AggregationStatement | None = None,
               ) -> dict[str, object]:
        return aggregation.aggregation_inputs(
            self.agg, [self.models[n] for n in names], [self.blindings[n] for n in names],
            public or self.public, self.global_blinding)

    def commit(self, params: aggregation.ModelParams) -> bytes:
        return aggregation.commitment_of(self.agg.spec, params, self.global_blinding)

    def claiming(self, global_commitment: bytes) -> aggregation.AggregationStatement:
        return aggregation.AggregationStatement(self.public.commitments, self.public.weights,
                                                global_commitment)


@pytest.fixture(scope="module")
def rnd(tmp_path_factory: pytest.TempPathFactory) -> Round:
    spec = tiny_spec()
    agg = aggregation.AggregationSpec(spec, SLOTS)
    root = tmp_path_factory.mktemp("aggregation")
    circ = aggregation.setup_aggregation(agg, root / "circuit")
    local = {"a": local_model(0), "b": local_model(1), "d": local_model(2)}
    blindings = {name: circuit.new_blinding() for name in local}
    commitments = {name: circom.model_commitment(spec, m, blindings[name])
                   for name, m in local.items()}
    weights = [eval_count(local["a"]), eval_count(local["b"])]
    params = aggregation.fixed_point_aggregate(spec, [local["a"], local["b"]], weights)
    global_blinding = circuit.new_blinding()
    public = aggregation.statement(agg, [commitments["a"], commitments["b"]], weights,
                                   aggregation.commitment_of(spec, params, global_blinding))
    return Round(agg, circ, root / "work", local, blindings, commitments, weights, params,
                 global_blinding, public)


@pytest.fixture(scope="module")
def honest(rnd: Round) -> prover.Groth16Proof:
    return aggregation.prove_aggregation(rnd.circ, rnd.inputs(["a", "b"]), rnd.work, "honest")


def _no_witness(rnd: Round, inputs: dict[str, object]) -> None:
    with pytest.raises(ProvingError, match="witness"):
        aggregation.witness(rnd.circ, inputs, rnd.work, "cheat")


def _rejects(rnd: Round, honest: prover.Groth16Proof, global_commitment: bytes) -> None:
    """The honest proof does not verify for a different global commitment."""
    signals = rnd.claiming(global_commitment).public_signals()
    assert signals != honest.public_signals
    assert aggregation.verify_aggregation(rnd.circ, honest.proof, signals) is False


# --- the fixed-point aggregate -----------------------------------------------------------


def test_rounded_mean_rounds_to_nearest_with_ties_up() -> None:
    assert aggregation.rounded_mean([1, 2], [1, 1]) == 2
    assert aggregation.rounded_mean([-1, -2], [1, 1]) == -1
    assert aggregation.rounded_mean([-3, 4], [1, 1]) == 1
    assert aggregation.rounded_mean([7, 9, 100], [3, 5, 0]) == 8  # 8.25
    rng = random.Random(11)
    for _ in range(2000):
        k = rng.randint(1, 8)
        values = [rng.randint(-(1 << 15), (1 << 15) - 1) for _ in range(k)]
        weights = [rng.randint(0, 300) for _ in range(k)]
        if not sum(weights):
            continue
        exact = Fraction(sum(w * v for w, v in zip(weights, values, strict=True)), sum(weights))
        g = aggregation.rounded_mean(values, weights)
        assert exact - Fraction(1, 2) < g <= exact + Fraction(1, 2)


def test_aggregate_refuses_bad_weights() -> None:
    spec = tiny_spec()
    model = models.build_model(models.TINY_MLP, seed=0)
    for weights in ([0], [-1], [1 << 16], [True]):
        with pytest.raises(aggregation.AggregationProofError):
            aggregation.fixed_point_aggregate(spec, [model], weights)  # type: ignore[arg-type]
    with pytest.raises(aggregation.AggregationProofError):
        aggregation.fixed_point_aggregate(spec, [model, model], [1])


def test_global_model_quantizes_back_to_the_aggregate(rnd: Round) -> None:
    spec = rnd.agg.spec
    model = aggregation.to_model(spec, rnd.global_params)
    assert aggregation.quantized_params(spec, model) == rnd.global_params
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # The global model's accuracy proof commits to the same value the aggregation proves.
    assert circom.model_commitment(spec, model, rnd.global_blinding) == \
        rnd.public.global_commitment
    # Models given as quantized integers aggregate exactly like the torch models.
    as_params = [aggregation.quantized_params(spec, rnd.models[n]) for n in ("a", "b")]
    assert aggregation.fixed_point_aggregate(spec, as_params, rnd.weights) == rnd.global_params


def test_aggregate_float32_cannot_hold_is_refused() -> None:
    spec = tiny_spec()
    params = [list(part) for part in aggregation.padding_params(spec)]
    params[3][0] = (1 << 24) + 1  # an output bias at scale 21: 25 significant bits
    with pytest.raises(aggregation.AggregationProofError, match="float32"):
        aggregation.to_model(spec, tuple(tuple(p) for p in params))


def test_float_fedavg_and_fixed_point_aggregate_agree(rnd: Round) -> None:
    spec = rnd.agg.spec
    updates = [aggregate.ModelUpdate(name, rnd.models[name].state_dict(), float(w), True)
               for name, w in zip(("a", "b"), rnd.weights, strict=True)]
    fedavg = models.build_model(models.TINY_MLP)
    fedavg.load_state_dict(aggregate.FedAvg().aggregate(updates, leader="a"))
    fixed = aggregation.to_model(spec, rnd.global_params)
    # At most one unit of each parameter's scale: half from quantizing each local
    # model, half from the rounding rule.
    float_params = aggregation.quantized_params(spec, fedavg)
    gaps = [abs(f - g) for fp, gp in zip(float_params, rnd.global_params, strict=True)
            for f, g in zip(fp, gp, strict=True)]
    assert max(gaps) <= 1
    tolerance = SAME_ACCURACY * (EVAL.stop - EVAL.start)
    assert abs(eval_count(fedavg) - eval_count(fixed)) <= tolerance
    assert abs(fixed_point_count(spec, fedavg) - fixed_point_count(spec, fixed)) <= tolerance


# --- real proofs ------------------------------------------------------------------------


@pytest.mark.slow
def test_honest_aggregate_proves_and_verifies(rnd: Round, honest: prover.Groth16Proof) -> None:
    ca, cb = (int.from_bytes(rnd.commitments[n], "big") for n in ("a", "b"))
    assert honest.public_signals == [ca, cb, *rnd.weights,
                                     int.from_bytes(rnd.public.global_commitment, "big")]
    assert honest.public_signals == rnd.public.public_signals()
    assert aggregation.verify_aggregation(rnd.circ, honest.proof, honest.public_signals)
    descriptor = rnd.circ.descriptor
    assert descriptor["public_signals"] == rnd.agg.public_signals == 2 * SLOTS + 1
    compiled = solidity.compile_verifier(aggregation.verifier_source(rnd.circ),
                                         aggregation.verifier_name(rnd.agg))
    assert [f["name"] for f in compiled.abi] == ["verifyProof"]


@pytest.mark.slow
def test_tampered_proof_or_any_signal_fails_verification(
    rnd: Round, honest: prover.Groth16Proof
) -> None:
    flipped = bytearray(honest.proof)
    flipped[100] ^= 1
    assert not aggregation.verify_aggregation(rnd.circ, bytes(flipped), honest.public_signals)
    for index in range(len(honest.public_signals)):
        signals = list(honest.public_signals)
        signals[index] = (signals[index] + 1) % prover.FIELD_MODULUS
        assert not aggregation.verify_aggregation(rnd.circ, honest.proof, signals)
    assert not aggregation.verify_aggregation(rnd.circ, honest.proof, honest.public_signals[:-1])


def test_one_participant_fills_the_empty_slot_with_the_padding_commitment(rnd: Round) -> None:
    spec = rnd.agg.spec
    only_a = aggregation.fixed_point_aggregate(spec, [rnd.models["a"]], [rnd.weights[0]])
    public = aggregation.statement(rnd.agg, [rnd.commitments["a"]], [rnd.weights[0]],
                                   rnd.commit(only_a))
    assert public.commitments[1] == aggregation.padding_commitment(spec)
    assert public.weights == (rnd.weights[0], 0)
    _, signals = aggregation.witness(rnd.circ, rnd.inputs(["a"], public), rnd.work, "one")
    assert signals == public.public_signals()
    # A's model alone, dequantized, is A's quantized model: weight 0 adds nothing.
    assert only_a == aggregation.quantized_params(spec, rnd.models["a"])


# --- a leader that cheats: no witness, and the honest proof does not transfer -------------


def test_global_model_of_the_leaders_choosing_is_rejected(
    rnd: Round, honest: prover.Groth16Proof
) -> None:
    own = rnd.commit(aggregation.quantized_params(rnd.agg.spec, rnd.models["a"]))
    _no_witness(rnd, rnd.inputs(["a", "b"], rnd.claiming(own)))
    _rejects(rnd, honest, own)


@pytest.mark.slow
def test_aggregate_with_wrong_weights_is_rejected(rnd: Round,
                                                  honest: prover.Groth16Proof) -> None:
    wrong_weights = [rnd.weights[0], rnd.weights[1] * 3]
    wrong = rnd.commit(aggregation.fixed_point_aggregate(
        rnd.agg.spec, [rnd.models["a"], rnd.models["b"]], wrong_weights))
    assert wrong != rnd.public.global_commitment
    _no_witness(rnd, rnd.inputs(["a", "b"], rnd.claiming(wrong)))
    _rejects(rnd, honest, wrong)
    # Proving the wrong weights as public inputs works, but only for those weights: the
    # contract's own weights (the verified counts) do not verify.
    cheat = aggregation.AggregationStatement(rnd.public.commitments, tuple(wrong_weights), wrong)
    proof = aggregation.prove_aggregation(rnd.circ, rnd.inputs(["a", "b"], cheat), rnd.work,
                                          "wrong-weights")
    assert aggregation.verify_aggregation(rnd.circ, proof.proof, cheat.public_signals())
    chain_signals = rnd.claiming(wrong).public_signals()
    assert aggregation.verify_aggregation(rnd.circ, proof.proof, chain_signals) is False


def test_omitted_participant_is_rejected(rnd: Round, honest: prover.Groth16Proof) -> None:
    only_a = rnd.commit(aggregation.fixed_point_aggregate(
        rnd.agg.spec, [rnd.models["a"]], [rnd.weights[0]]))
    # B's slot left empty while the chain lists B, or B present but not averaged in.
    _no_witness(rnd, rnd.inputs(["a"], rnd.claiming(only_a)))
    _no_witness(rnd, rnd.inputs(["a", "b"], rnd.claiming(only_a)))
    _rejects(rnd, honest, only_a)


def test_added_participant_is_rejected(rnd: Round) -> None:
    spec = rnd.agg.spec
    # The chain lists A alone (slot 1 empty); the leader slips in D's model.
    chain = aggregation.statement(rnd.agg, [rnd.commitments["a"]], [rnd.weights[0]],
                                  rnd.commit(aggregation.fixed_point_aggregate(
                                      spec, [rnd.models["a"]], [rnd.weights[0]])))
    with_d = rnd.commit(aggregation.fixed_point_aggregate(
        spec, [rnd.models["a"], rnd.models["d"]], [rnd.weights[0], eval_count(rnd.models["d"])]))
    added = aggregation.AggregationStatement(chain.commitments, chain.weights, with_d)
    _no_witness(rnd, rnd.inputs(["a", "d"], added))
    # And D in the empty slot under A's honest global commitment: D is not the padding model.
    _no_witness(rnd, rnd.inputs(["a", "d"], chain))


def test_model_fine_tuned_after_aggregation_is_rejected(
    rnd: Round, honest: prover.Groth16Proof
) -> None:
    digits = data.load_digits()
    tuned = copy.deepcopy(aggregation.to_model(rnd.agg.spec, rnd.global_params))
    train.train_local(tuned, digits.X[EVAL], digits.y[EVAL], epochs=1, lr=0.05,
                      batch_size=32, seed=5)
    tuned_commitment = circom.model_commitment(rnd.agg.spec, tuned, rnd.global_blinding)
    assert tuned_commitment != rnd.public.global_commitment
    _no_witness(rnd, rnd.inputs(["a", "b"], rnd.claiming(tuned_commitment)))
    _rejects(rnd, honest, tuned_commitment)


def test_local_model_not_matching_its_commitment_is_rejected(rnd: Round) -> None:
    # D's model in A's slot: the chain's commitment for A does not open to it, whether
    # the global commitment is the honest one or the one D's model would give.
    _no_witness(rnd, rnd.inputs(["d", "b"]))
    swapped = rnd.commit(aggregation.fixed_point_aggregate(
        rnd.agg.spec, [rnd.models["d"], rnd.models["b"]], rnd.weights))
    _no_witness(rnd, rnd.inputs(["d", "b"], rnd.claiming(swapped)))
    # A's model under another blinding is not A's commitment either.
    other = dataclasses.replace(rnd, blindings={**rnd.blindings, "a": circuit.new_blinding()})
    _no_witness(rnd, other.inputs(["a", "b"]))


def test_zero_total_weight_has_no_witness(rnd: Round) -> None:
    zero = aggregation.AggregationStatement(rnd.public.commitments, (0, 0),
                                            rnd.public.global_commitment)
    _no_witness(rnd, rnd.inputs(["a", "b"], zero))


def test_emitted_circuit_is_deterministic_and_reuses_the_model_hash() -> None:
    agg = aggregation.AggregationSpec(tiny_spec(), SLOTS)
    source = aggregation.emit_aggregation_circuit(agg)
    assert source == aggregation.emit_aggregation_circuit(agg)
    accuracy = circom.emit_circuit(tiny_spec())
    start = accuracy.index("template ModelHash()")
    model_hash = accuracy[start : accuracy.index("template TestSetHash()")]
    assert model_hash in source
    assert aggregation.AggregationSpec(tiny_spec(), 3).circuit_id != agg.circuit_id
