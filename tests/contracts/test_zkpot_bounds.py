"""Bounded inputs: every string and list argument has a limit, refused with a named error.

The attack: a 2,000-byte CID per submitter once made ``proveAggregation`` need 26 M gas at
64 submitters (above a block's per-transaction cap), so every leader failed. Every CID
argument is now at most ``MAX_CID_BYTES`` (128) and every account list is bounded; each
attempt below names its error with the arguments it declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ape
from proof_kit import ProofKit
from zkpot_helpers import TS_SALT, joined_task, raw_submit, salt_for, warp

from zkpot.chain import TaskSpec, ZKPoTClient, round_test_set_commitment

HUGE_CID = "b" * 2_000
MAX_CID = 128


def test_the_limits_are_public(zkpot: Any) -> None:
    assert zkpot.MAX_CID_BYTES() == MAX_CID
    assert zkpot.MAX_ALLOWLIST_BATCH() == 256


def test_task_cids_longer_than_any_real_cid_are_refused(
    zkpot: Any, verifier: Any, spec_factory: Callable[..., TaskSpec], publisher: Any
) -> None:
    spec = spec_factory(verifier)
    with ape.reverts(zkpot.CIDTooLong, length=2_000, max=MAX_CID):
        zkpot.createTask(replace(spec, spec_cid=HUGE_CID).as_tuple(), [], sender=publisher)
    with ape.reverts(zkpot.CIDTooLong, length=MAX_CID + 1, max=MAX_CID):
        zkpot.createTask(
            replace(spec, initial_model_cid="m" * (MAX_CID + 1)).as_tuple(), [], sender=publisher
        )
    # The limit itself is accepted.
    zkpot.createTask(replace(spec, spec_cid="s" * MAX_CID).as_tuple(), [], sender=publisher)


def test_allowlist_batches_are_bounded(
    client: ZKPoTClient, verifier: Any, spec_factory: Callable[..., TaskSpec], publisher: Any
) -> None:
    zkpot = client.contract
    many = [f"0x{i:040x}" for i in range(1, 258)]
    spec = spec_factory(verifier, allowlist=())
    with ape.reverts(zkpot.TooManyAccounts, count=257, max=256):
        zkpot.createTask(spec.as_tuple(), many, sender=publisher)
    task = client.create_task(spec, publisher)
    with ape.reverts(zkpot.TooManyAccounts, count=257, max=256):
        zkpot.setAllowed(task, many, True, sender=publisher)


def test_a_2000_byte_proof_cid_is_refused_before_any_proof_is_checked(
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    zkpot = client.contract
    task = joined_task(client, verifier, spec_factory, publisher, participants, chunks_per_round=2)
    alice = participants[0]
    ts = kit.test_sets["s1"]
    round_ = client.open_round(
        task, round_test_set_commitment(ts.cid, ts.chunk_commitments, TS_SALT), publisher
    )
    client.commit(task, round_, kit.commitments["a"], salt_for(alice), alice)
    warp(client.round(task, round_).commit_deadline)
    client.reveal_test_set(task, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    proofs = kit.proofs[("a", "s1")]
    with ape.reverts(zkpot.CIDTooLong, length=2_000, max=MAX_CID):
        raw_submit(zkpot, task, round_, proofs, salt_for(alice), HUGE_CID, alice)
    # The honest submission with a real CID still lands.
    raw_submit(zkpot, task, round_, proofs, salt_for(alice), "bafy-proof-a", alice)


def test_a_test_set_cid_committed_at_any_length_is_refused_at_reveal(
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    zkpot = client.contract
    task = joined_task(client, verifier, spec_factory, publisher, participants, chunks_per_round=2)
    chunks = kit.test_sets["s1"].chunk_commitments
    round_ = client.open_round(
        task, round_test_set_commitment(HUGE_CID, chunks, TS_SALT), publisher
    )
    warp(client.round(task, round_).commit_deadline)
    with ape.reverts(zkpot.CIDTooLong, length=2_000, max=MAX_CID):
        zkpot.revealTestSet(task, round_, HUGE_CID, list(chunks), TS_SALT, sender=publisher)


def test_submit_to_an_unknown_task_names_the_task(
    zkpot: Any, kit: ProofKit, participants: list[Any]
) -> None:
    missing = zkpot.taskCount() + 5
    with ape.reverts(zkpot.UnknownTask, taskId=missing):
        raw_submit(zkpot, missing, 0, kit.proofs[("a", "s1")], bytes(32), "cid", participants[0])


def test_aggregation_lists_are_bounded_before_any_read(
    client: ZKPoTClient, participants: list[Any]
) -> None:
    aggregation = client.aggregation
    many = [f"0x{i:040x}" for i in range(1, 66)]
    with ape.reverts(aggregation.TooManyListed, count=65, max=63):
        aggregation.proveAggregation(
            0, 0, bytes(32), many, [], b"", sender=participants[0]
        )
    with ape.reverts(aggregation.TooManyListed, count=64, max=63):
        aggregation.proveAggregation(
            0, 0, bytes(32), many[:32], [(a, 0) for a in many[32:64]], b"", sender=participants[0]
        )
