"""Groth16 keys: phase-1 hash checks, the snarkjs phase 2 and its transcript, the audit,
and the INSECURE single-party setup, on a tiny real circuit and the committed dev ptau."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from zkpot import toolchain
from zkpot.errors import ProvingError
from zkpot.proving.groth16 import ceremony, prover

# Same public-signal layout as the accuracy circuit: 3 outputs, then `submitter`.
CIRCUIT = """
pragma circom 2.1.0;
template Tiny() {
    signal input x;
    signal input submitter;
    signal output correct;
    signal output modelCommitment;
    signal output testSetCommitment;
    correct <== x * x;
    modelCommitment <== x + 7;
    testSetCommitment <== correct * x;
    signal bound;
    bound <== submitter * submitter;
}
component main {public [submitter]} = Tiny();
"""


def compile_tiny(root: Path, source: str = CIRCUIT, name: str = "tiny") -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.circom").write_text(source)
    subprocess.run(
        [
            str(toolchain.node_bin_dir() / "circom2"),
            str(root / f"{name}.circom"),
            "--r1cs",
            "--wasm",
            "-o",
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=toolchain.repo_root(),
    )
    return root / f"{name}.r1cs", root / f"{name}_js" / f"{name}.wasm"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return compile_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def dev() -> ceremony.PtauInfo:
    return ceremony.check_ptau(ceremony.dev_ptau())


@pytest.fixture(scope="module")
def keys(
    tiny: tuple[Path, Path], dev: ceremony.PtauInfo, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("keys")
    ceremony.start_phase2(tiny[0], dev, out, name="publisher")
    ceremony.contribute(out, name="alice")
    ceremony.contribute(out, name="bob")
    ceremony.finalize(out, tiny[0], dev, beacon="ab" * 32, iterations_exp=10)
    return out


def test_public_ceremony_table_is_the_published_one() -> None:
    assert sorted(ceremony.PUBLIC_PTAU) == list(range(8, 29))
    assert ceremony.PUBLIC_PTAU[20].name == "powersOfTau28_hez_final_20.ptau"
    assert ceremony.PUBLIC_PTAU[20].blake2b.startswith("89a66eb5590a1c94")
    assert ceremony.PUBLIC_PTAU[28].name == "powersOfTau28_hez_final.ptau"
    assert all(len(p.blake2b) == 128 for p in ceremony.PUBLIC_PTAU.values())
    # Each prepared file doubles (plus headers) per power.
    sizes = [ceremony.PUBLIC_PTAU[p].size for p in range(8, 29)]
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False))


def test_dev_ptau_is_recognised_and_flagged_insecure(
    dev: ceremony.PtauInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    again = ceremony.check_ptau(ceremony.dev_ptau())
    assert again.source == "dev" and again.insecure and again.power == 14
    assert "INSECURE" in capsys.readouterr().err
    assert again.blake2b == ceremony.dev_ptau_blake2b() == ceremony.file_blake2b(dev.path)


def test_unknown_ptau_is_refused_unless_its_hash_is_pinned(tmp_path: Path) -> None:
    copy = tmp_path / "other.ptau"
    data = bytearray(ceremony.dev_ptau().read_bytes())
    data[-1] ^= 1  # same header, different content
    copy.write_bytes(bytes(data))
    with pytest.raises(ProvingError, match="neither the public ceremony"):
        ceremony.check_ptau(copy)
    with pytest.raises(ProvingError, match="expected BLAKE2b"):
        ceremony.check_ptau(copy, "00" * 64)
    pinned = ceremony.check_ptau(copy, ceremony.file_blake2b(copy).upper())
    assert pinned.source == "pinned" and not pinned.insecure
    with pytest.raises(ProvingError, match="no powers-of-tau file"):
        ceremony.check_ptau(tmp_path / "missing.ptau")
    (tmp_path / "junk.ptau").write_bytes(b"not a ptau file")
    with pytest.raises(ProvingError, match="is not a ptau file"):
        ceremony.check_ptau(tmp_path / "junk.ptau")


def test_r1cs_header_counts(tiny: tuple[Path, Path]) -> None:
    info = ceremony.r1cs_info(tiny[0])
    assert (info.public_outputs, info.public_inputs, info.private_inputs) == (3, 1, 1)
    assert info.public_signals == 4
    assert 2**info.required_power >= info.constraints + info.public_signals + 1


def test_phase2_transcript_lists_every_contribution_in_order(
    keys: Path, dev: ceremony.PtauInfo
) -> None:
    t = ceremony.Transcript.load(keys / ceremony.TRANSCRIPT)
    assert [c.name for c in t.contributions] == ["publisher", "alice", "bob", "final beacon"]
    assert all(len(c.hash) == 128 for c in t.contributions)
    assert len({c.hash for c in t.contributions}) == 4
    beacon = t.contributions[-1]
    assert (beacon.beacon, beacon.beacon_iterations_exp) == ("ab" * 32, 10)
    assert t.ptau_blake2b == dev.blake2b and t.ptau_source == "dev" and t.insecure
    assert t.zkey_sha256 == ceremony.file_sha256(keys / ceremony.FINAL_ZKEY)
    assert t.verification_key_sha256 == ceremony.file_sha256(keys / ceremony.VERIFICATION_KEY)
    assert json.loads((keys / ceremony.VERIFICATION_KEY).read_text())["nPublic"] == 4


def test_audit_passes_on_honest_keys_and_names_the_first_mismatch(
    keys: Path, tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    audited = ceremony.audit(keys, tiny[0], ceremony.dev_ptau())
    assert audited == ceremony.Transcript.load(keys / ceremony.TRANSCRIPT)

    # A transcript that hides a contribution (or lies about one) fails.
    forged = tmp_path / "forged"
    shutil.copytree(keys, forged)
    raw = json.loads((forged / ceremony.TRANSCRIPT).read_text())
    raw["contributions"][1]["hash"] = "00" * 64
    (forged / ceremony.TRANSCRIPT).write_text(json.dumps(raw))
    with pytest.raises(ProvingError, match="contributions"):
        ceremony.audit(forged, tiny[0], ceremony.dev_ptau())

    # A verification key that is not the final key's fails.
    swapped = tmp_path / "swapped"
    shutil.copytree(keys, swapped)
    vk = json.loads((swapped / ceremony.VERIFICATION_KEY).read_text())
    vk["IC"][0], vk["IC"][1] = vk["IC"][1], vk["IC"][0]
    (swapped / ceremony.VERIFICATION_KEY).write_text(json.dumps(vk))
    raw = json.loads((swapped / ceremony.TRANSCRIPT).read_text())
    raw["verification_key_sha256"] = ceremony.file_sha256(swapped / ceremony.VERIFICATION_KEY)
    (swapped / ceremony.TRANSCRIPT).write_text(json.dumps(raw))
    with pytest.raises(ProvingError, match="verification key is not the final"):
        ceremony.audit(swapped, tiny[0], ceremony.dev_ptau())


def test_audit_fails_for_another_circuit(keys: Path, tmp_path: Path) -> None:
    other_r1cs, _ = compile_tiny(
        tmp_path,
        CIRCUIT.replace("modelCommitment <== x + 7;", "modelCommitment <== x + 8;"),
        "other",
    )
    with pytest.raises(ProvingError, match="zkey verify"):
        ceremony.audit(keys, other_r1cs, ceremony.dev_ptau())


def test_contribution_after_the_beacon_needs_reopen_then_a_new_finalize(
    keys: Path, tiny: tuple[Path, Path], dev: ceremony.PtauInfo, tmp_path: Path
) -> None:
    with pytest.raises(ProvingError, match="already closed"):
        ceremony.contribute(keys, name="late")
    reopened = tmp_path / "reopened"
    shutil.copytree(keys, reopened)
    late = ceremony.contribute(reopened, name="late", reopen=True)
    assert not (reopened / ceremony.VERIFICATION_KEY).exists()
    assert not (reopened / ceremony.TRANSCRIPT).exists()
    t = ceremony.finalize(reopened, tiny[0], dev, beacon="cd" * 32)
    names = [c.name for c in t.contributions]
    assert names == ["publisher", "alice", "bob", "final beacon", "late", "final beacon"]
    assert t.contributions[4].hash == late.hash
    assert ceremony.audit(reopened, tiny[0], ceremony.dev_ptau()) == t


def test_too_small_ptau_names_the_power_needed(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    big = "\n".join(f"    signal s{i}; s{i} <== x * x + {i};" for i in range(300))
    r1cs, _ = compile_tiny(
        tmp_path, CIRCUIT.replace("    correct <== x * x;", big + "\n    correct <== x * x;"), "big"
    )
    info = ceremony.r1cs_info(r1cs)
    assert info.required_power >= 9
    small = ceremony.PtauInfo(ceremony.dev_ptau(), "", 8, "pinned")
    with pytest.raises(ProvingError, match=f"needs a 2\\^{info.required_power}"):
        ceremony.start_phase2(r1cs, small, tmp_path / "k")


def test_insecure_single_party_setup_is_flagged_proves_and_cannot_be_audited(
    tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r1cs, wasm = tiny
    keys = tmp_path / "insecure"
    t = ceremony.insecure_setup(r1cs, keys)
    assert "INSECURE SINGLE-PARTY" in capsys.readouterr().err
    assert t.insecure and t.single_party and t.contributions == []
    assert ceremony.Transcript.load(keys / ceremony.TRANSCRIPT) == t
    p = prover.prove(keys, wasm, {"x": 3, "submitter": 5}, tmp_path / "w")
    assert p.public_signals == [9, 10, 27, 5]
    vk = keys / ceremony.VERIFICATION_KEY
    assert prover.verify(vk, p.proof, p.public_signals)
    assert prover.verify(vk, p.proof, p.public_signals, verifier="snarkjs")
    with pytest.raises(ProvingError, match="single-party"):
        ceremony.audit(keys, r1cs, ceremony.dev_ptau())
