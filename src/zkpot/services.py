"""Local services: an anvil chain and a js-ipfs node, bound to 127.0.0.1.

Each service is started as its own session leader, recorded under one run
directory (``<state>/run``) by PID *and* the process's start time and arguments,
and stopped by that PID only while the process there is still the one recorded:
a stale PID file (the service died and the PID was reused by an unrelated
process) never gets anything killed. A service already answering on its port is
reused and reported as such, never stopped by us.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from zkpot import toolchain
from zkpot.errors import ServiceError

LOCALHOST = "127.0.0.1"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class ServicesConfig:
    """Where the local services listen and keep their files."""

    host: str = LOCALHOST
    """Bind address; only loopback is allowed."""
    anvil_port: int = field(default_factory=lambda: _env_int("ZKPOT_ANVIL_PORT", 8545))
    """anvil JSON-RPC port (env ``ZKPOT_ANVIL_PORT``)."""
    ipfs_api_port: int = field(default_factory=lambda: _env_int("ZKPOT_IPFS_PORT", 5001))
    """IPFS HTTP RPC API port (env ``ZKPOT_IPFS_PORT``)."""
    ipfs_swarm_port: int = field(
        default_factory=lambda: _env_int("ZKPOT_IPFS_SWARM_PORT", 4011)
    )
    """IPFS swarm (libp2p TCP) port, loopback only (env ``ZKPOT_IPFS_SWARM_PORT``)."""
    ipfs_swarm: bool = field(
        default_factory=lambda: os.environ.get("ZKPOT_IPFS_SWARM", "") in ("1", "true")
    )
    """Run the IPFS node online, so that peers connected with ``zkpot node connect``
    exchange blocks (env ``ZKPOT_IPFS_SWARM=1``). Either way it discovers nobody: no
    bootstrap list, MDNS, DHT, delegates, relay or NAT port mapping."""
    anvil_block_time: int = field(
        default_factory=lambda: _env_int("ZKPOT_ANVIL_BLOCK_TIME", 0)
    )
    """Seconds between anvil's blocks (env ``ZKPOT_ANVIL_BLOCK_TIME``); 0 mines each
    transaction at once. A rehearsal chain for what a real network does: transactions
    wait in the pool for the next block and deadlines pass with the wall clock. Reach it
    as a real network would be reached, ``--network http://127.0.0.1:PORT`` (ape's
    ``local`` network assumes a chain that mines on demand)."""
    run_dir: Path = field(default_factory=lambda: toolchain.state_dir() / "run")
    """PID files, logs and the IPFS repository."""
    start_timeout: float = 60.0
    """Seconds to wait for a service to answer after starting it."""

    def __post_init__(self) -> None:
        if self.host not in (LOCALHOST, "localhost"):
            raise ServiceError(
                f"Refusing to bind services to {self.host}",
                "only 127.0.0.1 is allowed for local services",
            )

    @property
    def rpc_url(self) -> str:
        """JSON-RPC URL of anvil."""
        return f"http://{self.host}:{self.anvil_port}"

    @property
    def ipfs_api_url(self) -> str:
        """The IPFS node's RPC API base URL (``/api/v0`` is appended by clients)."""
        return f"http://{self.host}:{self.ipfs_api_port}"


@dataclass(frozen=True)
class ServiceStatus:
    """What ``status`` reports for one service."""

    name: str
    url: str
    running: bool
    pid: int | None
    owned: bool
    """True when this project started it (and will stop it)."""
    log: Path


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int = 1, host: str = LOCALHOST) -> int:
    """The first of ``count`` consecutive free ports on ``host``, below the ephemeral range.

    A port the kernel hands out for ``bind(0)`` lies in the range outgoing connections
    use, so the port after it may be taken by one before a service binds it (js-ipfs
    needs three in a row); ports in 20000-32000 are never handed out that way.
    """
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(20000, 32000 - count)
        if all(_port_free(host, base + i) for i in range(count)):
            return base
    raise ServiceError(f"No {count} consecutive free ports in 20000-32000 on {host}",
                       "stop some local services and retry")


