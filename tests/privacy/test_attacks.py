"""The attacks on cases with a known answer: a model that memorised its members is
exposed (AUC well above 0.5); a model that never saw the targets is not (AUC ~ 0.5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zkpot.data import Dataset, load_digits
from zkpot.models import MLP_DIGITS, Architecture, build_model
from zkpot.privacy import attacks
from zkpot.privacy.metrics import evaluate
from zkpot.train import train_local

WIDE = Architecture(name="mlp-64-128-10", kind="mlp", hidden=(128,))


def _fit(data: Dataset, seed: int, epochs: int = 200) -> nn.Module:
    return train_local(build_model(WIDE, seed), data.X, data.y, epochs=epochs, lr=0.1,
                       batch_size=16, seed=seed)


@pytest.fixture(scope="module")
def digits() -> Dataset:
    data = load_digits()
    order = np.random.default_rng(3).permutation(len(data))
    # A small, noisy member set is easy to memorise: 15 % of its labels are wrong, and
    # only a model that trained on exactly these samples predicts those wrong labels.
    return data.subset(order)


def _members(digits: Dataset) -> Dataset:
    members = digits.subset(np.arange(0, 100))
    rng = np.random.default_rng(11)
    y = members.y.copy()
    flip = rng.choice(len(y), 15, replace=False)
    y[flip] = (y[flip] + 1 + rng.integers(0, 9, 15)) % 10
    return Dataset(members.X, y, 10, "members")


def test_loss_attack_exposes_a_model_that_memorised_its_members(digits: Dataset) -> None:
    members, nonmembers = _members(digits), digits.subset(np.arange(100, 200))
    model = _fit(members, seed=1)
    score = evaluate(
        attacks.loss_scores(model, members.X, members.y),
        attacks.loss_scores(model, nonmembers.X, nonmembers.y),
    )
    assert score.auc > 0.7 and score.advantage > 0.4


@pytest.mark.slow  # shadow models trained for the attack: 15-20 s
def test_lira_exposes_a_model_that_memorised_its_members(digits: Dataset) -> None:
    members, nonmembers = _members(digits), digits.subset(np.arange(100, 200))
    target = _fit(members, seed=1)
    # Shadows: same recipe on the attacker's own data (disjoint from both target sets).
    shadows = [_fit(digits.subset(np.arange(200 + 100 * s, 300 + 100 * s)), seed=10 + s)
               for s in range(4)]
    X = np.concatenate([members.X, nonmembers.X])
    y = np.concatenate([members.y, nonmembers.y])
    scores = attacks.lira_offline(
        attacks.scaled_confidence(target, X, y), attacks.shadow_confidences(shadows, X, y)
    )
    score = evaluate(scores[:100], scores[100:])
    assert score.auc > 0.75 and score.advantage > 0.3


@pytest.mark.slow  # shadow models trained for the attack: 15-20 s
def test_attacks_learn_nothing_from_a_model_trained_on_other_data(digits: Dataset) -> None:
    # Neither "members" nor non-members were trained on: both are non-members in truth.
    fake_members, nonmembers = digits.subset(np.arange(0, 150)), digits.subset(np.arange(150, 300))
    model = _fit(digits.subset(np.arange(300, 400)), seed=2)
    loss = evaluate(
        attacks.loss_scores(model, fake_members.X, fake_members.y),
        attacks.loss_scores(model, nonmembers.X, nonmembers.y),
    )
    shadows = [_fit(digits.subset(np.arange(400 + 100 * s, 500 + 100 * s)), seed=20 + s)
               for s in range(4)]
    X = np.concatenate([fake_members.X, nonmembers.X])
    y = np.concatenate([fake_members.y, nonmembers.y])
    lira_scores = attacks.lira_offline(
        attacks.scaled_confidence(model, X, y), attacks.shadow_confidences(shadows, X, y)
    )
    lira = evaluate(lira_scores[:150], lira_scores[150:])
    assert abs(loss.auc - 0.5) < 0.1 and abs(lira.auc - 0.5) < 0.1


def test_scaled_confidence_is_the_log_odds_of_the_true_class() -> None:
    model = build_model(MLP_DIGITS, 0)
    X = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    y = np.array([0, 1, 2, 3, 9], dtype=np.int64)
    p = torch.softmax(model(torch.from_numpy(X)).double(), dim=1).detach().numpy()
    p_true = p[np.arange(5), y]
    assert np.allclose(attacks.scaled_confidence(model, X, y), np.log(p_true / (1 - p_true)))
    assert np.allclose(attacks.loss_scores(model, X, y), np.log(p_true))


def test_lira_standardises_against_the_shadow_distribution() -> None:
    shadows = np.array([[0.0, 10.0], [2.0, 12.0]])  # means 1 and 11, pooled std sqrt(2)
    scores = attacks.lira_offline(np.array([1.0 + 2**0.5, 11.0]), shadows)
    assert np.allclose(scores, [1.0, 0.0])
    with pytest.raises(ValueError):
        attacks.lira_offline(np.array([1.0]), np.array([[1.0]]))
