"""ZKPoT with real EZKL proofs: submissions, attacks, leader selection, blocks, multi-round."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from proof_kit import ProofKit
from zkpot_helpers import (
    joined_task,
    now,
    open_and_commit,
    raw_publish,
    raw_submit,
    salt_for,
    submit,
    to_leader_selection,
    warp,
)

from zkpot.chain import (
    AggregationPolicy,
    ChunkProof,
    Phase,
    RoundStatus,
    TaskSpec,
    ZKPoTClient,
    commitment_hash,
    next_submissions_digest,
    verify_chain,
)


def _task(
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    **overrides: Any,
) -> int:
    overrides.setdefault("chunks_per_round", 2)
    return joined_task(client, verifier, spec_factory, publisher, participants, **overrides)


@pytest.fixture
def task(
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> int:
    return _task(client, verifier, spec_factory, publisher, participants)


def test_real_proof_is_verified_recorded_and_emitted(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    check = client.check_submission(
        task, round_, alice.address, kit.proofs[("a", "s1")], salt_for(alice)
    )
    assert check.accepted and check.reason is None
    assert check.model_commitment == kit.commitments["a"]
    assert check.correct == kit.correct("a", "s1")
    receipt = submit(client, kit, task, round_, alice, "a", "s1")
    [event] = receipt.events.filter(zkpot.SubmissionVerified)
    assert (event.taskId, event.round, event.participant) == (task, round_, alice.address)
    assert bytes(event.modelCommitment) == kit.commitments["a"]
    assert event.correct == kit.correct("a", "s1")
    assert event.proofCID == "bafy-proof-a"
    assert bytes(event.salt) == salt_for(alice)
    record = client.submission(task, round_, alice.address)
    assert record.verified and record.correct == kit.correct("a", "s1")
    assert record.model_commitment == kit.commitments["a"]
    # Not in storage: the salt and the proofs' CID come back from the event, and the
    # commitment is recomputed from them.
    assert (record.salt, record.proof_cid) == (salt_for(alice), "bafy-proof-a")
    assert record.commitment == commitment_hash(
        task, round_, alice.address, kit.commitments["a"], salt_for(alice)
    )
    info = client.round(task, round_)
    assert info.submitters == (alice.address,)
    assert info.submissions_digest == next_submissions_digest(
        bytes(32), alice.address, kit.commitments["a"], kit.correct("a", "s1"), salt_for(alice)
    )
    # The view and the state change agree after the fact too.
    again = client.check_submission(
        task, round_, alice.address, kit.proofs[("a", "s1")], salt_for(alice)
    )
    assert (again.accepted, again.reason) == (False, "AlreadySubmitted")
    with ape.reverts(zkpot.AlreadySubmitted):
        submit(client, kit, task, round_, alice, "a", "s1")


def test_python_commitment_hash_equals_the_contracts(
    client: ZKPoTClient, kit: ProofKit, task: int, publisher: Any, participants: list[Any]
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {}, publisher, reveal=False)
    # Commit the Python-computed value by hand; the contract accepts the opening.
    value = commitment_hash(task, round_, alice.address, kit.commitments["a"], salt_for(alice))
    client.contract.commit(task, round_, value, sender=alice)
    ts = kit.test_sets["s1"]
    warp(client.round(task, round_).commit_deadline)
    from zkpot_helpers import TS_SALT

    client.reveal_test_set(task, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    assert client.check_submission(
        task, round_, alice.address, kit.proofs[("a", "s1")], salt_for(alice)
    ).accepted


def test_proof_copied_by_another_sender_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, mallory = participants[0], participants[1]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a", mallory: "b"}, publisher)
    stolen = kit.proofs[("a", "s1")]
    # Front-running: mallory sends alice's exact calldata (same proofs, same salt) first.
    with ape.reverts(zkpot.CommitmentMismatch):
        client.contract.submit(
            task,
            round_,
            [p.proof for p in stolen],
            [list(p.instances) for p in stolen],
            salt_for(alice),
            "bafy-stolen",
            sender=mallory,
        )
    with ape.reverts(zkpot.CommitmentMismatch):
        client.contract.submit(
            task,
            round_,
            [p.proof for p in stolen],
            [list(p.instances) for p in stolen],
            salt_for(mallory),
            "bafy-stolen",
            sender=mallory,
        )
    submit(client, kit, task, round_, alice, "a", "s1")
    assert client.submission(task, round_, alice.address).verified


def test_model_commitment_used_twice_in_a_round_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, bob = participants[0], participants[1]
    # Bob commits (with his own salt and address) to the very same model as alice.
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a", bob: "a"}, publisher)
    submit(client, kit, task, round_, alice, "a", "s1")
    with ape.reverts(zkpot.ModelAlreadySubmitted):
        submit(client, kit, task, round_, bob, "a", "s1")


def test_proof_replayed_in_a_later_round_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, bob = participants[0], participants[1]
    task = _task(
        client,
        verifier,
        spec_factory,
        publisher,
        participants,
        policy=AggregationPolicy.LEADER_MODEL,
    )
    r0 = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    submit(client, kit, task, r0, alice, "a", "s1")
    to_leader_selection(client, task, r0)
    client.select_leader(task, r0, publisher)
    client.publish_global_model(task, r0, "bafy-global-0", kit.proofs[("a", "s1")], alice)
    client.finalise(task, r0, publisher)
    r1 = open_and_commit(client, kit, task, "s2", {alice: "a", bob: "b"}, publisher)
    # Alice's round-0 proofs ran on round 0's test set.
    with ape.reverts(zkpot.ChunkMismatch):
        submit(client, kit, task, r1, alice, "a", "s1")
    # Bob replays them under his own commitment: still another test set.
    with ape.reverts(zkpot.ChunkMismatch):
        submit(client, kit, task, r1, bob, "a", "s1")
    submit(client, kit, task, r1, alice, "a", "s2")


def test_commitment_from_an_earlier_round_does_not_open_in_a_later_one(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    r0 = open_and_commit(client, kit, task, "s1", {}, publisher, reveal=False)
    warp(client.round(task, r0).reveal_deadline)
    client.select_leader(task, r0, publisher)  # closes empty: never revealed
    r1 = open_and_commit(client, kit, task, "s1", {}, publisher, reveal=False)
    # A commitment computed for round 0 is replayed as the round-1 commitment.
    stale = commitment_hash(task, r0, alice.address, kit.commitments["a"], salt_for(alice))
    client.contract.commit(task, r1, stale, sender=alice)
    from zkpot_helpers import TS_SALT

    ts = kit.test_sets["s1"]
    warp(client.round(task, r1).commit_deadline)
    client.reveal_test_set(task, r1, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    with ape.reverts(zkpot.CommitmentMismatch):
        submit(client, kit, task, r1, alice, "a", "s1")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("where", ["proof-start", "proof-middle", "proof-end"])
def test_tampered_proof_bytes_are_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
    where: str,
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    good = kit.proofs[("a", "s1")]
    index = {
        "proof-start": 5,
        "proof-middle": len(good[1].proof) // 2,
        "proof-end": len(good[1].proof) - 3,
    }[where]
    bad = [good[0], ChunkProof(_flip(good[1].proof, index), good[1].instances)]
    check = client.check_submission(task, round_, alice.address, bad, salt_for(alice))
    assert check.reason in ("InvalidProof", "ChunkMismatch", "MixedModelCommitments")
    with ape.reverts(getattr(zkpot, check.reason)):
        raw_submit(zkpot, task, round_, bad, salt_for(alice), "bafy-bad", alice)


@pytest.mark.parametrize("delta", [1, -1])
def test_tampered_count_instance_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
    delta: int,
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    good = kit.proofs[("a", "s1")]
    scale = kit.artifacts.count_scale
    instances = list(good[0].instances)
    instances[-1] = instances[-1] + (delta << scale)
    bad = [ChunkProof(good[0].proof, tuple(instances)), good[1]]
    with ape.reverts(zkpot.InvalidProof):
        raw_submit(zkpot, task, round_, bad, salt_for(alice), "bafy-bad", alice)


def test_malformed_instances_are_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    good = kit.proofs[("a", "s1")]
    bad = [ChunkProof(good[0].proof, good[0].instances + (0,)), good[1]]
    with ape.reverts(zkpot.InvalidProof):
        raw_submit(zkpot, task, round_, bad, salt_for(alice), "bafy-bad", alice)
    truncated = [ChunkProof(good[0].proof[:40], good[0].instances), good[1]]
    with ape.reverts(zkpot.InvalidProof):
        raw_submit(zkpot, task, round_, truncated, salt_for(alice), "bafy-bad", alice)


def test_proofs_in_the_wrong_chunk_order_are_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    swapped = list(reversed(kit.proofs[("a", "s1")]))
    with ape.reverts(zkpot.ChunkMismatch):
        raw_submit(zkpot, task, round_, swapped, salt_for(alice), "bafy-bad", alice)


def test_proofs_of_two_models_in_one_submission_are_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    mixed = [kit.proofs[("a", "s1")][0], kit.proofs[("b", "s1")][1]]
    with ape.reverts(zkpot.MixedModelCommitments):
        raw_submit(zkpot, task, round_, mixed, salt_for(alice), "bafy-bad", alice)


def test_empty_proof_cid_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    with ape.reverts(zkpot.EmptyCID):
        raw_submit(zkpot, task, round_, kit.proofs[("a", "s1")], salt_for(alice), "", alice)


def test_full_round_admits_by_rank_evicting_the_lowest(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, bob, carol = participants[0], participants[1], participants[2]
    assert kit.correct("k1", "s1") < kit.correct("a", "s1")
    task = _task(client, verifier, spec_factory, publisher, participants, max_submissions=1)
    members = {alice: "k1", bob: "a", carol: "k1"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    submit(client, kit, task, round_, alice, "k1", "s1")
    receipt = submit(client, kit, task, round_, bob, "a", "s1")
    [evicted] = receipt.events.filter(zkpot.SubmissionEvicted)
    assert (evicted.taskId, evicted.round, evicted.participant, evicted.correct, evicted.by) == (
        task,
        round_,
        alice.address,
        kit.correct("k1", "s1"),
        bob.address,
    )
    assert client.round(task, round_).submitters == (bob.address,)
    gone = client.submission(task, round_, alice.address)
    assert gone.evicted and not gone.verified
    # The evicted model commitment no longer blocks anyone, but its count is not enough.
    check = client.check_submission(
        task, round_, carol.address, kit.proofs[("k1", "s1")], salt_for(carol)
    )
    assert (check.accepted, check.reason) == (False, "ScoreNotAboveLowest")
    with ape.reverts(zkpot.ScoreNotAboveLowest):
        submit(client, kit, task, round_, carol, "k1", "s1")
    with ape.reverts(zkpot.AlreadySubmitted):
        submit(client, kit, task, round_, alice, "k1", "s1")


def _ranked(kit: ProofKit, members: dict[Any, str], seed: bytes) -> list[Any]:
    def key(account: Any) -> tuple[int, int]:
        tie = int.from_bytes(keccak(encode(["bytes32", "address"], [seed, account.address])), "big")
        return (kit.correct(members[account], "s1"), tie)

    return sorted(members, key=key, reverse=True)


def test_leader_is_highest_verified_count_with_unchosen_tie_break(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    members = dict(zip(participants[:4], ["a", "b", "c", "d"], strict=True))
    assert kit.correct("a", "s1") == kit.correct("d", "s1")  # d ties a by construction
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    with ape.reverts(zkpot.SubmitPhaseNotOver):
        zkpot.selectLeader(task, round_, sender=outsider)
    to_leader_selection(client, task, round_)
    receipt = zkpot.selectLeader(task, round_, sender=outsider)
    info = client.round(task, round_)
    # The seed was fixed by the submissions: the first one's prevrandao and the digest,
    # which folds in every salt in arrival order.
    digest = bytes(32)
    for account, model in members.items():
        digest = next_submissions_digest(
            digest, account.address, kit.commitments[model], kit.correct(model, "s1"),
            salt_for(account),
        )
    assert info.submissions_digest == digest
    assert info.tie_seed == keccak(
        encode(["bytes32", "bytes32"], [info.randao_seed, info.submissions_digest])
    )
    expected = _ranked(kit, members, info.tie_seed)[0]
    assert info.leader == expected.address
    assert kit.correct(members[expected], "s1") == max(
        kit.correct(m, "s1") for m in members.values()
    )
    [event] = receipt.events.filter(zkpot.LeaderSelected)
    assert (event.taskId, event.round, event.leader) == (task, round_, expected.address)
    assert event.correct == kit.correct(members[expected], "s1")
    assert event.aggregateDeadline == info.aggregate_deadline
    assert client.phase(task, round_) == Phase.AGGREGATE
    with ape.reverts(zkpot.NotAwaitingLeader):
        zkpot.selectLeader(task, round_, sender=outsider)


def test_late_leader_is_replaced_by_the_next_best_then_round_closes_empty(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    members = {participants[0]: "a", participants[1]: "b"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, outsider)
    info = client.round(task, round_)
    order = _ranked(kit, members, info.tie_seed)
    assert info.leader == order[0].address
    with ape.reverts(zkpot.AggregatePhaseNotOver):
        zkpot.replaceLeader(task, round_, sender=outsider)
    warp(info.aggregate_deadline)
    assert client.phase(task, round_) == Phase.LEADER_EXPIRED
    with ape.reverts(zkpot.AggregatePhaseClosed):
        client.contract.publishGlobalModel(
            task,
            round_,
            "bafy-late",
            [],
            [p.proof for p in kit.proofs[(members[order[0]], "s1")]],
            [list(p.instances) for p in kit.proofs[(members[order[0]], "s1")]],
            sender=order[0],
        )
    receipt = zkpot.replaceLeader(task, round_, sender=outsider)
    [passed] = receipt.events.filter(zkpot.LeaderPassedOver)
    assert (passed.taskId, passed.round, passed.previousLeader) == (task, round_, order[0].address)
    [selected] = receipt.events.filter(zkpot.LeaderSelected)
    assert selected.leader == order[1].address
    assert client.submission(task, round_, order[0].address).passed_over
    warp(client.round(task, round_).aggregate_deadline)
    receipt = zkpot.replaceLeader(task, round_, sender=outsider)
    [closed] = receipt.events.filter(zkpot.RoundClosedEmpty)
    assert (closed.taskId, closed.round, closed.testSetRevealed) == (task, round_, True)
    assert client.round(task, round_).status == RoundStatus.CLOSED_EMPTY
    assert client.task_state(task).global_model_cid == "bafyinitialmodel"


def test_hand_off_and_publish_checks(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    task = _task(
        client,
        verifier,
        spec_factory,
        publisher,
        participants,
        policy=AggregationPolicy.LEADER_MODEL,
    )
    members = {participants[0]: "a", participants[1]: "b"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, outsider)
    leader = next(a for a in members if a.address == leader_addr)
    other = next(a for a in members if a.address != leader_addr)
    with ape.reverts(zkpot.NotVerifiedParticipant):
        zkpot.handOffModel(task, round_, "bafy-enc", sender=outsider)
    with ape.reverts(zkpot.LeaderCannotHandOff):
        zkpot.handOffModel(task, round_, "bafy-enc", sender=leader)
    with ape.reverts(zkpot.EmptyCID):
        zkpot.handOffModel(task, round_, "", sender=other)
    with ape.reverts(zkpot.CIDTooLong, length=2_000, max=128):
        zkpot.handOffModel(task, round_, "c" * 2_000, sender=other)
    receipt = zkpot.handOffModel(task, round_, "bafy-enc", sender=other)
    [event] = receipt.events.filter(zkpot.ModelHandedOff)
    assert (
        event.taskId,
        event.round,
        event.participant,
        event.leader,
        event.encryptedModelCID,
    ) == (task, round_, other.address, leader.address, "bafy-enc")
    record = client.submission(task, round_, other.address)
    assert (record.handoff_leader, record.encrypted_model_cid) == (leader.address, "bafy-enc")
    own = kit.proofs[(members[leader], "s1")]
    theirs = kit.proofs[(members[other], "s1")]
    with ape.reverts(zkpot.NotLeader):
        raw_publish(zkpot, task, round_, "bafy-global", own, other)
    with ape.reverts(zkpot.EmptyCID):
        raw_publish(zkpot, task, round_, "", own, leader)
    with ape.reverts(zkpot.CIDTooLong, length=2_000, max=128):
        raw_publish(zkpot, task, round_, "g" * 2_000, own, leader)
    too_many = [f"0x{i:040x}" for i in range(1, 65)]
    with ape.reverts(zkpot.TooManyIncluded, count=64, max=63):
        raw_publish(zkpot, task, round_, "bafy-global", own, leader, included=too_many)
    with ape.reverts(zkpot.GlobalModelMismatch):
        raw_publish(zkpot, task, round_, "bafy-global", theirs, leader)
    with ape.reverts(zkpot.InclusionNotAllowed):
        raw_publish(zkpot, task, round_, "bafy-global", own, leader, included=[other.address])
    with ape.reverts(zkpot.ChunkMismatch):
        raw_publish(zkpot, task, round_, "bafy-global", list(reversed(own)), leader)
    with ape.reverts(zkpot.ProofCountMismatch):
        raw_publish(zkpot, task, round_, "bafy-global", own[:1], leader)
    receipt = client.publish_global_model(task, round_, "bafy-global", own, leader)
    [published] = receipt.events.filter(zkpot.GlobalModelPublished)
    assert (published.taskId, published.round, published.leader, published.globalModelCID) == (
        task,
        round_,
        leader.address,
        "bafy-global",
    )
    assert bytes(published.globalModelCommitment) == kit.commitments[members[leader]]
    assert published.globalCorrect == kit.correct(members[leader], "s1")
    assert list(published.included) == []
    assert client.phase(task, round_) == Phase.PUBLISHED
    with ape.reverts(zkpot.NotAggregating):
        zkpot.handOffModel(task, round_, "bafy-enc", sender=other)
    # The published model is the leader's own: kept once (in its submission record), it
    # reads back as the round's new model, the block's model and the task's global model.
    own_model = kit.commitments[members[leader]]
    info = client.round(task, round_)
    assert (info.new_model_commitment, info.new_global_correct) == (
        own_model,
        kit.correct(members[leader], "s1"),
    )
    zkpot.finalise(task, round_, sender=outsider)
    header, block_hash = client.block(task, client.task_state(task).block_count - 1)
    assert header.global_model_commitment == own_model and header.round == round_
    assert block_hash == header.hash() == client.round(task, round_).block_hash
    assert client.task_state(task).global_model_commitment == own_model
    assert client.round(task, round_).new_model_commitment == own_model


def _full_round(
    client: ZKPoTClient,
    kit: ProofKit,
    task: int,
    test_set: str,
    members: dict[Any, str],
    publisher: Any,
    global_model: str,
) -> tuple[int, Any]:
    round_ = open_and_commit(client, kit, task, test_set, members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, test_set)
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, publisher)
    leader = next(a for a in members if a.address == leader_addr)
    others = [a for a in members if a is not leader]
    for account in others:
        client.hand_off_model(task, round_, f"bafy-enc-{account.address[:8]}", account)
    client.publish_global_model(
        task,
        round_,
        f"bafy-global-{round_}",
        kit.proofs[(global_model, test_set)],
        leader,
        included=[a.address for a in others],
    )
    return round_, leader


def test_full_multi_round_task_appends_hash_linked_blocks(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    task = _task(
        client, verifier, spec_factory, publisher, participants, policy=AggregationPolicy.FEDAVG
    )
    alice, bob = participants[0], participants[1]
    # Round 0 (FedAvg): the leader publishes an aggregate; here model c stands in for it.
    r0, leader0 = _full_round(client, kit, task, "s1", {alice: "a", bob: "b"}, publisher, "c")
    before = client.round(task, r0)
    receipt = zkpot.finalise(task, r0, sender=outsider)
    [event] = receipt.events.filter(zkpot.BlockFinalised)
    state = client.task_state(task)
    header0, hash0 = client.block(task, 0)
    assert bytes(event.blockHash) == hash0 == header0.hash() == state.last_block_hash
    assert (event.taskId, event.round) == (task, r0)
    # The event carries the whole header; its hash is the block hash.
    from zkpot.chain import header_from_abi

    emitted = header_from_abi(event.header)
    assert emitted.hash() == hash0 and emitted.leader == leader0.address
    assert header0.prev_block_hash == bytes(32)
    assert header0.chain_id == ape.chain.chain_id and header0.zkpot == zkpot.address
    assert header0.leader == leader0.address
    assert header0.global_model_commitment == kit.commitments["c"]
    assert header0.global_correct == kit.correct("c", "s1")
    assert header0.test_set_commitment == before.test_set_commitment
    assert header0.submissions_digest == before.submissions_digest
    assert (
        header0.timestamp
        == ape.chain.provider.web3.eth.get_block(receipt.block_number)["timestamp"]
    )
    assert state.global_model_cid == "bafy-global-0" and state.global_correct == kit.correct(
        "c", "s1"
    )
    assert client.round(task, r0).block_hash == hash0
    with ape.reverts(zkpot.NotPublished):
        zkpot.finalise(task, r0, sender=outsider)
    # Round 1 starts from round 0's global model, on a new test set.
    r1 = r0 + 1
    _full_round(client, kit, task, "s2", {alice: "a", bob: "b"}, publisher, "b")
    assert client.round(task, r1).global_model_cid == "bafy-global-0"
    # The reward baseline is the previous global model (c) proven on round 1's own chunks.
    client.record_baseline(task, r1, kit.proofs[("c", "s2")], publisher)
    assert client.round(task, r1).baseline_proven
    assert client.round(task, r1).baseline_correct == kit.correct("c", "s2")
    hash1 = client.finalise(task, r1, outsider)
    headers = client.blocks(task)
    assert [h.round for h in headers] == [r0, r1]
    assert headers[1].prev_block_hash == hash0 and headers[1].hash() == hash1
    verify_chain(headers, client.task_state(task).last_block_hash)
    assert client.phase(task, r1) == Phase.FINALISED


def test_a_hand_off_to_a_passed_over_leader_does_not_count_for_the_next(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    task = _task(
        client, verifier, spec_factory, publisher, participants, policy=AggregationPolicy.FEDAVG
    )
    members = {participants[0]: "a", participants[1]: "b", participants[2]: "c"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, outsider)
    first, second, third = _ranked(kit, members, client.round(task, round_).tie_seed)
    zkpot.handOffModel(task, round_, "bafy-enc-1", sender=third)
    assert client.lens.getSubmission(task, round_, third.address).handoffLeader == first.address
    warp(client.round(task, round_).aggregate_deadline)
    zkpot.replaceLeader(task, round_, sender=outsider)
    assert client.round(task, round_).leader == second.address
    # The record no longer counts the hand-off; the event still says where it went.
    assert int(client.lens.getSubmission(task, round_, third.address).handoffLeader, 16) == 0
    record = client.submission(task, round_, third.address)
    assert (record.handoff_leader, record.encrypted_model_cid) == (first.address, "bafy-enc-1")
    own = kit.proofs[(members[second], "s1")]
    # The new leader has a hand-off window of its own, which it cannot cut short.
    info = client.round(task, round_)
    assert info.hand_offs == 0 and info.hand_off_deadline > now()
    assert client.hand_offs_open(task, round_)
    with ape.reverts(zkpot.HandOffsOpen):
        raw_publish(zkpot, task, round_, "bafy-global", own, second, included=[])
    snapshot = ape.chain.snapshot()
    warp(info.hand_off_deadline)
    with ape.reverts(zkpot.NotHandedOff, account=third.address):
        raw_publish(zkpot, task, round_, "bafy-global", own, second, included=[third.address])
    ape.chain.restore(snapshot)
    zkpot.handOffModel(task, round_, "bafy-enc-2", sender=third)
    record = client.submission(task, round_, third.address)
    assert (record.handoff_leader, record.encrypted_model_cid) == (second.address, "bafy-enc-2")
    # first (passed over, still admitted) may hand off too; it does not, so the window
    # stays open until its deadline.
    assert client.hand_offs_open(task, round_)
    warp(info.hand_off_deadline)
    assert not client.hand_offs_open(task, round_)
    raw_publish(zkpot, task, round_, "bafy-global", own, second, included=[third.address])
    assert client.round(task, round_).included == (third.address,)
