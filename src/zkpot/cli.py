"""The ``zkpot`` command line: one group per role, errors as one sentence.

Every command that touches the chain takes ``--network`` (an ape network choice,
default the local anvil) and ``--contract`` (default: ``deployments/<network>.json``);
every command that touches IPFS takes ``--ipfs-url`` (default: the local node).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from zkpot import services, settings
from zkpot.errors import ChainError, ZkpotError
from zkpot.privacy.command import privacy as privacy_command

if TYPE_CHECKING:
    from zkpot.proving.circuit import BackendName

DEFAULT_BACKEND = "groth16"
"""The backend ``task create`` uses unless told otherwise: Groth16 proves a 256-sample
chunk in ~14 s and costs ~0.35 M gas a submission (results/backends.md, results/gas.md)."""
DEMO_BACKEND = "groth16"
"""The demo's backend: its fedavg rounds carry aggregation proofs (every step verified)."""


def _backend_option(default: str) -> Callable[[F], F]:
    return click.option(
        "--backend",
        type=click.Choice(["groth16", "ezkl"]),
        default=default,
        show_default=True,
        help="Proving backend: Groth16 (circom R1CS, ~0.25 M gas a proof, up to 256 samples "
        "a proof, proven aggregation) or EZKL (Halo2/KZG, ~2.1 M gas a proof, up to 64).",
    )


backend_option = _backend_option(DEFAULT_BACKEND)
"""The ``--backend`` option of every command that builds a circuit."""

F = TypeVar("F", bound=Callable[..., Any])
LOCAL_NETWORK = "ethereum:local:foundry"


_verbose = {"on": False}
"""Set by ``zkpot --verbose``: tracebacks, ape's call traces and its log lines are shown."""


def _fail(sentence: str, exit_code: int = 1) -> None:
    if _verbose["on"]:
        import traceback

        traceback.print_exc()
    click.echo(f"error: {sentence}", err=True)
    sys.exit(exit_code)


def _unexpected_sentence(error: Exception) -> str:
    """One sentence for an error no zkpot code turned into one (a library's, a lost link)."""
    lines = str(error).strip().splitlines()
    detail = lines[0].rstrip(".:") if lines else ""
    if len(detail) > 200:
        detail = detail[:200] + "…"
    kind = type(error).__name__
    if isinstance(error, ConnectionError | TimeoutError) or "Connect" in kind:
        what = "Lost the connection to the chain or IPFS"
    elif any(c.__name__ == "ContractLogicError" for c in type(error).__mro__):
        what = "The contract rejected a call"
    else:
        what = f"Unexpected {kind}"
    return f"{what}" + (f" ({detail})" if detail else "") + (
        "." if _verbose["on"] else "; run again with `zkpot --verbose ...` for the traceback."
    )


INTERRUPTED = "Interrupted; run the same command again to resume."
TERMINATED = "Terminated; run the same command again to resume."


def friendly_errors(func: F) -> F:
    """Turn any error into one sentence on stderr and a non-zero exit.

    A :class:`ZkpotError` says what is wrong and what to do; anything else (a library's
    exception, a connection lost mid-command) is named in one sentence. With
    ``zkpot --verbose`` the traceback is printed first.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZkpotError as error:
            _fail(error.sentence(), error.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            _fail(INTERRUPTED, 130)
        except SystemExit as stop:
            # Once imported, ape turns SIGINT and SIGTERM into SystemExit(130 / 143).
            if stop.code in (130, 143):
                _fail(INTERRUPTED if stop.code == 130 else TERMINATED, int(stop.code))
            raise
        except Exception as error:  # noqa: BLE001 - the CLI's last line: one sentence
            _fail(_unexpected_sentence(error))

    return wrapper  # type: ignore[return-value]


def json_option(func: F) -> F:
    """``--json``: the result as one JSON document on stdout (progress and errors: stderr)."""
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print the result as JSON on stdout (progress and errors stay on stderr).",
    )(func)


def _emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text()


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


class _Steps:
    """Progress of a command's long steps, each announced by a role's progress message.

    On a terminal each message becomes a `rich` line with a spinner and its elapsed time,
    ticked off when the next one starts; otherwise (stdout piped, or ``--json``) each is
    one plain line on stderr, as scripts and logs want it.
    """

    def __init__(self, as_json: bool = False) -> None:
        self.live = not as_json and sys.stdout.isatty() and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Steps:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(finished_text="[green]✓[/]"),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[amount]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
        return self

    def __call__(self, message: str) -> None:
        if self._progress is None:
            _progress(message)
            return
        self._finish_current()
        self._task = self._progress.add_task(message, total=None, amount="")

    def meter(self, name: str, total: int) -> Callable[[int], None]:
        """Turn the current step into a byte bar of ``total`` bytes; its advance callback."""
        del name  # the step's own message already names the transfer
        if self._progress is None or self._task is None:
            return lambda _: None
        task, progress, mib = self._task, self._progress, 1024 * 1024
        progress.update(task, total=total, completed=0, amount=f"0/{total / mib:.1f} MiB")
        done = [0]

        def advance(count: int) -> None:
            done[0] += count
            progress.update(task, completed=done[0],
                            amount=f"{done[0] / mib:.1f}/{total / mib:.1f} MiB")

        return advance

    def _finish_current(self) -> None:
        if self._task is not None:
            total = next(t.total for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=total or 1, completed=total or 1)
            self._task = None

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if exc[0] is None:
                self._finish_current()
            self._progress.stop()


# -- shared options ----------------------------------------------------------------------


_insecure_keys = {"allowed": False}
"""Set by ``--allow-insecure-single-party-keys`` on the command being run."""


def _remember_insecure_keys(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    _insecure_keys["allowed"] = bool(value)
    return bool(value)


def chain_options(func: F) -> F:
    """``--network``, ``--contract``, ``--ipfs-url`` and ``--allow-insecure-single-party-keys``.

    The flag reaches every role through :func:`_session` (not a parameter of each command):
    :mod:`zkpot.roles.keytrust` refuses INSECURE keys off a local devnet without it.
    """
    func = click.option(
        "--allow-insecure-single-party-keys", is_flag=True, expose_value=False,
        callback=_remember_insecure_keys,
        help="Accept a task whose proving keys are INSECURE (one party made them and can "
        "forge proofs) on a chain that is not a local devnet (chain id 31337 or 1337). "
        "Never for anything of value.",
    )(func)
    func = setting_option(
        "--ipfs-url", key="ipfs_url", help="IPFS RPC API base URL (default: the local node)."
    )(func)
    func = setting_option(
        "--contract", key="contract",
        help="ZKPoT address (default: deployments/<network>.json).",
    )(func)
    return network_option()(func)


def setting_option(
    *decls: str, key: str, fallback: Any = None, required: bool = False, help: str,
    **kwargs: Any,
) -> Callable[[F], F]:
    """An option a user may also set once: flag, then ``ZKPOT_*``, then ``zkpot.toml``."""
    setting = settings.SETTINGS[key]
    return click.option(
        *decls,
        envvar=setting.envvar,
        type=setting.kind,
        default=lambda: settings.default(key, fallback),
        show_default=str(fallback) if fallback is not None else False,
        required=required,
        help=f"{help.rstrip('.')}; {settings.source(key)}.",
        **kwargs,
    )


def network_option(
    help: str = "ape network choice (ecosystem:network:provider) or an RPC URL.",
) -> Callable[[F], F]:
    """``--network``, default the local anvil."""
    return setting_option("--network", key="network", fallback=LOCAL_NETWORK, help=help)


def task_option(func: F) -> F:
    """``--task``: the task id."""
    return setting_option("--task", "task_id", key="task", required=True, help="Task id.")(func)


def name_option(required: bool = True) -> Callable[[F], F]:
    """``--name``: the participant's local state name."""
    return setting_option(
        "--name", key="name", required=required,
        help="Local participant name (state dir)." if required
        else "Also show this participant's local progress.",
    )


