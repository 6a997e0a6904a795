"""``zkpot audit``: re-verify rounds from chain and IPFS alone."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from zkpot.cli.app import cli
from zkpot.cli.options import chain_options, task_option
from zkpot.cli.output import _emit, _Steps, friendly_errors
from zkpot.cli.session import _session


@cli.command()
@chain_options
@task_option
@click.option("--round", "rounds", type=int, multiple=True, help="Rounds to audit (default all).")
@click.option(
    "--keys", "check_keys", is_flag=True,
    help="Also check the proving keys (the accuracy circuit's and each aggregation "
    "circuit's) derive from the circuit and phase 1 (Groth16: snarkjs zkey verify of the "
    "ceremony; minutes). INSECURE single-party or development keys FAIL.",
)
@click.option(
    "--phase1", type=click.Path(exists=True, path_type=Path), default=None,
    help="The phase-1 file the keys were made with (default: the development one).",
)
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def audit(
    network: str,
    contract: str | None,
    ipfs_url: str | None,
    task_id: int,
    rounds: tuple[int, ...],
    check_keys: bool,
    phase1: Path | None,
    as_json: bool,
) -> None:
    """Auditor: re-verify rounds from chain and IPFS alone; exit 1 if anything fails."""
    from zkpot.roles.auditor import audit_task

    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps) as session:
        findings = audit_task(session, task_id, list(rounds) if rounds else None,
                              check_keys=check_keys, phase1=phase1)

    def text() -> None:
        for f in findings:
            where = "task" if f.round is None else f"round {f.round}"
            click.echo(f"{'PASS' if f.ok else 'FAIL'}  {where:8} {f.item}: {f.detail}")

    _emit([asdict(f) for f in findings], as_json, text)
    failed = [f for f in findings if not f.ok]
    if failed:
        click.echo(f"error: {len(failed)} audit check(s) failed.", err=True)
        sys.exit(1)
