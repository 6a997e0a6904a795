"""The kept initial phase-2 key (:mod:`zkpot.proving.groth16.phase2_init`).

It must be exactly what ``snarkjs groth16 setup`` derives, be derived once per circuit and
phase-1 file, never be left half-written, and the audits that start from it must refuse
what a full ``zkey verify`` refuses: a key of another circuit, a key with an altered point.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from zkpot import toolchain
from zkpot.errors import ProvingError
from zkpot.proving.groth16 import ceremony, phase2_init

from .test_ceremony import CIRCUIT, compile_tiny


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r1cs, _ = compile_tiny(tmp_path_factory.mktemp("tiny"))
    return r1cs


@pytest.fixture(scope="module")
def dev() -> ceremony.PtauInfo:
    return ceremony.check_ptau(ceremony.dev_ptau())


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(toolchain.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / phase2_init.CACHE_NAME


def _setup(r1cs: Path, dev: ceremony.PtauInfo, out: Path) -> None:
    ceremony.snarkjs(["groth16", "setup", str(r1cs), str(dev.path), str(out)],
                     "groth16 setup", "check the circuit")


def test_the_kept_key_is_snarkjs_groth16_setup_byte_for_byte_and_is_derived_once(
    tiny: Path, dev: ceremony.PtauInfo, cache: Path, tmp_path: Path
) -> None:
    direct = tmp_path / "direct.zkey"
    _setup(tiny, dev, direct)
    derived: list[Path] = []

    def derive(out: Path) -> None:
        derived.append(out)
        _setup(tiny, dev, out)

    with phase2_init.initial_key(tiny, dev.blake2b, derive) as first:
        assert first is not None and first.parent == cache
        assert first.read_bytes() == direct.read_bytes()
    with phase2_init.initial_key(tiny, dev.blake2b, derive) as again:
        assert again == first
    assert len(derived) == 1
    # Another phase-1 file, or another circuit, is another entry.
    assert phase2_init.entry_name(tiny, "00" * 64) != first.name
    other, _ = compile_tiny(tmp_path / "other", CIRCUIT.replace("x + 7", "x + 8"), "other")
    assert phase2_init.entry_name(other, dev.blake2b) != first.name


def test_a_failed_derivation_leaves_no_entry(
    tiny: Path, dev: ceremony.PtauInfo, cache: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "truncated.r1cs"
    truncated.write_bytes(tiny.read_bytes()[: tiny.stat().st_size // 2])
    with (pytest.raises(ProvingError, match="groth16 setup"),
          phase2_init.initial_key(truncated, dev.blake2b,
                                  lambda out: _setup(truncated, dev, out))):
        pass
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_switched_off_nothing_is_kept_and_the_full_verify_still_runs(
    tiny: Path, dev: ceremony.PtauInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(toolchain.CACHE_ENV, "off")
    assert phase2_init.cache_dir() is None
    keys = tmp_path / "keys"
    ceremony.start_phase2(tiny, dev, keys)
    transcript = ceremony.finalize(keys, tiny, dev, beacon="cd" * 32)
    assert ceremony.audit(keys, tiny, dev.path) == transcript
    assert [c.name for c in transcript.contributions] == ["publisher", "final beacon"]


def test_audits_from_the_kept_key_match_the_full_verify_and_refuse_what_it_refuses(
    tiny: Path, dev: ceremony.PtauInfo, cache: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = tmp_path / "keys"
    ceremony.start_phase2(tiny, dev, keys)
    ceremony.contribute(keys, name="alice")
    kept = ceremony.finalize(keys, tiny, dev, beacon="ef" * 32)
    assert [p.suffix for p in cache.iterdir() if p.suffix == ".zkey"] == [".zkey"]
    # The same transcript as `zkey verify` from the R1CS (the cache switched off).
    monkeypatch.setenv(toolchain.CACHE_ENV, "off")
    assert ceremony.audit(keys, tiny, dev.path) == kept
    monkeypatch.setenv(toolchain.CACHE_ENV, str(cache.parent))
    assert ceremony.audit(keys, tiny, dev.path) == kept
    assert kept.circuit_hash and [c.name for c in kept.contributions] == [
        "publisher", "alice", "final beacon"]

    # Another circuit's R1CS: its own initial key, which the final key does not extend.
    other, _ = compile_tiny(tmp_path / "other", CIRCUIT.replace("x + 7", "x + 8"), "other")
    with pytest.raises(ProvingError, match="zkey verify"):
        ceremony.audit(keys, other, dev.path)

    # Two points of the final key's H section swapped (both still on the curve), with a
    # transcript naming the altered key's hash: only the verification can catch it.
    altered = tmp_path / "altered"
    shutil.copytree(keys, altered)
    final = altered / ceremony.FINAL_ZKEY
    handle, sections = ceremony.binary_sections(final, b"zkey")
    handle.close()
    start, _ = sections[9]  # H: the domain's points, 64 bytes each
    raw = bytearray(final.read_bytes())
    raw[start:start + 64], raw[start + 64:start + 128] = (
        raw[start + 64:start + 128], raw[start:start + 64])
    final.write_bytes(bytes(raw))
    forged = ceremony.Transcript.load(altered / ceremony.TRANSCRIPT)
    replace(forged, zkey_sha256=ceremony.file_sha256(final)).save(altered / ceremony.TRANSCRIPT)
    with pytest.raises(ProvingError, match="zkey verify"):
        ceremony.audit(altered, tiny, dev.path)
