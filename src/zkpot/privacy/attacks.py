"""Membership-inference attacks on a trained classifier.

* **Loss threshold** (Yeom et al. 2018): a sample the model trained on tends to have a
  lower loss. Score = ``-cross_entropy(model(x), y)``. Needs only the model and the
  sample; the confidence in the true class, ``p_y = exp(-loss)``, ranks the same.
* **Offline LiRA** (Carlini et al. 2022, "Membership inference attacks from first
  principles", the offline variant): the attacker trains shadow models by the same
  recipe on its own data from the same distribution, none of which contain the target
  samples. Per target sample it fits a Gaussian to the shadow ("OUT") models'
  logit-scaled confidence ``phi = log p_y - log(1 - p_y)`` and scores how far above that
  OUT distribution the target model's ``phi`` lies. With few shadow models the
  variance is pooled over all samples (the paper's "global variance"), which is more
  stable than a per-sample one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from zkpot.privacy.metrics import Scores

_MIN_STD = 1e-6


def _logits(model: nn.Module, X: NDArray[np.float32]) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        features = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        out: torch.Tensor = model(features.reshape(features.shape[0], -1)).to(torch.float64)
    return out


def loss_scores(model: nn.Module, X: NDArray[np.float32], y: NDArray[np.int64]) -> Scores:
    """Per-sample ``-cross_entropy`` (higher: more likely a member)."""
    logits = _logits(model, X)
    labels = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    loss = nn.functional.cross_entropy(logits, labels, reduction="none")
    scores: Scores = (-loss).numpy()
    return scores


def scaled_confidence(model: nn.Module, X: NDArray[np.float32], y: NDArray[np.int64]) -> Scores:
    """Per-sample ``log p_y - log(1 - p_y)``, computed from logits without underflow."""
    logits = _logits(model, X)
    labels = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    true = logits.gather(1, labels[:, None])[:, 0]
    others = logits.scatter(1, labels[:, None], float("-inf"))
    phi: Scores = (true - torch.logsumexp(others, dim=1)).numpy()
    return phi


def lira_offline(target_phi: Scores, shadow_phi: NDArray[np.float64]) -> Scores:
    """Offline LiRA scores: ``(phi - mean_OUT) / std_OUT`` per sample.

    ``shadow_phi`` has one row per shadow model (none trained on these samples) and
    one column per sample. The score is monotone in the one-sided Gaussian likelihood
    that the target's ``phi`` is not an OUT draw.
    """
    shadows = np.asarray(shadow_phi, dtype=np.float64)
    if shadows.ndim != 2 or shadows.shape[1] != target_phi.shape[0] or shadows.shape[0] < 2:
        raise ValueError("LiRA needs at least two shadow models scored on the same samples")
    mean = shadows.mean(axis=0)
    std = max(float(np.sqrt(((shadows - mean) ** 2).sum() / (shadows.size - shadows.shape[1]))),
              _MIN_STD)
    scores: Scores = (target_phi - mean) / std
    return scores


def shadow_confidences(
    shadows: Sequence[nn.Module], X: NDArray[np.float32], y: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``scaled_confidence`` of every shadow model: shape ``(len(shadows), len(y))``."""
    return np.stack([scaled_confidence(model, X, y) for model in shadows])