def account_option(default: str | None = None) -> Callable[[F], F]:
    """``--account``: ``test:N`` on a local chain, or an ape keystore alias."""
    return setting_option(
        "--account",
        key="account",
        fallback=default,
        required=default is None,
        help="Signer: test:N (local test account, a local devnet only) or an ape account "
        "alias.",
    )


def pool_options(func: F) -> F:
    """``--data``, ``--holdout``, ``--seed``: which data the publisher holds out test sets from."""
    func = click.option("--seed", default=0, show_default=True, help="Seed of the split.")(func)
    func = click.option(
        "--holdout", default=0.3, show_default=True, help="Share held out for test sets."
    )(func)
    return click.option(
        "--data", default="digits", show_default=True, help="digits, csv:PATH or idx:I:L."
    )(func)


def _require_local_chain(network: str) -> None:
    """On the local network, refuse unless `zkpot node up`'s anvil answers."""
    if network == LOCAL_NETWORK and not services.Anvil(services.ServicesConfig()).answers():
        # ape-foundry would start a fresh, empty anvil here: say what is wrong instead.
        raise ChainError(
            f"The local chain at {services.ServicesConfig().rpc_url} is not running",
            "start it with `zkpot node up`",
        )


@contextmanager
def _session(
    network: str, contract: str | None, ipfs_url: str | None, steps: _Steps | None = None,
    srs: Path | None = None,
) -> Iterator[Any]:
    """Connect to the chain and IPFS; yield a :class:`~zkpot.roles.common.Session`.

    ``steps`` is told of long steps (a fetched circuit's downloads, key derivation);
    ``srs``: a public ceremony file the task's keys use but do not publish.
    """
    from zkpot.chain import client_for_network, connect, show_revert_traces
    from zkpot.roles.common import Session

    show_revert_traces(_verbose["on"])
    _require_local_chain(network)
    with _storage(ipfs_url) as storage, connect(network) as provider:
        client, _ = client_for_network(provider, contract)
        if not provider.get_code(client.address):
            raise ChainError(
                f"No contract is deployed at {client.address} on {network}",
                "deploy with `zkpot deploy` or pass --contract",
            )
        env_srs = os.environ.get("ZKPOT_SRS")
        session = Session(client=client, storage=storage,
                          srs=srs or (Path(env_srs) if env_srs else None),
                          allow_insecure_keys=_insecure_keys["allowed"])
        if steps is not None:
            session.progress, session.meter = steps, steps.meter
        yield session


def _load_data(spec: str) -> Any:
    """``digits``, ``csv:PATH`` or ``idx:IMAGES:LABELS`` → a Dataset."""
    from zkpot.data import DataConfig, load_dataset

    kind, _, rest = spec.partition(":")
    if kind == "digits" and not rest:
        return load_dataset(DataConfig())
    if kind == "csv" and rest:
        return load_dataset(DataConfig(source="csv", images=Path(rest)))
    if kind == "idx" and rest.count(":") == 1:
        images, labels = rest.split(":")
        return load_dataset(DataConfig(source="idx", images=Path(images), labels=Path(labels)))
    raise ZkpotError(
        f"Cannot read the data spec {spec!r}", "use digits, csv:PATH or idx:IMAGES:LABELS"
    )


def _pool(data: str, holdout: float, seed: int) -> Any:
    """The publisher's held-out pool of ``data``."""
    from zkpot.data import split_holdout

    return split_holdout(_load_data(data), holdout, seed=seed)[1]


def _private_data(data: str, part: str | None, holdout: float, seed: int) -> Any:
    """A participant's private training data, never the publisher's held-out pool.

    Without ``--part``: a file as it is (the participant's own data), or the whole
    *training split* of the bundled digits (the pool ``--holdout``/``--seed`` hold out
    is where test sets come from). With ``--part I/K``: part I of K of the training split.
    """
    from zkpot.data import PartitionConfig, is_public_dataset, partition, split_holdout

    dataset = _load_data(data)
    if part is None:
        if is_public_dataset(dataset):
            return split_holdout(dataset, holdout, seed=seed)[0]
        return dataset
    try:
        index, total = (int(x) for x in part.split("/"))
    except ValueError:
        raise ZkpotError(f"--part {part!r} is not I/K", "pass e.g. --part 1/4") from None
    if not 1 <= index <= total:
        raise ZkpotError(f"--part {part} is out of range", f"use 1/{total} to {total}/{total}")
    train, _ = split_holdout(dataset, holdout, seed=seed)
    return partition(train, PartitionConfig(participants=total, seed=seed))[index - 1]


def version_info() -> dict[str, Any]:
    """The package version, its proving backends, and the local deployment's code hash.

    The contract part reads ``deployments/local.json`` (or ``ZKPOT_DEPLOYMENTS_DIR``) and
    asks the local anvil for the code at that address over plain JSON-RPC; without a
    record, a running chain or code there it is ``None``.
    """
    import typing
    from importlib.metadata import version

    from zkpot.proving.circuit import BackendName

    return {
        "zkpot": version("zkpot"),
        "backends": list(typing.get_args(BackendName)),
        "contract": _local_deployment_code(),
    }


def _local_deployment_code() -> dict[str, Any] | None:
    from eth_utils.crypto import keccak

    from zkpot.chain import Deployment, deployment_path

    path = deployment_path("local")
    try:
        record = Deployment.from_json(path.read_text())
    except (OSError, ValueError, TypeError):
        return None
    anvil = services.Anvil(services.ServicesConfig())
    try:
        chain_id = int(str(anvil.rpc("eth_chainId")), 16)
        code = bytes.fromhex(str(anvil.rpc("eth_getCode", record.zkpot, "latest"))[2:])
    except (ZkpotError, ValueError):
        return None
    if chain_id != record.chain_id or not code:
        return None
    return {
        "network": LOCAL_NETWORK,
        "address": record.zkpot,
        "code_hash": "0x" + keccak(code).hex(),
        "code_size": len(code),
    }


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    info = version_info()
    click.echo(f"zkpot {info['zkpot']}")
    click.echo(f"proving backends: {', '.join(info['backends'])}")
    contract = info["contract"]
    if contract is None:
        click.echo(f"contract: none reachable (no deployment with code on {LOCAL_NETWORK})")
    else:
        click.echo(
            f"contract: ZKPoT {contract['address']} on {contract['network']}, "
            f"code hash {contract['code_hash']} ({contract['code_size']:,} bytes)"
        )
    ctx.exit()


@click.group()
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, the proving backends and the local deployment's code hash.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="On errors, print the traceback and ape's call trace of a reverted transaction.",
)
def cli(verbose: bool) -> None:
    """ZKPoT: federated learning secured by zero-knowledge proofs of training.

    Network, contract, IPFS URL, account, participant name and task can be set once in
    ./zkpot.toml or ZKPOT_NETWORK, ZKPOT_CONTRACT, ZKPOT_IPFS_URL, ZKPOT_ACCOUNT,
    ZKPOT_NAME, ZKPOT_TASK (a flag beats the variable, the variable beats the file).
    """
    _verbose["on"] = verbose
    _set_library_logging(verbose)
    try:
        settings.load()
    except ZkpotError as error:
        _fail(error.sentence(), error.exit_code)


# -- node ---------------------------------------------------------------------------------


@cli.group()
def node() -> None:
    """Start, stop and inspect the local anvil chain and IPFS node (127.0.0.1)."""


