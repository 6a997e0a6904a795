# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Sybil accounts flood a round's submission slots with zero or junk scores.

Before: the first ``maxSubmissions`` submissions took every slot whatever their score,
so an attacker's accounts locked honest participants out. Now admission is by rank: a
zero count is never admitted, and a full round admits a better count by evicting its
lowest one (a tie keeps the incumbent). Everything runs on anvil with real proofs.
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
    publisher,
    quiet_revert_traces,
    salt_for,
    submit,
    sybils,
    to_leader_selection,
    verifier,
)
from zkpot.chain import ZKPoTClient


def test_sybils_filling_a_round_are_evicted_by_better_scores(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    # Junk models: "always class 1" (1 of 8) and "always class 6" (2 of 8).
    low, lower = kit.correct("k6", "s1"), kit.correct("k1", "s1")
    alice, bob = honest[0], honest[1]
    assert kit.correct("a", "s1") > low and kit.correct("c", "s1") > low > lower > 0
    task = make_task(honest + sybils, max_submissions=2)
    members = {sybils[0]: "k1", sybils[1]: "k6", alice: "a", bob: "c", sybils[2]: "k6"}
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    # The attacker's accounts submit first and fill the round.
    submit(client, kit, task, round_, sybils[0], "k1", "s1")
    submit(client, kit, task, round_, sybils[1], "k6", "s1")
    assert set(client.round(task, round_).submitters) == {sybils[0].address, sybils[1].address}
    # An honest, better submission still gets in, evicting the lowest sybil.
    receipt = submit(client, kit, task, round_, alice, "a", "s1")
    [event] = receipt.events.filter(zkpot.SubmissionEvicted)
    assert (event.taskId, event.round, event.participant, event.correct, event.by) == (
        task,
        round_,
        sybils[0].address,
        lower,
        alice.address,
    )
    receipt = submit(client, kit, task, round_, bob, "c", "s1")
    [event] = receipt.events.filter(zkpot.SubmissionEvicted)
    assert (event.participant, event.correct, event.by) == (sybils[1].address, low, bob.address)
    assert set(client.round(task, round_).submitters) == {alice.address, bob.address}
    for sybil in sybils[:2]:
        record = client.submission(task, round_, sybil.address)
        assert record.evicted and not record.verified
    # The evicted sybil's model commitment no longer blocks anyone (no ModelAlreadySubmitted),
    # but another account with that junk model cannot take a place back.
    check = client.check_submission(
        task, round_, sybils[2].address, kit.proofs[("k6", "s1")], salt_for(sybils[2])
    )
    assert (check.accepted, check.reason) == (False, "ScoreNotAboveLowest")
    with ape.reverts(zkpot.ScoreNotAboveLowest):
        submit(client, kit, task, round_, sybils[2], "k6", "s1")
    # An evicted account cannot come back either.
    with ape.reverts(zkpot.AlreadySubmitted):
        submit(client, kit, task, round_, sybils[0], "k1", "s1")
    to_leader_selection(client, task, round_)
    leader = client.select_leader(task, round_, publisher)
    best = max(kit.correct("a", "s1"), kit.correct("c", "s1"))
    assert leader in {alice.address, bob.address}
    assert client.submission(task, round_, str(leader)).correct == best


def test_zero_count_proof_is_never_admitted(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    assert kit.correct("z", "s1") == 0  # "always class 8": no sample of s1 is an 8
    task = make_task(sybils[:1] + honest[:1])
    round_ = open_and_commit(client, kit, task, "s1", {sybils[0]: "z", honest[0]: "a"}, publisher)
    check = client.check_submission(
        task, round_, sybils[0].address, kit.proofs[("z", "s1")], salt_for(sybils[0])
    )
    assert (check.accepted, check.reason) == (False, "ZeroCountSubmission")
    # Refused even in an empty round with free slots.
    with ape.reverts(zkpot.ZeroCountSubmission):
        submit(client, kit, task, round_, sybils[0], "z", "s1")
    assert client.round(task, round_).submitters == ()
    submit(client, kit, task, round_, honest[0], "a", "s1")
    assert client.round(task, round_).submitters == (honest[0].address,)


def test_a_tie_with_the_lowest_keeps_the_incumbent_committed_earlier(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
) -> None:
    zkpot = client.contract
    assert kit.correct("a", "s1") == kit.correct("d", "s1")  # d ties a by construction
    alice, bob = honest[0], honest[1]
    task = make_task([alice, bob], max_submissions=1)
    # Alice commits first; bob's equal score, committed later, cannot push her out
    # (test_hand_off_window: the earlier commit wins a tie whoever submitted first).
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a", bob: "d"}, publisher)
    submit(client, kit, task, round_, alice, "a", "s1")
    with ape.reverts(zkpot.ScoreNotAboveLowest):
        submit(client, kit, task, round_, bob, "d", "s1")
    assert client.round(task, round_).submitters == (alice.address,)


def test_an_evicted_submitter_cannot_lead_hand_off_or_be_included(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    alice, mallory = honest[0], sybils[0]
    task = make_task([alice, mallory], max_submissions=1)
    round_ = open_and_commit(client, kit, task, "s1", {mallory: "k6", alice: "a"}, publisher)
    submit(client, kit, task, round_, mallory, "k6", "s1")
    submit(client, kit, task, round_, alice, "a", "s1")
    to_leader_selection(client, task, round_)
    assert client.select_leader(task, round_, publisher) == alice.address
    with ape.reverts(zkpot.NotVerifiedParticipant):
        zkpot.handOffModel(task, round_, "bafy-evicted", sender=mallory)
    proofs = kit.proofs[("a", "s1")]
    with ape.reverts(zkpot.NotHandedOff, account=mallory.address):
        zkpot.publishGlobalModel(
            task,
            round_,
            "bafy-g",
            [mallory.address],
            [p.proof for p in proofs],
            [list(p.instances) for p in proofs],
            sender=alice,
        )
