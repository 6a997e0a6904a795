"""`zkpot status` after a real round (tiny circuit, real proofs), and `zkpot --version`."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from zkpot.data import PartitionConfig, partition
from zkpot.proving.circuit import BackendName
from zkpot.roles import publisher as pub
from zkpot.roles.leader import aggregate_and_publish
from zkpot.roles.participant import Participant, TrainingConfig

from .conftest import World, advance_to, tiny_options
from .test_cli import invoke

pytestmark = pytest.mark.slow


@dataclass
class Played:
    task_id: int
    counts: dict[str, int]
    leader: str
    other: str
    block_hash: bytes
    global_correct: int


@pytest.fixture(scope="module")
def played(world: World) -> Played:
    """One finalised round of a tiny task with two participants."""
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    parts = partition(world.train, PartitionConfig(participants=2, seed=3))
    people = [
        Participant(session, accounts.test_accounts[i + 3], f"status-p{i}") for i in range(2)
    ]
    pub.open_round(session, publisher, task_id, world.pool)
    for person, data in zip(people, parts, strict=True):
        person.join(task_id)
        person.train(task_id, 0, data, TrainingConfig(epochs=10, seed=0))
        person.commit(task_id, 0)
    advance_to(session.client.round(task_id, 0).commit_deadline)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    for person in people:
        person.prove(task_id, 0)
        person.submit(task_id, 0)
    advance_to(session.client.round(task_id, 0).submit_deadline)
    leader = session.client.select_leader(task_id, 0, sender=publisher)
    assert leader is not None
    [other] = [p for p in people if p.address != leader]
    other.send_model(task_id, 0)
    result = aggregate_and_publish(next(p for p in people if p.address == leader), task_id, 0)
    block_hash = session.client.finalise(task_id, 0, sender=publisher)
    counts = {p.address: session.client.submission(task_id, 0, p.address).correct for p in people}
    return Played(task_id, counts, leader, other.address, block_hash, result.global_correct)


def test_status_json_carries_counts_leader_handoffs_and_block_hash(
    world: World, played: Played
) -> None:
    result = invoke("status", "--task", str(played.task_id), "--json", world=world)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    total = payload["samples_per_round"]
    assert total == 16  # tiny task: 8 samples x 2 chunks
    [round0] = payload["rounds"]
    assert round0["status"] == "finalised"
    assert round0["leader"] == played.leader
    assert round0["block_hash"] == "0x" + played.block_hash.hex()
    assert payload["last_block_hash"] == round0["block_hash"]
    assert {s["participant"]: s["correct"] for s in round0["submissions"]} == played.counts
    for sub in round0["submissions"]:
        assert sub["verified"] and sub["accuracy"] == sub["correct"] / total
        assert sub["leader"] == (sub["participant"] == played.leader)
    [handoff] = round0["handoffs"]
    assert handoff["from"] == played.other and handoff["to"] == played.leader
    assert handoff["cid"]
    assert round0["included"] == [played.other]
    assert round0["global_correct"] == played.global_correct


def test_status_text_shows_the_same(world: World, played: Played) -> None:
    result = invoke("status", "--task", str(played.task_id), world=world)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "round 0: finalised" in text and f"leader {played.leader}" in text
    for address, correct in played.counts.items():
        line = next(line for line in text.splitlines() if line.strip().startswith(address))
        assert f"{correct}/16 ({correct / 16:.3f})" in line
        if address == played.other:
            assert f"handed off to {played.leader}" in line and "included" in line
        else:
            assert "[leader]" in line
    assert f"global model {played.global_correct}/16" in text
    assert f"block 0x{played.block_hash.hex()}" in text


# -- task list --------------------------------------------------------------------------------


def test_task_list_shows_every_task_and_survives_a_crafted_document(
    world: World, played: Played
) -> None:
    """A publisher's task whose document is not a task document (bytes on IPFS, valid CID)
    is listed with the reason; it neither fails the command nor hides the other tasks."""
    from ape import accounts

    from zkpot.chain import TaskSpec

    client = world.session.client
    config = client.lens.taskConfig(played.task_id)
    junk = world.session.storage.add(b"not a task document", name="junk.json")
    crafted = client.create_task(TaskSpec(
        circuit_id=bytes(config.circuitId), verifier=str(config.verifier),
        vk_digest=bytes(config.vkDigest), chunks_per_round=1, spec_cid=junk,
        initial_model_cid=config.initialModelCID,
        initial_model_commitment=bytes(config.initialModelCommitment)),
        sender=accounts.test_accounts[0])

    result = invoke("task", "list", "--json", world=world)
    assert result.exit_code == 0, result.stderr
    rows = {row["task"]: row for row in json.loads(result.stdout)}
    assert len(rows) == client.task_count() and crafted in rows
    ours = rows[played.task_id]
    assert ours["error"] is None and ours["rounds"] == 1 and ours["blocks"] == 1
    assert ours["samples_per_round"] == 16 and ours["backend"] == tiny_options().backend
    assert ours["architecture"] == tiny_options().architecture
    assert ours["circuit_id"] == bytes(config.circuitId).hex()
    assert rows[crafted]["error"] and rows[crafted]["rounds"] == 0

    text = invoke("task", "list", world=world)
    assert text.exit_code == 0, text.stderr
    assert f"task {played.task_id}: " in text.stdout and "1 round(s), 1 block(s)" in text.stdout
    assert f"task {crafted}: open, 0 round(s), 0 block(s); document unreadable" in text.stdout


def test_round_commands_on_a_finalised_or_unknown_round_say_so(
    world: World, played: Played
) -> None:
    """Finalising twice is not an error (the block is there); an unknown round is one
    sentence naming it, never the contract's raw revert."""
    from .test_cli import assert_one_sentence

    for command in ("finalise", "select", "replace-leader"):
        again = invoke("round", command, "--task", str(played.task_id), "--round", "0",
                       world=world)
        assert again.exit_code == 0, again.stderr
        assert again.stdout.strip() == (f"task {played.task_id} round 0 is already finalised: "
                                        f"block 0x{played.block_hash.hex()}")
    unknown = invoke("round", "finalise", "--task", str(played.task_id), "--round", "7",
                     world=world)
    assert_one_sentence(unknown, f"Round 7 of task {played.task_id} does not exist yet")
    no_task = invoke("round", "select", "--task", "99", "--round", "0", world=world)
    assert_one_sentence(no_task, "Task 99 does not exist")


