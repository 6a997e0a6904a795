"""ZKPoT rewards: the published split rule, pull claims, no double pay, no re-entry.

Pools live in the ``ZKPoTRewards`` contract the consensus contract created; the
improvement of each earner is measured against the previous global model's count
proven on the round's own test set (the baseline, ``recordBaseline``).
"""

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
# Every reward task starts from the "always class 1" model: its count on s1 is the baseline.
INITIAL = "k1"


def _reward_task(
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    policy: AggregationPolicy,
    per_round: int = PER_ROUND,
) -> int:
    token.approve(client.rewards.address, POOL, sender=publisher)
    spec = spec_factory(
        verifier,
        chunks_per_round=2,
        policy=policy,
        reward_token=token.address,
        reward_pool=POOL,
        reward_per_round=per_round,
        leader_share_bps=LEADER_BPS,
        initial_model_commitment=kit.commitments[INITIAL],
    )
    task = client.create_task(spec, publisher)
    for p in participants:
        client.join(task, X25519_KEY, p)
    return task


def _expected(
    kit: ProofKit,
    members: dict[Any, str],
    leader: Any,
    earners: set[Any],
    baseline: int,
    global_correct: int,
    total: int,
) -> dict[Any, int]:
    share = total * LEADER_BPS // 10_000
    improvements = {
        a: max(0, kit.correct(m, "s1") - baseline) if a in earners else 0
        for a, m in members.items()
    }
    denominator = sum(improvements.values())
    pool = total - share if denominator else 0
    owed = {a: (pool * i // denominator if denominator else 0) for a, i in improvements.items()}
    owed[leader] += share if global_correct > baseline else 0
    return owed


def test_leader_model_pays_only_the_leader_by_the_rule_and_never_exceeds_the_pool(
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
    rewards = client.rewards
    members = {participants[0]: "a", participants[1]: "b", participants[2]: "c"}
    task = _reward_task(
        client,
        kit,
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
    with ape.reverts(rewards.RoundNotFinalised):
        rewards.claim(task, round_, sender=participants[0])
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, outsider)
    leader = next(a for a in members if a.address == leader_addr)
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[(members[leader], "s1")], leader)
    # Under leader-model only the leader's model is used, so only the leader earns.
    client.record_baseline(task, round_, kit.proofs[(INITIAL, "s1")], leader)
    receipt = zkpot.finalise(task, round_, sender=outsider)
    baseline = kit.correct(INITIAL, "s1")
    global_correct = kit.correct(members[leader], "s1")
    expected = _expected(kit, members, leader, {leader}, baseline, global_correct, PER_ROUND)
    [allocated] = receipt.events.filter(rewards.RewardsAllocated)
    info = client.round(task, round_)
    assert (allocated.taskId, allocated.round, allocated.leader, allocated.baseline) == (
        task,
        round_,
        leader.address,
        baseline,
    )
    assert allocated.leaderReward == info.leader_reward == PER_ROUND * LEADER_BPS // 10_000
    assert allocated.participantPool == info.participant_pool
    assert allocated.totalImprovement == info.total_improvement == global_correct - baseline
    paid = 0
    for account in members:
        assert client.claimable(task, round_, account.address) == expected[account]
        if expected[account] == 0:
            with ape.reverts(rewards.NothingToClaim):
                rewards.claim(task, round_, sender=account)
            continue
        before = token.balanceOf(account)
        receipt = rewards.claim(task, round_, sender=account)
        [event] = receipt.events.filter(rewards.RewardClaimed)
        assert (event.taskId, event.round, event.account, event.amount) == (
            task,
            round_,
            account.address,
            expected[account],
        )
        assert token.balanceOf(account) == before + expected[account]
        paid += expected[account]
        with ape.reverts(rewards.AlreadyClaimed):
            rewards.claim(task, round_, sender=account)
        assert client.claimable(task, round_, account.address) == 0
    assert paid == PER_ROUND
    with ape.reverts(rewards.NothingToClaim):
        rewards.claim(task, round_, sender=outsider)
    state = client.task_state(task)
    # What was allocated was paid in full; the rounding dust stayed unallocated.
    assert paid + state.unallocated == POOL
    refund_before = token.balanceOf(publisher)
    refunded = client.close_task(task, publisher)
    assert refunded == state.unallocated
    assert token.balanceOf(publisher) == refund_before + refunded
    assert paid + refunded == POOL


def test_fedavg_pays_the_leader_and_every_hand_off_whether_included_or_not(
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
        kit,
        verifier,
        token,
        spec_factory,
        publisher,
        list(members),
        AggregationPolicy.FEDAVG,
    )
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    client.record_baseline(task, round_, kit.proofs[(INITIAL, "s1")], publisher)
    to_leader_selection(client, task, round_)
    leader_addr = client.select_leader(task, round_, outsider)
    leader = next(a for a in members if a.address == leader_addr)
    others = [a for a in members if a is not leader]
    client.hand_off_model(task, round_, "bafy-enc-0", others[0])
    client.hand_off_model(task, round_, "bafy-enc-1", others[1])
    # Everyone handed off: the window closed early, the leader may publish at once.
    assert not client.hand_offs_open(task, round_)
    # The leader used others[0]'s model only (others[1]'s did not decrypt, it says).
    receipt = client.publish_global_model(
        task, round_, "bafy-g", kit.proofs[("c", "s1")], leader, included=[others[0].address]
    )
    [published] = receipt.events.filter(zkpot.GlobalModelPublished)
    assert list(published.included) == [others[0].address]
    assert client.round(task, round_).included == (others[0].address,)
    client.finalise(task, round_, outsider)
    baseline = kit.correct(INITIAL, "s1")
    # A rejection is not provable on chain, so it moves no reward: others[1] handed off in
    # the window and earns by its proven count, exactly as if it had been included.
    expected = _expected(
        kit, members, leader, set(members), baseline, kit.correct("c", "s1"), PER_ROUND
    )
    total = sum(client.claim(task, round_, a) for a in members if expected[a] > 0)
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
        client,
        kit,
        verifier,
        token,
        spec_factory,
        publisher,
        [alice],
        AggregationPolicy.LEADER_MODEL,
        per_round=POOL * 3,
    )
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher)
    submit(client, kit, task, round_, alice, "a", "s1")
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, outsider)
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[("a", "s1")], alice)
    client.record_baseline(task, round_, kit.proofs[(INITIAL, "s1")], publisher)
    client.finalise(task, round_, outsider)
    # The round asks for three pools' worth; it allocates what there is.
    assert client.round(task, round_).leader_reward == POOL * LEADER_BPS // 10_000
    paid = client.claim(task, round_, alice)
    assert paid == POOL
    assert client.task_state(task).unallocated == 0


