"""The native single-party setup (snarkjs-format key) and the long-lived groth16py prover.

Every proof from the single-party ``.zkey`` is made by both provers and checked by
snarkjs's verifier; the key is read by snarkjs itself (export, prove); attacks: a proof
under another single-party key, a tampered key, a prover child that dies mid-task.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from zkpot.errors import ProvingError
from zkpot.proving.groth16 import ceremony, native, prover

from .test_ceremony import compile_tiny

ADDRESS = 0x70997970C51812DC3A010C7D01B50E0D17DC79C8

# A tiny circuit with private wires in A, B and C and a chain of products, so that every
# section of the key (A, B1, B2, C, H, IC) enters the proof.
CHAIN = """
pragma circom 2.1.0;
template Chain(n) {
    signal input a[n];
    signal input b;
    signal input submitter;
    signal output correct;
    signal output modelCommitment;
    signal output testSetCommitment;
    signal acc[n + 1];
    acc[0] <== b;
    for (var i = 0; i < n; i++) { acc[i + 1] <== acc[i] * a[i] + 3; }
    correct <== acc[n] * 7;
    modelCommitment <== b + 1;
    testSetCommitment <== b * b;
}
component main {public [submitter]} = Chain(40);
"""


def chain_inputs(b: int = 5) -> dict[str, object]:
    return {"a": [i + 2 for i in range(40)], "b": b, "submitter": ADDRESS}


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("single")
    r1cs, wasm = compile_tiny(root, CHAIN, "chain")
    keys = root / "keys"
    ceremony.insecure_setup(r1cs, keys)
    return r1cs, wasm, keys


def test_native_setup_writes_a_labelled_snarkjs_key(chain: tuple[Path, Path, Path]) -> None:
    r1cs, _, keys = chain
    assert native.setup_binary() is not None  # gcc is part of the toolchain
    key = prover.proving_key(keys)
    assert key.name == ceremony.INSECURE_ZKEY
    assert not (keys / ceremony.INSECURE_PK).exists()
    t = ceremony.Transcript.load(keys / ceremony.TRANSCRIPT)
    assert t.single_party and t.insecure and t.contributions == []
    assert ceremony.INSECURE_SETUP_WARNING in t.warnings
    assert t.zkey_sha256 == ceremony.file_sha256(key)
    vk = json.loads((keys / ceremony.VERIFICATION_KEY).read_text())
    info = ceremony.r1cs_info(r1cs)
    assert vk["protocol"] == "groth16" and vk["nPublic"] == info.public_signals == 4
    # No ceremony: the key does not derive from any phase-1 file, and an audit says so.
    with pytest.raises(ProvingError, match="single-party"):
        ceremony.audit(keys, r1cs, ceremony.dev_ptau())


@pytest.mark.parametrize("via", ["groth16py", "snarkjs"])
def test_both_provers_proofs_verify_under_snarkjs(
    chain: tuple[Path, Path, Path], via: prover.Prover, tmp_path: Path
) -> None:
    _, wasm, keys = chain
    p = prover.prove(keys, wasm, chain_inputs(), tmp_path, prover=via)
    acc = 5
    for i in range(40):
        acc = (acc * (i + 2) + 3) % prover.FIELD_MODULUS
    assert p.public_signals == [acc * 7 % prover.FIELD_MODULUS, 6, 25, ADDRESS]
    vk = keys / ceremony.VERIFICATION_KEY
    assert prover.verify(vk, p.proof, p.public_signals, verifier="snarkjs")
    assert prover.verify(vk, p.proof, p.public_signals, verifier="groth16py")
    for wrong in ([p.public_signals[0] + 1, *p.public_signals[1:]],
                  [*p.public_signals[:3], ADDRESS + 1]):
        assert not prover.verify(vk, p.proof, wrong, verifier="snarkjs")


def test_a_second_setup_has_other_secrets(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    r1cs, wasm, keys = chain
    other = tmp_path / "other"
    ceremony.insecure_setup(r1cs, other)
    assert (other / ceremony.INSECURE_ZKEY).read_bytes() != \
        (keys / ceremony.INSECURE_ZKEY).read_bytes()
    p = prover.prove(other, wasm, chain_inputs(), tmp_path / "w")
    # A proof under one single-party key is worthless under the other's verifier.
    for verifier in ("snarkjs", "groth16py"):
        assert prover.verify(other / ceremony.VERIFICATION_KEY, p.proof, p.public_signals,
                             verifier=verifier)  # type: ignore[arg-type]
        assert not prover.verify(keys / ceremony.VERIFICATION_KEY, p.proof, p.public_signals,
                                 verifier=verifier)  # type: ignore[arg-type]


def test_a_tampered_key_gives_no_valid_proof(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, wasm, keys = chain
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in (ceremony.INSECURE_ZKEY, ceremony.VERIFICATION_KEY, ceremony.TRANSCRIPT):
        (bad / name).write_bytes((keys / name).read_bytes())
    raw = bytearray((bad / ceremony.INSECURE_ZKEY).read_bytes())
    # Swap one wire's A point for another's: still valid points, so the key imports.
    n8 = 64
    f, sections = ceremony.binary_sections(bad / ceremony.INSECURE_ZKEY, b"zkey")
    f.close()
    offset, size = sections[5]  # A points, one per wire
    first_nonzero = next(i for i in range(0, size, n8) if any(raw[offset + i : offset + i + n8]))
    second = next(i for i in range(first_nonzero + n8, size, n8)
                  if any(raw[offset + i : offset + i + n8]))
    raw[offset + first_nonzero : offset + first_nonzero + n8] = \
        raw[offset + second : offset + second + n8]
    (bad / ceremony.INSECURE_ZKEY).write_bytes(bytes(raw))
    vk = keys / ceremony.VERIFICATION_KEY
    for via in ("groth16py", "snarkjs"):
        try:
            p = prover.prove(bad, wasm, chain_inputs(), tmp_path / via,
                             prover=via)  # type: ignore[arg-type]
        except ProvingError:
            continue
        assert not prover.verify(vk, p.proof, p.public_signals, verifier="snarkjs")


def test_the_prover_child_imports_a_key_once_and_again_when_it_changes(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    r1cs, wasm, keys = chain
    worker = prover.ProverWorker()
    try:
        key = prover.proving_key(keys)
        proofs = []
        for b in (5, 6, 7):
            wtns = prover.compute_witness(wasm, chain_inputs(b), tmp_path, f"w{b}")
            worker.prove(key, wtns, tmp_path / f"p{b}", 120)
            proofs.append((tmp_path / f"p{b}").read_bytes())
        assert worker.key_loads == 1 and worker.last_load_seconds == 0.0
        assert worker.last_prove_seconds > 0
        vk = keys / ceremony.VERIFICATION_KEY
        signals = prover.public_signals(tmp_path / "w7.wtns")
        assert prover.verify(vk, proofs[2], signals, verifier="snarkjs")
        # A new setup rewrites the key file: the child must not prove with the old one.
        copy = tmp_path / "keys"
        ceremony.insecure_setup(r1cs, copy)
        worker.prove(prover.proving_key(copy), tmp_path / "w7.wtns", tmp_path / "q", 120)
        assert worker.key_loads == 2
        assert prover.verify(copy / ceremony.VERIFICATION_KEY, (tmp_path / "q").read_bytes(),
                             signals, verifier="snarkjs")
    finally:
        worker.close()


def test_a_dead_or_failing_child_is_one_error_and_the_next_proof_works(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, wasm, keys = chain
    worker = prover.ProverWorker()
    try:
        key = prover.proving_key(keys)
        wtns = prover.compute_witness(wasm, chain_inputs(), tmp_path, "w")
        with pytest.raises(ProvingError, match="groth16py prove failed"):
            worker.prove(key, tmp_path / "missing.wtns", tmp_path / "p", 120)
        worker.prove(key, wtns, tmp_path / "p", 120)  # same child, key kept
        assert worker.key_loads == 1
        proc = worker._proc
        assert proc is not None
        os.kill(proc.pid, 9)  # dies between proofs: the next proof starts a fresh child
        proc.wait()
        worker.prove(key, wtns, tmp_path / "p", 120)
        assert worker.key_loads == 2 and worker._proc is not proc
        with pytest.raises(ProvingError, match="did not finish in time"):
            worker.prove(key, wtns, tmp_path / "p", 1e-4)  # a hang: the child is killed
        worker.prove(key, wtns, tmp_path / "p", 120)
        assert worker.key_loads == 3
        assert prover.verify(keys / ceremony.VERIFICATION_KEY, (tmp_path / "p").read_bytes(),
                             prover.public_signals(wtns), verifier="snarkjs")
    finally:
        worker.close()


def test_public_signals_read_back_only_the_public_wires(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, wasm, _ = chain
    wtns = prover.compute_witness(wasm, chain_inputs(), tmp_path, "w")
    every = prover.read_witness(wtns)
    assert prover.public_signals(wtns) == every[1:5]
    assert prover.public_signals(wtns, 2) == every[1:3]
    with pytest.raises(ProvingError, match="fewer wires"):
        prover.public_signals(wtns, len(every))
    f, sections = ceremony.binary_sections(wtns, b"wtns")
    f.close()
    (tmp_path / "cut.wtns").write_bytes(wtns.read_bytes()[: sections[2][0] + 40])
    with pytest.raises(ProvingError):
        prover.public_signals(tmp_path / "cut.wtns")


def test_without_the_native_setup_groth16py_keys_still_prove(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    r1cs, wasm, _ = chain
    keys = tmp_path / "fallback"
    t = ceremony.insecure_setup(r1cs, keys, native_setup=False)
    assert t.single_party and prover.proving_key(keys).name == ceremony.INSECURE_PK
    p = prover.prove(keys, wasm, chain_inputs(), tmp_path / "w")
    assert prover.verify(keys / ceremony.VERIFICATION_KEY, p.proof, p.public_signals,
                         verifier="snarkjs")
    with pytest.raises(ProvingError, match="only with a .zkey"):
        prover.prove(keys, wasm, chain_inputs(), tmp_path / "w", prover="snarkjs")


def test_a_forked_copy_of_the_prover_starts_its_own_child(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, wasm, keys = chain
    worker = prover.ProverWorker()
    first = None
    try:
        key = prover.proving_key(keys)
        wtns = prover.compute_witness(wasm, chain_inputs(), tmp_path, "w")
        worker.prove(key, wtns, tmp_path / "p", 120)
        first = worker._proc
        worker._owner = -1  # what a fork sees: the parent's pipes are not its own
        worker.prove(key, wtns, tmp_path / "q", 120)
        assert first is not None and worker._proc is not first
        assert first.poll() is None  # the parent's child is left alone
        assert worker.key_loads == 2
    finally:
        worker.close()
        if first is not None:
            first.kill()
            first.wait()


def test_prove_imports_the_key_while_the_witness_is_computed_and_only_once(
    chain: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    r1cs, wasm, _ = chain
    keys = tmp_path / "fresh"
    ceremony.insecure_setup(r1cs, keys)
    before = prover.WORKER.key_loads
    first = prover.prove(keys, wasm, chain_inputs(5), tmp_path / "w")
    assert prover.WORKER.key_loads == before + 1 and prover.WORKER.last_load_seconds > 0
    second = prover.prove(keys, wasm, chain_inputs(6), tmp_path / "w")
    assert prover.WORKER.key_loads == before + 1 and prover.WORKER.last_load_seconds == 0.0
    vk = keys / ceremony.VERIFICATION_KEY
    for p in (first, second):
        assert prover.verify(vk, p.proof, p.public_signals, verifier="snarkjs")
    # A witness that fails leaves the preloaded answer behind: the next proof still works.
    with pytest.raises(ProvingError, match="witness"):
        prover.prove(keys, wasm, {"b": 1}, tmp_path / "w")
    third = prover.prove(keys, wasm, chain_inputs(7), tmp_path / "w")
    assert prover.verify(vk, third.proof, third.public_signals, verifier="snarkjs")