def _print_status(rows: list[services.ServiceStatus], as_json: bool) -> None:
    def text() -> None:
        for r in rows:
            state = "up" if r.running else "down"
            owner = f"pid {r.pid}" if r.owned else ("not started by zkpot" if r.running else "-")
            click.echo(f"{r.name:6} {state:5} {r.url:28} {owner}")

    _emit([{**asdict(r), "log": str(r.log)} for r in rows], as_json, text)


@node.command("up")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable status.")
@friendly_errors
def node_up(as_json: bool) -> None:
    """Start anvil and IPFS (reusing any already answering) and wait until they answer."""
    _print_status(services.up(), as_json)


@node.command("down")
@json_option
@friendly_errors
def node_down(as_json: bool) -> None:
    """Stop the services zkpot started, by PID."""
    stopped = services.down()
    _emit({"stopped": stopped}, as_json, lambda: click.echo(
        "stopped: " + (", ".join(stopped) if stopped else "nothing was running")))


@node.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable status.")
@friendly_errors
def node_status(as_json: bool) -> None:
    """Report whether each service answers, and who started it."""
    _print_status(services.status(), as_json)


@node.command("id")
@click.option("--ipfs-url", default=None, help="IPFS RPC API base URL (default: the local node).")
@json_option
@friendly_errors
def node_id(ipfs_url: str | None, as_json: bool) -> None:
    """Print the IPFS node's swarm addresses, for peers' `zkpot node connect`."""
    with _storage(ipfs_url) as storage:
        addresses = list(storage.swarm_addresses())
    _emit({"addresses": addresses}, as_json, lambda: click.echo("\n".join(addresses)))


@node.command("connect")
@click.argument("address")
@click.option("--ipfs-url", default=None, help="IPFS RPC API base URL (default: the local node).")
@json_option
@friendly_errors
def node_connect(address: str, ipfs_url: str | None, as_json: bool) -> None:
    """Connect the IPFS node to a peer (a multiaddr `zkpot node id` printed there)."""
    with _storage(ipfs_url) as storage:
        storage.connect(address)
    _emit({"connected": address}, as_json, lambda: click.echo(f"connected to {address}"))


@contextmanager
def _storage(ipfs_url: str | None) -> Iterator[Any]:
    from zkpot.storage import IpfsConfig, IpfsStorage

    with IpfsStorage(IpfsConfig(api_url=ipfs_url) if ipfs_url else IpfsConfig()) as storage:
        yield storage


@node.command("warp")
@click.argument("seconds", type=click.IntRange(min=1))
@network_option("Only the local anvil's clock can move; any other network is refused.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
@friendly_errors
def node_warp(seconds: int, network: str, as_json: bool) -> None:
    """Move the local anvil's clock forward by SECONDS and mine a block (crosses deadlines)."""
    if network != LOCAL_NETWORK:
        raise ChainError(
            f"`zkpot node warp` moves only the local anvil's clock ({LOCAL_NETWORK}), "
            f"not {network}",
            "on a real network each phase lasts its configured duration",
        )
    clock = services.warp(seconds)
    _emit(
        {"seconds": seconds, **asdict(clock)},
        as_json,
        lambda: click.echo(
            f"anvil clock moved {seconds} s forward: block {clock.block} at "
            f"{_utc(clock.timestamp)}"
        ),
    )


def _utc(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- deploy -------------------------------------------------------------------------------


@cli.command()
@network_option()
@account_option("test:0")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory holding deployments/ (default: the repository).",
)
@json_option
@friendly_errors
def deploy(network: str, account: str, root: Path | None, as_json: bool) -> None:
    """Deploy the ZKPoT contract and record it in deployments/<network>.json."""
    from zkpot.chain import ZKPoTClient, connect, show_revert_traces, write_deployment
    from zkpot.roles.common import resolve_account

    show_revert_traces(_verbose["on"])

    _require_local_chain(network)
    with connect(network) as provider:
        sender = resolve_account(account)
        client = ZKPoTClient.deploy(sender)
        path = write_deployment(client, provider, str(sender.address), root)
    _emit({"address": client.address, "deployment": str(path), "network": network}, as_json,
          lambda: click.echo(f"ZKPoT deployed at {client.address}; recorded in {path}"))


# -- publisher ----------------------------------------------------------------------------


@cli.group()
def task() -> None:
    """Publisher: create a task."""


@task.command("create")
@chain_options
@account_option("test:0")
@click.option("--name", default="digits", show_default=True)
@click.option("--architecture", default="mlp-64-32-10", show_default=True)
@click.option(
    "--samples", default=32, show_default=True,
    help="Test samples per proof (≤ 256 with groth16, ≤ 64 with ezkl).",
)
@click.option("--chunks", default=1, show_default=True, help="Proofs per round.")
@click.option("--policy", type=click.Choice(["fedavg", "leader-model"]), default="fedavg")
@backend_option
@pool_options
@click.option(
    "--srs",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Phase-1 file (production): EZKL's KZG SRS or Groth16's powers of tau. Without "
    "it an INSECURE development one is used.",
)
@click.option(
    "--srs-hash",
    "--srs-sha256",
    "srs_sha256",
    default=None,
    help="Published hash of --srs: SHA-256 of an EZKL SRS, BLAKE2b-512 of a Groth16 "
    "powers-of-tau (optional for the public Hermez files, which are recognised).",
)
@click.option("--commit-duration", default=600, show_default=True)
@click.option("--reveal-duration", default=600, show_default=True)
@click.option("--submit-duration", default=1800, show_default=True)
@click.option("--aggregate-duration", default=1800, show_default=True)
@click.option(
    "--aggregation-slots",
    type=int,
    default=None,
    help="K of the proven-aggregation circuit (groth16 + fedavg; default 4): the leader "
    "proves the global model is the weighted mean of its model and up to K-1 hand-offs. "
    "0: the leader is trusted to aggregate.",
)
@click.option("--allow", "allowlist", multiple=True,
              help="Only these accounts may join (repeat the flag; default: anyone).")
@click.option("--max-submissions", default=64, show_default=True, type=int,
              help="Most admitted submissions per round (1-64); a full round admits by rank.")
@click.option("--reward-token", default=None,
              help="ERC-20 address the rewards are paid in (default: no rewards).")
@click.option("--reward-pool", default=0, show_default=True, type=click.IntRange(0),
              help="Token units moved into the pool at creation (zkpot approves them first).")
@click.option("--reward-per-round", default=0, show_default=True, type=click.IntRange(0),
              help="Token units each finalised round pays out.")
@click.option("--leader-share-bps", default=0, show_default=True, type=click.IntRange(0),
              help="The leader's share of a round's reward, in basis points.")
@json_option
@friendly_errors
def task_create(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    account: str,
    name: str,
    architecture: str,
    samples: int,
    chunks: int,
    policy: str,
    backend: str,
    data: str,
    holdout: float,
    seed: int,
    srs: Path | None,
    srs_sha256: str | None,
    commit_duration: int,
    reveal_duration: int,
    submit_duration: int,
    aggregate_duration: int,
    aggregation_slots: int | None,
    allowlist: tuple[str, ...],
    max_submissions: int,
    reward_token: str | None,
    reward_pool: int,
    reward_per_round: int,
    leader_share_bps: int,
    as_json: bool,
) -> None:
    """Build the circuit and verifier, publish artifacts and the task on IPFS and chain."""
    from zkpot.roles import publisher
    from zkpot.roles.common import resolve_account

    if srs is not None and srs_sha256 is None and backend == "ezkl":
        raise ZkpotError("--srs needs --srs-hash", "pass the ceremony file's published SHA-256")
    options = publisher.TaskOptions(
        name=name,
        architecture=architecture,
        samples_per_proof=samples,
        chunks_per_round=chunks,
        policy=policy,
        backend=cast("BackendName", backend),
        srs_path=srs,
        srs_sha256=srs_sha256,
        commit_duration=commit_duration,
        reveal_duration=reveal_duration,
        submit_duration=submit_duration,
        aggregate_duration=aggregate_duration,
        aggregation_slots=aggregation_slots,
        allowlist=allowlist or None,
        max_submissions=max_submissions,
        reward_token=reward_token,
        reward_pool=reward_pool,
        reward_per_round=reward_per_round,
        leader_share_bps=leader_share_bps,
    )
    # A K, limit, allowlist or reward the task cannot have: refused before any work.
    options.proven_slots()
    options.check_incentives()
    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps) as session:
        steps(f"creating the task: {architecture} {backend} circuit, verifier, IPFS documents, "
              "chain")
        task_id = publisher.create_task(
            session, resolve_account(account), options, _pool(data, holdout, seed)
        )
    _emit({"task": task_id}, as_json, lambda: click.echo(f"task {task_id} created"))