def test_reentering_token_cannot_claim_twice(
    zkpot: Any,
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    outsider: Any,
) -> None:
    rewards = client.rewards
    evil = publisher.deploy(project.ReentrantToken)
    evil.mint(publisher, POOL, sender=publisher)
    evil.approve(rewards.address, POOL, sender=publisher)
    spec = spec_factory(
        verifier,
        chunks_per_round=2,
        policy=AggregationPolicy.LEADER_MODEL,
        reward_token=evil.address,
        reward_pool=POOL,
        reward_per_round=PER_ROUND,
        leader_share_bps=LEADER_BPS,
        initial_model_commitment=kit.commitments[INITIAL],
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
        task, round_, "bafy-g", [], [p.proof for p in proofs], [list(p.instances) for p in proofs]
    )
    evil.execute(zkpot.address, data, sender=outsider)
    client.record_baseline(task, round_, kit.proofs[(INITIAL, "s1")], publisher)
    client.finalise(task, round_, outsider)
    owed = client.claimable(task, round_, evil.address)
    assert owed > 0
    claim_data = rewards.claim.encode_input(task, round_)
    evil.arm(rewards.address, claim_data, sender=outsider)
    evil.execute(rewards.address, claim_data, sender=outsider)
    assert evil.reentryAttempts() == 1
    assert not evil.reentrySucceeded()
    assert bytes(evil.reentryRevertData())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert evil.balanceOf(evil.address) == owed
    assert client.submission(task, round_, evil.address).claimed
    with ape.reverts(rewards.AlreadyClaimed):
        evil.execute(rewards.address, claim_data, sender=outsider)
