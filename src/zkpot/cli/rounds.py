"""``zkpot round``: the publisher opens and reveals; anyone selects, replaces, finalises."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from zkpot.cli.app import cli
from zkpot.cli.data import _pool
from zkpot.cli.options import account_option, chain_options, json_option, pool_options, task_option
from zkpot.cli.output import _address_or_none, _emit, _hex32, _utc, friendly_errors
from zkpot.cli.session import _session

if TYPE_CHECKING:
    from zkpot.roles.keeper import Step


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


def _round_call(name: Step, doc: str) -> None:
    """Register ``zkpot round <name>``: one keeper step for (task, round), anyone may send."""

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
        from zkpot.roles import keeper
        from zkpot.roles.common import resolve_account

        with _session(network, contract, ipfs_url) as session:
            session.require_round(task_id, round_no)
            done = keeper.take_step(session.client, task_id, round_no, name,
                                    lambda: resolve_account(account)).message
            info = session.client.round(task_id, round_no)
        _emit(
            {"task": task_id, "round": round_no, "status": info.status.name.lower(),
             "leader": _address_or_none(info.leader),
             "block_hash": _hex32(info.block_hash), "message": done},
            as_json, lambda: click.echo(done),
        )

    command.__doc__ = doc
    round_.command(name)(command)


_round_call("select", "After the submit deadline: make the highest verified count the leader.")
_round_call("replace-leader",
            "After a leader missed its deadline: pass the round to the next best.")
_round_call("finalise", "Append the round's ZKPoT block.")
