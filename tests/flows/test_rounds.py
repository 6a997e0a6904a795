"""Two full rounds on real parts: anvil, IPFS, real proofs of a tiny circuit, once with
each proving backend (EZKL, Groth16).

Three participants: two honest, one trained on label-flipped data. In round 1 the
poisoned participant also hands the leader a model other than the one it proved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from zkpot.chain import RoundStatus, verify_chain
from zkpot.data import LabelFlipConfig, PartitionConfig, flip_labels, partition
from zkpot.handoff import send_model
from zkpot.models import architecture_by_name, build_model
from zkpot.roles import publisher as pub
from zkpot.roles.auditor import audit_task
from zkpot.roles.leader import AggregationResult, aggregate_and_publish
from zkpot.roles.participant import Participant, TrainingConfig

from .conftest import TINY, World, advance_to, tiny_options

pytestmark = pytest.mark.slow

WORLD_OWN_IPFS = True
"""The world's IPFS node is this module's own: a test deletes one of its blocks."""


@dataclass
class Run:
    task_id: int
    people: list[Participant]
    kinds: list[str]
    leaders: list[str]
    results: list[AggregationResult]


def _play_round(world: World, run: Run, round_: int, datas: list, swap_handoff: bool) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    assert pub.open_round(session, publisher, run.task_id, world.pool) == round_
    for person, data in zip(run.people, datas, strict=True):
        person.train(run.task_id, round_, data, TrainingConfig(epochs=10, seed=round_))
        person.commit(run.task_id, round_)
    advance_to(session.client.round(run.task_id, round_).commit_deadline)
    pub.reveal(session, publisher, run.task_id, round_, world.pool)
    for person in run.people:
        person.prove(run.task_id, round_)
        person.submit(run.task_id, round_)
    advance_to(session.client.round(run.task_id, round_).submit_deadline)
    leader_address = session.client.select_leader(run.task_id, round_, sender=publisher)
    assert leader_address is not None
    run.leaders.append(leader_address)
    leader = next(p for p in run.people if p.address == leader_address)
    for person, kind in zip(run.people, run.kinds, strict=True):
        if person is leader:
            continue
        if swap_handoff and kind == "label-flipped":
            # Deliver a model other than the one this participant committed and proved.
            other = build_model(architecture_by_name(TINY), seed=99).state_dict()
            key = session.client.participant_key(run.task_id, leader_address)
            assert key is not None
            cid = send_model(session.storage, other, key, architecture=TINY)
            session.client.hand_off_model(run.task_id, round_, cid, sender=person.account)
        else:
            person.send_model(run.task_id, round_)
    run.results.append(aggregate_and_publish(leader, run.task_id, round_))
    session.client.finalise(run.task_id, round_, sender=publisher)


@pytest.fixture(scope="module", params=["ezkl", "groth16"])
def run(world: World, request: pytest.FixtureRequest) -> Run:
    from ape import accounts

    session = world.session
    task_id = pub.create_task(
        session, accounts.test_accounts[0], tiny_options(backend=request.param), world.pool
    )
    parts = partition(world.train, PartitionConfig(participants=3, seed=1))
    # Half flipped: weak (never the leader) but still above zero strict wins, so its
    # submission is admitted (a zero count is refused: ZeroCountSubmission).
    datas = [parts[0], flip_labels(parts[1], LabelFlipConfig(fraction=0.5)), parts[2]]
    kinds = ["honest", "label-flipped", "honest"]
    people = [
        Participant(session, accounts.test_accounts[i + 1], f"rounds-{request.param}-p{i + 1}")
        for i in range(3)
    ]
    for person in people:
        person.join(task_id)
    result = Run(task_id, people, kinds, [], [])
    _play_round(world, result, 0, datas, swap_handoff=False)
    _play_round(world, result, 1, datas, swap_handoff=True)
    return result


def test_two_rounds_finalise_into_hash_linked_blocks(world: World, run: Run) -> None:
    client = world.session.client
    headers = client.blocks(run.task_id)
    assert [h.round for h in headers] == [0, 1]
    verify_chain(headers, client.task_state(run.task_id).last_block_hash)
    assert headers[1].prev_block_hash == headers[0].hash()
    for r in (0, 1):
        info = client.round(run.task_id, r)
        assert info.status == RoundStatus.FINALISED
        assert info.block_hash == headers[r].hash()
        assert headers[r].leader == run.leaders[r]
    # Round 1 started from round 0's published global model.
    assert client.round(run.task_id, 1).global_model_cid == headers[0].global_model_cid


def test_leader_holds_the_highest_verified_count(world: World, run: Run) -> None:
    client = world.session.client
    for r, leader in enumerate(run.leaders):
        counts = {
            p.address: client.submission(run.task_id, r, p.address).correct for p in run.people
        }
        assert counts[leader] == max(counts.values())


def test_poisoned_participant_never_leads(run: Run) -> None:
    poisoned = run.people[run.kinds.index("label-flipped")].address
    assert poisoned not in run.leaders


def test_leader_ignores_a_model_that_does_not_match_its_commitment(run: Run) -> None:
    poisoned = run.people[run.kinds.index("label-flipped")].address
    round0, round1 = run.results
    assert poisoned in round0.used and not round0.rejected
    assert poisoned not in round1.used
    assert [r.participant for r in round1.rejected] == [poisoned]
    assert "commitment" in round1.rejected[0].reason


def test_global_model_on_ipfs_is_the_one_the_block_commits_to(world: World, run: Run) -> None:
    client = world.session.client
    header = client.blocks(run.task_id)[1]
    _, document = world.session.task(run.task_id)
    from zkpot.roles.common import fetch_model_and_blinding

    model, blinding = fetch_model_and_blinding(
        world.session.storage, header.global_model_cid, document
    )
    assert blinding is not None  # published with the model: anyone can recompute
    artifacts = world.session.circuit(document)
    commitment = artifacts.model_commitment(model, blinding=blinding)
    assert commitment == header.global_model_commitment
    assert header.global_correct == run.results[1].global_correct


def test_audit_passes_on_an_honest_run(world: World, run: Run) -> None:
    findings = audit_task(world.session, run.task_id, check_keys=True)
    # The tiny circuit's keys are development ones (EZKL's generated SRS, Groth16's
    # single-party setup, its aggregation circuit's too): `audit --keys` FAILs them, and
    # nothing else.
    _, document = world.session.task(run.task_id)
    failed = [f for f in findings if not f.ok]
    assert [f.item for f in failed] == ["proving keys"] + (
        ["aggregation keys"] if document.aggregation_slots else [])
    keys = failed[0]
    assert keys.detail.startswith({"ezkl": "EZKL keys", "groth16": "Groth16 keys"}[
        document.circuit.backend])
    assert all("INSECURE" in f.detail for f in failed)
    items = {(f.round, f.item.split(" ")[0]) for f in findings}
    for r in (0, 1):
        assert {(r, "test"), (r, "submission"), (r, "global"), (r, "block")} <= items
    assert (None, "block") in items


def test_auditing_one_later_round_compares_it_with_the_round_before(
    world: World, run: Run
) -> None:
    # Round 1 alone: its starting model is round 0's published one, not the task's initial
    # model (an earlier audit compared with the initial model and failed a correct chain).
    findings = audit_task(world.session, run.task_id, rounds=[1])
    assert [f for f in findings if not f.ok] == []
    continuity = [f for f in findings if f.item == "continuity"]
    assert [(f.round, f.ok) for f in continuity] == [(1, True)]


def _block_file(world: World, content: bytes) -> Path:
    """The file in the node's repository holding a single-block object."""
    import base64

    api = world.ipfs.config.ipfs_api_url
    repo = Path(httpx.post(f"{api}/api/v0/repo/stat").json()["RepoPath"])
    name = base64.b32encode(b"\x12\x20" + hashlib.sha256(content).digest()).decode().rstrip("=")
    [path] = list((repo / "blocks").glob(f"*/{name}.data"))
    return path


