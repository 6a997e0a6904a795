"""``zkpot deploy``: deploy the ZKPoT contract and record it."""

from __future__ import annotations

from pathlib import Path

import click

from zkpot.cli.app import cli
from zkpot.cli.options import account_option, json_option, network_option
from zkpot.cli.output import _emit, _verbose, friendly_errors
from zkpot.cli.session import _require_local_chain


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
