"""``zkpot task``: the publisher creates tasks; anyone lists them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from zkpot.cli.app import cli
from zkpot.cli.data import _pool
from zkpot.cli.options import (
    account_option,
    backend_option,
    chain_options,
    json_option,
    pool_options,
)
from zkpot.cli.output import _emit, _Steps, friendly_errors
from zkpot.cli.session import _session
from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    from zkpot.proving.circuit import BackendName


@cli.group()
def task() -> None:
    """Publisher: create a task."""


@task.command("create")
@chain_options
@account_option("test:0")
@click.option("--name", default="digits", show_default=True)
@click.option("--architecture", default="mlp-64-32-10", show_default=True)
@click.option(
    "--samples", default=32, show_default=True,
    help="Test samples per proof (≤ 256 with groth16, ≤ 64 with ezkl).",
)
@click.option("--chunks", default=1, show_default=True, help="Proofs per round.")
@click.option("--policy", type=click.Choice(["fedavg", "leader-model"]), default="fedavg")
@backend_option
@pool_options
@click.option(
    "--srs",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Phase-1 file (production): EZKL's KZG SRS or Groth16's powers of tau. Without "
    "it an INSECURE development one is used.",
)
@click.option(
    "--srs-hash",
    "--srs-sha256",
    "srs_sha256",
    default=None,
    help="Published hash of --srs: SHA-256 of an EZKL SRS, BLAKE2b-512 of a Groth16 "
    "powers-of-tau (optional for the public Hermez files, which are recognised).",
)
@click.option("--commit-duration", default=600, show_default=True)
@click.option("--reveal-duration", default=600, show_default=True)
@click.option("--submit-duration", default=1800, show_default=True)
@click.option("--aggregate-duration", default=1800, show_default=True)
@click.option(
    "--aggregation-slots",
    type=int,
    default=None,
    help="K of the proven-aggregation circuit (groth16 + fedavg; default 4): the leader "
    "proves the global model is the weighted mean of its model and up to K-1 hand-offs. "
    "0: the leader is trusted to aggregate.",
)
@click.option("--allow", "allowlist", multiple=True,
              help="Only these accounts may join (repeat the flag; default: anyone).")
@click.option("--max-submissions", default=64, show_default=True, type=int,
              help="Most admitted submissions per round (1-64); a full round admits by rank.")
@click.option("--reward-token", default=None,
              help="ERC-20 address the rewards are paid in (default: no rewards).")
@click.option("--reward-pool", default=0, show_default=True, type=click.IntRange(0),
              help="Token units moved into the pool at creation (zkpot approves them first).")
@click.option("--reward-per-round", default=0, show_default=True, type=click.IntRange(0),
              help="Token units each finalised round pays out.")
@click.option("--leader-share-bps", default=0, show_default=True, type=click.IntRange(0),
              help="The leader's share of a round's reward, in basis points.")
@json_option
@friendly_errors
def task_create(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    account: str,
    name: str,
    architecture: str,
    samples: int,
    chunks: int,
    policy: str,
    backend: str,
    data: str,
    holdout: float,
    seed: int,
    srs: Path | None,
    srs_sha256: str | None,
    commit_duration: int,
    reveal_duration: int,
    submit_duration: int,
    aggregate_duration: int,
    aggregation_slots: int | None,
    allowlist: tuple[str, ...],
    max_submissions: int,
    reward_token: str | None,
    reward_pool: int,
    reward_per_round: int,
    leader_share_bps: int,
    as_json: bool,
) -> None:
    """Build the circuit and verifier, publish artifacts and the task on IPFS and chain."""
    from zkpot.roles import publisher
    from zkpot.roles.common import resolve_account

    if srs is not None and srs_sha256 is None and backend == "ezkl":
        raise ZkpotError("--srs needs --srs-hash", "pass the ceremony file's published SHA-256")
    options = publisher.TaskOptions(
        name=name,
        architecture=architecture,
        samples_per_proof=samples,
        chunks_per_round=chunks,
        policy=policy,
        backend=cast("BackendName", backend),
        srs_path=srs,
        srs_sha256=srs_sha256,
        commit_duration=commit_duration,
        reveal_duration=reveal_duration,
        submit_duration=submit_duration,
        aggregate_duration=aggregate_duration,
        aggregation_slots=aggregation_slots,
        allowlist=allowlist or None,
        max_submissions=max_submissions,
        reward_token=reward_token,
        reward_pool=reward_pool,
        reward_per_round=reward_per_round,
        leader_share_bps=leader_share_bps,
    )
    # A K, limit, allowlist or reward the task cannot have: refused before any work.
    options.proven_slots()
    options.check_incentives()
    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps) as session:
        steps(f"creating the task: {architecture} {backend} circuit, verifier, IPFS documents, "
              "chain")
        task_id = publisher.create_task(
            session, resolve_account(account), options, _pool(data, holdout, seed)
        )
    _emit({"task": task_id}, as_json, lambda: click.echo(f"task {task_id} created"))


@task.command("list")
@chain_options
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
@friendly_errors
def task_list(network: str, contract: str | None, ipfs_url: str | None, as_json: bool) -> None:
    """Anyone: list every task on the contract (name, backend, rounds, blocks, state).

    A task whose document cannot be read is listed with the reason: a publisher's bad
    document never hides the other tasks.
    """
    with _session(network, contract, ipfs_url) as session:
        rows = [_task_row(session, t) for t in range(session.client.task_count())]

    def text() -> None:
        if not rows:
            click.echo("no tasks on this contract yet (`zkpot task create` makes one)")
        for r in rows:
            state = "closed" if r["closed"] else "open"
            if r["error"]:
                click.echo(f"task {r['task']}: {state}, {r['rounds']} round(s), "
                           f"{r['blocks']} block(s); document unreadable: {r['error']}")
                continue
            keys = ", INSECURE single-party keys" if r["insecure_keys"] else ""
            click.echo(f"task {r['task']}: {r['name']} ({r['backend']} {r['architecture']}, "
                       f"{r['samples_per_round']} samples a round{keys}), {state}, "
                       f"{r['rounds']} round(s), {r['blocks']} block(s), "
                       f"publisher {r['publisher']}")

    _emit(rows, as_json, text)


def _task_row(session: Any, task_id: int) -> dict[str, Any]:
    state = session.client.task_state(task_id)
    row: dict[str, Any] = {
        "task": task_id, "publisher": state.publisher, "closed": state.closed,
        "rounds": state.round_count, "blocks": state.block_count, "error": None,
    }
    try:
        document = session.document(task_id)
    except ZkpotError as error:
        return {**row, "error": error.message}
    return {
        **row, "name": document.name, "backend": document.circuit.backend,
        "architecture": document.architecture, "circuit_id": document.circuit.circuit_id,
        "samples_per_round": document.samples_per_proof * document.chunks_per_round,
        "policy": document.policy, "insecure_keys": document.circuit.insecure_srs,
        "public_pool": document.public_pool,
    }