@task.command("list")
@chain_options
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
@friendly_errors
def task_list(network: str, contract: str | None, ipfs_url: str | None, as_json: bool) -> None:
    """Anyone: list every task on the contract (name, backend, rounds, blocks, state).

    A task whose document cannot be read is listed with the reason: a publisher's bad
    document never hides the other tasks.
    """
    with _session(network, contract, ipfs_url) as session:
        rows = [_task_row(session, t) for t in range(session.client.task_count())]

    def text() -> None:
        if not rows:
            click.echo("no tasks on this contract yet (`zkpot task create` makes one)")
        for r in rows:
            state = "closed" if r["closed"] else "open"
            if r["error"]:
                click.echo(f"task {r['task']}: {state}, {r['rounds']} round(s), "
                           f"{r['blocks']} block(s); document unreadable: {r['error']}")
                continue
            keys = ", INSECURE single-party keys" if r["insecure_keys"] else ""
            click.echo(f"task {r['task']}: {r['name']} ({r['backend']} {r['architecture']}, "
                       f"{r['samples_per_round']} samples a round{keys}), {state}, "
                       f"{r['rounds']} round(s), {r['blocks']} block(s), "
                       f"publisher {r['publisher']}")

    _emit(rows, as_json, text)


def _task_row(session: Any, task_id: int) -> dict[str, Any]:
    state = session.client.task_state(task_id)
    row: dict[str, Any] = {
        "task": task_id, "publisher": state.publisher, "closed": state.closed,
        "rounds": state.round_count, "blocks": state.block_count, "error": None,
    }
    try:
        document = session.document(task_id)
    except ZkpotError as error:
        return {**row, "error": error.message}
    return {
        **row, "name": document.name, "backend": document.circuit.backend,
        "architecture": document.architecture, "circuit_id": document.circuit.circuit_id,
        "samples_per_round": document.samples_per_proof * document.chunks_per_round,
        "policy": document.policy, "insecure_keys": document.circuit.insecure_srs,
        "public_pool": document.public_pool,
    }


@cli.group("round")
def round_() -> None:
    """Publisher and anyone: open, reveal, select the leader, finalise."""


@round_.command("open")
@chain_options
@account_option("test:0")
@task_option
@pool_options
@json_option
@friendly_errors
def round_open(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    account: str,
    task_id: int,
    data: str,
    holdout: float,
    seed: int,
    as_json: bool,
) -> None:
    """Open the next round with a hidden commitment to its test set."""
    from zkpot.roles import publisher
    from zkpot.roles.common import resolve_account

    with _session(network, contract, ipfs_url) as session:
        r = publisher.open_round(
            session, resolve_account(account), task_id, _pool(data, holdout, seed)
        )
        info = session.client.round(task_id, r)
    _emit(
        {"task": task_id, "round": r, "commit_deadline": info.commit_deadline,
         "reveal_deadline": info.reveal_deadline, "submit_deadline": info.submit_deadline},
        as_json,
        lambda: click.echo(
            f"task {task_id} round {r} open: commit by {_utc(info.commit_deadline)}, "
            f"reveal by {_utc(info.reveal_deadline)}, submit by "
            f"{_utc(info.submit_deadline)} (then the leader's deadline runs from its "
            "selection)"),
    )


@round_.command("reveal")
@chain_options
@account_option("test:0")
@task_option
@click.option("--round", "round_no", type=int, required=True)
@pool_options
@json_option
@friendly_errors
def round_reveal(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    account: str,
    task_id: int,
    round_no: int,
    data: str,
    holdout: float,
    seed: int,
    as_json: bool,
) -> None:
    """Publish the round's test set on IPFS and open its commitment on chain."""
    from zkpot.roles import publisher
    from zkpot.roles.common import resolve_account

    with _session(network, contract, ipfs_url) as session:
        cid = publisher.reveal(
            session, resolve_account(account), task_id, round_no, _pool(data, holdout, seed)
        )
    _emit({"task": task_id, "round": round_no, "test_set_cid": cid}, as_json,
          lambda: click.echo(f"task {task_id} round {round_no} test set revealed: {cid}"))


def _round_call(name: str, method: str, doc: str, describe: Callable[[Any], str]) -> None:
    """Register ``zkpot round <name>``: one contract call for (task, round), anyone may send."""

    @chain_options
    @account_option("test:0")
    @task_option
    @click.option("--round", "round_no", type=int, required=True)
    @json_option
    @friendly_errors
    def command(
        network: str,
        contract: str | None,
        ipfs_url: str | None,
        account: str,
        task_id: int,
        round_no: int,
        as_json: bool,
    ) -> None:
        from zkpot.roles.common import resolve_account

        with _session(network, contract, ipfs_url) as session:
            done = _round_done(session, task_id, round_no, method)
            if done is None:
                call = getattr(session.client, method)
                done = describe(call(task_id, round_no, sender=resolve_account(account)))
            info = session.client.round(task_id, round_no)
        _emit(
            {"task": task_id, "round": round_no, "status": info.status.name.lower(),
             "leader": _address_or_none(info.leader),
             "block_hash": _hex32(info.block_hash), "message": done},
            as_json, lambda: click.echo(done),
        )

    command.__doc__ = doc
    round_.command(name)(command)


def _round_done(session: Any, task_id: int, round_no: int, method: str) -> str | None:
    """Refuse an unknown task or round in one sentence; say so when ``method``'s work is done.

    Finalising a finalised round is not an error (the block is there); selecting a leader
    for a round that has one, or has closed, says what the round holds instead of the
    contract's revert name.
    """
    from zkpot.chain import RoundStatus

    session.require_round(task_id, round_no)
    info = session.client.round(task_id, round_no)
    where = f"task {task_id} round {round_no}"
    if info.status == RoundStatus.FINALISED:
        return f"{where} is already finalised: block 0x{info.block_hash.hex()}"
    if info.status == RoundStatus.CLOSED_EMPTY:
        return f"{where} closed empty (no valid submission): nothing to do"
    if method == "select_leader" and info.status in (RoundStatus.LEADER_SELECTED,
                                                     RoundStatus.PUBLISHED):
        return f"{where} already has its leader: {info.leader}"
    return None


_round_call(
    "select",
    "select_leader",
    "After the submit deadline: make the highest verified count the leader.",
    lambda leader: f"leader: {leader}" if leader else "no valid submission; the round closed empty",
)
_round_call(
    "replace-leader",
    "replace_leader",
    "After a leader missed its deadline: pass the round to the next best.",
    lambda leader: (
        f"new leader: {leader}" if leader else "no candidate left; the round closed empty"
    ),
)
_round_call(
    "finalise",
    "finalise",
    "Append the round's ZKPoT block.",
    lambda block: f"finalised: block 0x{block.hex()}",
)


