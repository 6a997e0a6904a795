"""The accuracy circuit as a torch graph, exported to the ONNX file EZKL compiles.

What the graph computes (the strict-win count, the blinding multiplied by zero, one-hot
labels) is written down in :mod:`zkpot.proving.circuit`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from zkpot.errors import ProvingError
from zkpot.proving.circuit import (
    MASK,
    Blinding,
    CircuitForm,
    CircuitSpec,
    check_blinding,
    label_input,
)


class AccuracyCircuit(nn.Module):
    """Wraps a model so that its output is the number of strictly correct predictions.

    ``blinding`` (fixed-point integers at ``param_scale`` bits) becomes a committed
    parameter of the graph; ``None`` leaves it out (the float reference of
    :func:`zkpot.proving.circuit.quantized_count`, where it could not change the count anyway).
    """

    def __init__(
        self,
        model: nn.Module,
        form: CircuitForm,
        blinding: Blinding | None = None,
        param_scale: int = 7,
    ) -> None:
        super().__init__()
        self.model = model
        self.form = form
        self.blinding: nn.Parameter | None = None
        if blinding is not None:
            values = torch.tensor(check_blinding(blinding), dtype=torch.float64) / 2**param_scale
            self.blinding = nn.Parameter(values.float(), requires_grad=False)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        if self.blinding is not None:
            # Zero times the blinding: no effect on any value, but the blinding is a
            # parameter the graph uses, so EZKL commits it with the weights. The zero
            # is computed from the input (a - a), so neither the ONNX exporter nor
            # EZKL's graph optimiser can fold the term (and the blinding) away, while
            # the circuit still constrains it to be zero.
            head = x[:, : self.blinding.shape[0]]
            zero = head - head
            logits = logits + torch.sum(zero * self.blinding, dim=1, keepdim=True)
        true_logit = torch.sum(logits * labels, dim=1)
        others = torch.max(logits - labels * MASK, dim=1).values
        hits = (true_logit > others).float()
        if self.form == "argmax":
            same = (torch.argmax(logits, dim=1) == torch.argmax(labels, dim=1)).float()
            hits = hits * same
        count: torch.Tensor = torch.sum(hits).reshape(1)
        return count


def export_onnx(spec: CircuitSpec, model: nn.Module, path: Path, blinding: Blinding) -> None:
    """Write the accuracy circuit of ``model`` with ``blinding`` for ``spec``'s batch shape."""
    circuit = AccuracyCircuit(model.eval(), spec.form, blinding, spec.param_scale).eval()
    x = torch.zeros(spec.samples, spec.architecture.input_size)
    labels = torch.from_numpy(label_input(spec, np.zeros(spec.samples, dtype=np.int64)))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.onnx.export(
            circuit,
            (x, labels),
            str(path),
            input_names=["x", "labels"],
            output_names=["correct"],
            opset_version=13,
            dynamo=False,
        )
    except RuntimeError as error:
        raise ProvingError(
            f"The model does not fit the {spec.architecture.name} circuit "
            f"({str(error).splitlines()[0][:160]})",
            "use a model of the task's architecture",
        ) from error
