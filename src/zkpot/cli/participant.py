"""Participant commands: join, train, commit, prove, submit, send-model, aggregate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from zkpot.cli.app import cli
from zkpot.cli.data import _private_data
from zkpot.cli.options import (
    account_option,
    chain_options,
    json_option,
    name_option,
    participant_options,
    task_option,
)
from zkpot.cli.output import _address_or_none, _emit, _record_json, _Steps, friendly_errors
from zkpot.cli.session import _session


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
