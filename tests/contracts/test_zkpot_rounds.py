"""ZKPoT round state machine without proofs: opening, commit-reveal, deadlines, empty rounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from zkpot_helpers import COMMIT, REVEAL, SUBMIT, X25519_KEY, now, warp

from zkpot.chain import (
    Phase,
    RoundStatus,
    TaskSpec,
    ZKPoTClient,
    commitment_hash,
    round_test_set_commitment,
)

SALT = bytes.fromhex("5a" * 32)
CHUNKS = [bytes.fromhex("c0" * 32), bytes.fromhex("c1" * 32)]
TEST_SET_CID = "bafytestset"
MODEL = bytes.fromhex("4d" * 32)


@pytest.fixture
def task(
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> int:
    task_id = client.create_task(spec_factory(verifier, chunks_per_round=2), publisher)
    for p in participants[:3]:
        client.join(task_id, X25519_KEY, p)
    return task_id


@pytest.fixture
def opened(client: ZKPoTClient, task: int, publisher: Any) -> tuple[int, int]:
    commitment = round_test_set_commitment(TEST_SET_CID, CHUNKS, SALT)
    return task, client.open_round(task, commitment, publisher)


def _reveal(client: ZKPoTClient, task_id: int, round_: int, publisher: Any) -> None:
    warp(client.round(task_id, round_).commit_deadline)
    client.reveal_test_set(task_id, round_, TEST_SET_CID, CHUNKS, SALT, publisher)


def test_open_round_emits_round_opened_with_deadlines(
    zkpot: Any, client: ZKPoTClient, task: int, publisher: Any
) -> None:
    commitment = round_test_set_commitment(TEST_SET_CID, CHUNKS, SALT)
    receipt = zkpot.openRound(task, commitment, sender=publisher)
    opened_at = ape.chain.blocks.head.timestamp
    [event] = receipt.events.filter(zkpot.RoundOpened)
    assert event.taskId == task and event.round == 0
    assert event.globalModelCID == "bafyinitialmodel"
    assert bytes(event.testSetCommitment) == commitment
    assert event.commitDeadline == opened_at + COMMIT
    assert event.revealDeadline == opened_at + COMMIT + REVEAL
    assert event.submitDeadline == opened_at + COMMIT + REVEAL + SUBMIT
    info = client.round(task, 0)
    assert info.status == RoundStatus.OPEN
    assert info.test_set_commitment == commitment
    assert client.phase(task, 0) == Phase.COMMIT


def test_open_round_reverts(
    zkpot: Any, client: ZKPoTClient, task: int, publisher: Any, outsider: Any
) -> None:
    commitment = round_test_set_commitment(TEST_SET_CID, CHUNKS, SALT)
    with ape.reverts(zkpot.NotPublisher):
        zkpot.openRound(task, commitment, sender=outsider)
    with ape.reverts(zkpot.InvalidTestSetCommitment):
        zkpot.openRound(task, bytes(32), sender=publisher)
    client.open_round(task, commitment, publisher)
    with ape.reverts(zkpot.RoundInProgress):
        zkpot.openRound(task, commitment, sender=publisher)
    with ape.reverts(zkpot.RoundInProgress):
        zkpot.closeTask(task, sender=publisher)


def test_unknown_round_reverts(
    zkpot: Any, lens: Any, task: int, participants: list[Any]
) -> None:
    with ape.reverts(zkpot.UnknownRound):
        zkpot.commit(task, 0, SALT, sender=participants[0])
    with ape.reverts(lens.UnknownRound):
        lens.getRound(task, 3)
    with ape.reverts(lens.UnknownRound):
        lens.getSubmission(task, 3, participants[0])
    with ape.reverts(lens.UnknownBlock, index=0):
        lens.getBlock(task, 0)


def test_commit_records_and_emits_model_committed(
    zkpot: Any, client: ZKPoTClient, opened: tuple[int, int], participants: list[Any]
) -> None:
    task_id, round_ = opened
    alice = participants[0]
    value = commitment_hash(task_id, round_, alice.address, MODEL, SALT)
    receipt = zkpot.commit(task_id, round_, value, sender=alice)
    [event] = receipt.events.filter(zkpot.ModelCommitted)
    assert (event.taskId, event.round, event.participant, bytes(event.commitment)) == (
        task_id,
        round_,
        alice.address,
        value,
    )
    assert client.submission(task_id, round_, alice.address).commitment == value
    with ape.reverts(zkpot.AlreadyCommitted):
        zkpot.commit(task_id, round_, value, sender=alice)


def test_commit_reverts_for_zero_unjoined_disallowed_and_late(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    alice, bob = participants[0], participants[1]
    spec = spec_factory(verifier, allowlist=(alice.address, bob.address))
    task_id = client.create_task(spec, publisher)
    client.join(task_id, X25519_KEY, alice)
    client.join(task_id, X25519_KEY, bob)
    round_ = client.open_round(task_id, SALT, publisher)
    with ape.reverts(zkpot.InvalidCommitment):
        zkpot.commit(task_id, round_, bytes(32), sender=alice)
    with ape.reverts(zkpot.NotAllowed):
        zkpot.commit(task_id, round_, SALT, sender=outsider)
    client.set_allowed(task_id, [outsider.address], True, publisher)
    with ape.reverts(zkpot.NotJoined):
        zkpot.commit(task_id, round_, SALT, sender=outsider)
    # Removed from the allowlist after joining: no longer takes part.
    client.set_allowed(task_id, [bob.address], False, publisher)
    with ape.reverts(zkpot.NotAllowed):
        zkpot.commit(task_id, round_, SALT, sender=bob)
    warp(client.round(task_id, round_).commit_deadline)
    with ape.reverts(zkpot.CommitPhaseClosed):
        zkpot.commit(task_id, round_, SALT, sender=alice)


def test_reveal_checks_timing_publisher_and_commitment(
    zkpot: Any, client: ZKPoTClient, opened: tuple[int, int], publisher: Any, outsider: Any
) -> None:
    task_id, round_ = opened
    info = client.round(task_id, round_)
    with ape.reverts(zkpot.RevealTooEarly):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, SALT, sender=publisher)
    warp(info.commit_deadline)
    assert client.phase(task_id, round_) == Phase.REVEAL
    with ape.reverts(zkpot.NotPublisher):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, SALT, sender=outsider)
    with ape.reverts(zkpot.WrongChunkCount):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS[:1], SALT, sender=publisher)
    with ape.reverts(zkpot.TestSetMismatch):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS[::-1], SALT, sender=publisher)
    with ape.reverts(zkpot.TestSetMismatch):
        zkpot.revealTestSet(task_id, round_, "bafyother", CHUNKS, SALT, sender=publisher)
    with ape.reverts(zkpot.TestSetMismatch):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, MODEL, sender=publisher)
    receipt = zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, SALT, sender=publisher)
    [event] = receipt.events.filter(zkpot.TestSetRevealed)
    assert (event.taskId, event.round, event.testSetCID) == (task_id, round_, TEST_SET_CID)
    assert [bytes(c) for c in event.chunkCommitments] == CHUNKS
    after = client.round(task_id, round_)
    assert after.status == RoundStatus.REVEALED
    assert after.chunk_commitments == tuple(CHUNKS) and after.test_set_cid == TEST_SET_CID
    assert client.phase(task_id, round_) == Phase.SUBMIT
    with ape.reverts(zkpot.RevealPhaseClosed):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, SALT, sender=publisher)


def test_reveal_after_deadline_reverts_and_round_closes_empty(
    zkpot: Any, client: ZKPoTClient, opened: tuple[int, int], publisher: Any, outsider: Any
) -> None:
    task_id, round_ = opened
    info = client.round(task_id, round_)
    warp(info.reveal_deadline - 2)
    with ape.reverts(zkpot.SubmitPhaseNotOver):
        zkpot.selectLeader(task_id, round_, sender=outsider)
    warp(info.reveal_deadline)
    with ape.reverts(zkpot.RevealPhaseClosed):
        zkpot.revealTestSet(task_id, round_, TEST_SET_CID, CHUNKS, SALT, sender=publisher)
    assert client.phase(task_id, round_) == Phase.LEADER_SELECTION
    receipt = zkpot.selectLeader(task_id, round_, sender=outsider)
    [event] = receipt.events.filter(zkpot.RoundClosedEmpty)
    assert (event.taskId, event.round, event.testSetRevealed) == (task_id, round_, False)
    assert client.phase(task_id, round_) == Phase.CLOSED_EMPTY
    state = client.task_state(task_id)
    assert state.block_count == 0 and state.global_model_cid == "bafyinitialmodel"
    # The global model carries over into the next round.
    nxt = client.open_round(task_id, SALT, publisher)
    assert nxt == round_ + 1
    assert client.round(task_id, nxt).global_model_cid == "bafyinitialmodel"


def test_revealed_round_without_submissions_closes_empty(
    zkpot: Any, client: ZKPoTClient, opened: tuple[int, int], publisher: Any, outsider: Any
) -> None:
    task_id, round_ = opened
    _reveal(client, task_id, round_, publisher)
    info = client.round(task_id, round_)
    with ape.reverts(zkpot.SubmitPhaseNotOver):
        zkpot.selectLeader(task_id, round_, sender=outsider)
    warp(info.submit_deadline)
    assert client.phase(task_id, round_) == Phase.LEADER_SELECTION
    receipt = zkpot.selectLeader(task_id, round_, sender=outsider)
    [event] = receipt.events.filter(zkpot.RoundClosedEmpty)
    assert (event.taskId, event.round, event.testSetRevealed) == (task_id, round_, True)
    with ape.reverts(zkpot.NotAwaitingLeader):
        zkpot.selectLeader(task_id, round_, sender=outsider)


def test_submit_phase_checks_before_any_proof(
    zkpot: Any,
    client: ZKPoTClient,
    opened: tuple[int, int],
    publisher: Any,
    participants: list[Any],
) -> None:
    task_id, round_ = opened
    alice, bob = participants[0], participants[1]
    client.commit(task_id, round_, MODEL, SALT, alice)
    with ape.reverts(zkpot.SubmitPhaseClosed):
        zkpot.submit(task_id, round_, [], [], SALT, "bafyproof", sender=alice)
    _reveal(client, task_id, round_, publisher)
    with ape.reverts(zkpot.NoCommitment):
        zkpot.submit(task_id, round_, [], [], SALT, "bafyproof", sender=bob)
    with ape.reverts(zkpot.ProofCountMismatch):
        zkpot.submit(task_id, round_, [], [], SALT, "bafyproof", sender=alice)
    with ape.reverts(zkpot.ProofCountMismatch):
        zkpot.submit(task_id, round_, [b"\x01", b"\x02"], [[1]], SALT, "bafyproof", sender=alice)
    check = client.check_submission(task_id, round_, bob.address, [], SALT)
    assert (check.accepted, check.reason) == (False, "NoCommitment")
    warp(client.round(task_id, round_).submit_deadline)
    with ape.reverts(zkpot.SubmitPhaseClosed):
        zkpot.submit(task_id, round_, [], [], SALT, "bafyproof", sender=alice)


def test_reverting_fake_verifier_counts_as_invalid_proof(
    zkpot: Any,
    client: ZKPoTClient,
    reverting_verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    # FAKE verifier: a real one never reverts, so this failure cannot be caused otherwise.
    task_id = client.create_task(spec_factory(reverting_verifier, chunks_per_round=1), publisher)
    alice = participants[0]
    client.join(task_id, X25519_KEY, alice)
    round_ = client.open_round(
        task_id, round_test_set_commitment("bafyt", CHUNKS[:1], SALT), publisher
    )
    client.commit(task_id, round_, MODEL, SALT, alice)
    warp(client.round(task_id, round_).commit_deadline)
    client.reveal_test_set(task_id, round_, "bafyt", CHUNKS[:1], SALT, publisher)
    with ape.reverts(zkpot.InvalidProof):
        zkpot.submit(task_id, round_, [b"\x00" * 64], [[0, 0, 0]], SALT, "bafyp", sender=alice)
    check = client.check_submission(task_id, round_, alice.address, [], SALT)
    assert check.reason == "ProofCountMismatch"


def test_aggregate_phase_calls_revert_without_leader(
    zkpot: Any, client: ZKPoTClient, opened: tuple[int, int], participants: list[Any], token: Any
) -> None:
    task_id, round_ = opened
    alice = participants[0]
    with ape.reverts(zkpot.NotAggregating):
        zkpot.handOffModel(task_id, round_, "bafyenc", sender=alice)
    with ape.reverts(zkpot.NotAggregating):
        zkpot.publishGlobalModel(task_id, round_, "bafyglobal", [], [], [], sender=alice)
    with ape.reverts(zkpot.NotAggregating):
        zkpot.replaceLeader(task_id, round_, sender=alice)
    with ape.reverts(zkpot.NotPublished):
        zkpot.finalise(task_id, round_, sender=alice)
    with ape.reverts(client.rewards.NoRewardPool):
        client.rewards.claim(task_id, round_, sender=alice)
    assert client.claimable(task_id, round_, alice.address) == 0


def test_phase_of_unopened_round_is_none(client: ZKPoTClient, task: int) -> None:
    assert client.phase(task, 5) == Phase.NONE
    assert now() > 0
