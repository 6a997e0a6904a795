"""The ``zkpot`` command line: one group per role, errors as one sentence."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from zkpot import services
from zkpot.errors import ZkpotError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn a :class:`ZkpotError` into one sentence on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZkpotError as error:
            click.echo(f"error: {error.sentence()}", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="zkpot")
def cli() -> None:
    """ZKPoT: federated learning secured by zero-knowledge proofs of training."""


@cli.group()
def node() -> None:
    """Start, stop and inspect the local anvil chain and IPFS node (127.0.0.1)."""


def _print_status(rows: list[services.ServiceStatus], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "url": r.url,
                        "running": r.running,
                        "pid": r.pid,
                        "owned": r.owned,
                        "log": str(r.log),
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    for r in rows:
        state = "up" if r.running else "down"
        owner = f"pid {r.pid}" if r.owned else ("not started by zkpot" if r.running else "-")
        click.echo(f"{r.name:6} {state:5} {r.url:28} {owner}")


@node.command("up")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable status.")
@friendly_errors
def node_up(as_json: bool) -> None:
    """Start anvil and IPFS (reusing any already answering) and wait until they answer."""
    _print_status(services.up(), as_json)


@node.command("down")
@friendly_errors
def node_down() -> None:
    """Stop the services zkpot started, by PID."""
    stopped = services.down()
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@node.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable status.")
@friendly_errors
def node_status(as_json: bool) -> None:
    """Report whether each service answers, and who started it."""
    _print_status(services.status(), as_json)


def main() -> None:
    """Console-script entry point."""
    cli()
