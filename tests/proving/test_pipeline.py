"""Real EZKL proofs from the tiny circuit: what verifies, what is rejected, what errors say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from proving.conftest import TinySetup, digits_batch, trained
from zkpot import models
from zkpot.errors import ProvingError
from zkpot.proving import circuit, curve
from zkpot.proving.ezkl import pipeline


def _tampered(tiny: TinySetup, name: str, proof: bytes, instances: list[int]) -> Path:
    return pipeline.write_proof(tiny.workdir / f"{name}.json", proof, instances,
                                tiny.proof_a.path)


def test_valid_proof_verifies_locally(tiny: TinySetup) -> None:
    assert pipeline.verify(tiny.artifacts, tiny.proof_a)
    assert tiny.artifacts.insecure  # made with a generated development SRS


def test_proof_count_equals_quantized_torch_count(tiny: TinySetup) -> None:
    expected = circuit.quantized_count(tiny.spec, tiny.model_a, tiny.batch)
    assert tiny.proof_a.statement.correct == expected
    assert tiny.proof_b.statement.correct == circuit.quantized_count(
        tiny.spec, tiny.model_b, tiny.batch
    )


@pytest.mark.parametrize("delta", [1, -1])
def test_proof_with_count_changed_is_rejected(tiny: TinySetup, delta: int) -> None:
    instances = list(tiny.proof_a.instances)
    instances[-1] = (instances[-1] + delta) % curve.SCALAR_MODULUS
    path = _tampered(tiny, f"count{delta}", tiny.proof_a.proof, instances)
    assert not pipeline.verify(tiny.artifacts, path)


def test_proof_with_swapped_model_commitment_is_rejected(tiny: TinySetup) -> None:
    art = tiny.artifacts
    start, end = 64 * art.test_set_points, 64 * (art.test_set_points + art.model_points)
    proof = bytearray(tiny.proof_a.proof)
    proof[start:end] = tiny.proof_b.proof[start:end]
    path = _tampered(tiny, "swapped-model", bytes(proof), tiny.proof_a.instances)
    assert pipeline.load_proof(art, path).statement.model_commitment == (
        tiny.proof_b.statement.model_commitment
    )
    assert not pipeline.verify(art, path)


def test_proof_claimed_for_another_test_set_is_rejected(tiny: TinySetup) -> None:
    art = tiny.artifacts
    other_points = pipeline.test_set_points(art, tiny.other_batch)
    proof = other_points + tiny.proof_a.proof[len(other_points) :]
    path = _tampered(tiny, "other-test-set", proof, tiny.proof_a.instances)
    claimed = pipeline.load_proof(art, path).statement.test_set_commitment
    assert claimed == pipeline.test_set_commitment(art, tiny.other_batch)
    assert claimed != tiny.proof_a.statement.test_set_commitment
    assert not pipeline.verify(art, path)


@pytest.mark.parametrize("position", [0, 200, -1])
def test_proof_with_one_flipped_byte_is_rejected(tiny: TinySetup, position: int) -> None:
    proof = bytearray(tiny.proof_a.proof)
    proof[position] ^= 0x01
    path = _tampered(tiny, f"flip{position}", bytes(proof), tiny.proof_a.instances)
    assert not pipeline.verify(tiny.artifacts, path)


def test_keys_made_with_one_model_serve_another(tiny: TinySetup) -> None:
    assert pipeline.verify(tiny.artifacts, tiny.proof_b)
    a, b = tiny.proof_a.statement, tiny.proof_b.statement
    assert a.model_commitment != b.model_commitment
    assert a.test_set_commitment == b.test_set_commitment


def test_commitment_recomputed_from_weights_and_blinding_equals_the_proofs(
    tiny: TinySetup,
) -> None:
    art = tiny.artifacts
    a = pipeline.model_commitment(art, tiny.model_a, blinding=tiny.blinding_a)
    b = pipeline.model_commitment(art, tiny.model_b, blinding=tiny.blinding_b)
    assert a == tiny.proof_a.statement.model_commitment
    assert b == tiny.proof_b.statement.model_commitment


def test_commitment_hides_the_weights_behind_the_blinding(tiny: TinySetup) -> None:
    # Whoever knows model A's weights but not its blinding cannot compute the
    # commitment its proof carries: every other blinding gives another commitment.
    art = tiny.artifacts
    guesses = {
        pipeline.model_commitment(art, tiny.model_a, blinding=circuit.new_blinding())
        for _ in range(2)
    }
    guesses.add(pipeline.model_commitment(art, tiny.model_a, blinding=(0,) * circuit.BLINDING_SIZE))
    assert tiny.proof_a.statement.model_commitment not in guesses
    assert len(guesses) == 3


def test_blinding_out_of_range_gives_a_clear_error(tiny: TinySetup) -> None:
    too_big = (1 << circuit.BLINDING_BITS,) + (0,) * (circuit.BLINDING_SIZE - 1)
    for bad in (too_big, (1, 2, 3), ("x",) * circuit.BLINDING_SIZE):
        with pytest.raises(ProvingError, match="blinding"):
            pipeline.model_commitment(tiny.artifacts, tiny.model_a, blinding=bad)  # type: ignore[arg-type]


def test_test_set_commitment_equals_the_proofs(tiny: TinySetup) -> None:
    expected = pipeline.test_set_commitment(tiny.artifacts, tiny.batch)
    assert tiny.proof_a.statement.test_set_commitment == expected


def test_model_of_another_architecture_gives_a_clear_error(tiny: TinySetup) -> None:
    cnn = models.build_model(models.LENET_DIGITS, seed=0)
    with pytest.raises(ProvingError, match="architecture does not match"):
        pipeline.prove(
            tiny.artifacts, cnn, tiny.batch, tiny.workdir, name="cnn", blinding=tiny.blinding_a
        )
    wider = models.build_model(models.MLP_DIGITS, seed=0)
    with pytest.raises(ProvingError, match="architecture does not match"):
        pipeline.model_commitment(tiny.artifacts, wider, blinding=tiny.blinding_a)


def test_batch_of_wrong_shape_gives_a_clear_error(tiny: TinySetup) -> None:
    with pytest.raises(ProvingError, match="circuit takes"):
        pipeline.prove(
            tiny.artifacts, tiny.model_a, digits_batch(0, 5), tiny.workdir,
            blinding=tiny.blinding_a,
        )


def test_missing_keys_give_a_clear_error(tiny: TinySetup, tmp_path: Path) -> None:
    copy = tmp_path / tiny.artifacts.directory.name
    shutil.copytree(tiny.artifacts.directory, copy, ignore=shutil.ignore_patterns("*.pk"))
    art = pipeline.CircuitArtifacts.load(copy)
    with pytest.raises(ProvingError, match="missing"):
        pipeline.prove(art, tiny.model_a, tiny.batch, tmp_path / "work", blinding=tiny.blinding_a)


def test_descriptor_round_trips_and_names_the_circuit(tiny: TinySetup) -> None:
    loaded = pipeline.CircuitArtifacts.load(tiny.artifacts.directory)
    assert loaded == tiny.artifacts
    assert loaded.circuit_id == tiny.spec.circuit_id
    with pytest.raises(ProvingError, match="No circuit"):
        pipeline.CircuitArtifacts.load(tiny.workdir / "nowhere")


def test_descriptor_holds_relative_paths_and_survives_a_move(
    tiny: TinySetup, tmp_path: Path
) -> None:
    raw = (tiny.artifacts.directory / "circuit.json").read_text()
    assert str(tiny.artifacts.directory) not in raw
    assert "/" not in json.loads(raw)["srs"]["path"]  # the dev SRS lies beside it
    moved = tmp_path / "elsewhere" / tiny.artifacts.directory.name
    shutil.copytree(tiny.artifacts.directory, moved)
    art = pipeline.CircuitArtifacts.load(moved)
    assert art.srs.path == moved / tiny.artifacts.srs.path.name
    assert art.pk == moved / "circuit.pk"
    art.require_keys()
    assert pipeline.verify(art, tiny.proof_a.path)


def test_given_srs_is_checked_against_its_hash(tiny: TinySetup, tmp_path: Path) -> None:
    srs = tiny.artifacts.srs.path
    info = pipeline.prepare_srs(tiny.artifacts.logrows, tmp_path, srs, tiny.artifacts.srs.sha256)
    assert not info.insecure
    with pytest.raises(ProvingError, match="sha256"):
        pipeline.prepare_srs(tiny.artifacts.logrows, tmp_path, srs, "00" * 32)
    with pytest.raises(ProvingError, match="does not exist"):
        pipeline.prepare_srs(tiny.artifacts.logrows, tmp_path, tmp_path / "none.srs")


def test_generated_srs_prints_a_loud_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = pipeline.prepare_srs(1, tmp_path)
    assert info.insecure
    assert "INSECURE DEVELOPMENT SRS" in capsys.readouterr().err


def test_chunked_counts_add_up(tiny: TinySetup) -> None:
    digits = digits_batch(1000, 3 * tiny.spec.samples)
    parts = circuit.chunks(digits.X, digits.y, tiny.spec.samples)
    assert len(parts) == 3
    total = sum(pipeline.circuit_count(tiny.artifacts, tiny.model_a, p) for p in parts)
    assert total == sum(circuit.quantized_count(tiny.spec, tiny.model_a, p) for p in parts)
    with pytest.raises(ProvingError, match="does not split"):
        circuit.chunks(digits.X[:5], digits.y[:5], tiny.spec.samples)


def test_both_circuit_forms_count_like_quantized_torch(tmp_path: Path) -> None:
    # A well-trained model: with near-tied logits EZKL's rounding of intermediate
    # rescales can differ from this float reference by one (see zk/README.md).
    model = trained(4, 10)
    for form in ("maxcmp", "argmax"):
        spec = circuit.CircuitSpec(models.TINY_MLP, samples=8, form=form)
        batches = [digits_batch(start, 8) for start in (1200, 1300, 1400)]
        art = pipeline.setup_circuit(spec, model, batches[0], zk_dir=tmp_path)
        for batch in batches:
            assert pipeline.circuit_count(art, model, batch) == circuit.quantized_count(
                spec, model, batch
            ), form
