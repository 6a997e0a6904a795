# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Parameters chosen to lock a round (and its reward pool) or to make it unusable.

Before: phase durations were summed in uint64 without bounds (an enormous duration
locked a round and its pool for ever), ``chunksPerRound`` had no upper bound (more
chunks than a block's gas can verify: no submission could ever land), a participant
removed from the allowlist after committing could still submit, block headers did not
name the chain or the contract, and ``getBlock`` past the end reverted as an unknown
round. Each is now a named error, checked here on the real contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from adversarial.chain_fixtures import (  # noqa: F401 - fixtures are found by name
    TS_SALT,
    ProofKit,
    client,
    honest,
    kit,
    make_task,
    open_and_commit,
    publisher,
    quiet_revert_traces,
    salt_for,
    submit,
    to_leader_selection,
    verifier,
    warp,
)
from zkpot.chain import TaskSpec, ZKPoTClient

DAY = 86_400
MAX_PHASE, MAX_ROUND, MAX_CHUNKS = 30 * DAY, 60 * DAY, 12


def _spec(verifier: Any, **kw: Any) -> TaskSpec:
    base: dict[str, Any] = {
        "circuit_id": bytes(verifier.circuitId()),
        "verifier": str(verifier.address),
        "vk_digest": bytes(verifier.vkDigest()),
        "chunks_per_round": 2,
        "spec_cid": "bafyspec",
        "initial_model_cid": "bafyinit",
        "initial_model_commitment": b"\x11" * 32,
    }
    base.update(kw)
    return TaskSpec(**base)


def test_limits_are_published_constants(client: ZKPoTClient) -> None:
    zkpot = client.contract
    assert zkpot.MAX_PHASE_DURATION() == MAX_PHASE
    assert zkpot.MAX_ROUND_DURATION() == MAX_ROUND
    assert zkpot.MAX_CHUNKS_PER_ROUND() == MAX_CHUNKS
    assert zkpot.MAX_SUBMISSIONS_PER_ROUND() == 64


@pytest.mark.parametrize(
    "phase", ["commit_duration", "reveal_duration", "submit_duration", "aggregate_duration"]
)
@pytest.mark.parametrize("duration", [MAX_PHASE + 1, 2**64 - 1])
def test_oversize_phase_duration_reverts(
    client: ZKPoTClient, verifier: Any, publisher: Any, phase: str, duration: int
) -> None:
    zkpot = client.contract
    spec = _spec(verifier, **{phase: duration})
    with ape.reverts(zkpot.PhaseDurationTooLong, duration=duration, max=MAX_PHASE):
        zkpot.createTask(spec.as_tuple(), [], sender=publisher)


def test_phases_that_add_up_past_the_round_limit_revert(
    client: ZKPoTClient, verifier: Any, publisher: Any
) -> None:
    zkpot = client.contract
    spec = _spec(
        verifier,
        commit_duration=MAX_PHASE,
        reveal_duration=MAX_PHASE,
        submit_duration=1,
        aggregate_duration=1,
    )
    with ape.reverts(zkpot.RoundDurationTooLong, total=2 * MAX_PHASE + 2, max=MAX_ROUND):
        zkpot.createTask(spec.as_tuple(), [], sender=publisher)
    # Exactly at the limit is fine.
    ok = _spec(
        verifier,
        commit_duration=MAX_PHASE,
        reveal_duration=MAX_PHASE - 2,
        submit_duration=1,
        aggregate_duration=1,
    )
    client.create_task(ok, publisher)


def test_more_chunks_than_a_block_can_verify_revert(
    client: ZKPoTClient, verifier: Any, publisher: Any
) -> None:
    zkpot = client.contract
    for chunks in (MAX_CHUNKS + 1, 2**32 - 1):
        spec = _spec(verifier, chunks_per_round=chunks)
        with ape.reverts(zkpot.TooManyChunks, chunks=chunks, max=MAX_CHUNKS):
            zkpot.createTask(spec.as_tuple(), [], sender=publisher)
    client.create_task(_spec(verifier, chunks_per_round=MAX_CHUNKS), publisher)


def test_too_many_submission_slots_revert(
    client: ZKPoTClient, verifier: Any, publisher: Any
) -> None:
    zkpot = client.contract
    with ape.reverts(zkpot.InvalidSubmissionLimit):
        zkpot.createTask(_spec(verifier, max_submissions=65).as_tuple(), [], sender=publisher)


def test_unknown_block_reverts_with_a_block_error(
    client: ZKPoTClient, make_task: Callable[..., int]
) -> None:
    task = make_task([])
    lens = client.lens
    with ape.reverts(lens.UnknownBlock, index=0):
        lens.getBlock(task, 0)
    with ape.reverts(lens.UnknownBlock, index=2**256 - 1):
        lens.getBlock(task, 2**256 - 1)


def test_account_removed_from_the_allowlist_cannot_submit(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
) -> None:
    zkpot = client.contract
    alice, bob = honest[0], honest[1]
    task = make_task([alice, bob], allowlist=(alice.address, bob.address))
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a", bob: "b"}, publisher)
    client.set_allowed(task, [alice.address], False, publisher)
    check = client.check_submission(
        task, round_, alice.address, kit.proofs[("a", "s1")], salt_for(alice)
    )
    assert (check.accepted, check.reason) == (False, "NotAllowed")
    with ape.reverts(zkpot.NotAllowed):
        submit(client, kit, task, round_, alice, "a", "s1")
    submit(client, kit, task, round_, bob, "b", "s1")
    assert client.round(task, round_).submitters == (bob.address,)


def test_block_header_names_the_chain_and_the_contract(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
) -> None:
    from ape import chain

    alice = honest[0]
    task = make_task([alice])
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    submit(client, kit, task, round_, alice, "a", "s1")
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, publisher)
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[("a", "s1")], alice)
    digest = client.finalise(task, round_, publisher)
    header, stored = client.block(task, 0)
    assert (header.chain_id, header.zkpot) == (chain.chain_id, client.address)
    assert stored == digest == header.hash()
    # The same header on another chain or from another contract hashes differently,
    # so a block cannot be replayed as another deployment's.
    from dataclasses import replace

    assert replace(header, chain_id=header.chain_id + 1).hash() != digest
    assert replace(header, zkpot=str(publisher.address)).hash() != digest
