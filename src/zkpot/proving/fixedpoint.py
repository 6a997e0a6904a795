"""The exact integer arithmetic of the accuracy circuit: EZKL 23.0.5's, bit for bit.

Both proving backends must count the same hits for any model and batch, so this module
is the reference they are tested against. What EZKL 23.0.5 does was pinned down
empirically (an EZKL circuit whose public outputs are a model's logits, compared integer
for integer with this module, on trained, random and hand-made models whose every
weight, bias and feature sits exactly on a rounding tie):

- **Quantisation** of a float ``v`` at ``s`` bits: ``round(v * 2**s)`` in float64,
  *half away from zero* (Rust's ``f64::round``): ``0.5 -> 1``, ``-0.5 -> -1``. Half to
  even and half up both disagreed with EZKL on ties. Features use ``input_scale``,
  weights ``param_scale``.
- **Biases** are quantised at the scale of the product they are added to, straight
  from the float (not ``param_scale`` then shifted): a layer whose input has scale
  ``s`` has its bias at ``s + param_scale``.
- **No rescaling** of linear or conv outputs. EZKL only rebases a result whose scale
  exceeds ``input_scale * scale_rebase_multiplier``, and calibration (mode
  ``resources``) settles on a multiplier of 10 (70 bits at ``input_scale`` 7) for the
  project's circuits, which no layer reaches. Scales add up instead: the default MLP's
  hidden activations have scale 14 and its logits 21; the LeNet's logits 28. Every
  product and sum is therefore exact.
- **ReLU** is ``max(z, 0)`` on the exact integer.
- **Average pooling** (``AvgPool2d(k)``) sums the window and divides by ``k * k`` at
  the same scale, rounding half up: ``(sum + k*k // 2) // (k*k)``. It was observed on
  non-negative inputs only (the CNN pools after a ReLU), where half up and half away
  from zero agree; half to even and floor disagreed.
- **The count**: a sample is a hit when its true class's logit is strictly greater
  than every other logit (integers at the output scale; a tie is never a hit).

This holds while the settings keep ``scale_rebase_multiplier`` high enough that no
layer is rebased (:func:`output_scale` must stay at most ``input_scale * multiplier``);
:func:`check_no_rebase` says so for a spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from torch import nn

from zkpot.errors import ProvingError
from zkpot.proving.circuit import CircuitSpec, TestBatch, check_batch

IntArray = NDArray[np.object_]
"""An array of Python ints (exact at any size)."""

EZKL_SCALE_REBASE_MULTIPLIER = 10
"""The ``scale_rebase_multiplier`` EZKL's calibration chose for the project's circuits."""


def quantize(values: ArrayLike, bits: int) -> IntArray:
    """``round(values * 2**bits)`` in float64, half away from zero, as Python ints."""
    scaled = np.asarray(values, dtype=np.float64) * float(2**bits)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    exact: IntArray = np.array([int(v) for v in rounded.flat], dtype=object).reshape(rounded.shape)
    return exact


@dataclass(frozen=True)
class QLinear:
    """``x @ weight.T + bias`` on integers.

    ``weight`` has scale ``param_scale``, ``bias`` scale ``in_scale + param_scale``.
    """

    weight: IntArray
    """Shape ``(out, in)``."""
    bias: IntArray
    """Shape ``(out,)``."""
    in_scale: int
    """Scale of the layer's input (its output has ``in_scale + param_scale``)."""


@dataclass(frozen=True)
class QConv2d:
    """A 2-d convolution (stride 1, zero padding) on integers, scales as :class:`QLinear`."""

    weight: IntArray
    """Shape ``(out_channels, in_channels, kh, kw)``."""
    bias: IntArray
    """Shape ``(out_channels,)``."""
    padding: int
    """Zero padding on each side."""
    in_scale: int
    """Scale of the layer's input."""


@dataclass(frozen=True)
class QReLU:
    """``max(z, 0)``."""


@dataclass(frozen=True)
class QAvgPool2d:
    """Window sum divided by ``kernel**2``, rounding half up (scale unchanged)."""

    kernel: int
    """Window side (and stride)."""


@dataclass(frozen=True)
class QFlatten:
    """``(n, c, h, w) -> (n, c*h*w)``, row-major as ``torch.flatten(1)``."""


QLayer = QLinear | QConv2d | QReLU | QAvgPool2d | QFlatten


@dataclass(frozen=True)
class QuantizedModel:
    """A model's layers on integers, in the circuit's arithmetic."""

    layers: tuple[QLayer, ...]
    """In evaluation order."""
    image_side: int | None
    """CNN: the input is reshaped to ``(n, 1, side, side)`` first; MLP: ``None``."""
    input_scale: int
    """Scale of the features."""
    output_scale: int
    """Scale of the logits."""


