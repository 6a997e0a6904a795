"""``privacy.json``, ``privacy.md`` and ``privacy.png`` from a :class:`PrivacyComparison`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.privacy.simulate import PrivacyComparison, Stat, ViewSummary


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, tuples lists."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_json(result: PrivacyComparison) -> dict[str, Any]:
    """The whole result as plain JSON data."""
    data: dict[str, Any] = _clean(asdict(result))
    data["counts_reveal"] = counts_reveal(result)
    return data


def counts_reveal(result: PrivacyComparison) -> dict[str, Any]:
    """What ZKPoT's published counts can reveal: at most log2(n + 1) bits a proof."""
    n = result.config.samples_per_round
    bits = math.log2(n + 1)
    return {
        "samples_per_round": n,
        "bits_per_count": round(bits, 3),
        "bits_per_participant": round(bits * result.config.rounds, 3),
        "measured_on": "the round's test set (held-out data, never any participant's "
        "training data)",
    }


def write_all(result: PrivacyComparison, out: Path, name: str = "privacy") -> list[Path]:
    """Write ``NAME.json``, ``NAME.md`` and ``NAME.png`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.json", out / f"{name}.md", out / f"{name}.png"]
    paths[0].write_text(json.dumps(to_json(result), indent=2) + "\n")
    paths[1].write_text(markdown(result, image=paths[2].name))
    plot(result, paths[2])
    return paths


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}"


def _pm(value: Stat, digits: int = 3) -> str:
    if not math.isfinite(value.mean):
        return "–"
    return f"{value.mean:.{digits}f} ± {value.std:.{digits}f}"


def _view(result: PrivacyComparison, system: str, view: str) -> ViewSummary | None:
    return next((v for v in result.summary if v.system == system and v.view == view), None)


def markdown(result: PrivacyComparison, image: str = "privacy.png") -> str:
    """The report: the comparison table, what ZKPoT does and does not hide, the counts."""
    c = result.config
    sizes = ", ".join(f"{k} {v}" for k, v in result.runs[0].sizes.items())
    k = c.participants
    lines = [
        "# Privacy: membership inference against ZKPoT, plain FedAvg and DP-SGD FedAvg",
        "",
        f"Data `{result.dataset}`, model `{result.architecture}`, K = {k} participants (IID, "
        f"all honest), {c.rounds} rounds of {c.epochs} local epochs (SGD lr {c.lr}, momentum "
        f"0.9, batch {c.batch_size}); DP-SGD: opacus, clipping C = {c.max_grad_norm}, lr "
        f"{c.dp_lr}, ε at δ = {c.delta:g} (RDP accountant, all rounds); ZKPoT counts on "
        f"{c.samples_per_round} test samples a round; {c.shadows} shadow federations for "
        f"LiRA. Samples per run: {sizes}. {c.repeats} runs (seeds {c.seed}–"
        f"{c.seed + c.repeats - 1}: new split, initialisation and shadows each); "
        f"wall time {result.seconds:.0f} s.",
        "",
        "Each participant's training samples (members) are scored against as many held-out "
        "samples (non-members) by each attack: the **loss threshold** and **offline LiRA** "
        "(per-sample Gaussian of shadow models' logit-scaled confidence). Numbers are the "
        "mean ± standard deviation over the runs of the mean over the participants the "
        "observer can attack. AUC 0.5 and advantage 0 are guessing; advantage is the best "
        "TPR − FPR of any threshold, chosen knowing the answer (an upper bound for a "
        "threshold attacker).",
        "",
        "| system | observer | holds | loss AUC | loss adv. | LiRA AUC | LiRA adv. "
        "| LiRA TPR @ 5 % FPR | global accuracy | ε |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in result.summary:
        total = c.repeats * k
        attacked = "" if v.attacked == total else f" ({v.attacked} of {total} participant-runs)"
        lines.append(
            f"| {v.name} | {v.observer}{attacked} | {v.sees} | {_pm(v.loss_auc)} | "
            f"{_pm(v.loss_advantage)} | {_pm(v.lira_auc)} | {_pm(v.lira_advantage)} | "
            f"{_pm(v.lira_tpr_at_5pct_fpr)} | {_pm(v.accuracy)} | "
            f"{_fmt(v.epsilon, 1) if v.epsilon is not None else '∞ (no DP)'} |"
        )
    lines += ["", *_findings(result), "", f"![privacy]({image})", ""]
    return "\n".join(lines)


def _findings(result: PrivacyComparison) -> list[str]:
    lines = ["## What this shows", ""]
    p_local, p_global = _view(result, "plain", "local"), _view(result, "plain", "global")
    z_leader, z_global = _view(result, "zkpot", "leader"), _view(result, "zkpot", "global")
    if p_local and p_global and z_leader and z_global:
        lines += [
            f"- **The leader's view equals plain FL's for its slots.** The leader of a round "
            f"decrypts the K − 1 other admitted local models of that round, exactly what a "
            f"plain FedAvg server receives: LiRA AUC {_pm(z_leader.lira_auc)} (advantage "
            f"{_pm(z_leader.lira_advantage)}) against {_pm(p_local.lira_auc)} "
            f"({_pm(p_local.lira_advantage)}) for the plain server. ZKPoT narrows *who* "
            "holds local models (one leader per round, only for that round, chosen by "
            "verified accuracy after the models are committed), not what a holder learns "
            "from one.",
            f"- **Everyone else sees only what plain FL shows its clients.** Global models, "
            f"counts, commitments and proofs: LiRA AUC {_pm(z_global.lira_auc)} (advantage "
            f"{_pm(z_global.lira_advantage)}), as plain FedAvg's global model "
            f"({_pm(p_global.lira_auc)}). This is where ZKPoT is better than plain FL, whose "
            "server sees every local model of every round.",
            f"- **No accuracy is paid for it:** ZKPoT {_pm(z_global.accuracy)}, plain FedAvg "
            f"{_pm(p_global.accuracy)} on the test pool.",
        ]
    dps = [v for v in result.summary if v.system.startswith("dp-") and v.view == "local"]
    if dps:
        parts = "; ".join(
            f"σ = {v.system[3:]}: ε = {_fmt(v.epsilon, 1)}, accuracy {_pm(v.accuracy)}, "
            f"server's LiRA AUC {_pm(v.lira_auc)}"
            for v in dps
        )
        lines.append(
            f"- **DP-SGD bounds what every observer learns, at a cost in accuracy** ({parts}). "
            "ZKPoT adds no noise: against the leader it is no substitute for DP, and the two "
            "compose (a participant may train with DP-SGD and still prove its count)."
        )
    zk = next((s for s in result.runs[0].systems if s.key == "zkpot"), None)
    if zk is not None:
        reveal = counts_reveal(result)
        counts = "; ".join(
            f"round {r}: " + " / ".join(str(c) for c in row)
            + (f" (leader p{zk.leaders[r] + 1})" if zk.leaders[r] >= 0 else "")
            for r, row in enumerate(zk.counts)
        )
        lines += [
            f"- **What a verified count reveals.** Each count is the number of the round's "
            f"{reveal['samples_per_round']} test samples the model classifies correctly: its "
            "accuracy on held-out data that no participant trained on, never on its training "
            f"data — at most {reveal['bits_per_count']} bits a round "
            f"({reveal['bits_per_participant']} over {result.config.rounds} rounds) about the "
            "model's quality, which reflects how much and how clean the participant's data "
            "are (a label-flipped or untrained model scores near 0), not which samples it "
            f"holds. Counts of the first run (p1 / p2 / …): {counts}.",
            "- **Commitments and proofs** are hiding (Poseidon commitments with a secret "
            "blinding) and zero-knowledge; under those assumptions they add nothing to the "
            "counts. No attack measured here tests the cryptography.",
        ]
    return lines


def plot(result: PrivacyComparison, path: Path) -> None:
    """Left: AUC of both attacks per system and observer. Right: accuracy against LiRA AUC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    short = {"local": "server", "leader": "leader", "global": "global"}
    rows = result.summary
    labels = [f"{v.name.replace('DP-SGD FedAvg', 'DP')}\n{short[v.view]}" for v in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.2), width_ratios=(1.8, 1))
    xs = np.arange(len(rows))
    for offset, label, stats in (
        (-0.2, "loss threshold", [v.loss_auc for v in rows]),
        (0.2, "offline LiRA", [v.lira_auc for v in rows]),
    ):
        left.bar(xs + offset, [s.mean for s in stats], 0.4, yerr=[s.std for s in stats],
                 capsize=2, label=label)
    left.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    left.set_xticks(xs, labels, fontsize=7)
    left.set_ylabel("membership-inference AUC")
    finite = [s.mean for v in rows for s in (v.loss_auc, v.lira_auc) if math.isfinite(s.mean)]
    left.set_ylim(min([0.45, *(f - 0.03 for f in finite)]),
                  max([0.65, *(f + 0.04 for f in finite)]))
    left.legend(fontsize="small")
    left.set_title("AUC by system and observer (0.5 = guessing)", fontsize=9)
    markers = {"local": "o", "leader": "s", "global": "^"}
    systems = list(dict.fromkeys(v.system for v in rows))
    colours = plt.get_cmap("tab10")
    for v in rows:
        if math.isfinite(v.lira_auc.mean):
            right.errorbar(v.accuracy.mean, v.lira_auc.mean, xerr=v.accuracy.std,
                           yerr=v.lira_auc.std, marker=markers[v.view], capsize=2,
                           color=colours(systems.index(v.system)), linestyle="none",
                           label=f"{v.name} ({short[v.view]})")
    right.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    right.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("global accuracy")
    right.set_ylabel("LiRA AUC")
    right.set_title("accuracy against privacy", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
