# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Attack: a leader that takes the round by cutting, or lying about, the hand-offs (issue 17).

Before: the leader could call ``selectLeader``, prove an aggregation of nothing and
publish before anyone could hand off (hand-offs then reverted ``NotAggregating``) and
take the whole participants' pot; it could reject delivered, valid hand-offs as
"unavailable" or "undecryptable" and again take the rejected shares; a hand-off landing
while it proved made ``proveAggregation`` revert ``HandOffNotAccounted``, and ``zkpot
aggregate`` resumed from its stale record and reverted every time; and Sybils that
filled a round's last places with the top score kept an honest equal score out
(``ScoreNotAboveLowest``).

Now: hand-offs are open for ``aggregateDuration / 2`` after selection (closing early
only once every other admitted submitter handed off); a FedAvg leader can neither prove
nor publish while the window is open, a late hand-off is refused (never fatal to the
leader), every hand-off made in the window earns its proven share whether the leader
includes it or not, and a full round ranks equal counts by commit order.

The first tests run on the contract suite's real EZKL proofs (trusted FedAvg); the last
ones on a real Groth16 round with proven aggregation (anvil, IPFS, the tiny MLP's
generated accuracy and 3-slot aggregation circuits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ape
import pytest

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
    salt_for,
    submit,
    sybils,
    to_leader_selection,
    token,
    verifier,
    warp,
)
from zkpot.chain import ZKPoTClient

POOL, PER_ROUND, LEADER_BPS = 10_000, 3_000, 2_000


def _rewarded(make_task: Callable[..., int], kit: ProofKit, token: Any, members: list[Any],
              **kw: Any) -> int:
    return make_task(
        members,
        reward_token=token.address,
        reward_pool=POOL,
        reward_per_round=PER_ROUND,
        leader_share_bps=LEADER_BPS,
        initial_model_commitment=kit.commitments["k1"],  # baseline 1 of 8 on s1
        **kw,
    )


def _submitted_round(client: ZKPoTClient, kit: ProofKit, task: int, members: dict[Any, str],
                     publisher: Any) -> int:
    round_ = open_and_commit(client, kit, task, "s1", members, publisher)
    for account, model in members.items():
        submit(client, kit, task, round_, account, model, "s1")
    to_leader_selection(client, task, round_)
    return round_


def _finalise_and_read(client: ZKPoTClient, kit: ProofKit, task: int, round_: int,
                       accounts: list[Any], publisher: Any) -> dict[str, int]:
    client.record_baseline(task, round_, kit.proofs[("k1", "s1")], publisher)
    client.finalise(task, round_, publisher)
    return {a.address: client.claimable(task, round_, a.address) for a in accounts}


def test_the_leader_cannot_publish_before_the_others_could_hand_off(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
) -> None:
    zkpot = client.contract
    alice, bob, carol = honest
    members = {alice: "a", bob: "b", carol: "c"}
    task = _rewarded(make_task, kit, token, list(members))
    round_ = _submitted_round(client, kit, task, members, publisher)
    # The leader selects itself and publishes at once, its own model, nobody included.
    receipt = zkpot.selectLeader(task, round_, sender=alice)
    [selected] = receipt.events.filter(zkpot.LeaderSelected)
    assert selected.leader == alice.address  # a: 7 of 8
    selected_at = ape.chain.provider.web3.eth.get_block(receipt.block_number)["timestamp"]
    info = client.round(task, round_)
    aggregate = client.lens.taskConfig(task).aggregateDuration
    assert selected.handOffDeadline == info.hand_off_deadline == selected_at + aggregate // 2
    assert selected.aggregateDeadline == info.aggregate_deadline == selected_at + aggregate
    proofs = kit.proofs[("a", "s1")]
    with ape.reverts(zkpot.HandOffsOpen):
        raw_publish(zkpot, task, round_, "bafy-g", proofs, alice)
    client.hand_off_model(task, round_, "bafy-bob-sealed", bob)
    # One hand-off does not close the window while carol may still hand off.
    assert client.hand_offs_open(task, round_)
    with ape.reverts(zkpot.HandOffsOpen):
        raw_publish(zkpot, task, round_, "bafy-g", proofs, alice)
    warp(info.hand_off_deadline)
    assert not client.hand_offs_open(task, round_)
    # Carol is late: refused, and the leader's round goes on.
    with ape.reverts(zkpot.HandOffWindowClosed):
        zkpot.handOffModel(task, round_, "bafy-carol-late", sender=carol)
    # The leader leaves bob out ("unavailable") and publishes its own model.
    raw_publish(zkpot, task, round_, "bafy-g", proofs, alice)
    owed = _finalise_and_read(client, kit, task, round_, list(members), publisher)
    baseline = kit.correct("k1", "s1")
    gains = {alice: kit.correct("a", "s1") - baseline, bob: kit.correct("b", "s1") - baseline}
    pot = PER_ROUND - PER_ROUND * LEADER_BPS // 10_000
    total = sum(gains.values())
    # Bob handed off in the window: he earns his proven share although left out; the
    # leader gets its share and no more; carol, who never handed off in time, nothing.
    assert owed[bob.address] == pot * gains[bob] // total > 0
    assert owed[alice.address] == PER_ROUND * LEADER_BPS // 10_000 + pot * gains[alice] // total
    assert owed[carol.address] == 0


