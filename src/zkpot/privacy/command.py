"""``zkpot privacy``: the membership-inference comparison as a CLI command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from zkpot.errors import ZkpotError


def _noise_levels(text: str) -> tuple[float, ...]:
    if not text.strip():
        return ()
    try:
        levels = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ZkpotError(
            f"--noise {text!r} is not a comma-separated list of numbers", "pass e.g. 0.5,1,2"
        ) from None
    if any(not level > 0 for level in levels):
        raise ZkpotError(f"--noise {text!r} has a level that is not positive", "pass e.g. 0.5,1,2")
    return levels


def _default_out() -> Path:
    from zkpot import toolchain

    return toolchain.repo_root() / "results"


@click.command("privacy")
@click.option("--data", default="digits", show_default=True, help="digits, csv:PATH, idx:I:L.")
@click.option("--participants", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--epochs", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Local epochs per round.")
@click.option("--shadows", default=16, show_default=True, type=click.IntRange(2, 256),
              help="Shadow federations for LiRA.")
@click.option("--noise", default="0.5,1,2", show_default=True,
              help="DP-SGD noise multipliers, comma-separated ('' skips DP-SGD).")
@click.option("--samples", default=16, show_default=True, type=click.IntRange(1, 4096),
              help="ZKPoT test samples counted per round.")
@click.option("--max-samples", default=4000, show_default=True, type=click.IntRange(40),
              help="Use at most this many samples of the data.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Independent runs (seeds seed, seed+1, ...); the report gives mean ± std.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory for the report files (default: results/).")
@click.option("--name", default="privacy", show_default=True,
              help="File stem: writes NAME.json, NAME.md and NAME.png.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the result as JSON on stdout (progress and errors stay on stderr).")
def privacy(
    data: str,
    participants: int,
    rounds: int,
    epochs: int,
    shadows: int,
    noise: str,
    samples: int,
    max_samples: int,
    seed: int,
    repeats: int,
    out: Path | None,
    name: str,
    as_json: bool,
) -> None:
    """Membership inference against ZKPoT, plain FedAvg and DP-SGD FedAvg, per observer."""
    from zkpot.data import Dataset
    from zkpot.privacy.report import to_json, write_all
    from zkpot.privacy.simulate import PrivacyConfig, run_privacy

    try:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ZkpotError(f"--name {name!r} is not a plain file stem", "pass e.g. privacy")
        config = PrivacyConfig(
            participants=participants, rounds=rounds, epochs=epochs, shadows=shadows,
            noise_multipliers=_noise_levels(noise), samples_per_round=samples,
            max_samples=max_samples, seed=seed, repeats=repeats,
        )
        from zkpot.data import dataset_from_spec

        dataset = dataset_from_spec(data)
        assert isinstance(dataset, Dataset)
        result = run_privacy(dataset, config, progress=lambda line: click.echo(line, err=True))
        paths = write_all(result, out if out is not None else _default_out(), name)
    except ZkpotError as error:
        click.echo(f"error: {error.sentence()}", err=True)
        sys.exit(error.exit_code)
    if as_json:
        click.echo(json.dumps({"result": to_json(result), "files": [str(p) for p in paths]},
                              indent=2, default=str))
        return
    click.echo(f"{'system':<24} {'observer':<8} {'loss AUC':>8} {'LiRA AUC':>8} "
               f"{'LiRA adv':>8} {'accuracy':>8} {'epsilon':>8}   (means over {repeats} runs)")
    for v in result.summary:
        eps = "-" if v.epsilon is None else f"{v.epsilon:.1f}"
        click.echo(
            f"{v.name:<24} {v.view:<8} {v.loss_auc.mean:>8.3f} {v.lira_auc.mean:>8.3f} "
            f"{v.lira_advantage.mean:>8.3f} {v.accuracy.mean:>8.3f} {eps:>8}"
        )
    click.echo(f"report: {paths[1]}")
