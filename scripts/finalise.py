"""Move a round past its deadlines: select the leader, replace a late one, or finalise.

Does whichever step the round's phase allows now and prints what it did, e.g.
``{"action": "finalised", "block_hash": "0x..."}``; run it again after the next deadline.
"""

from __future__ import annotations

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import client_for_network
from zkpot.errors import ZkpotError
from zkpot.roles import keeper


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--zkpot", "address", default=None)
@click.option("--task-id", type=int, required=True)
@click.option("--round", "round_", type=int, required=True)
def cli(ecosystem, network, provider, account, address, task_id, round_) -> None:  # noqa: ANN001
    try:
        client, _ = client_for_network(provider, address)
        done = keeper.advance(client, task_id, round_, account)
        payload: dict[str, object] = {"task_id": task_id, "round": round_, "action": done.action}
        if done.block_hash is not None:
            payload["block_hash"] = "0x" + done.block_hash.hex()
        else:
            payload["leader"] = done.leader
    except ZkpotError as err:
        fail(err)
    emit(payload)


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
