"""A tiny accuracy circuit (4 samples, mlp-64-8-10, 2^12 rows) and real proofs, once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from torch import nn

from zkpot import data, models, train
from zkpot.proving import circuit
from zkpot.proving.ezkl import pipeline

SAMPLES = 4


@dataclass(frozen=True)
class TinySetup:
    spec: circuit.CircuitSpec
    artifacts: pipeline.CircuitArtifacts
    model_a: nn.Module
    model_b: nn.Module
    batch: circuit.TestBatch
    other_batch: circuit.TestBatch
    proof_a: pipeline.AccuracyProof
    proof_b: pipeline.AccuracyProof
    workdir: Path
    blinding_a: circuit.Blinding
    blinding_b: circuit.Blinding


def trained(seed: int, epochs: int) -> nn.Module:
    digits = data.load_digits()
    model = models.build_model(models.TINY_MLP, seed=seed)
    return train.train_local(model, digits.X[:800], digits.y[:800], epochs=epochs, lr=0.05,
                             batch_size=32, seed=seed)


def digits_batch(start: int, samples: int = SAMPLES) -> circuit.TestBatch:
    digits = data.load_digits()
    return circuit.TestBatch(digits.X[start : start + samples], digits.y[start : start + samples])


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinySetup:
    root = tmp_path_factory.mktemp("zk")
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=SAMPLES)
    # Model A is trained; model B is another seed trained briefly: different weights,
    # different counts, same architecture, so the same keys must serve both.
    model_a, model_b = trained(0, 5), trained(1, 1)
    batch, other = digits_batch(1000), digits_batch(1100)
    artifacts = pipeline.setup_circuit(spec, model_a, batch, zk_dir=root)
    work = root / "work"
    blinding_a, blinding_b = circuit.new_blinding(), circuit.new_blinding()
    proof_a = pipeline.prove(artifacts, model_a, batch, work, name="a", blinding=blinding_a)
    proof_b = pipeline.prove(artifacts, model_b, batch, work, name="b", blinding=blinding_b)
    return TinySetup(
        spec, artifacts, model_a, model_b, batch, other, proof_a, proof_b, work,
        blinding_a, blinding_b,
    )
