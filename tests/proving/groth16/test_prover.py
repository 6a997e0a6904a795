"""Groth16 proofs: groth16py and snarkjs provers cross-checked under both verifiers, the
wire encoding, tampering, witness errors, and the rendered Solidity verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkpot.errors import ProvingError
from zkpot.proving.groth16 import ceremony, prover, solidity

from .test_ceremony import compile_tiny

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("prover")
    r1cs, wasm = compile_tiny(root)
    keys = root / "keys"
    dev = ceremony.check_ptau(ceremony.dev_ptau())
    ceremony.start_phase2(r1cs, dev, keys)
    ceremony.finalize(keys, r1cs, dev, beacon="cd" * 32)
    return keys, wasm, root / "work"


def _inputs(x: int = 5) -> dict[str, object]:
    return {"x": x, "submitter": int(ADDRESS, 16)}


@pytest.mark.parametrize("via", ["groth16py", "snarkjs"])
def test_each_provers_proof_verifies_under_both_verifiers(
    setup: tuple[Path, Path, Path], via: prover.Prover
) -> None:
    keys, wasm, work = setup
    p = prover.prove(keys, wasm, _inputs(), work, prover=via)
    assert p.prover == via and len(p.proof) == prover.PROOF_BYTES
    assert p.public_signals == [25, 12, 125, int(ADDRESS, 16)]
    vk = keys / ceremony.VERIFICATION_KEY
    assert prover.verify(vk, p.proof, p.public_signals, verifier="groth16py")
    assert prover.verify(vk, p.proof, p.public_signals, verifier="snarkjs")
    assert not list(work.glob("*.wtns")) and not list(work.glob("*.input.json"))


def test_tampered_proof_or_signal_fails_both_verifiers(setup: tuple[Path, Path, Path]) -> None:
    keys, wasm, work = setup
    p = prover.prove(keys, wasm, _inputs(), work)
    vk = keys / ceremony.VERIFICATION_KEY
    flipped = bytearray(p.proof)
    flipped[200] ^= 1
    for proof, signals in [
        (bytes(flipped), p.public_signals),
        (p.proof, [26, *p.public_signals[1:]]),
        (p.proof, [*p.public_signals[:3], int(ADDRESS, 16) + 1]),
        (p.proof[:-1], p.public_signals),
        (p.proof, p.public_signals[:3]),
        (p.proof, [prover.FIELD_MODULUS, *p.public_signals[1:]]),
    ]:
        for verifier in ("groth16py", "snarkjs"):
            assert not prover.verify(vk, proof, signals, verifier=verifier)  # type: ignore[arg-type]


def test_wire_encoding_round_trips_through_snarkjs_json(setup: tuple[Path, Path, Path]) -> None:
    keys, wasm, work = setup
    p = prover.prove(keys, wasm, _inputs(7), work, prover="snarkjs")
    as_json = prover.to_snarkjs_json(p.proof)
    assert prover.from_snarkjs_json(as_json) == p.proof
    a, b, c = prover.decode_proof(p.proof)
    assert prover.encode_proof(a, b, c) == p.proof
    # groth16py's own snarkjs-JSON check agrees with the conversion.
    import groth16py

    vk = groth16py.VerifyingKey.from_snarkjs((keys / ceremony.VERIFICATION_KEY).read_text())
    assert groth16py.Verifier(vk).verify_snarkjs(
        json.dumps(as_json), json.dumps([str(v) for v in p.public_signals])
    )
    stored = prover.Groth16Proof.from_json(json.loads(json.dumps(p.to_json())))
    assert (stored.proof, stored.public_signals) == (p.proof, p.public_signals)
    with pytest.raises(ProvingError):
        prover.Groth16Proof.from_json({"proof": "0x00", "public_signals": []})


def test_missing_input_is_one_proving_error(setup: tuple[Path, Path, Path]) -> None:
    keys, wasm, work = setup
    with pytest.raises(ProvingError, match="witness"):
        prover.prove(keys, wasm, {"x": 1}, work)


def test_missing_keys_are_a_proving_error(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, wasm, work = setup
    with pytest.raises(ProvingError, match="no Groth16 proving key"):
        prover.prove(tmp_path, wasm, _inputs(), work)


def test_rendered_verifier_is_snarkjs_template_with_a_unique_name(
    setup: tuple[Path, Path, Path],
) -> None:
    keys, _, _ = setup
    source = solidity.render_verifier(
        keys / ceremony.VERIFICATION_KEY, solidity.contract_name("abc")
    )
    assert "contract Groth16Verifier_abc {" in source
    assert "pragma solidity >=0.7.0 <0.9.0;" in source  # admits the project's solc 0.8.20
    log = ceremony.snarkjs(
        ["zkey", "export", "solidityverifier", str(keys / ceremony.FINAL_ZKEY), "/dev/stdout"],
        "export",
        "",
    )
    reference = log[log.index("// SPDX") :]
    assert source == reference.replace(
        "contract Groth16Verifier {", "contract Groth16Verifier_abc {"
    )
    compiled = solidity.compile_verifier(source, "Groth16Verifier_abc")
    assert [f["name"] for f in compiled.abi] == ["verifyProof"]
    assert 0 < len(compiled.runtime) < 24_576
    with pytest.raises(ProvingError):
        solidity.contract_name("not-an-identifier")
