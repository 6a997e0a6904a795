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

Under ``pytest -n N`` (pytest-xdist, as ``make test`` runs) every worker starts its own
anvil and IPFS node and state directory the same way (tests change the chain's clock and
deploy from shared test accounts, so they cannot share one chain), while the circuits and
the contract proof kit are built once per run in a folder the workers share, each build
under a file lock.
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

from zkpot import services, settings, toolchain

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


RUN_DIR = "ZKPOT_TEST_RUN_DIR"
"""The run's scratch folder, shared by xdist workers: the circuits and the contract kit
built once per run live there (workers inherit it from the controller)."""

KIT_DIR = "ZKPOT_TEST_KIT_DIR"
"""Where the contract proof kit is cached: ``<ZKPOT_STATE_DIR>/cache/contract-kit`` when
the developer chose a state directory (kept across runs), else the run's folder."""


def _worker(config: pytest.Config) -> str | None:
    """This process's xdist worker id (``gw0`` ...), or ``None`` outside a worker."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def _controller(config: pytest.Config) -> bool:
    """Whether this process hands the tests to xdist workers (``-n N``) and runs none."""
    return _worker(config) is None and getattr(config.option, "dist", "no") != "no"


def _run_setup() -> None:
    """Once per run (the controller, or the only process): defaults cleared, run folder."""
    os.environ["ZKPOT_CONFIG"] = ""
    for setting in settings.SETTINGS.values():
        os.environ.pop(setting.envvar, None)
    scratch = Path(tempfile.mkdtemp(prefix="zkpot-tests-"))
    _scratch.append(scratch)
    os.environ[RUN_DIR] = str(scratch)
    chosen = os.environ.get("ZKPOT_STATE_DIR")
    os.environ[KIT_DIR] = str(Path(chosen) / "cache" / "contract-kit" if chosen
                              else scratch / "contract-kit")
    # The caches of derived files (initial phase-2 keys, compiled verifiers) are per run
    # (shared by the workers), not the checkout's: every run derives them once, as CI's
    # clean clone does.
    os.environ[toolchain.CACHE_ENV] = str(scratch / "cache")


def _isolate(worker: str | None) -> None:
    """Point this process's tests at free ports and a fresh state directory of its own."""
    scratch = Path(os.environ[RUN_DIR]) / (worker or "main")
    scratch.mkdir()
    anvil = services.free_ports()
    ipfs = services.free_ports(3)
    swarm = services.free_ports()
    os.environ["ZKPOT_ANVIL_PORT"] = str(anvil)
    os.environ["ZKPOT_ANVIL_URL"] = f"http://{services.LOCALHOST}:{anvil}"
    os.environ["ZKPOT_IPFS_PORT"] = str(ipfs)
    os.environ["ZKPOT_IPFS_SWARM_PORT"] = str(swarm)
    chosen = os.environ.get("ZKPOT_STATE_DIR")
    # An explicitly chosen state directory is kept, one folder in it per worker.
    os.environ["ZKPOT_STATE_DIR"] = str(
        scratch / "state" if chosen is None else Path(chosen) / worker if worker else chosen)


def pytest_configure(config: pytest.Config) -> None:
    # Start before ape's plugin connects, so it finds anvil answering and reuses it.
    worker = _worker(config)
    if worker is None:
        _run_setup()
    if _controller(config):
        if os.environ.get("ZKPOT_TEST_SERVICES") == "reuse":
            raise pytest.UsageError(
                "ZKPOT_TEST_SERVICES=reuse shares one chain, which xdist workers cannot: "
                "add -n 0 to run in one process")
        return  # each worker starts its own services: chains and nodes are not shared
    if os.environ.get("ZKPOT_TEST_SERVICES") != "reuse":
        _isolate(worker)
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
def shared_zk_dir() -> Path:
    """One circuit folder for the whole run: a circuit is built once, keyed by its id.

    The publisher's ``build_circuit`` reuses a folder whose circuit id and keys match, so
    every module that creates a task of the same circuit shares one build; xdist workers
    share the folder too (a build holds the folder's lock, the other worker waits). A test
    that tampers with circuit files must use a folder of its own.
    """
    folder = Path(os.environ[RUN_DIR]) / "shared-zk"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def circuits(shared_zk_dir: Path) -> CircuitCache:
    """Groth16 circuits built once per run in :func:`shared_zk_dir`, keyed by circuit id
    (``circuits.groth16(spec)``); ``circuits.copy(spec, folder)`` for a test's own copy."""
    from circuit_cache import CircuitCache

    return CircuitCache(shared_zk_dir)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with a slow test first (stable otherwise): under xdist the long modules
    start at once instead of leaving one worker alone with them at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
