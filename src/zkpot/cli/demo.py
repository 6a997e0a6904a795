"""``zkpot demo``: the end-to-end demo on local services and real proofs."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from zkpot.cli.app import cli
from zkpot.cli.options import DEMO_BACKEND, _backend_option, json_option
from zkpot.cli.output import _emit, _Steps, friendly_errors

if TYPE_CHECKING:
    from zkpot.proving.circuit import BackendName


@cli.command()
@click.option("--participants", default=4, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--architecture", default="mlp-64-32-10", show_default=True)
@click.option("--samples", default=16, show_default=True, help="Test samples per proof.")
@click.option("--chunks", default=1, show_default=True, help="Proofs per round.")
@click.option("--policy", type=click.Choice(["fedavg", "leader-model"]), default="fedavg")
@_backend_option(DEMO_BACKEND)
@click.option(
    "--aggregation-slots", type=int, default=None,
    help="K of the proven aggregation (groth16 fedavg; default 4; 0: not proven).",
)
@click.option("--partition", type=click.Choice(["iid", "dirichlet"]), default="iid")
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Report directory (default .zkpot/demo, untracked; results/demo holds the committed one).",
)
@click.option("--keep-services", is_flag=True, help="Leave anvil and IPFS running.")
@json_option
@friendly_errors
def demo(
    participants: int,
    rounds: int,
    architecture: str,
    samples: int,
    chunks: int,
    policy: str,
    backend: str,
    aggregation_slots: int | None,
    partition: str,
    results: Path | None,
    keep_services: bool,
    as_json: bool,
) -> None:
    """Run the end-to-end demo on local anvil + IPFS + real proofs and write a report."""
    from zkpot.demo import DemoConfig, run_demo

    config = DemoConfig(
        participants=participants,
        rounds=rounds,
        architecture=architecture,
        samples_per_proof=samples,
        chunks_per_round=chunks,
        policy=policy,
        backend=cast("BackendName", backend),
        aggregation_slots=aggregation_slots,
        partition=partition,
        keep_services=keep_services,
    )
    if results is not None:
        config = replace(config, results_dir=results)
    with _Steps(as_json) as steps:
        rows = run_demo(config, progress=steps)
    report = config.results_dir / "report.md"
    if as_json:
        _emit({"rounds": [asdict(r) for r in rows], "report": str(report)}, True, lambda: None)
        return
    click.echo("")
    click.echo(
        f"{'round':>5} {'leader':>6} {'global':>8} {'eval acc':>8} {'FedAvg':>7} "
        f"{'gas(pub)':>9} {'agg s':>6} {'gas(agg)':>9} {'secs':>5}  participants "
        "(verified correct, proof s)"
    )
    for r in rows:
        people = ", ".join(
            f"{p.name}[{p.kind[0]}] {p.correct}/{p.total} {p.prove_seconds:.0f}s"
            for p in r.participants
        )
        click.echo(
            f"{r.round:>5} {r.leader_name:>6} {r.global_correct:>4}/{r.total:<3} "
            f"{r.global_accuracy_holdout:>8.3f} {r.baseline_accuracy_holdout:>7.3f} "
            f"{r.publish_gas:>9,} {r.aggregation_prove_seconds:>6.0f} {r.aggregation_gas:>9,} "
            f"{r.seconds:>5.0f}  {people}"
        )
    click.echo(f"report: {report}")
