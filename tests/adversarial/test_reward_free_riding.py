# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Free riders claim rewards without contributing a better model.

Before: improvement was measured against the previous global model's count on the
*previous* round's test set, so a copy of the public global model earned whenever the
new test set was easier. Now improvement is measured against the previous global model
proven on the round's own chunks, and only the leader and the participants that handed
their model off to it inside its hand-off window earn (issue 17: whether the leader
included the model or rejected it, since a rejection is not provable on chain). A share
is by the proven count of the model committed before the test set was known, so a junk
hand-off earns what that proven model earns, never more, and no hand-off earns nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape

from adversarial.chain_fixtures import (  # noqa: F401 - fixtures are found by name
    ProofKit,
    client,
    honest,
    kit,
    make_task,
    open_and_commit,
    outsider,
    publisher,
    quiet_revert_traces,
    raw_publish,
    submit,
    sybils,
    to_leader_selection,
    token,
    verifier,
    warp,
)
from zkpot.chain import AggregationPolicy, ZKPoTClient

POOL, PER_ROUND, LEADER_BPS = 10_000, 3_000, 2_000


def _rewarded(
    make_task: Callable[..., int], kit: ProofKit, token: Any, members: list[Any], **kw: Any
) -> int:
    return make_task(
        members,
        reward_token=token.address,
        reward_pool=POOL,
        reward_per_round=PER_ROUND,
        leader_share_bps=LEADER_BPS,
        initial_model_commitment=kit.commitments["k1"],  # baseline 1 of 8 on s1
        **kw,
    )


def _lead(client: ZKPoTClient, task: int, round_: int, members: dict[Any, str], by: Any) -> Any:
    to_leader_selection(client, task, round_)
    leader = client.select_leader(task, round_, by)
    return next(a for a in members if a.address == leader)


