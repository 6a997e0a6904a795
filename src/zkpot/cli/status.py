"""``zkpot status``: per round, submissions, leader, hand-offs and block."""

from __future__ import annotations

from typing import Any

import click

from zkpot.cli.app import cli
from zkpot.cli.options import chain_options, name_option, task_option
from zkpot.cli.output import _address_or_none, _emit, _hex32, _record_json, _utc, friendly_errors
from zkpot.cli.session import _session


@cli.command()
@chain_options
@task_option
@name_option(required=False)
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def status(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    task_id: int,
    name: str | None,
    as_json: bool,
) -> None:
    """Anyone: per round, each submitter's verified count, the leader, hand-offs, block hash."""
    from zkpot.roles.participant import task_key
    from zkpot.state import ParticipantState, default_path

    with _session(network, contract, ipfs_url) as session:
        state, document = session.task(task_id)
        per_round = document.samples_per_proof * document.chunks_per_round
        rounds = [
            _round_status(session.client, task_id, r, per_round, bool(document.aggregation_slots))
            for r in range(state.round_count)
        ]
        local = []
        if name is not None:
            with ParticipantState(default_path(name)) as store:
                local = [_record_json(rec) for rec in store.rounds(task_key(session, task_id))]
    payload = {
        "task": task_id,
        "name": document.name,
        "architecture": document.architecture,
        "policy": document.policy,
        "aggregation_slots": document.aggregation_slots,
        "public_pool": document.public_pool,
        "samples_per_round": per_round,
        "blocks": state.block_count,
        "last_block_hash": _hex32(state.last_block_hash),
        "rounds": rounds,
        "local": local,
    }

    def text() -> None:
        click.echo(
            f"task {task_id} '{document.name}' ({document.architecture}, {document.policy}"
            + (f" proven with {document.aggregation_slots} slots" if document.aggregation_slots
               else "")
            + f", {per_round} test samples a round); {state.block_count} block(s)"
        )
        if document.public_pool:
            click.echo(
                f"  DEMO-ONLY: its test sets come from the public {document.dataset} data"
            )
        for r in rounds:
            click.echo(
                f"  round {r['round']}: {r['status']} / {r['phase']}; "
                f"{len(r['submissions'])} verified submission(s); leader {r['leader'] or '-'}"
                + _open_deadline(r)
            )
            for sub in r["submissions"]:
                marks = [m for m in ("leader", "included") if sub[m]]
                if sub["rejected"]:
                    marks.append(f"rejected: {sub['rejected']}")
                handoff = (
                    f"handed off to {sub['handoff_leader']}" if sub["handoff_leader"] else ""
                )
                click.echo(
                    f"    {sub['participant']}  {sub['correct']}/{per_round} "
                    f"({sub['accuracy']:.3f})"
                    + (f"  [{', '.join(marks)}]" if marks else "")
                    + (f"  {handoff}" if handoff else "")
                )
            if r["global_correct"] is not None:
                click.echo(
                    f"    global model {r['global_correct']}/{per_round} "
                    f"({r['global_correct'] / per_round:.3f}) {r['global_model_cid']}"
                )
            if r["block_hash"]:
                click.echo(f"    block {r['block_hash']}")
        for rec in local:
            click.echo(
                f"  {name} round {rec['round']}: {rec['step']}"
                + (f" (pending {rec['intent']})" if rec["intent"] else "")
            )

    _emit(payload, as_json, text)


def _open_deadline(r: dict[str, Any]) -> str:
    """The deadline of the round's current phase, for the status line (empty when none)."""
    deadlines, phase = r["deadlines"], r["status"]
    named = {"open": ("commit", "commit"), "revealed": ("submit", "submit"),
             "leader_selected": ("hand_off", "hand-offs")}
    if phase not in named or not deadlines[named[phase][0]]:
        return ""
    key, label = named[phase]
    text = f"; {label} until {_utc(deadlines[key])}"
    if phase == "leader_selected" and deadlines["aggregate"]:
        text += f", leader publishes by {_utc(deadlines['aggregate'])}"
    return text


def _round_status(
    client: Any, task_id: int, round_no: int, per_round: int, proven: bool = False
) -> dict[str, Any]:
    """What `zkpot status` shows of one round: verified submissions, leader, hand-offs, block.

    ``proven``: the task proves aggregation, so the leader's rejections (with their reason
    codes) are read from its recorded aggregation proof.
    """
    from zkpot.chain import RoundStatus

    info = client.round(task_id, round_no)
    leader = _address_or_none(info.leader)
    included = set(info.included)
    published = info.status in (RoundStatus.PUBLISHED, RoundStatus.FINALISED)
    record = client.aggregation_record(task_id, round_no) if proven and published else None
    rejected = dict(record.rejected) if record is not None else {}
    submissions = []
    for address in info.submitters:
        sub = client.submission(task_id, round_no, address)
        submissions.append(
            {
                "participant": address,
                "correct": sub.correct,
                "accuracy": sub.correct / per_round,
                "verified": sub.verified,
                "proof_cid": sub.proof_cid,
                "leader": address == leader,
                "passed_over": sub.passed_over,
                "handoff_leader": _address_or_none(sub.handoff_leader),
                "handoff_cid": sub.encrypted_model_cid or None,
                "included": address in included,
                "rejected": rejected.get(address),
            }
        )
    submissions.sort(key=lambda sub: (-sub["correct"], sub["participant"]))
    return {
        "round": round_no,
        "status": info.status.name.lower(),
        "phase": client.phase(task_id, round_no).name.lower(),
        "deadlines": {
            "commit": info.commit_deadline,
            "reveal": info.reveal_deadline,
            "submit": info.submit_deadline,
            "aggregate": info.aggregate_deadline,
            "hand_off": info.hand_off_deadline,
        },
        "leader": leader,
        "submitters": list(info.submitters),
        "submissions": submissions,
        "handoffs": [
            {"from": s["participant"], "to": s["handoff_leader"], "cid": s["handoff_cid"]}
            for s in submissions
            if s["handoff_cid"]
        ],
        "included": list(info.included),
        "aggregation_proven": record is not None,
        "test_set_cid": info.test_set_cid or None,
        "global_model_cid": info.new_model_cid or info.global_model_cid,
        "global_correct": info.new_global_correct if published else None,
        "block_hash": _hex32(info.block_hash),
    }