# -- --version --------------------------------------------------------------------------------


def test_version_names_package_backends_and_the_deployed_code_hash(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ape import chain

    monkeypatch.setenv("ZKPOT_DEPLOYMENTS_DIR", str(tmp_path))
    deployed = invoke("deploy")
    assert deployed.exit_code == 0, deployed.stderr
    address = json.loads((tmp_path / "local.json").read_text())["zkpot"]
    result = invoke("--version")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"zkpot {version('zkpot')}"
    assert lines[1] == "proving backends: " + ", ".join(typing.get_args(BackendName))
    assert {"ezkl", "groth16"} <= set(typing.get_args(BackendName))
    code_hash = "0x" + keccak(bytes(chain.provider.get_code(address))).hex()
    assert address in lines[2] and code_hash in lines[2]


def test_version_says_none_without_a_reachable_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZKPOT_DEPLOYMENTS_DIR", str(tmp_path))  # no record here
    result = invoke("--version")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[2].startswith("contract: none")
    # A record whose address holds no code on this chain is no deployment either.
    (tmp_path / "local.json").write_text(
        json.dumps(
            {
                "network": "ethereum:local:foundry",
                "chain_id": 31337,
                "zkpot": "0x000000000000000000000000000000000000dEaD",
                "deployer": "0x000000000000000000000000000000000000dEaD",
                "block_number": 0,
            }
        )
    )
    assert invoke("--version").stdout.splitlines()[2].startswith("contract: none")