# -- participant ----------------------------------------------------------------------------


def participant_options(func: F) -> F:
    """``--name``, ``--account``, ``--task``, ``--round`` plus the chain options."""
    func = click.option("--round", "round_no", type=int, required=True)(func)
    func = task_option(func)
    func = account_option()(func)
    func = name_option()(func)
    return chain_options(func)


@contextmanager
def _participant(
    network: str, contract: str | None, ipfs_url: str | None, name: str, account: str,
    as_json: bool = False,
) -> Iterator[Any]:
    from zkpot.roles.common import resolve_account
    from zkpot.roles.participant import Participant

    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps) as session:
        yield Participant(session, resolve_account(account), name, progress=steps)


def _current_leader(me: Any, task_id: int, round_no: int) -> str | None:
    """The round's selected leader, or ``None`` while it has none (or the round is unknown)."""
    from zkpot.chain import RoundStatus

    state, _ = me.session.task(task_id)
    if not 0 <= round_no < state.round_count:
        return None
    info = me.session.client.round(task_id, round_no)
    if info.status not in (RoundStatus.LEADER_SELECTED, RoundStatus.PUBLISHED):
        return None
    return _address_or_none(info.leader)


def _is_leader(me: Any, task_id: int, round_no: int) -> bool:
    return bool(_current_leader(me, task_id, round_no) == me.address)


def _record_json(record: Any) -> dict[str, Any]:
    data = asdict(record)
    data["salt"] = "(secret)"
    data["step"] = record.step.name.lower()
    data["intent"] = record.intent.name.lower() if record.intent is not None else None
    return data


@cli.command()
@chain_options
@account_option()
@name_option()
@task_option
@json_option
@friendly_errors
def join(
    network: str, contract: str | None, ipfs_url: str | None, account: str, name: str,
    task_id: int, as_json: bool,
) -> None:
    """Participant: join a task, publishing the key models are sealed to."""
    with _participant(network, contract, ipfs_url, name, account, as_json) as me:
        me.join(task_id)
        address = me.address
    _emit({"name": name, "address": address, "task": task_id}, as_json,
          lambda: click.echo(f"{name} ({address}) joined task {task_id}"))


@cli.command()
@participant_options
@click.option("--data", default="digits", show_default=True, help="digits, csv:PATH, idx:I:L")
@click.option(
    "--part",
    default=None,
    help="Use part I/K of the training split (digits without --part: the whole training "
    "split; never the held-out pool).",
)
@click.option(
    "--holdout", default=0.3, show_default=True, help="Share held out as the publisher's pool."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the hold-out split.")
@click.option("--epochs", default=5, show_default=True)
@click.option("--lr", default=0.05, show_default=True)
@json_option
@friendly_errors
def train(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    name: str,
    account: str,
    task_id: int,
    round_no: int,
    data: str,
    part: str | None,
    holdout: float,
    seed: int,
    epochs: int,
    lr: float,
    as_json: bool,
) -> None:
    """Participant: train from the round's global model on private data."""
    from zkpot.roles.participant import TrainingConfig

    private = _private_data(data, part, holdout, seed)
    with _participant(network, contract, ipfs_url, name, account, as_json) as me:
        record = me.train(task_id, round_no, private, TrainingConfig(epochs=epochs, lr=lr))
    _emit({"task": task_id, "round": round_no, "model_path": str(record.model_path)}, as_json,
          lambda: click.echo(f"trained; model saved at {record.model_path}"))


def _step_command(step: str, doc: str) -> None:
    @participant_options
    @json_option
    @friendly_errors
    def command(
        network: str,
        contract: str | None,
        ipfs_url: str | None,
        name: str,
        account: str,
        task_id: int,
        round_no: int,
        as_json: bool,
    ) -> None:
        with _participant(network, contract, ipfs_url, name, account, as_json) as me:
            if step == "send-model" and _is_leader(me, task_id, round_no):
                message = f"{name} is the round's leader: nothing to send (run `zkpot aggregate`)"
                _emit({"step": step, "leader": True, "message": message}, as_json,
                      lambda: click.echo(message))
                return
            record = getattr(me, step.replace("-", "_"))(task_id, round_no)
            summary = _step_summary(me, step, record)
            data = {"step": step, "message": summary, "record": _record_json(record),
                    "proving_seconds": me.last_prove_seconds if step == "prove" else None,
                    "gas": me.last_gas if step == "submit" else None}
        _emit(data, as_json, lambda: click.echo(summary))

    command.__doc__ = doc
    cli.command(step)(command)


def _step_summary(me: Any, step: str, record: Any) -> str:
    """What a participant step did: counts, CIDs, the transaction and its gas when sent now."""
    where = f"task {record.task.rsplit(':', 1)[-1]} round {record.round}"
    if step == "commit":
        return f"commit: {where}, commitment {record.commitment} on chain"
    if step == "prove":
        done = f"prove: {where}, {len(record.proof_paths)} proof(s), bundle {record.proof_cid}"
        seconds = me.last_prove_seconds
        return done + (f" (proving took {seconds:.1f} s)" if seconds else " (already proven)")
    if step == "submit":
        done = f"submit: {where}, {record.correct} correct verified on chain"
        gas, tx = me.last_gas, record.submit_tx or ""
        return done + (f" (transaction {tx}, {gas:,} gas)" if gas and tx.startswith("0x")
                       else " (already on chain)")
    return f"{step}: {where}, sealed model {record.handoff_cid} on chain"


_step_command("commit", "Participant: commit to the trained model before the test set is out.")
_step_command("prove", "Participant: prove the model's accuracy on the revealed test set.")
_step_command("submit", "Participant: submit the proofs; the contract verifies them.")
_step_command("send-model", "Participant: seal the model to the leader and post its CID.")


@cli.command()
@participant_options
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=0.0,
    show_default=True,
    help="FedAvg: seconds to wait for the hand-off window to close (half the leader's time, "
    "or until everyone handed off) before giving up; 0 says when it closes and stops.",
)
@json_option
@friendly_errors
def aggregate(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    name: str,
    account: str,
    task_id: int,
    round_no: int,
    wait_seconds: float,
    as_json: bool,
) -> None:
    """Leader: aggregate the verified models, prove the result, publish it.

    Under FedAvg only once the hand-off window has closed: every model handed off in it is
    then accounted for (included, or rejected with a reason; either way it earns).
    """
    from zkpot.roles.leader import aggregate_and_publish

    with _participant(network, contract, ipfs_url, name, account, as_json) as me:
        leader = _current_leader(me, task_id, round_no)
        if leader is not None and leader != me.address:
            # Every participant may run it; only the leader aggregates (README walk).
            message = f"{name} is not the round's leader ({leader} is): nothing to aggregate"
            _emit({"leader": leader, "published": False, "message": message}, as_json,
                  lambda: click.echo(message))
            return
        result = aggregate_and_publish(me, task_id, round_no, wait_seconds=wait_seconds)

    def text() -> None:
        click.echo(
            f"published global model {result.global_model_cid} ({result.global_correct} correct)"
        )
        for rejection in result.rejected:
            click.echo(f"  ignored {rejection.participant} ({rejection.code}): {rejection.reason}")

    _emit({"published": True, "global_model_cid": result.global_model_cid,
           "global_correct": result.global_correct,
           "rejected": [{"participant": r.participant, "code": r.code, "reason": r.reason}
                        for r in result.rejected]}, as_json, text)


