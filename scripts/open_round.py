"""Open the next round of a task; prints ``{"round": N, "test_set_commitment": "0x..."}``.

Give either ``--test-set-commitment`` or the values it hides (``--test-set-cid``,
``--chunk`` per chunk, ``--salt``), which are hashed here exactly as the contract does.
"""

from __future__ import annotations

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import client_for_network, parse_bytes32, round_test_set_commitment
from zkpot.errors import ZkpotError


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--zkpot", "address", default=None)
@click.option("--task-id", type=int, required=True)
@click.option("--test-set-commitment", default=None)
@click.option("--test-set-cid", default=None)
@click.option("--chunk", "chunks", multiple=True, help="Chunk commitment (repeatable, in order).")
@click.option("--salt", default=None)
def cli(
    ecosystem,
    network,
    provider,
    account,
    address,
    task_id,
    test_set_commitment,  # noqa: ANN001
    test_set_cid,
    chunks,
    salt,  # noqa: ANN001
) -> None:
    try:
        if test_set_commitment is None:
            if not (test_set_cid and chunks and salt):
                raise click.UsageError(
                    "give --test-set-commitment, or --test-set-cid with --chunk and --salt"
                )
            value = round_test_set_commitment(
                test_set_cid, [parse_bytes32(c) for c in chunks], parse_bytes32(salt)
            )
        else:
            value = parse_bytes32(test_set_commitment)
        client, _ = client_for_network(provider, address)
        round_ = client.open_round(task_id, value, account)
    except ZkpotError as err:
        fail(err)
    emit({"round": round_, "task_id": task_id, "test_set_commitment": "0x" + value.hex()})


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
