"""Attack: degenerate models that tie every logit "prove" a perfect score.

Before the fix, the max-compare form counted a hit when the true logit was merely
*equal* to the maximum, so an all-zero model proved N of N on every test set. These
tests build such models and run them through the real circuit (EZKL witnesses of the
compiled circuit; real proofs of constant-output models are refused on chain in
``test_sybil_submission_flooding``): a tie is never a hit, in both circuit forms, and
the circuit's count is the count of strict wins computed independently from the quantized logits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from zkpot import data, models, train
from zkpot.proving import circuit
from zkpot.proving.ezkl import pipeline

SAMPLES = 8
START = 1000  # a digits window holding samples of class 0 and 1 (checked below)


@dataclass(frozen=True)
class Form:
    spec: circuit.CircuitSpec
    artifacts: pipeline.CircuitArtifacts


def _batch() -> circuit.TestBatch:
    digits = data.load_digits()
    return circuit.TestBatch(digits.X[START : START + SAMPLES], digits.y[START : START + SAMPLES])


def _trained() -> nn.Module:
    digits = data.load_digits()
    model = models.build_model(models.TINY_MLP, seed=3)
    return train.train_local(
        model, digits.X[:800], digits.y[:800], epochs=5, lr=0.05, batch_size=32, seed=3
    )


@pytest.fixture(scope="module", params=["maxcmp", "argmax"])
def form(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Form:
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=SAMPLES, form=request.param)
    root = tmp_path_factory.mktemp(f"degenerate-{request.param}")
    return Form(spec, pipeline.setup_circuit(spec, _trained(), _batch(), zk_dir=root))


def _last_layer(model: nn.Module) -> nn.Linear:
    layer = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    assert isinstance(layer, nn.Linear)
    return layer


def all_zero() -> nn.Module:
    model = models.build_model(models.TINY_MLP, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def constant_logits(seed: int) -> nn.Module:
    """Any first layer, a zeroed last layer and equal biases: every logit is 0.5."""
    model = models.build_model(models.TINY_MLP, seed=seed)
    last = _last_layer(model)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(0.5)
    return model


def tie_between(classes: tuple[int, ...], value: float = 1.0) -> nn.Module:
    """Logit ``value`` for each of ``classes``, 0 for the others, whatever the input."""
    model = constant_logits(7)
    with torch.no_grad():
        bias = _last_layer(model).bias
        bias.zero_()
        for c in classes:
            bias[c] = value
    return model


def strict_wins(spec: circuit.CircuitSpec, model: nn.Module, batch: circuit.TestBatch) -> int:
    """Count strict wins from the quantized logits, independently of the circuit module."""
    quantized = copy.deepcopy(model).double().eval()
    scale = 2.0**spec.param_scale
    with torch.no_grad():
        for p in quantized.parameters():
            p.copy_(torch.round(p * scale) / scale)
        x = torch.round(torch.from_numpy(batch.X).double() * 2**spec.input_scale)
        h = x / 2**spec.input_scale
        for m in quantized:
            h = m(h)
            if isinstance(m, nn.Linear):
                h = torch.round(h * 2**spec.input_scale) / 2**spec.input_scale
    logits = h.numpy()
    hits = 0
    for row, label in zip(logits, batch.y, strict=True):
        others = np.delete(row, label)
        hits += int(row[label] > others.max())
    return hits


def float_argmax_hits(model: nn.Module, batch: circuit.TestBatch) -> int:
    with torch.no_grad():
        predicted = model(torch.from_numpy(batch.X)).argmax(dim=1).numpy()
    return int((predicted == batch.y).sum())


def test_the_window_has_the_classes_the_tie_attacks_need() -> None:
    labels = set(_batch().y.tolist())
    assert {0, 1} <= labels and len(labels) >= 3


@pytest.mark.parametrize(
    "name, build",
    [
        ("all-zero", all_zero),
        ("constant-logits", lambda: constant_logits(1)),
        ("constant-logits-other-first-layer", lambda: constant_logits(2)),
        ("tie-class-0-and-1", lambda: tie_between((0, 1))),
        ("tie-every-class", lambda: tie_between(tuple(range(10)))),
    ],
)
def test_tied_logits_score_zero(form: Form, name: str, build: object) -> None:
    assert callable(build)
    model = build()
    batch = _batch()
    count = pipeline.circuit_count(form.artifacts, model, batch)
    assert count == 0, name
    assert count == strict_wins(form.spec, model, batch)
    assert count == circuit.quantized_count(form.spec, model, batch)


def test_float_argmax_would_have_counted_the_tie(form: Form) -> None:
    # torch's argmax resolves the 0/1 tie to class 0: the old statement's view.
    model, batch = tie_between((0, 1)), _batch()
    assert float_argmax_hits(model, batch) == int((batch.y == 0).sum()) > 0
    assert pipeline.circuit_count(form.artifacts, model, batch) == 0


def test_a_strict_winner_still_counts(form: Form) -> None:
    # Class 3 alone has the top logit: exactly the samples of class 3 are hits.
    model, batch = tie_between((3,)), _batch()
    expected = int((batch.y == 3).sum())
    assert pipeline.circuit_count(form.artifacts, model, batch) == expected
    assert strict_wins(form.spec, model, batch) == expected


def test_a_one_step_margin_is_a_win_and_a_zero_margin_is_not(form: Form) -> None:
    # Class 0 ahead of class 1 by the smallest fixed-point step the logits have.
    step = 2.0**-form.spec.input_scale
    model, batch = tie_between((0, 1)), _batch()
    with torch.no_grad():
        _last_layer(model).bias[0] = 1.0 + step
    assert pipeline.circuit_count(form.artifacts, model, batch) == int((batch.y == 0).sum())


def test_trained_model_counts_strict_wins(form: Form) -> None:
    model, batch = _trained(), _batch()
    count = pipeline.circuit_count(form.artifacts, model, batch)
    assert count == strict_wins(form.spec, model, batch)
    assert count == circuit.quantized_count(form.spec, model, batch)
    assert count <= float_argmax_hits(model, batch)