@cli.command()
@chain_options
@task_option
@name_option(required=False)
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def status(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    task_id: int,
    name: str | None,
    as_json: bool,
) -> None:
    """Anyone: per round, each submitter's verified count, the leader, hand-offs, block hash."""
    from zkpot.roles.participant import task_key
    from zkpot.state import ParticipantState, default_path

    with _session(network, contract, ipfs_url) as session:
        state, document = session.task(task_id)
        per_round = document.samples_per_proof * document.chunks_per_round
        rounds = [
            _round_status(session.client, task_id, r, per_round, bool(document.aggregation_slots))
            for r in range(state.round_count)
        ]
        local = []
        if name is not None:
            with ParticipantState(default_path(name)) as store:
                local = [_record_json(rec) for rec in store.rounds(task_key(session, task_id))]
    payload = {
        "task": task_id,
        "name": document.name,
        "architecture": document.architecture,
        "policy": document.policy,
        "aggregation_slots": document.aggregation_slots,
        "public_pool": document.public_pool,
        "samples_per_round": per_round,
        "blocks": state.block_count,
        "last_block_hash": _hex32(state.last_block_hash),
        "rounds": rounds,
        "local": local,
    }

    def text() -> None:
        click.echo(
            f"task {task_id} '{document.name}' ({document.architecture}, {document.policy}"
            + (f" proven with {document.aggregation_slots} slots" if document.aggregation_slots
               else "")
            + f", {per_round} test samples a round); {state.block_count} block(s)"
        )
        if document.public_pool:
            click.echo(
                f"  DEMO-ONLY: its test sets come from the public {document.dataset} data"
            )
        for r in rounds:
            click.echo(
                f"  round {r['round']}: {r['status']} / {r['phase']}; "
                f"{len(r['submissions'])} verified submission(s); leader {r['leader'] or '-'}"
                + _open_deadline(r)
            )
            for sub in r["submissions"]:
                marks = [m for m in ("leader", "included") if sub[m]]
                if sub["rejected"]:
                    marks.append(f"rejected: {sub['rejected']}")
                handoff = (
                    f"handed off to {sub['handoff_leader']}" if sub["handoff_leader"] else ""
                )
                click.echo(
                    f"    {sub['participant']}  {sub['correct']}/{per_round} "
                    f"({sub['accuracy']:.3f})"
                    + (f"  [{', '.join(marks)}]" if marks else "")
                    + (f"  {handoff}" if handoff else "")
                )
            if r["global_correct"] is not None:
                click.echo(
                    f"    global model {r['global_correct']}/{per_round} "
                    f"({r['global_correct'] / per_round:.3f}) {r['global_model_cid']}"
                )
            if r["block_hash"]:
                click.echo(f"    block {r['block_hash']}")
        for rec in local:
            click.echo(
                f"  {name} round {rec['round']}: {rec['step']}"
                + (f" (pending {rec['intent']})" if rec["intent"] else "")
            )

    _emit(payload, as_json, text)


def _open_deadline(r: dict[str, Any]) -> str:
    """The deadline of the round's current phase, for the status line (empty when none)."""
    deadlines, phase = r["deadlines"], r["status"]
    named = {"open": ("commit", "commit"), "revealed": ("submit", "submit"),
             "leader_selected": ("hand_off", "hand-offs")}
    if phase not in named or not deadlines[named[phase][0]]:
        return ""
    key, label = named[phase]
    text = f"; {label} until {_utc(deadlines[key])}"
    if phase == "leader_selected" and deadlines["aggregate"]:
        text += f", leader publishes by {_utc(deadlines['aggregate'])}"
    return text


def _hex32(value: bytes) -> str | None:
    """0x-hex of a bytes32, or ``None`` for the zero value (not set yet)."""
    return "0x" + value.hex() if any(value) else None


def _address_or_none(address: str) -> str | None:
    return address if address and int(address, 16) != 0 else None


def _round_status(
    client: Any, task_id: int, round_no: int, per_round: int, proven: bool = False
) -> dict[str, Any]:
    """What `zkpot status` shows of one round: verified submissions, leader, hand-offs, block.

    ``proven``: the task proves aggregation, so the leader's rejections (with their reason
    codes) are read from its recorded aggregation proof.
    """
    from zkpot.chain import RoundStatus

    info = client.round(task_id, round_no)
    leader = _address_or_none(info.leader)
    included = set(info.included)
    published = info.status in (RoundStatus.PUBLISHED, RoundStatus.FINALISED)
    record = client.aggregation_record(task_id, round_no) if proven and published else None
    rejected = dict(record.rejected) if record is not None else {}
    submissions = []
    for address in info.submitters:
        sub = client.submission(task_id, round_no, address)
        submissions.append(
            {
                "participant": address,
                "correct": sub.correct,
                "accuracy": sub.correct / per_round,
                "verified": sub.verified,
                "proof_cid": sub.proof_cid,
                "leader": address == leader,
                "passed_over": sub.passed_over,
                "handoff_leader": _address_or_none(sub.handoff_leader),
                "handoff_cid": sub.encrypted_model_cid or None,
                "included": address in included,
                "rejected": rejected.get(address),
            }
        )
    submissions.sort(key=lambda sub: (-sub["correct"], sub["participant"]))
    return {
        "round": round_no,
        "status": info.status.name.lower(),
        "phase": client.phase(task_id, round_no).name.lower(),
        "deadlines": {
            "commit": info.commit_deadline,
            "reveal": info.reveal_deadline,
            "submit": info.submit_deadline,
            "aggregate": info.aggregate_deadline,
            "hand_off": info.hand_off_deadline,
        },
        "leader": leader,
        "submitters": list(info.submitters),
        "submissions": submissions,
        "handoffs": [
            {"from": s["participant"], "to": s["handoff_leader"], "cid": s["handoff_cid"]}
            for s in submissions
            if s["handoff_cid"]
        ],
        "included": list(info.included),
        "aggregation_proven": record is not None,
        "test_set_cid": info.test_set_cid or None,
        "global_model_cid": info.new_model_cid or info.global_model_cid,
        "global_correct": info.new_global_correct if published else None,
        "block_hash": _hex32(info.block_hash),
    }


# -- auditor --------------------------------------------------------------------------------


@cli.command()
@chain_options
@task_option
@click.option("--round", "rounds", type=int, multiple=True, help="Rounds to audit (default all).")
@click.option(
    "--keys", "check_keys", is_flag=True,
    help="Also check the proving keys (the accuracy circuit's and each aggregation "
    "circuit's) derive from the circuit and phase 1 (Groth16: snarkjs zkey verify of the "
    "ceremony; minutes). INSECURE single-party or development keys FAIL.",
)
@click.option(
    "--phase1", type=click.Path(exists=True, path_type=Path), default=None,
    help="The phase-1 file the keys were made with (default: the development one).",
)
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def audit(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    task_id: int,
    rounds: tuple[int, ...],
    check_keys: bool,
    phase1: Path | None,
    as_json: bool,
) -> None:
    """Auditor: re-verify rounds from chain and IPFS alone; exit 1 if anything fails."""
    from zkpot.roles.auditor import audit_task

    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps) as session:
        findings = audit_task(session, task_id, list(rounds) if rounds else None,
                              check_keys=check_keys, phase1=phase1)

    def text() -> None:
        for f in findings:
            where = "task" if f.round is None else f"round {f.round}"
            click.echo(f"{'PASS' if f.ok else 'FAIL'}  {where:8} {f.item}: {f.detail}")

    _emit([asdict(f) for f in findings], as_json, text)
    failed = [f for f in findings if not f.ok]
    if failed:
        click.echo(f"error: {len(failed)} audit check(s) failed.", err=True)
        sys.exit(1)


