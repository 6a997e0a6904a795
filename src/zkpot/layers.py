"""The torch layers of each architecture kind; :func:`zkpot.models.build_model` builds them.

Kept apart from :mod:`zkpot.models` so that importing an architecture never imports torch.
"""

from __future__ import annotations

import torch
from torch import nn

from zkpot.errors import ProvingError
from zkpot.models import Architecture


class Cnn(nn.Module):
    """LeNet-like: two 3x3 conv + ReLU + 2x2 average-pool stages, then one linear layer.

    Average pooling rather than max pooling: it is a linear op in the circuit, so it
    costs no lookups or comparisons.
    """

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        side = int(round(arch.input_size**0.5))
        if side * side != arch.input_size or side % 4 != 0:
            raise ProvingError(
                f"CNN {arch.name} needs a square input whose side is a multiple of 4, "
                f"got {arch.input_size} features",
                "use input_size 64 (8x8) or 256 (16x16)",
            )
        c1, c2 = arch.hidden
        self.side = side
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
        )
        self.classifier = nn.Linear(c2 * (side // 4) ** 2, arch.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image = x.reshape(x.shape[0], 1, self.side, self.side)
        out: torch.Tensor = self.classifier(self.features(image).flatten(1))
        return out


def layers(arch: Architecture) -> nn.Module:
    """The untrained layers of ``arch`` (torch's default initialisation)."""
    model: nn.Module
    if arch.kind == "mlp":
        stack: list[nn.Module] = []
        width = arch.input_size
        for hidden in arch.hidden:
            stack += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        stack.append(nn.Linear(width, arch.num_classes))
        model = nn.Sequential(*stack)
    elif arch.kind == "cnn":
        model = Cnn(arch)
    else:  # pragma: no cover - Literal exhausts the kinds
        raise ProvingError(f"Unknown architecture kind {arch.kind!r}", "use mlp or cnn")
    return model
