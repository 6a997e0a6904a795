"""ZKPoT rewards: the published split rule, pull claims, no double pay, no re-entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
from ape import project
from eth_utils.crypto import keccak
from proof_kit import ProofKit
from zkpot_helpers import (
    TS_SALT,
    X25519_KEY,
    open_and_commit,
    salt_for,
    submit,
    to_leader_selection,
    warp,
)

from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient, commitment_hash

POOL, PER_ROUND, LEADER_BPS = 1000, 600, 2000


def _reward_task(
    client: ZKPoTClient,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    policy: AggregationPolicy,
) -> int:
    token.approve(client.address, POOL, sender=publisher)
    spec = spec_factory(
        verifier,
        chunks_per_round=2,
        policy=policy,
        reward_token=token.address,
        reward_pool=POOL,
        reward_per_round=PER_ROUND,
        leader_share_bps=LEADER_BPS,
    )
    task = client.create_task(spec, publisher)
    for p in participants:
        client.join(task, X25519_KEY, p)
    return task


def _expected(
    kit: ProofKit,
    members: dict[Any, str],
    leader: Any,
    eligible: set[Any],
    baseline: int,
    total: int,
) -> dict[Any, int]:
    leader_reward = total * LEADER_BPS // 10_000
    pool = total - leader_reward
    improvements = {
        a: max(0, kit.correct(m, "s1") - baseline) if a in eligible else 0
        for a, m in members.items()
    }
    denominator = sum(improvements.values())
    owed = {a: (pool * i // denominator if denominator else 0) for a, i in improvements.items()}
    owed[leader] += leader_reward
    return owed


def test_leader_model_rewards_follow_the_rule_and_never_exceed_the_pool(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    members = {participants[0]: "a", participants[1]: "b", participants[2]: "c"}
    task = _reward_task(
        client,
        verifier,
        token,
        spec_factory,
        publisher,
        list(members),
        AggregationPolicy.LEADER_MODEL,
    )
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    with ape.reverts(zkpot.RoundNotFinalised):
        zkpot.claim(task, round_, sender=participants[0])
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, outsider)
    leader = next(a for a in members if a.address == leader_addr)
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[(members[leader], "s1")], leader)
    client.finalise(task, round_, outsider)
    expected = _expected(kit, members, leader, set(members), 0, PER_ROUND)
    info = client.round(task, round_)
    assert info.leader_reward == PER_ROUND * LEADER_BPS // 10_000
    paid = 0
    for account in members:
        assert client.claimable(task, round_, account.address) == expected[account]
        before = token.balanceOf(account)
        receipt = zkpot.claim(task, round_, sender=account)
        [event] = receipt.events.filter(zkpot.RewardClaimed)
        assert (event.taskId, event.round, event.account, event.amount) == (
            task,
            round_,
            account.address,
            expected[account],
        )
        assert token.balanceOf(account) == before + expected[account]
        paid += expected[account]
        with ape.reverts(zkpot.AlreadyClaimed):
            zkpot.claim(task, round_, sender=account)
        assert client.claimable(task, round_, account.address) == 0
    with ape.reverts(zkpot.NothingToClaim):
        zkpot.claim(task, round_, sender=outsider)
    state = client.task_state(task)
    # What was allocated was paid in full; the rounding dust stayed unallocated.
    assert paid + state.unallocated == POOL
    refund_before = token.balanceOf(publisher)
    refunded = client.close_task(task, publisher)
    assert refunded == state.unallocated
    assert token.balanceOf(publisher) == refund_before + refunded
    assert paid + refunded == POOL


def test_fedavg_pays_only_participants_who_handed_off_their_model(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    members = {participants[0]: "a", participants[1]: "b", participants[2]: "c"}
    task = _reward_task(
        client, verifier, token, spec_factory, publisher, list(members), AggregationPolicy.FEDAVG
    )
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, outsider)
    leader = next(a for a in members if a.address == leader_addr)
    others = [a for a in members if a is not leader]
    client.hand_off_model(task, round_, "bafy-enc", others[0])  # others[1] withholds its model
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[("c", "s1")], leader)
    client.finalise(task, round_, outsider)
    expected = _expected(kit, members, leader, {leader, others[0]}, 0, PER_ROUND)
    assert expected[others[1]] == 0
    with ape.reverts(zkpot.NothingToClaim):
        zkpot.claim(task, round_, sender=others[1])
    total = sum(client.claim(task, round_, a) for a in (leader, others[0]) if expected[a] > 0)
    assert total == sum(expected.values())
    assert total + client.task_state(task).unallocated == POOL


def test_reward_is_capped_by_what_is_left_in_the_pool(
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    alice = participants[0]
    task = _reward_task(
        client, verifier, token, spec_factory, publisher, [alice], AggregationPolicy.LEADER_MODEL
    )
    paid = 0
    for test_set in ("s1", "s2"):
        round_ = open_and_commit(client, kit, task, test_set, {alice: "a"}, publisher)
        submit(client, kit, task, round_, alice, "a", test_set)
        to_leader_selection(client, task, round_)
        client.select_leader(task, round_, outsider)
        client.publish_global_model(task, round_, "bafy-g", kit.proofs[("a", test_set)], alice)
        client.finalise(task, round_, outsider)
        owed = client.claimable(task, round_, alice.address)
        if owed:
            paid += client.claim(task, round_, alice)
    # Round 0 takes 600 of 1000; round 1 at most the remaining 400.
    assert paid <= POOL
    assert paid + client.task_state(task).unallocated == POOL


def test_reentering_token_cannot_claim_twice(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    outsider: Any,
) -> None:
    evil = publisher.deploy(project.ReentrantToken)
    evil.mint(publisher, POOL, sender=publisher)
    evil.approve(zkpot.address, POOL, sender=publisher)
    spec = spec_factory(
        verifier,
        chunks_per_round=2,
        policy=AggregationPolicy.LEADER_MODEL,
        reward_token=evil.address,
        reward_pool=POOL,
        reward_per_round=PER_ROUND,
        leader_share_bps=LEADER_BPS,
    )
    task = client.create_task(spec, publisher)
    # The token contract itself takes part, so the claim pays it and its hook fires.
    evil.execute(zkpot.address, zkpot.join.encode_input(task, X25519_KEY), sender=outsider)
    ts = kit.test_sets["s1"]
    from zkpot.chain import round_test_set_commitment

    round_ = client.open_round(
        task, round_test_set_commitment(ts.cid, ts.chunk_commitments, TS_SALT), publisher
    )
    salt = salt_for(outsider)
    value = commitment_hash(task, round_, evil.address, kit.commitments["a"], salt)
    evil.execute(zkpot.address, zkpot.commit.encode_input(task, round_, value), sender=outsider)
    warp(client.round(task, round_).commit_deadline)
    client.reveal_test_set(task, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    proofs = kit.proofs[("a", "s1")]
    data = zkpot.submit.encode_input(
        task,
        round_,
        [p.proof for p in proofs],
        [list(p.instances) for p in proofs],
        salt,
        "bafy-evil",
    )
    evil.execute(zkpot.address, data, sender=outsider)
    to_leader_selection(client, task, round_)
    assert client.select_leader(task, round_, outsider) == evil.address
    data = zkpot.publishGlobalModel.encode_input(
        task, round_, "bafy-g", [p.proof for p in proofs], [list(p.instances) for p in proofs]
    )
    evil.execute(zkpot.address, data, sender=outsider)
    client.finalise(task, round_, outsider)
    owed = client.claimable(task, round_, evil.address)
    assert owed > 0
    claim_data = zkpot.claim.encode_input(task, round_)
    evil.arm(zkpot.address, claim_data, sender=outsider)
    evil.execute(zkpot.address, claim_data, sender=outsider)
    assert evil.reentryAttempts() == 1
    assert not evil.reentrySucceeded()
    assert bytes(evil.reentryRevertData())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert evil.balanceOf(evil.address) == owed
    assert client.submission(task, round_, evil.address).claimed
    with ape.reverts(zkpot.AlreadyClaimed):
        evil.execute(zkpot.address, claim_data, sender=outsider)
