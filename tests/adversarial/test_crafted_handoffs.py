"""Attack: stop every leader with one crafted hand-off, so the round ends empty.

Before the fix a sealed model whose shape header wraps 64 bits, names huge dimensions or
nests its JSON deeply raised a built-in exception in the leader's decode path, and a
genuine model re-encoded as float64 matched its commitment but then aborted FedAvg on a
dtype check; either repeated after every ``replaceLeader``. Now each model is checked
alone: anything wrong with it is a recorded rejection (submitter + reason code) and the
rest are aggregated; received tensors are converted to the architecture's own dtypes and
shapes before the commitment check and FedAvg.

Real parts: the anvil chain, the IPFS node, EZKL proofs of the tiny circuit, sealed boxes
to the leader's published key, and the leader's own ``collect_models`` /
``aggregate_and_publish``.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from flows.conftest import TINY, World, advance_to, tiny_options
from zkpot.aggregate import FedAvg, ModelUpdate
from zkpot.chain import RoundStatus
from zkpot.data import PartitionConfig, partition
from zkpot.handoff import receive_handoff, seal
from zkpot.model_codec import (
    BLINDING,
    MAGIC,
    HandoffError,
    ModelPayload,
    RejectionReason,
    decode_arrays,
    encode_arrays,
    serialize_state_dict,
)
from zkpot.models import LENET_DIGITS, MLP_DIGITS, TINY_MLP, build_model
from zkpot.roles import participant as participant_module
from zkpot.roles import publisher as pub
from zkpot.roles.auditor import audit_task
from zkpot.roles.leader import AggregationResult, aggregate_and_publish, collect_models
from zkpot.roles.participant import Participant, TrainingConfig

pytestmark = pytest.mark.slow

Plaintext = Callable[["Round", Participant], bytes]
"""Builds the (unsealed) hand-off an attacker sends, from its own genuine model."""


@dataclass
class Round:
    """A round in its aggregate phase: a leader, an honest sender and two attackers."""

    world: World
    task_id: int
    round_: int
    leader: Participant
    honest: Participant
    attackers: list[Participant]
    bad_bundles: list[Participant]
    """Submitters whose proof bundle on IPFS is malformed (their proofs verified on chain)."""
    sent: dict[str, ModelPayload]
    """What each non-leader's own ``send-model`` sealed to the leader (weights + blinding)."""

    def genuine(self, person: Participant) -> tuple[dict[str, torch.Tensor], list[int]]:
        """``person``'s committed model and its blinding, as ``send-model`` seals them."""
        if person is self.leader:
            return dict(person.model(self.task_id, self.round_).state_dict()), []
        payload = self.sent[person.address]
        assert payload.blinding is not None
        return dict(payload.state), [int(v) for v in payload.blinding]

    def hand_off(self, person: Participant, plaintext: bytes) -> None:
        """Seal ``plaintext`` to the leader's key and record its CID on chain for ``person``."""
        self.hand_off_raw(person, seal(plaintext, self.leader_key()))

    def hand_off_raw(self, person: Participant, ciphertext: bytes) -> None:
        session = self.world.session
        cid = session.storage.add(ciphertext, name="model.sealed")
        session.client.hand_off_model(self.task_id, self.round_, cid, sender=person.account)

    def leader_key(self) -> bytes | str:
        key = self.world.session.client.participant_key(self.task_id, self.leader.address)
        assert key is not None
        return key

    def send_float64(self, person: Participant) -> None:
        """Hand off ``person``'s genuine model re-encoded at float64 (still the same model)."""
        state, blinding = self.genuine(person)
        double = {k: v.to(torch.float64) for k, v in state.items()}
        self.hand_off(person, serialize_state_dict(double, architecture=TINY, blinding=blinding))


