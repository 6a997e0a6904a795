# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Whoever sends ``selectLeader`` picks the block, and so the winner of a tie.

Before: ties were broken by ``keccak(prevrandao, address)`` with the ``prevrandao`` of
the block that carried ``selectLeader``; its sender (or the block's proposer) could
wait for a block that favours a chosen participant. Now the seed is fixed before the
submit phase ends: the ``prevrandao`` of the first admitted submission mixed with the
submissions digest, which folds in every admitted submitter's commit salt (each bound at
commit time), so the selecting block changes nothing, and arrival order never decides a tie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ape import chain
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from adversarial.chain_fixtures import (  # noqa: F401 - fixtures are found by name
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
    sybils,
    to_leader_selection,
    verifier,
    warp,
)
from zkpot.chain import ZKPoTClient, next_submissions_digest


def _tie_key(seed: bytes, account: str) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "address"], [seed, account])), "big")


def _mix_hash(block_number: int) -> bytes:
    return bytes(chain.provider.web3.eth.get_block(block_number)["mixHash"])


def test_select_leader_sent_in_another_block_picks_the_same_leader(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    alice, bob = honest[0], honest[1]
    assert kit.correct("a", "s1") == kit.correct("d", "s1")  # a tie by construction
    task = make_task([alice, bob])
    members = {alice: "a", bob: "d"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    outcomes = []
    for delay in (0, 1, 7, 23):
        snapshot = chain.snapshot()
        # The selecting party waits any number of blocks (each with its own prevrandao).
        for _ in range(delay):
            warp(int(chain.blocks.head.timestamp) + 12)
        receipt = client.contract.selectLeader(task, round_, sender=sybils[delay % len(sybils)])
        info = client.round(task, round_)
        outcomes.append((info.leader, info.tie_seed, _mix_hash(receipt.block_number)))
        chain.restore(snapshot)
    leaders = {leader for leader, _, _ in outcomes}
    seeds = {seed for _, seed, _ in outcomes}
    randaos = {randao for _, _, randao in outcomes}
    assert len(randaos) > 1, "anvil gave every block the same prevrandao; the test shows nothing"
    assert len(leaders) == 1 and len(seeds) == 1


def test_seed_is_fixed_by_the_first_admission_and_the_admitted_salts(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    alice, bob, mallory = honest[0], honest[1], sybils[0]
    task = make_task([alice, bob, mallory], max_submissions=2)
    members = {mallory: "k6", alice: "a", bob: "d"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    first = submit(client, kit, task, round_, mallory, "k6", "s1")
    submit(client, kit, task, round_, alice, "a", "s1")
    submit(client, kit, task, round_, bob, "d", "s1")  # evicts mallory (2 < 7)
    info = client.round(task, round_)
    assert info.randao_seed == _mix_hash(first.block_number)
    # Every salt is folded into the digest in arrival order, the evicted one's too: it was
    # fixed at commit time, before the reveal, so it cannot be chosen to steer the seed.
    digest = bytes(32)
    for account, model in members.items():
        digest = next_submissions_digest(
            digest, account.address, kit.commitments[model], kit.correct(model, "s1"),
            salt_for(account),
        )
    assert info.submissions_digest == digest
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, publisher)
    info = client.round(task, round_)
    assert info.tie_seed == keccak(
        encode(["bytes32", "bytes32"], [info.randao_seed, info.submissions_digest])
    )
    # The tie is decided by the seed and the addresses, never by who submitted first.
    expected = max((alice.address, bob.address), key=lambda a: _tie_key(info.tie_seed, a))
    assert info.leader == expected