def quantize_model(spec: CircuitSpec, model: nn.Module) -> QuantizedModel:
    """``model``'s layers with weights and biases quantised as EZKL quantises them."""
    from zkpot.layers import Cnn

    modules: list[nn.Module]
    side: int | None = None
    if isinstance(model, Cnn):
        side = model.side
        modules = [*model.features, nn.Flatten(), model.classifier]
    elif isinstance(model, nn.Sequential):
        modules = list(model)
    else:
        raise ProvingError(
            f"No fixed-point reference for a {type(model).__name__}",
            "use a model built by zkpot.models.build_model",
        )
    scale = spec.input_scale
    layers: list[QLayer] = []
    for module in modules:
        if isinstance(module, nn.Linear | nn.Conv2d):
            weight = quantize(module.weight.detach().double().numpy(), spec.param_scale)
            if module.bias is None:
                bias = np.zeros(module.weight.shape[0], dtype=object)
            else:
                bias = quantize(module.bias.detach().double().numpy(), scale + spec.param_scale)
            if isinstance(module, nn.Linear):
                layers.append(QLinear(weight, bias, scale))
            else:
                if module.stride != (1, 1) or module.dilation != (1, 1) or module.groups != 1:
                    raise ProvingError("Only stride-1 dense convolutions are supported",
                                       "use a model built by zkpot.models.build_model")
                padding = module.padding
                pad = padding[0] if isinstance(padding, tuple) else 0
                layers.append(QConv2d(weight, bias, int(pad), scale))
            scale += spec.param_scale
        elif isinstance(module, nn.ReLU):
            layers.append(QReLU())
        elif isinstance(module, nn.AvgPool2d):
            kernel = module.kernel_size
            k = kernel if isinstance(kernel, int) else kernel[0]
            layers.append(QAvgPool2d(int(k)))
        elif isinstance(module, nn.Flatten):
            layers.append(QFlatten())
        else:
            raise ProvingError(f"No fixed-point reference for layer {type(module).__name__}",
                               "use Linear, Conv2d, ReLU and AvgPool2d layers")
    return QuantizedModel(tuple(layers), side, spec.input_scale, scale)


def check_no_rebase(spec: CircuitSpec, qmodel: QuantizedModel,
                    multiplier: int = EZKL_SCALE_REBASE_MULTIPLIER) -> None:
    """Raise unless EZKL with ``multiplier`` rebases no layer of ``qmodel`` (see above)."""
    if qmodel.output_scale > spec.input_scale * multiplier:
        raise ProvingError(
            f"The logits' scale {qmodel.output_scale} exceeds {spec.input_scale * multiplier}: "
            "EZKL would rescale, which this reference does not model",
            "use a shallower model or smaller scales",
        )


def _apply(layer: QLayer, x: IntArray) -> IntArray:
    if isinstance(layer, QLinear):
        out: IntArray = x.dot(layer.weight.T) + layer.bias
        return out
    if isinstance(layer, QConv2d):
        n, _, h, w = x.shape
        p = layer.padding
        padded = np.zeros((n, x.shape[1], h + 2 * p, w + 2 * p), dtype=object)
        padded[:, :, p : p + h, p : p + w] = x
        kh, kw = layer.weight.shape[2:]
        oh, ow = h + 2 * p - kh + 1, w + 2 * p - kw + 1
        conv = np.zeros((n, layer.weight.shape[0], oh, ow), dtype=object)
        for i in range(kh):
            for j in range(kw):
                window = padded[:, :, i : i + oh, j : j + ow]
                conv += np.einsum("nchw,oc->nohw", window, layer.weight[:, :, i, j])
        result: IntArray = conv + layer.bias[None, :, None, None]
        return result
    if isinstance(layer, QReLU):
        return np.where(x > 0, x, 0).astype(object)
    if isinstance(layer, QAvgPool2d):
        k = layer.kernel
        n, c, h, w = x.shape
        window = x[:, :, : h - h % k, : w - w % k].reshape(n, c, h // k, k, w // k, k)
        sums = window.sum(axis=(3, 5))
        area = k * k
        pooled: IntArray = (sums + area // 2) // area
        return pooled
    return x.reshape(x.shape[0], -1)


def quantize_features(spec: CircuitSpec, X: ArrayLike) -> IntArray:
    """The features as the circuit holds them: integers at ``input_scale``."""
    return quantize(X, spec.input_scale)


def logits(spec: CircuitSpec, model: nn.Module | QuantizedModel, X: ArrayLike) -> IntArray:
    """The circuit's integer logits, shape ``(samples, classes)``, at the output scale."""
    qmodel = model if isinstance(model, QuantizedModel) else quantize_model(spec, model)
    x = quantize_features(spec, X)
    x = x.reshape(x.shape[0], -1)
    if qmodel.image_side is not None:
        x = x.reshape(x.shape[0], 1, qmodel.image_side, qmodel.image_side)
    for layer in qmodel.layers:
        x = _apply(layer, x)
    return x


def strict_wins(logit_rows: IntArray, labels: ArrayLike) -> NDArray[np.bool_]:
    """Per sample, whether the true class's logit is strictly greater than every other."""
    y = np.asarray(labels, dtype=np.int64)
    rows = np.arange(len(y))
    true = logit_rows[rows, y]
    others = logit_rows.copy()
    others[rows, y] = None
    wins = [all(v is None or t > v for v in row) for t, row in zip(true, others, strict=True)]
    return np.array(wins, dtype=bool)


def count(spec: CircuitSpec, model: nn.Module | QuantizedModel, batch: TestBatch) -> int:
    """The number of strict wins of ``model`` on ``batch``: what either circuit proves."""
    check_batch(spec, batch)
    return int(strict_wins(logits(spec, model, batch.X), batch.y).sum())


__all__ = [
    "EZKL_SCALE_REBASE_MULTIPLIER",
    "QAvgPool2d",
    "QConv2d",
    "QFlatten",
    "QLinear",
    "QReLU",
    "QuantizedModel",
    "check_no_rebase",
    "count",
    "logits",
    "quantize",
    "quantize_features",
    "quantize_model",
    "strict_wins",
]