@pytest.fixture(scope="module")
def round_(world: World) -> Round:
    """Four participants train, commit, prove and submit; the chain selects the leader."""
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    parts = partition(world.train, PartitionConfig(participants=4, seed=3))
    people = [
        Participant(session, accounts.test_accounts[i + 1], f"crafted-p{i + 1}") for i in range(4)
    ]
    for person in people:
        person.join(task_id)
    number = pub.open_round(session, publisher, task_id, world.pool)
    for person, data in zip(people, parts, strict=True):
        # Trained enough that its logits are distinct at the circuit's 2^-7 resolution:
        # a barely trained model ties, scores 0 strict wins and is never admitted.
        person.train(task_id, number, data, TrainingConfig(epochs=10, seed=number))
        person.commit(task_id, number)
    advance_to(session.client.round(task_id, number).commit_deadline)
    pub.reveal(session, publisher, task_id, number, world.pool)
    for person, bundle in zip(people, [None, None, _deep_bundle, _bad_entry_bundle], strict=True):
        with pytest.MonkeyPatch.context() as patch:
            if bundle is not None:  # proofs still verify on chain; only the IPFS copy is bad
                patch.setattr(participant_module, "proof_bundle", bundle)
            person.prove(task_id, number)
        person.submit(task_id, number)
    advance_to(session.client.round(task_id, number).submit_deadline)
    leader_address = session.client.select_leader(task_id, number, sender=publisher)
    leader = next(p for p in people if p.address == leader_address)
    others = [p for p in people if p is not leader]
    sent: dict[str, ModelPayload] = {}
    for person in others:  # the genuine hand-offs, read back with the leader's key
        person.send_model(task_id, number)
        cid = session.client.submission(task_id, number, person.address).encrypted_model_cid
        sent[person.address] = receive_handoff(
            session.storage, cid, leader.keypair, architecture=TINY
        )
    return Round(world, task_id, number, leader, others[0], others[1:], people[2:], sent)


def _deep_bundle(proofs: object) -> object:
    """A proof bundle nested 40 deep: past the JSON depth any reader accepts."""
    nested: object = []
    for _ in range(40):
        nested = [nested]
    return {"format": "zkpot-proofs/1", "proofs": nested}


def _bad_entry_bundle(proofs: object) -> object:
    """A proof bundle whose proof file has a number for its hex proof."""
    return {"format": "zkpot-proofs/1", "proofs": [{"hex_proof": 5, "instances": [[1]]}]}


# -- the crafted hand-offs -------------------------------------------------------------


