"""Reveal a round's test set (publisher, after the commit deadline)."""

from __future__ import annotations

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import client_for_network, parse_bytes32
from zkpot.errors import ZkpotError


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--zkpot", "address", default=None)
@click.option("--task-id", type=int, required=True)
@click.option("--round", "round_", type=int, required=True)
@click.option("--test-set-cid", required=True)
@click.option("--chunk", "chunks", multiple=True, required=True)
@click.option("--salt", required=True)
def cli(
    ecosystem,
    network,
    provider,
    account,
    address,
    task_id,
    round_,
    test_set_cid,
    chunks,  # noqa: ANN001
    salt,  # noqa: ANN001
) -> None:
    try:
        client, _ = client_for_network(provider, address)
        client.reveal_test_set(
            task_id,
            round_,
            test_set_cid,
            [parse_bytes32(c) for c in chunks],
            parse_bytes32(salt),
            account,
        )
    except ZkpotError as err:
        fail(err)
    emit({"revealed": True, "round": round_, "task_id": task_id})


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
