"""Model architectures a task can fix: the default digits MLP and a small LeNet-like CNN.

An architecture is a frozen :class:`Architecture` value. Its :func:`architecture_id`
is a hash of that value's canonical JSON, so the same architecture has the same id on
every machine and a task can reference it on chain. Weights are never part of the id.

The torch layers of each kind are in :mod:`zkpot.layers`; torch is imported only by the
functions that build, save or load a model, so the chain commands, which read
architectures but never build one, do not pay for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from zkpot.errors import ProvingError

if TYPE_CHECKING:
    from torch import nn

ArchitectureKind = Literal["mlp", "cnn"]


@dataclass(frozen=True)
class Architecture:
    """A model architecture over flat ``input_size`` feature vectors.

    Every model takes ``(batch, input_size)`` floats and returns ``(batch, num_classes)``
    logits, so the accuracy circuit is the same shape for every architecture.
    """

    name: str
    """Human-readable name, e.g. ``mlp-64-32-10``."""
    kind: ArchitectureKind
    """``mlp`` (Linear/ReLU stack) or ``cnn`` (LeNet-like over a square image)."""
    input_size: int = 64
    """Features per sample (8x8 digits: 64)."""
    num_classes: int = 10
    """Output logits per sample."""
    hidden: tuple[int, ...] = (32,)
    """MLP: hidden layer widths. CNN: channels of its two conv layers."""


MLP_DIGITS = Architecture(name="mlp-64-32-10", kind="mlp", hidden=(32,))
"""The default architecture: 64 -> 32 -> 10 with ReLU."""

LENET_DIGITS = Architecture(name="lenet-8x8", kind="cnn", hidden=(4, 8))
"""The second architecture: conv(4) -> pool -> conv(8) -> pool -> linear, over 8x8 images."""

TINY_MLP = Architecture(name="mlp-64-8-10", kind="mlp", hidden=(8,))
"""A tiny MLP whose circuits prove in seconds: for tests and smoke runs."""

ARCHITECTURES: dict[str, Architecture] = {
    a.name: a for a in (MLP_DIGITS, LENET_DIGITS, TINY_MLP)
}
"""Known architectures by name."""


def architecture_by_name(name: str) -> Architecture:
    """The known architecture called ``name``; a :class:`ProvingError` if there is none."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ProvingError(
            f"Unknown architecture {name!r}",
            f"use one of {', '.join(sorted(ARCHITECTURES))}",
        ) from None


def architecture_id(arch: Architecture) -> str:
    """A stable 64-hex-digit id: sha256 of the architecture's canonical JSON."""
    canonical = json.dumps(asdict(arch), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_model(arch: Architecture, seed: int = 0) -> nn.Module:
    """A fresh model of ``arch`` whose initial weights depend only on ``seed``."""
    import torch

    from zkpot.layers import layers

    # A private generator: initialisation never depends on (or disturbs) global RNG state.
    generator = torch.Generator().manual_seed(seed)
    # torch's layer constructors draw their default init from the global generator;
    # fork it so that building a model leaves the caller's random stream where it was.
    with torch.random.fork_rng(devices=[]):
        model = layers(arch)
    with torch.no_grad():
        for param in model.parameters():
            # PyTorch's default (Kaiming-uniform-like) bound, drawn from our generator.
            fan_in = param.shape[1:].numel() if param.dim() > 1 else param.shape[0]
            bound = 1.0 / max(fan_in, 1) ** 0.5
            param.uniform_(-bound, bound, generator=generator)
    return model.eval()


def save_model(model: nn.Module, arch: Architecture, path: Path) -> None:
    """Write the weights and the architecture they belong to (``torch.save``)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"architecture": asdict(arch), "state_dict": model.state_dict()},
        path,
    )


def load_model(path: Path, expected: Architecture | None = None) -> tuple[Architecture, nn.Module]:
    """Read a checkpoint written by :func:`save_model`.

    Raises a :class:`ProvingError` when the file is missing, is not such a checkpoint,
    or holds another architecture than ``expected``.
    """
    import torch

    if not path.is_file():
        raise ProvingError(f"Model file {path} does not exist", "check the path")
    try:
        blob = torch.load(path, weights_only=True)
        fields = dict(blob["architecture"])
        fields["hidden"] = tuple(fields["hidden"])
        arch = Architecture(**fields)
        model = build_model(arch)
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise ProvingError(
            f"Model file {path} is not a zkpot checkpoint ({type(error).__name__})",
            "write it with zkpot.models.save_model",
        ) from error
    if expected is not None and architecture_id(arch) != architecture_id(expected):
        raise ProvingError(
            f"Model {path} has architecture {arch.name}, but the task's circuit is for "
            f"{expected.name}",
            "train a model of the task's architecture",
        )
    return arch, model.eval()