def test_audit_flags_a_tampered_ipfs_object(world: World, run: Run) -> None:
    header = world.session.client.blocks(run.task_id)[1]
    original = world.session.storage.cat(header.global_model_cid)
    path = _block_file(world, original)
    tampered = bytearray(original)
    tampered[-1] ^= 0x01
    path.write_bytes(bytes(tampered))
    try:
        findings = audit_task(world.session, run.task_id)
    finally:
        path.write_bytes(original)
    failed = [f for f in findings if not f.ok]
    assert [(f.round, f.item) for f in failed] == [(1, "global model")]
    assert "hashes to" in failed[0].detail


def test_a_leader_model_round_publishes_the_leaders_own_model(world: World) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(
        session, publisher, tiny_options(backend="groth16", policy="leader-model"), world.pool
    )
    parts = partition(world.train, PartitionConfig(participants=2, seed=4))
    people = [Participant(session, accounts.test_accounts[i + 7], f"leader-model-p{i}")
              for i in range(2)]
    for person in people:
        person.join(task_id)
    assert pub.open_round(session, publisher, task_id, world.pool) == 0
    for person, data in zip(people, parts, strict=True):
        person.train(task_id, 0, data, TrainingConfig(epochs=10, seed=2))
        person.commit(task_id, 0)
    advance_to(session.client.round(task_id, 0).commit_deadline)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    for person in people:
        person.prove(task_id, 0)
        person.submit(task_id, 0)
    advance_to(session.client.round(task_id, 0).submit_deadline)
    leader_address = session.client.select_leader(task_id, 0, sender=publisher)
    leader = next(p for p in people if p.address == leader_address)
    # Nothing is handed off under leader-model: the leader publishes its own model.
    result = aggregate_and_publish(leader, task_id, 0)
    session.client.finalise(task_id, 0, sender=publisher)
    info = session.client.round(task_id, 0)
    own = session.client.submission(task_id, 0, leader.address)
    assert info.status == RoundStatus.FINALISED
    assert info.new_model_commitment == own.model_commitment
    assert result.global_model_cid
