"""Session-wide real services: anvil and IPFS on 127.0.0.1, started once per test run.

Each run starts its own anvil and IPFS node on free loopback ports, with its own state
directory (unless ``ZKPOT_STATE_DIR`` names one), so a run never reuses nor disturbs a
node that happens to answer on the default ports: ``zkpot node up``, another checkout's
tests, a user's own anvil. The ports are published through the environment variables
every part of zkpot reads (``ZKPOT_ANVIL_PORT``/``ZKPOT_ANVIL_URL``, ``ZKPOT_IPFS_PORT``,
``ZKPOT_IPFS_SWARM_PORT``) before ape's plugin connects. ``ZKPOT_TEST_SERVICES=reuse``
keeps the old behaviour (reuse whatever answers on the configured ports), for a
developer who wants to watch a run on a node of their own. Services this run starts
are stopped by PID when it ends, and by a watchdog process when the run is killed
before it can end (``timeout``, a lost terminal): it outlives pytest only to stop them.
A user's ``zkpot.toml`` and ``ZKPOT_NETWORK``-style defaults never reach the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from zkpot import services, settings

if TYPE_CHECKING:
    from circuit_cache import CircuitCache

_started: list[services.Service] = []
_scratch: list[Path] = []
_watchdog: list[subprocess.Popen[bytes]] = []

_WATCHDOG = """
import os, signal, sys, time
parent, groups = int(sys.argv[1]), [int(g) for g in sys.argv[2:]]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
for sig in (signal.SIGTERM, signal.SIGKILL):
    for group in groups:
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            pass
    time.sleep(5)
"""
"""Stops the services' process groups once the pytest process is gone (killed runs)."""


def _start_watchdog(pids: list[int]) -> None:
    if not pids:
        return
    _watchdog.append(subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), *map(str, pids)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    ))


def _isolate() -> None:
    """Point this run at free ports and a fresh state directory of its own."""
    scratch = Path(tempfile.mkdtemp(prefix="zkpot-tests-"))
    _scratch.append(scratch)
    anvil = services.free_ports()
    ipfs = services.free_ports(3)
    swarm = services.free_ports()
    os.environ["ZKPOT_ANVIL_PORT"] = str(anvil)
    os.environ["ZKPOT_ANVIL_URL"] = f"http://{services.LOCALHOST}:{anvil}"
    os.environ["ZKPOT_IPFS_PORT"] = str(ipfs)
    os.environ["ZKPOT_IPFS_SWARM_PORT"] = str(swarm)
    # An explicitly chosen state directory is kept (its circuit cache saves rebuilds).
    os.environ.setdefault("ZKPOT_STATE_DIR", str(scratch / "state"))


def pytest_configure(config: pytest.Config) -> None:
    # Start before ape's plugin connects, so it finds anvil answering and reuses it.
    if hasattr(config, "workerinput"):
        return
    os.environ["ZKPOT_CONFIG"] = ""
    for setting in settings.SETTINGS.values():
        os.environ.pop(setting.envvar, None)
    if os.environ.get("ZKPOT_TEST_SERVICES") != "reuse":
        _isolate()
    for service in services.services(services.ServicesConfig()):
        if not service.answers():
            service.start()
            _started.append(service)
    _start_watchdog([pid for s in _started if (pid := s.recorded_pid()) is not None])


def pytest_unconfigure(config: pytest.Config) -> None:
    for service in reversed(_started):
        service.stop()
    _started.clear()
    for watchdog in _watchdog:
        watchdog.kill()
        watchdog.wait()
    _watchdog.clear()
    for scratch in _scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    _scratch.clear()


@pytest.fixture(scope="session")
def local_services() -> Iterator[services.ServicesConfig]:
    """The services' configuration; they are up for the whole session."""
    yield services.ServicesConfig()


@pytest.fixture(scope="session")
def shared_zk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One circuit folder for the whole run: a circuit is built once, keyed by its id.

    The publisher's ``build_circuit`` reuses a folder whose circuit id and keys match, so
    every module that creates a task of the same circuit shares one build. A test that
    tampers with circuit files must use a folder of its own.
    """
    return tmp_path_factory.mktemp("shared-zk")


@pytest.fixture(scope="session")
def circuits(shared_zk_dir: Path) -> CircuitCache:
    """Groth16 circuits built once per run in :func:`shared_zk_dir`, keyed by circuit id
    (``circuits.groth16(spec)``); ``circuits.copy(spec, folder)`` for a test's own copy."""
    from circuit_cache import CircuitCache

    return CircuitCache(shared_zk_dir)
