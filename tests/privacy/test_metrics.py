"""The metric code on hand-made score lists with answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zkpot.privacy.metrics import advantage, evaluate, roc_auc, tpr_at_fpr


def test_perfect_separation_gives_auc_one_and_advantage_one() -> None:
    assert roc_auc([3, 4], [1, 2]) == 1.0
    assert advantage([3, 4], [1, 2]) == 1.0


def test_reversed_scores_give_auc_zero_and_advantage_zero() -> None:
    # Members always score lower: the ROC curve lies under the diagonal; the best
    # threshold of the form "score >= t" is t = +inf (TPR = FPR = 0).
    assert roc_auc([1, 2], [3, 4]) == 0.0
    assert advantage([1, 2], [3, 4]) == 0.0


def test_ties_count_one_half() -> None:
    assert roc_auc([1.0], [1.0]) == 0.5
    assert roc_auc([5, 5, 5], [5, 5]) == 0.5
    assert advantage([5, 5, 5], [5, 5]) == 0.0


def test_interleaved_scores_worked_by_hand() -> None:
    # Pairs (m, n): (1,2) loss, (1,4) loss, (3,2) win, (3,4) loss -> 1/4.
    assert roc_auc([1, 3], [2, 4]) == 0.25
    # Members 2,3,4 vs non-members 1,2: 2 beats 1 and ties 2 (1.5), 3 and 4 beat both.
    assert roc_auc([2, 3, 4], [1, 2]) == pytest.approx(5.5 / 6)
    # t = 3: TPR 2/3, FPR 0; t = 2: TPR 1, FPR 1/2 -> best 2/3.
    assert advantage([2, 3, 4], [1, 2]) == pytest.approx(2 / 3)
    assert tpr_at_fpr([2, 3, 4], [1, 2], 0.0) == pytest.approx(2 / 3)
    assert tpr_at_fpr([2, 3, 4], [1, 2], 0.5) == 1.0


def test_auc_matches_the_pairwise_definition_on_random_scores() -> None:
    rng = np.random.default_rng(7)
    m = rng.integers(0, 20, 57).astype(float)
    n = rng.integers(0, 20, 43).astype(float)
    pairwise = ((m[:, None] > n[None, :]) + 0.5 * (m[:, None] == n[None, :])).mean()
    assert roc_auc(m, n) == pytest.approx(pairwise)
    best = max(
        float(np.mean(m >= t) - np.mean(n >= t)) for t in [*np.unique(np.r_[m, n]), math.inf]
    )
    assert advantage(m, n) == pytest.approx(best)


def test_evaluate_reports_every_metric_and_the_counts() -> None:
    score = evaluate([3, 4, 5], [1, 2])
    assert (score.auc, score.advantage, score.tpr_at_5pct_fpr) == (1.0, 1.0, 1.0)
    assert (score.members, score.nonmembers) == (3, 2)


@pytest.mark.parametrize("bad", [[], [float("nan")], [float("inf")]])
def test_empty_or_non_finite_scores_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        roc_auc(bad, [1.0])
    with pytest.raises(ValueError):
        advantage([1.0], bad)