@dataclass(frozen=True)
class ProcessIdentity:
    """What tells one process apart from a later one that reuses its PID."""

    start: str
    """The kernel's start time of the process (``/proc/PID/stat`` field 22, clock ticks
    since boot; ``ps -o lstart`` where there is no ``/proc``). Fixed at fork, unchanged
    by ``exec``, and different for any later process with the same PID."""
    cmdline: tuple[str, ...]
    """Its arguments as they are now (a program may rewrite them: js-ipfs shows ``ipfs``)."""


def process_identity(pid: int) -> ProcessIdentity | None:
    """The identity of the live process ``pid``, or ``None`` if there is none."""
    proc = Path("/proc")
    if (proc / "self" / "stat").is_file():
        try:
            stat = (proc / str(pid) / "stat").read_text()
            raw = (proc / str(pid) / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return None
        # The command name (field 2) may hold spaces and parentheses: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        return ProcessIdentity(fields[19], tuple(a.decode() for a in raw.split(b"\0") if a))
    try:
        start = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, check=True
        ).stdout.strip()
        args = subprocess.run(
            ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return ProcessIdentity(start, tuple(args.split())) if start else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child counts as dead.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    return waited == 0


class Service(ABC):
    """One local service managed by PID file."""

    name: str

    def __init__(self, config: ServicesConfig) -> None:
        self.config = config

    @property
    @abstractmethod
    def port(self) -> int:
        """The port whose answer means the service is up."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The URL clients use."""

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that starts the service in the foreground."""

    @abstractmethod
    def answers(self) -> bool:
        """Whether the service answers a real request right now."""

    def ports(self) -> list[int]:
        """Every port the service binds (checked free before it starts)."""
        return [self.port]

    def prepare(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Create whatever the service needs on disk before it starts."""

    @property
    def pid_file(self) -> Path:
        return self.config.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.config.run_dir / f"{self.name}.log"

    def recorded_pid(self) -> int | None:
        """The PID we recorded, if that process is alive and still the one we started.

        The live process must have the start time recorded when zkpot started it
        (and, once it answered, the same command line). A bare number (the format
        before start times were recorded), a record that does not match, or a dead
        PID is a stale PID file: ``None``, so nothing unrelated is ever signalled.
        """
        try:
            record = json.loads(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if not isinstance(record, dict):
            return None
        pid, started, cmdline = record.get("pid"), record.get("start"), record.get("cmdline")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
            return None
        if not isinstance(started, str) or not _pid_alive(pid):
            return None
        now = process_identity(pid)
        if now is None or now.start != started:
            return None  # gone, or the PID now belongs to a later process
        if cmdline is not None and list(now.cmdline) != cmdline:
            return None
        return pid

    def _record_pid(self, pid: int, *, ready: bool) -> None:
        """Write the PID file: the PID, its start time, and (once ready) its command line."""
        identity = process_identity(pid)
        record = {
            "pid": pid,
            "start": identity.start if identity else None,
            "cmdline": list(identity.cmdline) if identity and ready else None,
        }
        tmp = self.pid_file.with_name(self.pid_file.name + ".tmp")
        tmp.write_text(json.dumps(record) + "\n")
        tmp.replace(self.pid_file)

    def status(self) -> ServiceStatus:
        pid = self.recorded_pid()
        return ServiceStatus(
            name=self.name,
            url=self.url,
            running=self.answers(),
            pid=pid,
            owned=pid is not None,
            log=self.log_file,
        )

    def _executable(self, name: str) -> str:
        toolchain.activate()
        found = shutil.which(name)
        if found is None:
            raise ServiceError(
                f"The {name} binary was not found in {toolchain.node_bin_dir()}",
                "run `make setup` to install the Node tools",
            )
        return found

    def start(self) -> ServiceStatus:
        """Start the service unless it already answers; wait until it does."""
        if self.answers():
            return self.status()
        stale = self.recorded_pid()
        if stale is not None:
            # Ours but not answering: hung or still starting from a crash; restart it.
            self._kill(stale)
        for port in self.ports():
            if not _port_free(self.config.host, port):
                raise ServiceError(
                    f"Port {port} on {self.config.host} is taken by something "
                    f"that is not {self.name}",
                    f"stop that process or choose another port with "
                    f"ZKPOT_{self.name.upper()}_PORT",
                )
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        argv = self.command()
        log = self.log_file.open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=self.environment(),
        )
        log.close()
        # Recorded at once (a crash while starting can still be cleaned up by start
        # time), and again once it answers, with the command line it settled on.
        self._record_pid(proc.pid, ready=False)
        deadline = time.monotonic() + self.config.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServiceError(
                    f"{self.name} exited with code {proc.returncode} while starting",
                    f"read its log at {self.log_file}",
                )
            if self.answers():
                self._record_pid(proc.pid, ready=True)
                return self.status()
            time.sleep(0.25)
        self._kill(proc.pid)
        raise ServiceError(
            f"{self.name} did not answer within {self.config.start_timeout:.0f} s",
            f"read its log at {self.log_file}",
        )

    def environment(self) -> dict[str, str]:
        toolchain.activate()
        return dict(os.environ)

    def stop(self) -> bool:
        """Stop the service if we started it; return whether anything was stopped.

        A stale PID file (its process gone, or the PID now another process's) is
        removed and nothing is killed.
        """
        pid = self.recorded_pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        self._kill(pid)
        return True

    @staticmethod
    def _kill(pid: int) -> None:
        # We started it as a session leader, so its process group id is its PID:
        # signalling the group also ends any helper processes it spawned.
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not _pid_alive(pid):
                    return
                time.sleep(0.1)


class Anvil(Service):
    """The local chain (foundry's anvil from npm), chain id 31337."""

    name = "anvil"

    @property
    def port(self) -> int:
        return self.config.anvil_port

    @property
    def url(self) -> str:
        return self.config.rpc_url

    def command(self) -> list[str]:
        return [
            self._executable("anvil"),
            "--host",
            self.config.host,
            "--port",
            str(self.port),
            "--chain-id",
            "31337",
            "--silent",
            *(["--block-time", str(block)] if (block := self.config.anvil_block_time) else []),
        ]

    def answers(self) -> bool:
        try:
            reply = httpx.post(
                self.url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=2.0,
            )
            return reply.status_code == 200 and "result" in reply.json()
        except (httpx.HTTPError, ValueError):
            return False

    def rpc(self, method: str, *params: object) -> object:
        """One JSON-RPC call to this anvil; a :class:`ServiceError` if it fails."""
        try:
            reply = httpx.post(
                self.url,
                json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                timeout=10.0,
            )
            body = reply.json()
        except (httpx.HTTPError, ValueError):
            raise ServiceError(
                f"The local chain at {self.url} is not running", "start it with `zkpot node up`"
            ) from None
        if not isinstance(body, dict) or "result" not in body:
            error = body.get("error") if isinstance(body, dict) else body
            raise ServiceError(
                f"The node at {self.url} refused {method} ({error})",
                "point ZKPOT_ANVIL_PORT at the anvil `zkpot node up` started",
            )
        return body["result"]

    def warp(self, seconds: int) -> ChainClock:
        """Move the chain's clock forward by ``seconds`` and mine a block at the new time.

        Only an anvil answers: any other node at this URL (a geth, a fork of a live
        network behind another tool) is refused, so a real chain's clock is never touched.
        """
        if seconds < 1:
            raise ServiceError(f"Cannot warp by {seconds} s", "pass a positive number of seconds")
        client = str(self.rpc("web3_clientVersion"))
        if not client.lower().startswith("anvil"):
            raise ServiceError(
                f"The node at {self.url} is {client}, not the local anvil",
                "`zkpot node warp` moves only the clock of the anvil `zkpot node up` started",
            )
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")
        return self.clock()

    def clock(self) -> ChainClock:
        """The latest block's number and timestamp."""
        block = self.rpc("eth_getBlockByNumber", "latest", False)
        if not isinstance(block, dict):
            raise ServiceError(f"The node at {self.url} has no latest block", "restart it")
        return ChainClock(block=int(block["number"], 16), timestamp=int(block["timestamp"], 16))


@dataclass(frozen=True)
class ChainClock:
    """Where a local chain's clock stands."""

    block: int
    """Number of the latest block."""
    timestamp: int
    """Its timestamp (seconds since the epoch)."""


class Ipfs(Service):
    """A js-ipfs node with the Kubo-compatible RPC API, offline and loopback-only."""

    name = "ipfs"

    @property
    def port(self) -> int:
        return self.config.ipfs_api_port

    @property
    def url(self) -> str:
        return self.config.ipfs_api_url

    def ports(self) -> list[int]:
        # js-ipfs also serves a read-only gateway and gRPC, on the next two ports.
        return [self.port, self.port + 1, self.port + 2, self.config.ipfs_swarm_port]

    @property
    def repo(self) -> Path:
        return self.config.run_dir / "ipfs-repo"

    def _config_overrides(self) -> dict[str, object]:
        host = self.config.host
        return {
            "Addresses": {
                "API": f"/ip4/{host}/tcp/{self.port}",
                "Gateway": f"/ip4/{host}/tcp/{self.port + 1}",
                "RPC": f"/ip4/{host}/tcp/{self.port + 2}",
                "Swarm": [f"/ip4/{host}/tcp/{self.config.ipfs_swarm_port}"],
                "Announce": [],
                "NoAnnounce": [],
                "Delegates": [],
            },
            "Bootstrap": [],
            "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
            "Routing": {"Type": "none"},
            # Online (swarm) only: no UPnP/NAT-PMP traffic to the LAN, no relays.
            "Swarm": {"DisableNatPortMap": True},
            "relay": {"enabled": False, "hop": {"enabled": False, "active": False}},
        }

    def prepare(self) -> None:
        # On an existing repository the daemon ignores --init-config, so the
        # network settings are written into its config file on every start.
        config_file = self.repo / "config"
        if config_file.exists():
            current = json.loads(config_file.read_text())
            for key, value in self._config_overrides().items():
                if isinstance(value, dict) and isinstance(current.get(key), dict):
                    current[key].update(value)
                else:
                    current[key] = value
            config_file.write_text(json.dumps(current, indent=2))
        init = self.config.run_dir / "ipfs-init-config.json"
        init.write_text(json.dumps(self._config_overrides(), indent=2))

    def command(self) -> list[str]:
        return [
            self._executable("jsipfs"),
            "daemon",
            "--init-profile",
            "test",
            "--init-config",
            str(self.config.run_dir / "ipfs-init-config.json"),
            "--enable-preload=false",
        ] + ([] if self.config.ipfs_swarm else ["--offline"])

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["IPFS_PATH"] = str(self.repo)
        return env

    def answers(self) -> bool:
        try:
            reply = httpx.post(f"{self.url}/api/v0/version", timeout=2.0)
            return reply.status_code == 200 and "Version" in reply.json()
        except (httpx.HTTPError, ValueError):
            return False


def services(config: ServicesConfig | None = None) -> list[Service]:
    """The local services in start order."""
    config = config or ServicesConfig()
    return [Anvil(config), Ipfs(config)]


def up(config: ServicesConfig | None = None) -> list[ServiceStatus]:
    """Start every service that is not already answering."""
    return [service.start() for service in services(config)]


def down(config: ServicesConfig | None = None) -> list[str]:
    """Stop the services this project started; return the names stopped."""
    return [s.name for s in reversed(services(config)) if s.stop()]


def status(config: ServicesConfig | None = None) -> list[ServiceStatus]:
    """Report each service without changing anything."""
    return [service.status() for service in services(config)]


def warp(seconds: int, config: ServicesConfig | None = None) -> ChainClock:
    """Advance the local anvil's clock by ``seconds`` (see :meth:`Anvil.warp`)."""
    return Anvil(config or ServicesConfig()).warp(seconds)