def _framed(header: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<8sBI", MAGIC, 1, len(header)) + header + body


def _header(arrays: list[dict[str, object]], meta: dict[str, object] | None = None) -> bytes:
    meta = {"kind": "state_dict", "architecture": TINY} if meta is None else meta
    return json.dumps({"arrays": arrays, "meta": meta}).encode()


def wrapping_shape() -> bytes:
    """Dimensions whose product is 2**64: wraps to 0 in int64, so no data is 'needed'."""
    return _framed(_header([{"name": "0.weight", "dtype": "float64", "shape": [2**32, 2**32]}]))


def huge_dimensions() -> bytes:
    """A dimension no C integer holds."""
    return _framed(_header([{"name": "0.weight", "dtype": "float32", "shape": [2**70, 8]}]))


def deeply_nested_header() -> bytes:
    """A 12 KB header of 6,000 nested lists (past any parser's recursion)."""
    depth = 6000
    return _framed(b'{"arrays":' + b"[" * depth + b"]" * depth + b',"meta":{}}')


def huge_header_length() -> bytes:
    """A header length of 4 GiB in an 11-byte file."""
    return struct.pack("<8sBI", MAGIC, 1, 2**32 - 1) + b"{}"


def wrong_architecture() -> bytes:
    """A well-formed LeNet model (fewer weights than the task's), labelled as the task's."""
    return serialize_state_dict(build_model(LENET_DIGITS).state_dict(), architecture=TINY)


def too_many_weights() -> bytes:
    """A well-formed model of the default MLP: more elements than the task's model holds."""
    return serialize_state_dict(build_model(MLP_DIGITS).state_dict(), architecture=TINY)


def labelled_other_architecture() -> bytes:
    """A model labelled with another architecture's name."""
    return serialize_state_dict(build_model(TINY_MLP).state_dict(), architecture="lenet-8x8")


def non_finite_weights(r: Round, p: Participant) -> bytes:
    """The attacker's genuine model with one NaN weight."""
    state, blinding = r.genuine(p)
    state = {k: v.clone() for k, v in state.items()}
    state["0.weight"][0, 0] = float("nan")
    return serialize_state_dict(state, architecture=TINY, blinding=blinding)


def another_model(r: Round, p: Participant) -> bytes:
    """Another model than the one committed and proved (with the committed blinding)."""
    _, blinding = r.genuine(p)
    return serialize_state_dict(
        build_model(TINY_MLP, seed=99).state_dict(), architecture=TINY, blinding=blinding
    )


def no_blinding(r: Round, p: Participant) -> bytes:
    """The genuine weights without the blinding the commitment covers."""
    state, _ = r.genuine(p)
    return serialize_state_dict(state, architecture=TINY)


CRAFTED_HEADERS = [wrapping_shape, huge_dimensions, deeply_nested_header, huge_header_length]

ATTACKS: dict[str, tuple[Plaintext, RejectionReason]] = {
    **{f.__name__: (lambda r, p, f=f: f(), RejectionReason.MALFORMED) for f in CRAFTED_HEADERS},
    "wrong_architecture": (lambda r, p: wrong_architecture(), RejectionReason.WRONG_ARCHITECTURE),
    "labelled_other_architecture": (
        lambda r, p: labelled_other_architecture(),
        RejectionReason.WRONG_ARCHITECTURE,
    ),
    "too_many_weights": (lambda r, p: too_many_weights(), RejectionReason.MALFORMED),
    "non_finite_weights": (non_finite_weights, RejectionReason.MALFORMED),
    "another_model": (another_model, RejectionReason.COMMITMENT_MISMATCH),
    "no_blinding": (no_blinding, RejectionReason.MALFORMED),
}


@pytest.mark.parametrize("plaintext", CRAFTED_HEADERS)
def test_crafted_header_raises_only_handoff_error(plaintext: Callable[[], bytes]) -> None:
    """Each crafted header is one HandoffError in the decoder (no round needed)."""
    with pytest.raises(HandoffError, match="malformed"):
        decode_arrays(plaintext())


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_handoff_is_rejected_and_the_honest_models_still_count(
    round_: Round, attack: str
) -> None:
    plaintext, reason = ATTACKS[attack]
    attacker, bystander = round_.attackers  # the bystander's genuine hand-off stays as sent
    round_.send_float64(round_.honest)
    round_.hand_off(attacker, plaintext(round_, attacker))
    accepted, rejected = collect_models(round_.leader, round_.task_id, round_.round_)
    assert [(r.participant, r.code) for r in rejected] == [(attacker.address, reason)]
    assert {u.participant for u in accepted} == {
        round_.leader.address,
        round_.honest.address,
        bystander.address,
    }
    for update in accepted:
        assert all(t.dtype == torch.float32 for t in update.state.values())


def test_undecryptable_and_oversized_handoffs_are_rejected(round_: Round) -> None:
    attacker, other = round_.attackers
    round_.hand_off_raw(attacker, os.urandom(600))  # not a sealed box for this key
    # Sealed to the leader, but over the cap of a model of the task's architecture.
    round_.hand_off_raw(other, seal(os.urandom(64 * 1024), round_.leader_key()))
    _, rejected = collect_models(round_.leader, round_.task_id, round_.round_)
    codes = {r.participant: r.code for r in rejected}
    assert codes[attacker.address] == RejectionReason.UNDECRYPTABLE
    assert codes[other.address] == RejectionReason.UNAVAILABLE
    reasons = {r.participant: r.reason for r in rejected}
    assert "larger than" in reasons[other.address]


def test_float64_reencoded_genuine_model_is_accepted_converted_and_averaged(round_: Round) -> None:
    round_.send_float64(round_.honest)
    accepted, _ = collect_models(round_.leader, round_.task_id, round_.round_)
    by_name = {u.participant: u for u in accepted}
    honest_state, _ = round_.genuine(round_.honest)
    received = by_name[round_.honest.address].state
    assert all(received[k].dtype == torch.float32 for k in received)
    assert all(torch.equal(received[k], honest_state[k]) for k in honest_state)
    # It averages with the leader's float32 model without a dtype error.
    FedAvg().aggregate(accepted, leader=round_.leader.address)


@pytest.fixture(scope="module")
def published(round_: Round) -> AggregationResult:
    """The leader aggregates with two crafted hand-offs in place; the round is finalised."""
    first, second = round_.attackers
    round_.send_float64(round_.honest)
    round_.hand_off(first, wrapping_shape())
    round_.hand_off(second, deeply_nested_header())
    result = aggregate_and_publish(round_.leader, round_.task_id, round_.round_)
    round_.world.session.client.finalise(round_.task_id, round_.round_, sender=_publisher())
    return result


def test_round_publishes_with_crafted_handoffs_rejected(
    round_: Round, published: AggregationResult
) -> None:
    """The end: two attackers' crafted models are rejected, the honest ones aggregated."""
    client = round_.world.session.client
    first, second = round_.attackers
    assert sorted(published.used) == sorted([round_.leader.address, round_.honest.address])
    assert {(r.participant, r.code) for r in published.rejected} == {
        (first.address, RejectionReason.MALFORMED),
        (second.address, RejectionReason.MALFORMED),
    }
    info = client.round(round_.task_id, round_.round_)
    assert info.status == RoundStatus.FINALISED
    assert info.new_model_cid == published.global_model_cid
    # The published model is FedAvg of the two honest models, weighted by verified counts.
    updates = [
        ModelUpdate(
            p.address,
            round_.genuine(p)[0],
            float(client.submission(round_.task_id, round_.round_, p.address).correct),
            verified=True,
        )
        for p in (round_.leader, round_.honest)
    ]
    expected = FedAvg().aggregate(updates, leader=round_.leader.address)
    arrays, _ = decode_arrays(round_.world.session.storage.cat(published.global_model_cid))
    for name, tensor in expected.items():
        assert np.allclose(arrays[name], tensor.numpy(), atol=1e-6)


def test_audit_reports_malformed_proof_bundles_as_fail_and_goes_on(
    round_: Round, published: AggregationResult
) -> None:
    findings = audit_task(round_.world.session, round_.task_id, [round_.round_])
    failed = {f.item: f.detail for f in findings if not f.ok}
    deep, bad = (f"submission {p.address}" for p in round_.bad_bundles)
    assert set(failed) == {deep, bad}, findings
    assert "nests more than 32 levels" in failed[deep]
    assert "malformed" in failed[bad]
    # Every other check of the round still ran after the failures, and passed.
    passed = {f.item.split(" ")[0] for f in findings if f.ok}
    assert {"continuity", "test", "submission", "global", "block"} <= passed


def _publisher() -> object:
    from ape import accounts

    return accounts.test_accounts[0]


def test_blinding_travels_beside_the_weights_and_is_never_averaged() -> None:
    """The hand-off format: ``zkpot.blinding`` is an int64 extra, not a weight."""
    state = build_model(TINY_MLP).state_dict()
    blob = serialize_state_dict(state, architecture=TINY, blinding=[5, -6, 7, 8, 9, 10, 11, 12])
    arrays, _ = decode_arrays(blob)
    assert arrays[BLINDING].dtype == np.int64
    with pytest.raises(HandoffError, match="reserved"):
        serialize_state_dict({BLINDING: torch.zeros(8)}, architecture=TINY)
    with pytest.raises(HandoffError, match="at most 256 integers"):
        decode_model_of(encode_arrays({BLINDING: np.zeros(300, np.int64)}, _meta()))
    with pytest.raises(HandoffError, match="integers"):
        decode_model_of(encode_arrays({BLINDING: np.zeros(8, np.float32)}, _meta()))


def _meta() -> dict[str, str | int | float | bool]:
    return {"kind": "state_dict", "architecture": TINY}


def decode_model_of(blob: bytes) -> object:
    from zkpot.model_codec import decode_model

    return decode_model(blob, architecture=TINY)
