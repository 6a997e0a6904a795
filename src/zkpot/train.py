"""Local training: plain mini-batch SGD with cross-entropy, deterministic given a seed."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn


def train_local(
    model: nn.Module,
    X: NDArray[np.float32],
    y: NDArray[np.int64],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
) -> nn.Module:
    """Train ``model`` in place on ``(X, y)`` and return it in eval mode.

    The sample order depends only on ``seed``, so the same inputs give the same weights.
    """
    generator = torch.Generator().manual_seed(seed)
    features = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    labels = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(labels), batch_size):
            batch = order[start : start + batch_size]
            optimiser.zero_grad()
            loss = loss_fn(model(features[batch]), labels[batch])
            loss.backward()
            optimiser.step()
    return model.eval()


def count_correct(model: nn.Module, X: NDArray[np.float32], y: NDArray[np.int64]) -> int:
    """How many of the samples ``model`` classifies correctly (argmax of its logits)."""
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return int((logits.argmax(dim=1).numpy() == y).sum())