def test_no_rejection_pays_the_leader_more_than_honest_aggregation(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    token: Any,
    publisher: Any,
    honest: list[Any],
) -> None:
    zkpot = client.contract
    alice, bob, carol = honest
    members = {alice: "a", bob: "b", carol: "c"}
    task = _rewarded(make_task, kit, token, list(members))
    round_ = _submitted_round(client, kit, task, members, publisher)
    assert client.select_leader(task, round_, publisher) == alice.address
    client.hand_off_model(task, round_, "bafy-bob-sealed", bob)
    client.hand_off_model(task, round_, "bafy-carol-sealed", carol)
    # Everyone handed off: the window closes early and the leader may publish at once.
    assert not client.hand_offs_open(task, round_)
    strategies = {
        "honest: both included": [bob.address, carol.address],
        "carol rejected as undecryptable": [bob.address],
        "bob rejected as unavailable": [carol.address],
        "both rejected": [],
    }
    paid: dict[str, dict[str, int]] = {}
    for name, included in strategies.items():
        snapshot = ape.chain.snapshot()
        raw_publish(zkpot, task, round_, "bafy-g", kit.proofs[("a", "s1")], alice,
                    sorted(included, key=lambda a: int(a, 16)))
        paid[name] = _finalise_and_read(client, kit, task, round_, list(members), publisher)
        ape.chain.restore(snapshot)
    honest_pay = paid["honest: both included"]
    assert all(v > 0 for v in honest_pay.values())
    for name, pay in paid.items():
        # The leader's pay is the same whatever it rejects; so is every participant's.
        assert pay == honest_pay, name


