"""Rendered and compiled Groth16 verifiers kept in the local cache (``solidity.CACHE_NAME``).

A hit must give exactly what rendering and compiling give (the code hash a participant
compares with the chain's depends on it), run neither node nor solc, and a damaged entry
must be replaced, never trusted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zkpot import toolchain
from zkpot.proving.groth16 import ceremony, solidity

from .test_ceremony import compile_tiny


@pytest.fixture(scope="module")
def vk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r1cs, _ = compile_tiny(tmp_path_factory.mktemp("tiny"))
    keys = tmp_path_factory.mktemp("keys")
    dev = ceremony.check_ptau(ceremony.dev_ptau())
    ceremony.start_phase2(r1cs, dev, keys)
    ceremony.finalize(keys, r1cs, dev, beacon="12" * 32)
    return keys / ceremony.VERIFICATION_KEY


def _build(vk: Path, name: str) -> solidity.CompiledContract:
    return solidity.compile_verifier(solidity.render_verifier(vk, name), name)


def test_a_hit_is_the_fresh_build_and_runs_neither_node_nor_solc(
    vk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(toolchain.CACHE_ENV, "off")
    fresh = _build(vk, "Groth16Verifier_cachetest")
    assert toolchain.cache_dir(solidity.CACHE_NAME) is None

    monkeypatch.setenv(toolchain.CACHE_ENV, str(tmp_path))
    first = _build(vk, "Groth16Verifier_cachetest")
    folder = tmp_path / solidity.CACHE_NAME
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".sol"]
    assert first == fresh

    # Neither tool can run now: the same build still comes back, from the cache.
    monkeypatch.setattr(toolchain, "solc_shim", lambda: tmp_path / "no-solc")
    monkeypatch.setenv("PATH", str(tmp_path / "no-node"))
    assert _build(vk, "Groth16Verifier_cachetest") == fresh
    # ... while another name is another entry, which needs the tools.
    with pytest.raises(Exception, match="node|solc|verifier"):
        _build(vk, "Groth16Verifier_other")


def test_a_damaged_entry_is_replaced_not_trusted(
    vk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(toolchain.CACHE_ENV, str(tmp_path))
    name = "Groth16Verifier_damaged"
    honest = _build(vk, name)
    folder = tmp_path / solidity.CACHE_NAME
    [compiled] = folder.glob("*.json")
    [source] = folder.glob("*.sol")
    compiled.write_text('{"abi": [], "bytecode": "00", "runt')
    source.write_text("contract Elsewhere {}")
    assert _build(vk, name) == honest
    assert '"runtime"' in compiled.read_text()
    assert f"contract {name} {{" in source.read_text()
