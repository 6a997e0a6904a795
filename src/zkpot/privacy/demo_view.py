"""The demo report's privacy section: the loss attack on the demo's own models.

After the demo's last round, each participant's training data (members) is scored
against as many samples of the publisher's held-out pool (non-members: nobody trains
on it) through three models: the participant's own last local model (what the round's
leader decrypts, and what a plain FedAvg server would hold), ZKPoT's published global
model (what everyone else holds), and plain FedAvg's global model on the same data. The
loss attack needs no shadow models, so this costs about a second; the full comparison
(offline LiRA, DP-SGD) is ``zkpot privacy``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from zkpot.data import Dataset
from zkpot.privacy.attacks import loss_scores
from zkpot.privacy.metrics import AttackScore, evaluate


@dataclass(frozen=True)
class DemoParticipant:
    """One demo participant, as the privacy section needs it."""

    name: str
    kind: str
    members: Dataset
    """The data it trained on."""
    local_model: nn.Module
    """Its last round's local model."""
    seen_by_leader: bool
    """Whether that model was sealed to another participant (the round's leader): it
    was admitted and someone else led."""


@dataclass(frozen=True)
class DemoPrivacyRow:
    """The loss attack's result for one participant through each model."""

    name: str
    kind: str
    leader_view: AttackScore
    """Through its local model (the leader's view when ``seen_by_leader``)."""
    seen_by_leader: bool
    zkpot_global: AttackScore
    """Through ZKPoT's published global model."""
    plain_global: AttackScore
    """Through plain FedAvg's global model."""


def _attack(model: nn.Module, members: Dataset, nonmembers: Dataset) -> AttackScore:
    return evaluate(
        loss_scores(model, members.X, members.y), loss_scores(model, nonmembers.X, nonmembers.y)
    )


def demo_privacy(
    participants: Sequence[DemoParticipant],
    zkpot_global: nn.Module,
    plain_global: nn.Module,
    pool: Dataset,
    seed: int = 0,
) -> list[DemoPrivacyRow]:
    """Attack each participant's data through the three models (balanced samples)."""
    rows = []
    for i, p in enumerate(participants):
        rng = np.random.default_rng([seed, 0xDE30, i])
        n = min(len(p.members), len(pool))
        members = p.members.subset(np.sort(rng.choice(len(p.members), size=n, replace=False)))
        nonmembers = pool.flat().subset(np.sort(rng.choice(len(pool), size=n, replace=False)))
        members = members.flat()
        rows.append(
            DemoPrivacyRow(
                name=p.name,
                kind=p.kind,
                leader_view=_attack(p.local_model, members, nonmembers),
                seen_by_leader=p.seen_by_leader,
                zkpot_global=_attack(zkpot_global, members, nonmembers),
                plain_global=_attack(plain_global, members, nonmembers),
            )
        )
    return rows


def markdown(
    rows: Sequence[DemoPrivacyRow], zkpot_accuracy: float, plain_accuracy: float
) -> list[str]:
    """The report's privacy section (a table and the plot's link)."""
    lines = [
        "## Privacy: membership inference on the demo's models",
        "",
        "Loss-threshold attack (AUC / advantage; 0.5 / 0 is guessing) on each participant's "
        "training data against as many held-out pool samples. The participant's last local "
        "model is what that round's leader decrypts (the same a plain FedAvg server gets "
        "from everyone); ZKPoT's global model, its verified counts and commitments are all "
        "that anyone else gets. Counts are accuracies on the round's test set, never on "
        "training data. Offline LiRA and DP-SGD: `zkpot privacy` (results/privacy.md).",
        "",
        "| participant | kind | its local model (leader's view) | ZKPoT global model "
        "(everyone) | plain FedAvg global model |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        seen = "" if r.seen_by_leader else " (no other participant received it)"
        lines.append(
            f"| {r.name} | {r.kind} | {r.leader_view.auc:.3f} / {r.leader_view.advantage:.3f}"
            f"{seen} | {r.zkpot_global.auc:.3f} / {r.zkpot_global.advantage:.3f} | "
            f"{r.plain_global.auc:.3f} / {r.plain_global.advantage:.3f} |"
        )
    if any(r.kind == "label-flipped" for r in rows):
        lines += [
            "",
            "A label-flipped participant's members carry wrong labels, so any model tells "
            "them from correctly labelled non-members (AUC far from 0.5 on either side): that "
            "measures its label noise, not membership.",
        ]
    lines += [
        "",
        f"Accuracy (evaluation set): ZKPoT global {zkpot_accuracy:.3f}, plain FedAvg "
        f"{plain_accuracy:.3f}.",
        "",
        "![privacy](privacy.png)",
        "",
    ]
    return lines


def plot(
    rows: Sequence[DemoPrivacyRow], zkpot_accuracy: float, plain_accuracy: float, path: Path
) -> None:
    """AUC per participant through each model; accuracy against mean AUC per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), width_ratios=(1.6, 1))
    xs = np.arange(len(rows))
    series = (
        ("local model (leader / plain server)", [r.leader_view.auc for r in rows]),
        ("ZKPoT global (everyone)", [r.zkpot_global.auc for r in rows]),
        ("plain FedAvg global", [r.plain_global.auc for r in rows]),
    )
    for k, (label, values) in enumerate(series):
        left.bar(xs + (k - 1) * 0.27, values, 0.27, label=label)
    left.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    left.set_xticks(xs, [f"{r.name}\n{r.kind}" for r in rows], fontsize=7)
    left.set_ylabel("loss-attack AUC")
    left.set_ylim(0.0, 1.0)
    left.legend(fontsize=6)
    honest = [r for r in rows if r.kind == "honest"] or list(rows)
    points = (
        ("ZKPoT: leader's view", zkpot_accuracy, [r.leader_view.auc for r in honest]),
        ("ZKPoT: everyone", zkpot_accuracy, [r.zkpot_global.auc for r in honest]),
        ("plain FedAvg: global", plain_accuracy, [r.plain_global.auc for r in honest]),
    )
    for label, acc, aucs in points:
        mean = float(np.mean(aucs)) if aucs else math.nan
        right.scatter(acc, mean)
        right.annotate(label, (acc, mean), fontsize=7, xytext=(3, 2), textcoords="offset points")
    right.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("global accuracy (evaluation set)")
    right.set_ylabel("mean AUC, honest participants")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