def test_a_junk_hand_off_earns_its_proven_share_and_no_hand_off_earns_nothing(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    rewards = client.rewards
    alice, bob, mallory, idle = honest[0], honest[1], sybils[0], honest[2]
    members = {alice: "a", bob: "b", mallory: "c", idle: "k6"}
    task = _rewarded(make_task, kit, token, list(members))
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    assert _lead(client, task, round_, members, publisher) == alice  # a: 7 of 8
    client.hand_off_model(task, round_, "bafy-bob-sealed-model", bob)
    # Mallory hands off junk (no model behind the CID); the leader cannot use it.
    client.hand_off_model(task, round_, "junk", mallory)
    # Idle never hands off: the leader waits out the window, then publishes.
    warp(client.round(task, round_).hand_off_deadline)
    client.publish_global_model(
        task, round_, "bafy-g", kit.proofs[("a", "s1")], alice, included=[bob.address]
    )
    client.record_baseline(task, round_, kit.proofs[("k1", "s1")], publisher)
    client.finalise(task, round_, publisher)
    baseline = kit.correct("k1", "s1")
    # The junk earns what mallory's proven model (c) earns, as if it had been included:
    # no more than an honest hand-off of the same model.
    assert rewards.improvementOf(task, round_, mallory.address) == kit.correct("c", "s1") - baseline
    assert rewards.improvementOf(task, round_, bob.address) == kit.correct("b", "s1") - baseline
    pot = PER_ROUND - PER_ROUND * LEADER_BPS // 10_000
    total = sum(kit.correct(m, "s1") - baseline for m in ("a", "b", "c"))
    share = pot * (kit.correct("c", "s1") - baseline) // total
    assert client.claimable(task, round_, mallory.address) == share
    assert client.claim(task, round_, bob) > 0
    # A participant that never handed off earns nothing, however good its proven model
    # (k6 beats the baseline: 2 > 1).
    assert kit.correct("k6", "s1") > baseline
    assert rewards.improvementOf(task, round_, idle.address) == 0
    assert client.claimable(task, round_, idle.address) == 0
    with ape.reverts(rewards.NothingToClaim):
        rewards.claim(task, round_, sender=idle)


def test_leader_cannot_list_a_participant_that_never_handed_off(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    alice, bob, mallory = honest[0], honest[1], sybils[0]
    members = {alice: "a", bob: "b", mallory: "c"}
    task = _rewarded(make_task, kit, token, list(members))
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    leader = _lead(client, task, round_, members, publisher)
    assert leader == alice
    client.hand_off_model(task, round_, "bafy-bob", bob)
    warp(client.round(task, round_).hand_off_deadline)  # mallory never hands off
    proofs = kit.proofs[("a", "s1")]
    # A colluding leader pads the list with an account that handed nothing off.
    with ape.reverts(zkpot.NotHandedOff, account=mallory.address):
        raw_publish(zkpot, task, round_, "bafy-g", proofs, alice, [mallory.address])
    # ...or lists the same participant twice to double its share.
    with ape.reverts(zkpot.IncludedNotAscending):
        raw_publish(zkpot, task, round_, "bafy-g", proofs, alice, [bob.address, bob.address])
    # The leader itself is never "included": it did not hand off to itself.
    with ape.reverts(zkpot.NotHandedOff, account=alice.address):
        raw_publish(zkpot, task, round_, "bafy-g", proofs, alice, [alice.address])


def test_copy_of_the_global_model_earns_nothing_without_beating_the_proven_baseline(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    rewards = client.rewards
    alice, bob, copier = honest[0], honest[1], sybils[0]
    task = _rewarded(make_task, kit, token, [alice, bob, copier])
    # Round 0 on s1: alice leads and publishes model a as the global model.
    r0 = open_and_commit(client, kit, task, "s1", {alice: "a", bob: "b"}, publisher)
    submit(client, kit, task, r0, alice, "a", "s1")
    submit(client, kit, task, r0, bob, "b", "s1")
    assert _lead(client, task, r0, {alice: "a", bob: "b"}, publisher) == alice
    client.hand_off_model(task, r0, "bafy-bob", bob)
    client.publish_global_model(
        task, r0, "bafy-g0", kit.proofs[("a", "s1")], alice, included=[bob.address]
    )
    client.record_baseline(task, r0, kit.proofs[("k1", "s1")], publisher)
    client.finalise(task, r0, publisher)
    # Round 1 on s2: the copier submits the public global model (a) as its own; bob his b.
    members = {copier: "a", bob: "b"}
    r1 = open_and_commit(client, kit, task, "s2", members, publisher)
    submit(client, kit, task, r1, copier, "a", "s2")
    submit(client, kit, task, r1, bob, "b", "s2")
    leader = _lead(client, task, r1, members, publisher)
    other = next(a for a in members if a is not leader)
    client.hand_off_model(task, r1, "bafy-sealed", other)
    client.publish_global_model(
        task, r1, "bafy-g1", kit.proofs[(members[leader], "s2")], leader, included=[other.address]
    )
    # The baseline must be the round's own starting model, proven on this round's chunks.
    with ape.reverts(client.contract.BaselineModelMismatch):
        client.contract.recordBaseline(
            task,
            r1,
            [p.proof for p in kit.proofs[("b", "s2")]],
            [list(p.instances) for p in kit.proofs[("b", "s2")]],
            sender=publisher,
        )
    client.record_baseline(task, r1, kit.proofs[("a", "s2")], leader)
    info = client.round(task, r1)
    assert info.baseline_correct == kit.correct("a", "s2")
    client.finalise(task, r1, publisher)
    # The copy scores exactly the baseline on the same set: no improvement, no reward
    # (as leader too: publishing the copy does not improve the global model).
    assert rewards.improvementOf(task, r1, copier.address) == 0
    assert client.claimable(task, r1, copier.address) == 0
    with ape.reverts(rewards.NothingToClaim):
        rewards.claim(task, r1, sender=copier)


def test_a_rewarded_round_cannot_finalise_without_its_proven_baseline(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
    outsider: Any,
) -> None:
    zkpot = client.contract
    alice = honest[0]
    task = _rewarded(make_task, kit, token, [alice], policy=AggregationPolicy.LEADER_MODEL)
    baseline = kit.proofs[("k1", "s1")]
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a"}, publisher, reveal=False)
    with ape.reverts(zkpot.BaselinePhaseClosed):
        client.contract.recordBaseline(
            task,
            round_,
            [p.proof for p in baseline],
            [list(p.instances) for p in baseline],
            sender=publisher,
        )
    ts = kit.test_sets["s1"]
    from adversarial.chain_fixtures import TS_SALT, warp

    warp(client.round(task, round_).commit_deadline)
    client.reveal_test_set(task, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    submit(client, kit, task, round_, alice, "a", "s1")
    to_leader_selection(client, task, round_)
    client.select_leader(task, round_, publisher)
    client.publish_global_model(task, round_, "bafy-g", kit.proofs[("a", "s1")], alice)
    with ape.reverts(zkpot.BaselineNotProven):
        zkpot.finalise(task, round_, sender=outsider)
    with ape.reverts(zkpot.NotBaselineProver):
        zkpot.recordBaseline(
            task,
            round_,
            [p.proof for p in baseline],
            [list(p.instances) for p in baseline],
            sender=outsider,
        )
    receipt = client.record_baseline(task, round_, baseline, alice)
    [event] = receipt.events.filter(zkpot.BaselineRecorded)
    assert (event.taskId, event.round, event.prover, event.correct) == (
        task,
        round_,
        alice.address,
        kit.correct("k1", "s1"),
    )
    with ape.reverts(zkpot.BaselineAlreadyRecorded):
        zkpot.recordBaseline(
            task,
            round_,
            [p.proof for p in baseline],
            [list(p.instances) for p in baseline],
            sender=publisher,
        )
    client.finalise(task, round_, outsider)
    with ape.reverts(zkpot.BaselinePhaseClosed):
        zkpot.recordBaseline(
            task,
            round_,
            [p.proof for p in baseline],
            [list(p.instances) for p in baseline],
            sender=publisher,
        )
