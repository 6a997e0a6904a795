"""The ``zkpot`` group: ``--version``, ``--verbose``, settings, library logging, entry point."""

from __future__ import annotations

from typing import Any

import click

from zkpot import services, settings
from zkpot.cli.options import LOCAL_NETWORK
from zkpot.cli.output import _fail, _verbose
from zkpot.errors import ZkpotError


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
