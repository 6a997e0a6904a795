"""Defaults set once (``zkpot.toml``, ``ZKPOT_*``), ``task create``'s incentive options, ``--json``.

Real anvil and IPFS; the task of the incentive tests is created through the CLI with the
tiny circuit (built once per run in the shared circuit folder).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from zkpot.cli import cli

from .conftest import TINY, World
from .test_cli import assert_one_sentence


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(mix_stderr=False).invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder whose ``zkpot.toml`` zkpot reads (the test run ignores any other)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZKPOT_CONFIG", raising=False)
    yield tmp_path


# -- precedence: flag, then environment, then zkpot.toml, then the built-in default ------


def test_the_network_comes_from_the_file_then_the_environment_then_the_flag(
    project_dir: Path,
) -> None:
    # `node warp` refuses any network but the local anvil and names the one it was given,
    # so it shows which source won without touching a chain.
    (project_dir / "zkpot.toml").write_text('network = "ethereum:sepolia:from-file"\n')
    assert_one_sentence(run("node", "warp", "1"), "from-file")
    env = {"ZKPOT_NETWORK": "ethereum:sepolia:from-env"}
    assert_one_sentence(run("node", "warp", "1", env=env), "from-env")
    flagged = run("node", "warp", "1", "--network", "ethereum:sepolia:from-flag", env=env)
    assert_one_sentence(flagged, "from-flag")


def test_without_a_file_or_variable_the_built_in_default_is_used(project_dir: Path) -> None:
    result = run("join", "--help")
    assert "[default: (ethereum:local:foundry)]" in " ".join(result.stdout.split())
    missing = run("join", "--account", "test:1", "--name", "alice")
    assert missing.exit_code != 0 and "--task" in missing.stderr


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("tsk = 3\n", ("unknown key 'tsk'", "use only network")),
        ('task = "three"\n', ("task in", "whole number")),
        ("task = -1\n", ("task in", "whole number")),
        ("network = 5\n", ("network in", "a string")),
        ("network = [\n", ("not readable TOML",)),
        ('max_fee_gwei = "low"\n', ("max_fee_gwei in", "a number")),
    ],
)
def test_a_broken_config_file_is_one_sentence(
    project_dir: Path, text: str, fragments: tuple[str, ...]
) -> None:
    (project_dir / "zkpot.toml").write_text(text)
    assert_one_sentence(run("node", "warp", "1"), "zkpot.toml", *fragments)


def test_a_named_config_file_that_is_missing_is_one_sentence(project_dir: Path) -> None:
    missing = project_dir / "elsewhere.toml"
    result = run("node", "status", env={"ZKPOT_CONFIG": str(missing)})
    assert_one_sentence(result, str(missing), "does not exist", "ZKPOT_CONFIG")


# -- task create: allowlist, submission limit, rewards; --json on the way ------------------


@pytest.fixture(scope="module")
def token(world: World) -> Any:
    from ape import accounts, project

    publisher = accounts.test_accounts[0]
    deployed = publisher.deploy(project.RewardToken)
    deployed.mint(publisher, 10**21, sender=publisher)
    return deployed


def _create(world: World, shared_zk_dir: Path, *options: str) -> Result:
    where = ["--contract", world.session.client.address,
             "--ipfs-url", world.ipfs.config.ipfs_api_url]
    return run("task", "create", "--architecture", TINY, "--samples", "8", "--chunks", "2",
               *where, *options, env={"ZKPOT_ZK_DIR": str(shared_zk_dir)})


def test_task_create_sets_the_allowlist_limit_and_reward_pool(
    world: World, shared_zk_dir: Path, token: Any
) -> None:
    from ape import accounts

    allowed = str(accounts.test_accounts[1].address)
    result = _create(world, shared_zk_dir, "--allow", allowed, "--max-submissions", "3",
                     "--reward-token", str(token.address), "--reward-pool", "1000",
                     "--reward-per-round", "100", "--leader-share-bps", "2500", "--json")
    assert result.exit_code == 0, result.stderr
    task_id = json.loads(result.stdout)["task"]
    client = world.session.client
    config = client.lens.taskConfig(task_id)
    assert config.allowlistEnabled and int(config.maxSubmissions) == 3
    assert int(config.rewardPerRound) == 100 and int(config.leaderShareBps) == 2500
    assert client.is_allowed(task_id, allowed)
    assert not client.is_allowed(task_id, str(accounts.test_accounts[2].address))
    # The pool was approved by zkpot and pulled by createTask.
    assert client.has_reward_pool(task_id)
    assert int(token.balanceOf(client.rewards.address)) >= 1000

    # A participant outside the allowlist is refused in one sentence, naming the rule.
    where = ["--contract", client.address, "--ipfs-url", world.ipfs.config.ipfs_api_url]
    refused = run("join", "--account", "test:2", "--name", "mallory", "--task", str(task_id),
                  *where)
    assert_one_sentence(refused, "NotAllowed", "allowlist")
    joined = run("join", "--account", "test:1", "--name", "alice", "--task", str(task_id),
                 "--json", *where)
    assert joined.exit_code == 0, joined.stderr
    assert json.loads(joined.stdout) == {"name": "alice", "address": allowed, "task": task_id}

    # Defaults from the environment: the round is opened without --task.
    opened = run("round", "open", "--json", *where, env={"ZKPOT_TASK": str(task_id)})
    assert opened.exit_code == 0, opened.stderr
    info = json.loads(opened.stdout)
    assert info["task"] == task_id and info["round"] == 0
    assert info["commit_deadline"] < info["reveal_deadline"] < info["submit_deadline"]


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (("--reward-pool", "10"), ("needs a token", "--reward-token")),
        (("--reward-token", "TOKEN", "--reward-pool", "10", "--reward-per-round", "11"),
         ("pays no round",)),
        (("--reward-token", "TOKEN", "--reward-pool", "10", "--reward-per-round", "5",
          "--leader-share-bps", "10001"), ("--leader-share-bps 10001",)),
        (("--max-submissions", "65"), ("--max-submissions 65", "1 to 64")),
        (("--max-submissions", "0"), ("--max-submissions 0",)),
        (("--allow", "0x1234"), ("--allow 0x1234", "40 hex digits")),
        (("--reward-token", "NOCODE", "--reward-pool", "10", "--reward-per-round", "5"),
         ("No contract is deployed at the reward token",)),
        (("--reward-token", "NOTERC20", "--reward-pool", "10", "--reward-per-round", "5"),
         ("did not answer as an ERC-20",)),
        (("--reward-token", "TOKEN", "--reward-pool", str(10**24), "--reward-per-round", "5"),
         ("less than the pool",)),
    ],
)
def test_task_create_refuses_incentives_the_contract_cannot_have_and_creates_nothing(
    world: World, shared_zk_dir: Path, token: Any, options: tuple[str, ...],
    fragments: tuple[str, ...],
) -> None:
    substitute = {"TOKEN": str(token.address),
                  "NOCODE": "0x" + "ab" * 20,
                  "NOTERC20": world.session.client.address}
    before = world.session.client.task_count()
    result = _create(world, shared_zk_dir, *(substitute.get(o, o) for o in options))
    # One error sentence (after task create's progress line and the public-pool warning).
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.exit_code != 0 and len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr and not result.stdout.strip()
    assert all(fragment in errors[0] for fragment in fragments), errors[0]
    assert world.session.client.task_count() == before


# -- --json everywhere ----------------------------------------------------------------------


def _leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaves(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def test_every_command_takes_json() -> None:
    lacking = [name for name, command in _leaves(cli)
               if not any(p.name == "as_json" for p in command.params)]
    assert lacking == []


# -- the transaction options reach every transaction --------------------------------------


def test_the_fee_cap_comes_from_the_flag_the_environment_or_the_file_and_sends_nothing(
    world: World, shared_zk_dir: Path, project_dir: Path
) -> None:
    from ape import accounts

    created = _create(world, shared_zk_dir, "--json")
    assert created.exit_code == 0, created.stderr
    task_id = json.loads(created.stdout)["task"]
    client = world.session.client
    where = ["--contract", client.address, "--ipfs-url", world.ipfs.config.ipfs_api_url,
             "--account", "test:3", "--name", "capped", "--task", str(task_id)]
    address = str(accounts.test_accounts[3].address)

    from_env = run("join", *where, env={"ZKPOT_MAX_FEE_GWEI": "0.000001"})
    assert_one_sentence(from_env, "above your cap of 0.000 gwei", "nothing was sent")
    (project_dir / "zkpot.toml").write_text("max_fee_gwei = 0.000001\n")
    assert_one_sentence(run("join", *where), "above your cap", "nothing was sent")
    assert client.participant_key(task_id, address) is None  # refused before any send
    flagged = run("join", *where, "--max-fee-gwei", "1000", "--json")  # the flag wins
    assert flagged.exit_code == 0, flagged.stderr
    assert client.participant_key(task_id, address) is not None
