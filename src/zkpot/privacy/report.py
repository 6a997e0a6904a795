"""``privacy.json``, ``privacy.md`` and ``privacy.png`` from a :class:`PrivacyResult`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from zkpot.privacy.simulate import PrivacyResult, SystemResult, ViewResult


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, tuples lists."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_json(result: PrivacyResult) -> dict[str, Any]:
    """The whole result as plain JSON data."""
    data: dict[str, Any] = _clean(asdict(result))
    data["counts_reveal"] = counts_reveal(result)
    return data


def counts_reveal(result: PrivacyResult) -> dict[str, Any]:
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


def write_all(result: PrivacyResult, out: Path) -> list[Path]:
    """Write ``privacy.json``, ``privacy.md`` and ``privacy.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "privacy.json", out / "privacy.md", out / "privacy.png"]
    paths[0].write_text(json.dumps(to_json(result), indent=2) + "\n")
    paths[1].write_text(markdown(result, image=paths[2].name))
    plot(result, paths[2])
    return paths


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}"


def _view(system: SystemResult, key: str) -> ViewResult:
    return next(v for v in system.views if v.view == key)


def markdown(result: PrivacyResult, image: str = "privacy.png") -> str:
    """The report: the comparison table, what ZKPoT does and does not hide, the counts."""
    c = result.config
    sizes = ", ".join(f"{k} {v}" for k, v in result.sizes.items())
    lines = [
        "# Privacy: membership inference against ZKPoT, plain FedAvg and DP-SGD FedAvg",
        "",
        f"Data `{result.dataset}`, model `{result.architecture}`, K = {c.participants} "
        f"participants (IID, all honest), {c.rounds} rounds of {c.epochs} local epochs "
        f"(SGD lr {c.lr}, momentum 0.9, batch {c.batch_size}); DP-SGD: opacus, clipping "
        f"C = {c.max_grad_norm}, lr {c.dp_lr}, ε at δ = {c.delta:g} (RDP accountant, all "
        f"rounds); ZKPoT counts on {c.samples_per_round} test samples a round; "
        f"{c.shadows} shadow federations for LiRA; seed {c.seed}. Samples: {sizes}. "
        f"Wall time {result.seconds:.0f} s.",
        "",
        "Each participant's training samples (members) are scored against as many held-out "
        "samples (non-members) by each attack; the numbers are means over the participants "
        "the observer can attack. AUC 0.5 and advantage 0 are guessing; advantage is the best "
        "TPR − FPR of any threshold, chosen knowing the answer (an upper bound for a "
        "threshold attacker).",
        "",
        "| system | observer | holds | loss AUC | loss adv. | LiRA AUC | LiRA adv. "
        "| LiRA TPR @ 5 % FPR | global accuracy | ε |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result.systems:
        for v in s.views:
            attacked = "" if v.lira.attacked == len(v.per_participant) else (
                f" ({v.lira.attacked} of {len(v.per_participant)} participants)"
            )
            lines.append(
                f"| {s.name} | {v.observer}{attacked} | {v.sees} | {_fmt(v.loss.auc)} | "
                f"{_fmt(v.loss.advantage)} | {_fmt(v.lira.auc)} | {_fmt(v.lira.advantage)} | "
                f"{_fmt(v.lira.tpr_at_5pct_fpr)} | {_fmt(s.accuracy)} | "
                f"{_fmt(s.epsilon, 1) if s.epsilon is not None else '∞ (none)'} |"
            )
    lines += ["", *_findings(result), "", f"![privacy]({image})", ""]
    return "\n".join(lines)


def _findings(result: PrivacyResult) -> list[str]:
    by_key = {s.key: s for s in result.systems}
    lines = ["## What this shows", ""]
    plain, zk = by_key.get("plain"), by_key.get("zkpot")
    if plain is not None and zk is not None:
        p_local, p_global = _view(plain, "local"), _view(plain, "global")
        z_leader, z_global = _view(zk, "leader"), _view(zk, "global")
        lines += [
            f"- **The leader's view equals plain FL's for its slots.** The leader of a round "
            f"decrypts the K − 1 other admitted local models of that round, exactly what a "
            f"plain FedAvg server receives: LiRA AUC {_fmt(z_leader.lira.auc)} (advantage "
            f"{_fmt(z_leader.lira.advantage)}) against {_fmt(p_local.lira.auc)} "
            f"({_fmt(p_local.lira.advantage)}) for the plain server. ZKPoT narrows *who* "
            "holds local models (one leader per round, only for that round, chosen by "
            "verified accuracy and not known before the counts are in), not what a holder "
            "learns from one.",
            f"- **Everyone else sees only what plain FL shows its clients.** Global models, "
            f"counts, commitments and proofs: LiRA AUC {_fmt(z_global.lira.auc)} "
            f"(advantage {_fmt(z_global.lira.advantage)}), as plain FedAvg's global model "
            f"({_fmt(p_global.lira.auc)}); here ZKPoT is better than plain FL, where the "
            "server sees every local model of every round.",
            f"- **Accuracy is not paid for it:** ZKPoT {_fmt(zk.accuracy)}, plain FedAvg "
            f"{_fmt(plain.accuracy)} on the test pool.",
        ]
    dps = [s for s in result.systems if s.key.startswith("dp-")]
    if dps:
        parts = ", ".join(
            f"σ = {s.key[3:]}: ε = {_fmt(s.epsilon, 1)}, accuracy {_fmt(s.accuracy)}, local-model "
            f"LiRA AUC {_fmt(_view(s, 'local').lira.auc)}"
            for s in dps
        )
        lines.append(
            f"- **DP-SGD bounds what any observer learns, at a cost in accuracy** ({parts}). "
            "ZKPoT does not add noise: it is no substitute for DP against the leader, and "
            "the two compose (a participant may train with DP-SGD and still prove its count)."
        )
    if zk is not None:
        reveal = counts_reveal(result)
        counts = "; ".join(
            f"round {r}: " + " / ".join(str(c) for c in row)
            + (f" (leader p{zk.leaders[r] + 1})" if zk.leaders[r] >= 0 else "")
            for r, row in enumerate(zk.counts)
        )
        lines += [
            f"- **What a verified count reveals.** Each count is the number of the round's "
            f"{reveal['samples_per_round']} test samples the model classifies correctly — "
            "its accuracy on held-out data that no participant trained on, never on its "
            f"training data: at most {reveal['bits_per_count']} bits per round "
            f"({reveal['bits_per_participant']} over {result.config.rounds} rounds) about "
            "the model's quality, which reflects how much and how clean the participant's "
            "data are (a label-flipped or untrained model scores near 0), not which samples "
            f"it holds. Counts here (p1 / p2 / …): {counts}.",
            "- **Commitments and proofs** are hiding (Poseidon commitments with a secret "
            "blinding) and zero-knowledge; under those assumptions they add nothing to the "
            "counts. No attack measured here tests the cryptography.",
        ]
    return lines


def plot(result: PrivacyResult, path: Path) -> None:
    """Left: AUC of both attacks per system and observer. Right: accuracy against LiRA AUC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[str] = []
    loss: list[float] = []
    lira: list[float] = []
    points: list[tuple[float, float, str, str]] = []
    for s in result.systems:
        for v in s.views:
            short = {"local": "server", "leader": "leader", "global": "global"}[v.view]
            labels.append(f"{s.name.replace('DP-SGD FedAvg', 'DP')}\n{short}")
            loss.append(v.loss.auc)
            lira.append(v.lira.auc)
            points.append((s.accuracy, v.lira.auc, f"{s.name} ({short})", v.view))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=(1.8, 1))
    xs = range(len(labels))
    left.bar([x - 0.2 for x in xs], loss, 0.4, label="loss threshold")
    left.bar([x + 0.2 for x in xs], lira, 0.4, label="offline LiRA")
    left.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    left.set_xticks(list(xs), labels, fontsize=7)
    left.set_ylabel("membership-inference AUC")
    finite = [a for a in loss + lira if math.isfinite(a)] or [0.5]
    left.set_ylim(min(0.45, min(finite) - 0.02), max(0.65, max(finite) + 0.03))
    left.legend(fontsize="small")
    left.set_title("AUC by system and observer (0.5 = guessing)", fontsize=9)
    markers = {"local": "o", "leader": "s", "global": "^"}
    for acc, auc, name, view in points:
        if math.isfinite(auc):
            right.scatter(acc, auc, marker=markers[view])
            right.annotate(name, (acc, auc), fontsize=6, xytext=(3, 2), textcoords="offset points")
    right.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("global accuracy")
    right.set_ylabel("LiRA AUC")
    right.set_title("accuracy against privacy", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
