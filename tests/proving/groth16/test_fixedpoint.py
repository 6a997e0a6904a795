"""The fixed-point reference against EZKL 23.0.5's own integers (logits circuits, no keys)."""

from __future__ import annotations

import json
from pathlib import Path

import ezkl
import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from torch import nn

from zkpot import data, models
from zkpot.proving import circuit, curve, fixedpoint

from .test_circuit import trained_model


def ezkl_logits(spec: circuit.CircuitSpec, model: nn.Module, X: NDArray[np.float32],
                work: Path) -> tuple[list[list[int]], int]:
    """EZKL's integer logits of ``model`` (a circuit whose public outputs are the logits)."""
    onnx_path = work / "logits.onnx"
    torch.onnx.export(model.eval(), (torch.zeros(X.shape[0], X.shape[1]),), str(onnx_path),
                      input_names=["x"], output_names=["logits"], opset_version=13,
                      dynamo=False)
    args = ezkl.PyRunArgs()
    args.input_visibility, args.param_visibility = "private", "private"
    args.output_visibility = "public"
    args.input_scale, args.param_scale = spec.input_scale, spec.param_scale
    args.scale_rebase_multiplier = fixedpoint.EZKL_SCALE_REBASE_MULTIPLIER
    args.decomp_base, args.decomp_legs = spec.decomp_base, spec.decomp_legs
    args.logrows = 17
    settings, compiled = work / "settings.json", work / "logits.compiled"
    assert ezkl.gen_settings(str(onnx_path), str(settings), py_run_args=args)
    assert ezkl.compile_circuit(str(onnx_path), str(compiled), str(settings))
    data_path, witness = work / "input.json", work / "witness.json"
    data_path.write_text(json.dumps({"input_data": [X.astype(np.float64).flatten().tolist()]}))
    ezkl.gen_witness(str(data_path), str(compiled), str(witness))
    outputs = json.loads(witness.read_text())["outputs"][0]
    values = [curve.signed_felt(curve.felt_from_hex(v)) for v in outputs]
    width = len(values) // X.shape[0]
    scale = json.loads(settings.read_text())["model_output_scales"][0]
    return [values[r : r + width] for r in range(0, len(values), width)], int(scale)


def ties_model(seed: int) -> nn.Module:
    """A TINY_MLP whose every weight and bias lies exactly on a rounding tie."""
    model = models.build_model(models.TINY_MLP, seed=seed)
    generator = np.random.default_rng(seed)
    scale = 7
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                odd = generator.integers(-40, 40, layer.weight.shape) * 2 + 1
                layer.weight.copy_(torch.from_numpy(odd / 2.0 ** 8))
                odd = generator.integers(-400, 400, layer.bias.shape) * 2 + 1
                layer.bias.copy_(torch.from_numpy(odd / 2.0 ** (scale + 7 + 1)))
                scale += 7
    return model


def test_quantize_rounds_half_away_from_zero() -> None:
    values = [0.5 / 128, -0.5 / 128, 1.5 / 128, -1.5 / 128, 2.5 / 128, 0.2, -0.2]
    assert list(fixedpoint.quantize(values, 7)) == [1, -1, 2, -2, 3, 26, -26]


def test_biases_take_the_scale_of_their_product() -> None:
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=1)
    qmodel = fixedpoint.quantize_model(spec, trained_model())
    linears = [layer for layer in qmodel.layers if isinstance(layer, fixedpoint.QLinear)]
    assert [layer.in_scale for layer in linears] == [7, 14]
    assert qmodel.output_scale == 21


@pytest.mark.parametrize("name", ["trained", "ties"])
def test_mlp_logits_equal_ezkls(tmp_path: Path, name: str) -> None:
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=4)
    model = trained_model() if name == "trained" else ties_model(1)
    X = data.load_digits().X[1000:1004].copy()
    X[0, :4] = [1 / 256, 3 / 256, 5 / 256, 255 / 256]  # features on rounding ties too
    expected, scale = ezkl_logits(spec, model, X, tmp_path)
    assert scale == fixedpoint.quantize_model(spec, model).output_scale
    assert fixedpoint.logits(spec, model, X).tolist() == expected


def test_cnn_logits_equal_ezkls(tmp_path: Path) -> None:
    spec = circuit.CircuitSpec(models.LENET_DIGITS, samples=2)
    model = models.build_model(models.LENET_DIGITS, seed=0)
    X = data.load_digits().X[1000:1002]
    expected, scale = ezkl_logits(spec, model, X, tmp_path)
    assert scale == fixedpoint.quantize_model(spec, model).output_scale == 28
    assert fixedpoint.logits(spec, model, X).tolist() == expected


def test_ties_are_never_wins() -> None:
    logits = np.array([[5, 5, 1], [7, 2, 3], [0, 0, 0]], dtype=object)
    assert fixedpoint.strict_wins(logits, [0, 0, 2]).tolist() == [False, True, False]