# -- demo -----------------------------------------------------------------------------------


@cli.command()
@click.option("--participants", default=4, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--architecture", default="mlp-64-32-10", show_default=True)
@click.option("--samples", default=16, show_default=True, help="Test samples per proof.")
@click.option("--chunks", default=1, show_default=True, help="Proofs per round.")
@click.option("--policy", type=click.Choice(["fedavg", "leader-model"]), default="fedavg")
@_backend_option(DEMO_BACKEND)
@click.option(
    "--aggregation-slots", type=int, default=None,
    help="K of the proven aggregation (groth16 fedavg; default 4; 0: not proven).",
)
@click.option("--partition", type=click.Choice(["iid", "dirichlet"]), default="iid")
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Report directory (default .zkpot/demo, untracked; results/demo holds the committed one).",
)
@click.option("--keep-services", is_flag=True, help="Leave anvil and IPFS running.")
@json_option
@friendly_errors
def demo(
    participants: int,
    rounds: int,
    architecture: str,
    samples: int,
    chunks: int,
    policy: str,
    backend: str,
    aggregation_slots: int | None,
    partition: str,
    results: Path | None,
    keep_services: bool,
    as_json: bool,
) -> None:
    """Run the end-to-end demo on local anvil + IPFS + real proofs and write a report."""
    from zkpot.demo import DemoConfig, run_demo

    config = DemoConfig(
        participants=participants,
        rounds=rounds,
        architecture=architecture,
        samples_per_proof=samples,
        chunks_per_round=chunks,
        policy=policy,
        backend=cast("BackendName", backend),
        aggregation_slots=aggregation_slots,
        partition=partition,
        keep_services=keep_services,
    )
    if results is not None:
        config = replace(config, results_dir=results)
    with _Steps(as_json) as steps:
        rows = run_demo(config, progress=steps)
    report = config.results_dir / "report.md"
    if as_json:
        _emit({"rounds": [asdict(r) for r in rows], "report": str(report)}, True, lambda: None)
        return
    click.echo("")
    click.echo(
        f"{'round':>5} {'leader':>6} {'global':>8} {'eval acc':>8} {'FedAvg':>7} "
        f"{'gas(pub)':>9} {'agg s':>6} {'gas(agg)':>9} {'secs':>5}  participants "
        "(verified correct, proof s)"
    )
    for r in rows:
        people = ", ".join(
            f"{p.name}[{p.kind[0]}] {p.correct}/{p.total} {p.prove_seconds:.0f}s"
            for p in r.participants
        )
        click.echo(
            f"{r.round:>5} {r.leader_name:>6} {r.global_correct:>4}/{r.total:<3} "
            f"{r.global_accuracy_holdout:>8.3f} {r.baseline_accuracy_holdout:>7.3f} "
            f"{r.publish_gas:>9,} {r.aggregation_prove_seconds:>6.0f} {r.aggregation_gas:>9,} "
            f"{r.seconds:>5.0f}  {people}"
        )
    click.echo(f"report: {report}")


# -- circuit (proof-of-accuracy artifacts) -------------------------------------------------


@cli.group()
def circuit() -> None:
    """Build a task's accuracy circuit (keys, VK artifact) and EZKL's on-chain verifier."""


