"""The production ceremony path, end to end, on every circuit the development phase-1 file holds.

A public phase-1 file passed with ``--srs`` and recognised by its published hash, the
publisher's phase-2 contribution and beacon (``circuit setup``), a further contribution and
a new beacon (``zkpot circuit contribute``), ``snarkjs zkey verify`` of the whole
transcript (``audit --keys``), and a real proof from the final key that snarkjs verifies.

The public Hermez files cannot be downloaded here, so the development file stands in for
one: copied under the Hermez name of its power, with the table of public hashes pointed at
it (and the development hash forgotten) for this module only, so that
:func:`ceremony.check_ptau` takes the branch the real file takes. Which circuits fit is
computed, not listed: every architecture at 1, 2, ... samples until its circuit needs more
than 2^14 (today the tiny MLP at 1 and 2 samples), and the smallest aggregation circuit,
which does not fit (its ceremony needs a public file of 2^16 or more).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkpot.cli import cli
from zkpot.data import load_digits
from zkpot.models import ARCHITECTURES, TINY_MLP, build_model
from zkpot.proving import circuit
from zkpot.proving.backend import load_circuit, setup_circuit
from zkpot.proving.groth16 import ceremony, circom, prover
from zkpot.proving.groth16.aggregation import AggregationSpec, compile_aggregation
from zkpot.proving.groth16.backend import Groth16Circuit

pytestmark = pytest.mark.slow

SUBMITTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _fitting(root: Path) -> list[circuit.CircuitSpec]:
    """Every Groth16 accuracy circuit the development file's power can hold."""
    power = ceremony.ptau_power(ceremony.dev_ptau())
    fitting = []
    for arch in ARCHITECTURES.values():
        samples = 1
        while True:
            spec = circuit.CircuitSpec(arch, samples=samples, backend="groth16")
            compiled = circom.compile_circuit(spec, root / spec.short_id)
            if ceremony.r1cs_info(compiled.r1cs).required_power > power:
                break
            fitting.append(spec)
            samples += 1
    return fitting


@pytest.fixture(scope="module")
def public_ptau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The development file under its Hermez name, recognised as the public one."""
    dev = ceremony.dev_ptau()
    power = ceremony.ptau_power(dev)
    path = tmp_path_factory.mktemp("phase1") / f"powersOfTau28_hez_final_{power:02d}.ptau"
    shutil.copyfile(dev, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ceremony.PUBLIC_PTAU, power, ceremony.PublicPtau(
            path.name, ceremony.file_blake2b(path), path.stat().st_size))
        patch.setattr(ceremony, "dev_ptau_blake2b", lambda: "")
        yield path


@pytest.fixture(scope="module")
def fitting(tmp_path_factory: pytest.TempPathFactory) -> list[circuit.CircuitSpec]:
    return _fitting(tmp_path_factory.mktemp("sizes"))


def test_the_development_file_holds_the_tiny_mlp_and_no_aggregation_circuit(
    fitting: list[circuit.CircuitSpec], tmp_path: Path
) -> None:
    assert [(s.architecture.name, s.samples) for s in fitting] == [
        (TINY_MLP.name, 1), (TINY_MLP.name, 2)]
    smallest = AggregationSpec(circuit.CircuitSpec(TINY_MLP, samples=1, backend="groth16"), 2)
    r1cs = compile_aggregation(smallest, tmp_path / "agg")
    assert ceremony.r1cs_info(r1cs).required_power > ceremony.ptau_power(ceremony.dev_ptau())


@pytest.mark.parametrize("samples", [1, 2])
def test_public_phase1_contributions_beacon_and_zkey_verify_end_to_end(
    samples: int, fitting: list[circuit.CircuitSpec], public_ptau: Path, tmp_path: Path
) -> None:
    [spec] = [s for s in fitting if s.samples == samples]
    digits = load_digits()
    batch = circuit.TestBatch(digits.X[:samples], digits.y[:samples])
    model = build_model(spec.architecture, seed=3)

    # The publisher: `circuit setup --srs <public file>` (no hash needed: it is known).
    built = setup_circuit(spec, model, batch, zk_dir=tmp_path, srs_path=public_ptau)
    assert isinstance(built, Groth16Circuit)
    assert not built.insecure and not built.data["single_party"]
    assert built.data["ptau"]["source"] == "public"
    assert built.srs_hash == ceremony.file_blake2b(public_ptau)

    # A second contributor, then a new beacon: `zkpot circuit contribute`.
    result = CliRunner(mix_stderr=False).invoke(cli, [
        "circuit", "contribute", "--circuit", str(built.directory), "--name", "alice",
        "--phase1", str(public_ptau), "--beacon", "5a" * 32, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["contributions"] == [
        "publisher", "final beacon", "alice", "final beacon"]
    assert "INSECURE" not in result.stderr

    # The auditor: every contribution re-verified against the circuit and phase 1.
    final = load_circuit(built.directory)
    assert isinstance(final, Groth16Circuit) and not final.insecure
    checked = final.audit_keys(public_ptau)
    assert "2^14 phase-1 file (public) through 4 contribution(s)" in checked
    assert "publisher, final beacon, alice, final beacon" in checked
    # ... and refused against any other phase-1 file.
    other = tmp_path / "other.ptau"
    raw = bytearray(public_ptau.read_bytes())
    raw[-1] ^= 1
    other.write_bytes(bytes(raw))
    with pytest.raises(Exception, match="BLAKE2b"):
        final.audit_keys(other)

    # A real proof from the final key, verified by groth16py and by snarkjs.
    proof = final.prove(model, batch, tmp_path / "work", blinding=circuit.new_blinding(),
                        submitter=SUBMITTER)
    assert final.verify(proof)
    assert prover.verify(final.verification_key, proof.proof, list(proof.instances),
                         verifier="snarkjs")
    assert proof.statement.submitter == SUBMITTER
    assert proof.statement.correct == final.circuit_count(model, batch)
