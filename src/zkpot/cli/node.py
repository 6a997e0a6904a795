"""``zkpot node``: the local anvil chain and IPFS node."""

from __future__ import annotations

from dataclasses import asdict

import click

from zkpot import services
from zkpot.cli.app import cli
from zkpot.cli.options import LOCAL_NETWORK, json_option, network_option
from zkpot.cli.output import _emit, _utc, friendly_errors
from zkpot.cli.session import _storage
from zkpot.errors import ChainError


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
