"""The ``zkpot`` command line on real services: output, and one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zkpot.cli import cli
from zkpot.roles import keytrust
from zkpot.roles import publisher as pub
from zkpot.roles.participant import Participant, task_key
from zkpot.state import Step

from .conftest import World, free_port, tiny_options


def invoke(*args: str, world: World | None = None) -> Result:
    extra: list[str] = []
    if world is not None:
        extra = [
            "--contract",
            world.session.client.address,
            "--ipfs-url",
            world.ipfs.config.ipfs_api_url,
        ]
    return CliRunner(mix_stderr=False).invoke(cli, [*args, *extra], catch_exceptions=False)


def assert_one_sentence(result: Result, *fragments: str) -> None:
    """Non-zero exit, and stderr is exactly one line naming the problem and the remedy.

    Apart from the warning about a task's INSECURE development keys, which every role
    prints on its own line (:mod:`zkpot.roles.keytrust`).
    """
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not line.startswith(keytrust.WARNING_PREFIX)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and lines[0].endswith(".")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def task_id(world: World) -> int:
    from ape import accounts

    return pub.create_task(world.session, accounts.test_accounts[0], tiny_options(), world.pool)


def test_node_status_json_lists_both_services_up(world: World) -> None:
    result = invoke("node", "status", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["anvil"]["running"] and rows["ipfs"]["running"]


def test_deploy_writes_the_deployment_record(tmp_path: Path, world: World) -> None:
    result = invoke("deploy", "--root", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "deployments" / "local.json").read_text())
    assert record["chain_id"] == 31337
    from ape import chain

    assert chain.provider.get_code(record["zkpot"])


def test_status_reports_the_task_as_json(world: World, task_id: int) -> None:
    result = invoke("status", "--task", str(task_id), "--json", world=world)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["task"] == task_id
    assert payload["architecture"] == "mlp-64-8-10"
    assert payload["rounds"] == []


def test_unknown_task_is_one_sentence(world: World) -> None:
    assert_one_sentence(invoke("status", "--task", "999", world=world), "Task 999 does not exist")


def test_chain_down_is_one_sentence(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKPOT_ANVIL_PORT", str(free_port()))
    assert_one_sentence(invoke("status", "--task", "0", world=world), "zkpot node up")


def test_ipfs_down_is_one_sentence(world: World, task_id: int) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        "status",
        "--task",
        str(task_id),
        "--contract",
        world.session.client.address,
        "--ipfs-url",
        closed,
    )
    assert_one_sentence(result, "not reachable", "zkpot node up")


def test_step_out_of_order_is_one_sentence_and_keeps_state(world: World, task_id: int) -> None:
    from ape import accounts

    # The round exists on chain (an unknown round is refused before any local record).
    if world.session.client.task_state(task_id).round_count == 0:
        pub.open_round(world.session, accounts.test_accounts[0], task_id, world.pool)
    result = invoke(
        "prove",
        "--name",
        "cli-early",
        "--account",
        "test:7",
        "--task",
        str(task_id),
        "--round",
        "0",
        world=world,
    )
    assert_one_sentence(result, "Round 0")
    me = Participant(world.session, accounts.test_accounts[7], "cli-early")
    record = me.state.get_round(task_key(world.session, task_id), 0)
    assert record is not None and record.step == Step.STARTED


def test_missing_data_file_is_one_sentence(world: World, task_id: int, tmp_path: Path) -> None:
    result = invoke(
        "train",
        "--name",
        "cli-data",
        "--account",
        "test:8",
        "--task",
        str(task_id),
        "--round",
        "0",
        "--data",
        f"csv:{tmp_path / 'missing.csv'}",
        world=world,
    )
    assert_one_sentence(result, "missing.csv")


def test_data_of_the_wrong_shape_is_one_sentence(
    world: World, task_id: int, tmp_path: Path
) -> None:
    from ape import accounts

    csv = tmp_path / "narrow.csv"
    csv.write_text("".join(f"{i % 10},{i % 3},{i % 5},{i % 7}\n" for i in range(40)))
    pub.open_round(world.session, accounts.test_accounts[0], task_id, world.pool)
    result = invoke(
        "train",
        "--name",
        "cli-shape",
        "--account",
        "test:8",
        "--task",
        str(task_id),
        "--round",
        "0",
        "--data",
        f"csv:{csv}",
        world=world,
    )
    assert_one_sentence(result, "3 features", "takes 64")


def test_unknown_account_is_one_sentence(world: World, task_id: int) -> None:
    result = invoke(
        "join",
        "--name",
        "cli-who",
        "--account",
        "nobody-here",
        "--task",
        str(task_id),
        world=world,
    )
    assert_one_sentence(result, "nobody-here")
