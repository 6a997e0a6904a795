"""Membership-inference metrics over attack scores (higher score = "member").

Both metrics compare the scores of members (samples the model trained on) with those
of non-members (samples it never saw). AUC is the probability that a random member
scores above a random non-member (ties count one half): 0.5 is guessing, 1.0 is
certain membership. The advantage is ``max over thresholds of TPR - FPR`` (Yeom et
al.), the best threshold chosen knowing the answer: an upper bound on what any single
threshold on these scores achieves, 0 for guessing, 1 for certain membership.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Scores = NDArray[np.float64]


def _scores(values: ArrayLike | Sequence[float], what: str) -> Scores:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"no {what} scores")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} scores must be finite")
    return array


def roc_auc(members: ArrayLike, nonmembers: ArrayLike) -> float:
    """P(member score > non-member score) + ½ P(equal): the area under the ROC curve."""
    m = _scores(members, "member")
    n = np.sort(_scores(nonmembers, "non-member"))
    below = np.searchsorted(n, m, side="left")
    not_above = np.searchsorted(n, m, side="right")
    wins = below.sum() + 0.5 * (not_above - below).sum()
    return float(wins / (m.size * n.size))


def _rates(members: ArrayLike, nonmembers: ArrayLike) -> tuple[Scores, Scores]:
    """TPR and FPR of "member iff score >= t" for every distinct t, and t = +inf."""
    m = np.sort(_scores(members, "member"))
    n = np.sort(_scores(nonmembers, "non-member"))
    thresholds = np.unique(np.concatenate([m, n]))
    tpr = 1.0 - np.searchsorted(m, thresholds, side="left") / m.size
    fpr = 1.0 - np.searchsorted(n, thresholds, side="left") / n.size
    return np.append(tpr, 0.0), np.append(fpr, 0.0)


def advantage(members: ArrayLike, nonmembers: ArrayLike) -> float:
    """``max_t TPR(t) - FPR(t)`` over thresholds ``score >= t`` (never below 0)."""
    tpr, fpr = _rates(members, nonmembers)
    return float(np.max(tpr - fpr))


def tpr_at_fpr(members: ArrayLike, nonmembers: ArrayLike, max_fpr: float) -> float:
    """The highest TPR of a threshold whose FPR is at most ``max_fpr``."""
    tpr, fpr = _rates(members, nonmembers)
    return float(np.max(tpr[fpr <= max_fpr]))


@dataclass(frozen=True)
class AttackScore:
    """One attack against one model and one participant's training data."""

    auc: float
    """ROC AUC (0.5: the attack learns nothing)."""
    advantage: float
    """Best ``TPR - FPR`` (0: the attack learns nothing)."""
    tpr_at_5pct_fpr: float
    """TPR at FPR ≤ 5 % (5 % is what guessing gets)."""
    members: int
    """Member samples scored."""
    nonmembers: int
    """Non-member samples scored."""


def evaluate(members: ArrayLike, nonmembers: ArrayLike) -> AttackScore:
    """All metrics of one attack's member and non-member scores."""
    m = _scores(members, "member")
    n = _scores(nonmembers, "non-member")
    return AttackScore(
        auc=roc_auc(m, n),
        advantage=advantage(m, n),
        tpr_at_5pct_fpr=tpr_at_fpr(m, n, 0.05),
        members=int(m.size),
        nonmembers=int(n.size),
    )
