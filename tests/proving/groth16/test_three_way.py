"""One count, three computations: the Groth16 circuit, EZKL's, the fixed-point reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkpot import models
from zkpot.proving import circuit, fixedpoint
from zkpot.proving.ezkl import pipeline
from zkpot.proving.groth16 import circom

from .test_circuit import SAMPLES, SUBMITTER, all_models, compiled_circuit, digits_batch, tiny_spec


@pytest.fixture(scope="module")
def setups(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pipeline.CircuitArtifacts, circom.CompiledCircuit, Path]:
    batch = digits_batch(SAMPLES)
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=SAMPLES)
    reference = all_models(batch)["trained"]
    artifacts = pipeline.setup_circuit(spec, reference, batch,
                                       zk_dir=tmp_path_factory.mktemp("ezkl"))
    compiled = compiled_circuit(tiny_spec(), tmp_path_factory.getbasetemp())
    return artifacts, compiled, tmp_path_factory.mktemp("three-way")


def test_ezkl_settings_rebase_no_layer(
    setups: tuple[pipeline.CircuitArtifacts, circom.CompiledCircuit, Path],
) -> None:
    # fixedpoint models EZKL without rescaling; that holds while calibration keeps
    # this multiplier (every layer's scale stays below input_scale * multiplier).
    artifacts = setups[0]
    run_args = json.loads(artifacts.settings.read_text())["run_args"]
    assert run_args["scale_rebase_multiplier"] == fixedpoint.EZKL_SCALE_REBASE_MULTIPLIER
    assert run_args["rebase_scale"] is None


@pytest.mark.parametrize("name", ["trained", "untrained", "all-zero", "constant", "tied"])
def test_groth16_ezkl_and_fixedpoint_counts_agree(
    setups: tuple[pipeline.CircuitArtifacts, circom.CompiledCircuit, Path], name: str,
) -> None:
    artifacts, compiled, work = setups
    batch = digits_batch(SAMPLES)
    model = all_models(batch)[name]
    inputs = circom.circuit_inputs(tiny_spec(), model, circuit.new_blinding(), batch, SUBMITTER)
    groth16 = circom.witness(compiled, inputs, work / f"{name}.wtns")[0]
    ezkl = pipeline.circuit_count(artifacts, model, batch)
    reference = fixedpoint.count(artifacts.spec, model, batch)
    assert groth16 == ezkl == reference