@circuit.command("setup")
@click.option(
    "--architecture",
    default="mlp-64-32-10",
    show_default=True,
    help="Model architecture the circuit proves (zkpot.models.ARCHITECTURES).",
)
@click.option(
    "--samples",
    default=32,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Test samples per proof (one chunk: at most 256 with groth16, 64 with ezkl).",
)
@backend_option
@click.option(
    "--srs",
    "srs_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Phase-1 file (the public ceremony's: EZKL's SRS or Groth16's powers of tau); "
    "without it an INSECURE development one is used.",
)
@click.option(
    "--srs-hash",
    "--srs-sha256",
    "srs_sha256",
    default=None,
    help="The phase-1 file's published hash (SHA-256 for EZKL, BLAKE2b-512 for Groth16).",
)
@click.option(
    "--zk-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where circuits live (default: the project's zk/).",
)
@click.option("--force", is_flag=True, help="Rebuild even if the circuit's keys exist.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
@friendly_errors
def circuit_setup(
    architecture: str,
    samples: int,
    backend: str,
    srs_path: Path | None,
    srs_sha256: str | None,
    zk_dir: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Build the circuit's artifacts under zk/<short id>/ (calibrated on the digits data)."""
    from zkpot.data import load_digits
    from zkpot.models import architecture_by_name, build_model
    from zkpot.proving import pipeline
    from zkpot.proving.backend import (
        Circuit,
        keys_from,
        load_circuit,
        setup_circuit,
        srs_identity,
    )
    from zkpot.proving.circuit import CircuitSpec, TestBatch

    if srs_sha256 is not None and srs_path is None:
        raise ZkpotError("--srs-hash was given without --srs", "pass the phase-1 file with --srs")
    arch = architecture_by_name(architecture)
    spec = CircuitSpec(arch, samples=samples, backend=cast("BackendName", backend))
    directory = (zk_dir or pipeline.default_zk_dir()) / spec.short_id
    # The phase-1 file is checked against a known or given hash before anything else.
    given_srs = None if srs_path is None else srs_identity(backend, srs_path, srs_sha256)
    artifacts: Circuit | None = None
    if not force:
        try:
            artifacts = load_circuit(directory)
            artifacts.require_keys()
            if not keys_from(artifacts, given_srs):
                artifacts = None  # built with another phase-1 file: rebuild
        except ZkpotError:
            artifacts = None
    reused = artifacts is not None
    if artifacts is None:
        digits = load_digits()
        calibration = TestBatch(digits.X[:samples], digits.y[:samples])
        with _Steps(as_json) as steps:
            steps(f"building the {backend} circuit {arch.name} x {samples} samples into "
                  f"{directory} (minutes)")
            artifacts = setup_circuit(
                spec,
                build_model(arch, seed=0),
                calibration,
                zk_dir=zk_dir,
                srs_path=srs_path,
                srs_sha256=srs_sha256,
            )
    built = artifacts
    from zkpot.proving.ezkl import EzklCircuit
    from zkpot.proving.groth16 import ceremony
    from zkpot.proving.groth16.backend import Groth16Circuit

    if isinstance(built, Groth16Circuit) and built.insecure:
        click.echo(ceremony.INSECURE_SETUP_WARNING if built.data.get("single_party")
                   else ceremony.INSECURE_DEV_PTAU_WARNING, err=True)
    elif reused and built.insecure:
        click.echo(pipeline.INSECURE_SRS_WARNING, err=True)

    size = (f"logrows {built.artifacts.logrows} ({built.artifacts.num_rows:,} rows)"
            if isinstance(built, EzklCircuit) else
            f"{built.constraints:,} constraints" if isinstance(built, Groth16Circuit) else "")
    data: dict[str, Any] = {
        "short_id": built.short_id,
        "circuit_id": built.circuit_id,
        "backend": built.backend,
        "directory": str(built.directory),
        "insecure": built.insecure,
        "reused": reused,
        "files": {name: str(path) for name, path in built.published_files().items()},
    }
    if isinstance(built, EzklCircuit):
        data.update(logrows=built.artifacts.logrows, num_rows=built.artifacts.num_rows)
    if isinstance(built, Groth16Circuit):
        data.update(constraints=built.constraints)

    def text() -> None:
        click.echo(f"circuit {data['short_id']} ({arch.name}, {samples} samples per proof, "
                   f"{built.backend})")
        click.echo(size)
        click.echo(f"artifacts {built.directory}" + (" (already built)" if reused else ""))
        if built.insecure:
            click.echo("INSECURE: development phase-1 file or single-party setup; pass --srs "
                       "with the ceremony file for real use")

    _emit(data, as_json, text)


@circuit.command("fetch")
@chain_options
@task_option
@click.option(
    "--srs", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="The public ceremony SRS, when the task's keys use one it does not publish "
    "(env ZKPOT_SRS).",
)
@click.option("--max-mb", type=click.IntRange(1), default=None,
              help="Largest artifact to download, in MiB (default 2048).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def circuit_fetch(
    network: str, contract: str | None, ipfs_url: str | None, task_id: int,
    srs: Path | None, max_mb: int | None, as_json: bool,
) -> None:
    """Download a task's circuit by CID into the cache, derive its keys, check them on chain.

    The first prove, aggregate or audit of a task does the same implicitly.
    """
    from zkpot import limits
    from zkpot.roles.artifacts import fetch_circuit
    from zkpot.roles.precheck import check_verifier

    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps, srs) as session:
        _, document = session.task(task_id)
        fetched = fetch_circuit(
            session.storage, document.circuit, srs=session.srs, progress=steps,
            meter=steps.meter,
            max_bytes=max_mb * limits.MIB if max_mb else limits.ARTIFACT_CAP,
        )
        session.check_circuit_keys(fetched.circuit, f"Task {task_id}")
        steps("checking the verifying key against the task's verifier on chain")
        check_verifier(session, task_id, document, fetched.circuit)
    data = {
        "task": task_id, "circuit_id": fetched.circuit.circuit_id,
        "backend": fetched.circuit.backend, "directory": str(fetched.directory),
        "from_cache": fetched.from_cache, "fetched_bytes": fetched.fetched_bytes,
        "fetch_seconds": round(fetched.fetch_seconds, 2),
        "derive_seconds": round(fetched.derive_seconds, 2), "sizes": fetched.sizes,
        "insecure": fetched.circuit.insecure,
    }

    def text() -> None:
        how = ("already cached; every file re-hashed" if fetched.from_cache else
               f"{fetched.fetched_bytes / (1024 * 1024):.1f} MiB fetched in "
               f"{fetched.fetch_seconds:.1f} s, derived in {fetched.derive_seconds:.1f} s")
        click.echo(f"circuit {fetched.circuit.short_id} ({fetched.circuit.backend}) of task "
                   f"{task_id} in {fetched.directory}: {how}")
        click.echo("verifying key matches the task's document and its verifier on chain")

    _emit(data, as_json, text)


@circuit.command("contribute")
@click.option("--circuit", "circuit_ref", required=True,
              help="A Groth16 circuit folder or its short id under zk/.")
@click.option("--name", required=True, help="The contributor's name, kept in the transcript.")
@click.option("--entropy", default=None,
              help="Extra text mixed into the contribution (snarkjs adds its own randomness).")
@click.option("--beacon", default=None,
              help="Hex of public randomness to close the ceremony with (e.g. a later block "
              "hash); default 32 fresh random bytes.")
@click.option("--phase1", type=click.Path(exists=True, path_type=Path), default=None,
              help="The phase-1 file the circuit was set up with (default: the development one).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def circuit_contribute(
    circuit_ref: str,
    name: str,
    entropy: str | None,
    beacon: str | None,
    phase1: Path | None,
    as_json: bool,
) -> None:
    """Add a phase-2 contribution to a Groth16 circuit, then close it with a new beacon.

    Run before `task create`: the verifier deployed for a task embeds the final key.
    """
    import secrets

    from zkpot.proving import pipeline
    from zkpot.proving.backend import load_circuit
    from zkpot.proving.groth16 import ceremony
    from zkpot.proving.groth16.backend import Groth16Circuit

    as_path = Path(circuit_ref)
    directory = as_path if as_path.is_dir() else pipeline.default_zk_dir() / circuit_ref
    built = load_circuit(directory)
    if not isinstance(built, Groth16Circuit):
        raise ZkpotError(f"Circuit {built.short_id} is an {built.backend} circuit",
                         "contributions are for Groth16 circuits (EZKL has no per-circuit setup)")
    if built.data.get("single_party"):
        raise ZkpotError(f"Circuit {built.short_id} has INSECURE single-party keys, so there is "
                         "no ceremony to contribute to",
                         "set it up again with a powers-of-tau file (--srs) that fits it")
    built.require_keys()
    with _Steps(as_json) as steps:
        steps(f"contributing to circuit {built.short_id} as {name!r}")
        contribution = ceremony.contribute(built.keys_dir, name=name, entropy=entropy,
                                           reopen=True)
        steps("closing the ceremony: beacon, zkey verify, verification key")
        ptau = ceremony.check_ptau(phase1 or ceremony.dev_ptau(),
                                   built.srs_hash or None)
        transcript = ceremony.finalize(built.keys_dir, built.r1cs, ptau,
                                       beacon=beacon or secrets.token_hex(32))
    data = {"circuit": built.short_id, "contribution": asdict(contribution),
            "contributions": [c.name for c in transcript.contributions]}

    def text() -> None:
        click.echo(f"contribution {contribution.hash[:32]}… added to {built.short_id}")
        click.echo("transcript: " + " -> ".join(data["contributions"]))

    _emit(data, as_json, text)


@circuit.command("verifier")
@click.option(
    "--circuit",
    "circuit_ref",
    default=None,
    help="A circuit folder or short id under zk/ (default: the first built one).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: contracts/verifiers).",
)
@json_option
@friendly_errors
def circuit_verifier(circuit_ref: str | None, out: Path | None, as_json: bool) -> None:
    """Regenerate contracts/verifiers/Halo2VerifierReusable.sol from a circuit's keys."""
    from zkpot.proving import evm, pipeline

    zk_dir = pipeline.default_zk_dir()
    if circuit_ref is None:
        built = sorted(p.parent for p in zk_dir.glob("*/circuit.pk"))
        if not built:
            raise ZkpotError(f"No built circuit under {zk_dir}", "run `zkpot circuit setup` first")
        directory = built[0]
    else:
        as_path = Path(circuit_ref)
        directory = as_path if as_path.is_dir() else zk_dir / circuit_ref
    artifacts = pipeline.CircuitArtifacts.load(directory)
    target = (out or evm.verifiers_dir()) / "Halo2VerifierReusable.sol"
    before = target.read_text() if target.is_file() else None
    path = evm.generate_reusable_verifier(artifacts, out)
    changed = before != path.read_text()
    _emit({"path": str(path), "circuit": artifacts.spec.short_id, "changed": changed}, as_json,
          lambda: click.echo(f"wrote {path} from circuit {artifacts.spec.short_id}"
                             + (" (changed: run `ape compile`)" if changed else " (unchanged)")))


cli.add_command(privacy_command)


def _set_library_logging(verbose: bool) -> None:
    """Keep library chatter (ape's per-transaction lines, EZKL's scale notes) off the console.

    With ``--verbose`` ape logs at INFO again.
    """
    import logging

    logging.getLogger("ezkl").setLevel(logging.ERROR)
    try:
        from ape.logging import logger as ape_logger

        ape_logger.set_level("INFO" if verbose else "WARNING")
        # stdout carries the result alone (--json must parse); ape's lines go to stderr.
        for handler in ape_logger._logger.handlers:
            kwargs = getattr(handler, "echo_kwargs", None)
            if isinstance(kwargs, dict):
                for level in ("debug", "info", "success", "warning", "error", "critical"):
                    kwargs[level] = {**kwargs.get(level, {}), "err": True}
    except ImportError:  # pragma: no cover - ape is a dependency
        pass


def main() -> None:
    """Console-script entry point."""
    _set_library_logging(verbose=False)
    cli()
