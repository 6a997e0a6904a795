"""Move a round past its deadlines: select the leader, replace a late one, or finalise.

Does whichever step the round's phase allows now and prints what it did, e.g.
``{"action": "finalised", "block_hash": "0x..."}``; run it again after the next deadline.
"""

from __future__ import annotations

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from zkpot.chain import Phase, client_for_network
from zkpot.errors import ChainError, ZkpotError


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--zkpot", "address", default=None)
@click.option("--task-id", type=int, required=True)
@click.option("--round", "round_", type=int, required=True)
def cli(ecosystem, network, provider, account, address, task_id, round_) -> None:  # noqa: ANN001
    try:
        client, _ = client_for_network(provider, address)
        phase = client.phase(task_id, round_)
        payload: dict[str, object] = {"task_id": task_id, "round": round_}
        if phase == Phase.LEADER_SELECTION:
            leader = client.select_leader(task_id, round_, account)
            payload.update(action="leader-selected" if leader else "closed-empty", leader=leader)
        elif phase == Phase.LEADER_EXPIRED:
            leader = client.replace_leader(task_id, round_, account)
            payload.update(action="leader-replaced" if leader else "closed-empty", leader=leader)
        elif phase == Phase.PUBLISHED:
            digest = client.finalise(task_id, round_, account)
            payload.update(action="finalised", block_hash="0x" + digest.hex())
        else:
            raise ChainError(
                f"Round {round_} is in phase {phase.name.lower()}; nothing to finalise now",
                "wait for the submit or aggregate deadline, or for the leader to publish",
            )
    except ZkpotError as err:
        fail(err)
    emit(payload)


def emit(payload: dict[str, object]) -> None:
    """Print one JSON object (what callers parse)."""
    click.echo(json.dumps(payload, sort_keys=True))


def fail(err: ZkpotError) -> None:
    """Report a ZkpotError as one sentence and exit non-zero."""
    raise click.ClickException(err.sentence())
