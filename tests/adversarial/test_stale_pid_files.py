"""Attack: a stale PID file makes ``zkpot node down`` kill an unrelated process.

A service that died leaves its PID file behind; the kernel later gives that PID to
another process (here a harmless ``sleep``, started as its own session leader like a
service, so signalling its group would kill it). Before the fix, ``node down`` and
``node up`` signalled whatever process held the recorded PID. Now a PID is signalled
only while the process holding it has the start time and arguments recorded when
zkpot started it; anything else is a stale file, removed without killing anything.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkpot import services
from zkpot.cli import cli


@pytest.fixture
def config(tmp_path: Path) -> services.ServicesConfig:
    """Services on free ports with their own run folder (nothing shared is touched)."""
    return services.ServicesConfig(
        anvil_port=services.free_ports(),
        ipfs_api_port=services.free_ports(3),
        ipfs_swarm_port=services.free_ports(),
        run_dir=tmp_path / "run",
        start_timeout=30.0,
    )


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process, its own session leader, that must survive."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _alive(proc: subprocess.Popen[bytes]) -> bool:
    time.sleep(0.2)
    return proc.poll() is None


def _write_pid_file(config: services.ServicesConfig, name: str, content: str) -> Path:
    config.run_dir.mkdir(parents=True, exist_ok=True)
    path = config.run_dir / f"{name}.pid"
    path.write_text(content)
    return path


def test_bare_pid_file_of_another_process_is_not_killed(
    config: services.ServicesConfig, bystander: subprocess.Popen[bytes]
) -> None:
    # The format before start times were recorded: just the number.
    path = _write_pid_file(config, "anvil", f"{bystander.pid}\n")
    anvil = services.Anvil(config)
    assert anvil.recorded_pid() is None
    assert anvil.status().owned is False
    assert anvil.stop() is False
    assert _alive(bystander)
    assert not path.exists()  # the stale file is cleared


def test_pid_file_with_another_start_time_is_not_killed(
    config: services.ServicesConfig, bystander: subprocess.Popen[bytes]
) -> None:
    anvil = services.Anvil(config)
    identity = services.process_identity(bystander.pid)
    assert identity is not None
    # The recorded service had this PID once, but started at another time: a PID reuse.
    # Even the command line matches (a coincidental or deliberate look-alike).
    record = {"pid": bystander.pid, "start": identity.start + "0", "cmdline": ["sleep", "300"]}
    _write_pid_file(config, "anvil", json.dumps(record))
    assert anvil.recorded_pid() is None
    assert services.down(config) == []
    assert _alive(bystander)


def test_pid_file_with_another_command_line_is_not_killed(
    config: services.ServicesConfig, bystander: subprocess.Popen[bytes]
) -> None:
    identity = services.process_identity(bystander.pid)
    assert identity is not None
    record = {"pid": bystander.pid, "start": identity.start, "cmdline": ["ipfs"]}
    _write_pid_file(config, "ipfs", json.dumps(record))
    assert services.Ipfs(config).recorded_pid() is None
    assert services.down(config) == []
    assert _alive(bystander)


def test_garbage_pid_files_are_ignored(
    config: services.ServicesConfig, bystander: subprocess.Popen[bytes]
) -> None:
    garbage = ["", "not a pid", "1", "-1", json.dumps({"pid": "x"}), json.dumps([1])]
    garbage.append(json.dumps({"pid": bystander.pid, "start": None, "cmdline": None}))
    for content in garbage:
        _write_pid_file(config, "anvil", content)
        assert services.Anvil(config).stop() is False
    assert _alive(bystander)


def test_node_down_leaves_the_bystander_running(
    config: services.ServicesConfig,
    bystander: subprocess.Popen[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = config.run_dir.parent / "state"
    monkeypatch.setenv("ZKPOT_STATE_DIR", str(state))
    monkeypatch.setenv("ZKPOT_ANVIL_PORT", str(config.anvil_port))
    monkeypatch.setenv("ZKPOT_IPFS_PORT", str(config.ipfs_api_port))
    monkeypatch.setenv("ZKPOT_IPFS_SWARM_PORT", str(config.ipfs_swarm_port))
    run = state / "run"
    run.mkdir(parents=True)
    (run / "anvil.pid").write_text(f"{bystander.pid}\n")
    (run / "ipfs.pid").write_text(json.dumps({"pid": bystander.pid, "start": "1", "cmdline": None}))
    result = CliRunner(mix_stderr=False).invoke(cli, ["node", "down"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "nothing was running" in result.stdout
    assert _alive(bystander)


def test_the_service_zkpot_started_is_still_stopped(config: services.ServicesConfig) -> None:
    anvil = services.Anvil(config)
    anvil.start()
    try:
        record = json.loads(anvil.pid_file.read_text())
        pid = record["pid"]
        identity = services.process_identity(pid)
        assert identity is not None
        assert (record["start"], record["cmdline"]) == (identity.start, list(identity.cmdline))
        assert anvil.recorded_pid() == pid and anvil.status().owned
    finally:
        stopped = anvil.stop()
    assert stopped
    assert not services._pid_alive(pid)
    assert not anvil.pid_file.exists()


def test_a_service_restart_does_not_kill_a_pid_reuser(
    config: services.ServicesConfig, bystander: subprocess.Popen[bytes]
) -> None:
    # ``start`` kills a recorded-but-hung instance before starting anew; a stale file
    # pointing at the bystander must not count as that instance.
    _write_pid_file(config, "anvil", f"{bystander.pid}\n")
    anvil = services.Anvil(config)
    anvil.start()
    try:
        assert _alive(bystander)
    finally:
        anvil.stop()
    assert bystander.poll() is None


def test_the_ipfs_node_zkpot_started_is_still_stopped(config: services.ServicesConfig) -> None:
    # js-ipfs rewrites its command line to ``ipfs``: what is recorded is what it shows
    # once it answers, so zkpot still recognises (and stops) its own node.
    ipfs = services.Ipfs(config)
    ipfs.start()
    try:
        pid = ipfs.recorded_pid()
        assert pid is not None
    finally:
        stopped = ipfs.stop()
    assert stopped
    assert not services._pid_alive(pid)