def test_an_equal_score_committed_earlier_is_admitted_over_later_sybils_at_the_cap(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    alice, sybil = honest[0], sybils[0]
    assert kit.correct("a", "s1") == kit.correct("d", "s1")  # two models, one count
    task = make_task([alice, sybil], max_submissions=1)
    # Alice commits first, the Sybil after her; the Sybil submits first and fills the round.
    round_ = open_and_commit(client, kit, task, "s1", {alice: "a", sybil: "d"}, publisher)
    submit(client, kit, task, round_, sybil, "d", "s1")
    proofs = kit.proofs[("a", "s1")]
    accepted, reason, _, correct = zkpot.checkSubmission(
        task, round_, alice.address, [p.proof for p in proofs],
        [list(p.instances) for p in proofs], salt_for(alice))
    assert (accepted, bytes(reason), correct) == (True, b"\x00" * 4, kit.correct("a", "s1"))
    receipt = submit(client, kit, task, round_, alice, "a", "s1")
    [evicted] = receipt.events.filter(zkpot.SubmissionEvicted)
    assert (evicted.participant, evicted.by) == (sybil.address, alice.address)
    assert client.round(task, round_).submitters == (alice.address,)
    # The rule is commit order, not arrival: a Sybil that commits before an honest
    # account (before anyone knows the test set) keeps its place against an equal score.
    task2 = make_task([alice, sybil], max_submissions=1)
    round2 = open_and_commit(client, kit, task2, "s1", {sybil: "d", alice: "a"}, publisher)
    submit(client, kit, task2, round2, sybil, "d", "s1")
    with ape.reverts(zkpot.ScoreNotAboveLowest):
        submit(client, kit, task2, round2, alice, "a", "s1")


# ------------------------------------------------ proven aggregation, real Groth16 round


@dataclass
class Scene:
    task_id: int
    leader: Any
    """The leader (a :class:`~zkpot.roles.participant.Participant`)."""
    early: Any
    """Hands off inside the window."""
    late: Any
    """Hands off after the window: refused."""
    work: Path


@pytest.fixture(scope="module")
def scene(world: Any, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    from ape import accounts

    from flows.conftest import advance_to, tiny_options
    from zkpot.roles import publisher as pub
    from zkpot.roles.participant import Participant, TrainingConfig

    session = world.session
    publisher = accounts.test_accounts[0]
    options = tiny_options(backend="groth16", samples_per_proof=16, chunks_per_round=1,
                           aggregation_slots=3)
    task_id = pub.create_task(session, publisher, options, world.pool)
    people = [Participant(session, accounts.test_accounts[i], f"window-p{i}") for i in (1, 2, 3)]
    assert pub.open_round(session, publisher, task_id, world.pool) == 0
    for i, person in enumerate(people):
        person.join(task_id)
        person.train(task_id, 0, world.train.subset(range(300 * i, 300 * i + 300)),
                     TrainingConfig(epochs=12))
        person.commit(task_id, 0)
    advance_to(session.client.round(task_id, 0).commit_deadline)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    for person in people:
        person.prove(task_id, 0)
        person.submit(task_id, 0)
    advance_to(session.client.round(task_id, 0).submit_deadline)
    leader_address = session.client.select_leader(task_id, 0, sender=publisher)
    leader = next(p for p in people if p.address == leader_address)
    early, late = [p for p in people if p is not leader]
    return Scene(task_id, leader, early, late, tmp_path_factory.mktemp("hand-off-window"))


@pytest.mark.slow  # the scene is a whole Groth16 round
def test_an_aggregation_proven_before_anyone_could_hand_off_is_refused(scene: Scene) -> None:
    """The leader proves "the aggregate of my model alone" (empty included and rejected
    lists) right after selection, then publishes: both refused while hand-offs are open."""
    from zkpot.proving.circuit import new_blinding
    from zkpot.proving.groth16 import aggregation

    session = scene.leader.session
    client = session.client
    assert client.hand_offs_open(scene.task_id, 0)
    circ = session.circuit(session.task(scene.task_id)[1]).aggregation(3)
    model, blinding = scene.leader.model_and_blinding(scene.task_id, 0)
    record = client.submission(scene.task_id, 0, scene.leader.address)
    weights = [int(record.correct)]
    params = aggregation.fixed_point_aggregate(circ.agg.spec, [model], weights)
    proof = aggregation.prove_aggregate(circ, [model], [blinding], [record.model_commitment],
                                        weights, params, new_blinding(), scene.work / "alone")
    # The proof itself is valid: only the window refuses it.
    with ape.reverts(client.aggregation.HandOffsOpen):
        client.aggregation.proveAggregation(scene.task_id, 0, proof.public.global_commitment, [],
                                            [], proof.proof, sender=scene.leader.account)
    with ape.reverts(client.contract.HandOffsOpen):
        client.contract.publishGlobalModel(scene.task_id, 0, "bafy-own", [], [b""], [[]],
                                           sender=scene.leader.account)


@pytest.mark.slow  # the scene is a whole Groth16 round
def test_a_late_hand_off_is_refused_and_the_leader_recovers_from_a_stale_record(
    scene: Scene,
) -> None:
    """A hand-off landing while the leader proves is refused (before: it broke the proof),
    and ``zkpot aggregate`` collects again when its saved record names another hand-off set
    (before: it resumed from the stale record and failed every time)."""
    from flows.conftest import advance_to
    from zkpot.chain import RoundStatus
    from zkpot.errors import ChainError
    from zkpot.roles.leader import aggregate_and_publish
    from zkpot.roles.participant import key_dir, task_key

    session = scene.leader.session
    client = session.client
    scene.early.send_model(scene.task_id, 0)
    # Still open (the late one has not handed off): the leader is told when it closes.
    with pytest.raises(ChainError, match="open until"):
        aggregate_and_publish(scene.leader, scene.task_id, 0)
    # A record saved against another hand-off set (here: none), as a leader that collected
    # before the hand-off landed would have kept.
    workdir = (scene.leader.home / "leader" / key_dir(task_key(session, scene.task_id))
               / "round-0")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "global.zkpt").write_bytes(b"stale: aggregated before the hand-off landed")
    (workdir / "aggregation.json").write_text(json.dumps(
        {"used": [scene.leader.address], "rejected": [], "handed_off": []}))
    advance_to(client.round(scene.task_id, 0).hand_off_deadline)
    with pytest.raises(ChainError, match="hand-off window .* has closed"):
        scene.late.send_model(scene.task_id, 0)
    with ape.reverts(client.contract.HandOffWindowClosed):
        client.contract.handOffModel(scene.task_id, 0, "bafy-late", sender=scene.late.account)
    result = aggregate_and_publish(scene.leader, scene.task_id, 0)
    info = client.round(scene.task_id, 0)
    assert info.status == RoundStatus.PUBLISHED
    assert info.included == (scene.early.address,)
    assert set(result.used) == {scene.leader.address, scene.early.address}
    assert json.loads((workdir / "aggregation.json").read_text())["handed_off"] == [
        scene.early.address]
    record = client.aggregation_record(scene.task_id, 0)
    assert record is not None and record.included == (scene.early.address,)
    assert record.rejected == ()
