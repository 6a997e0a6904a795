"""`zkpot circuit setup` and `zkpot circuit verifier` on the tiny architecture (real EZKL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkpot.cli import cli
from zkpot.proving.ezkl import evm, pipeline


def _setup(zk_dir: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(
        cli,
        ["circuit", "setup", "--backend", "ezkl", "--architecture", "mlp-64-8-10",
         "--samples", "4", "--zk-dir", str(zk_dir), *extra],
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_setup_builds_reuses_and_feeds_the_verifier_command(tmp_path: Path) -> None:
    code, out, err = _setup(tmp_path, "--json")
    assert code == 0, err
    built = json.loads(out)
    assert built["insecure"] is True and built["reused"] is False
    assert "INSECURE DEVELOPMENT SRS" in err
    art = pipeline.CircuitArtifacts.load(tmp_path / built["short_id"])
    art.require_keys()
    assert (built["logrows"], built["circuit_id"]) == (art.logrows, art.circuit_id)

    code, out, err = _setup(tmp_path)
    assert code == 0, err
    assert f"circuit {built['short_id']}" in out
    assert f"logrows {art.logrows}" in out
    assert "already built" in out and "INSECURE" in out and "INSECURE" in err

    # A given SRS (here the same file, as a "ceremony" file) makes a secure build.
    code, out, err = _setup(tmp_path, "--json", "--srs", str(art.srs.path),
                            "--srs-sha256", art.srs.sha256)
    assert code == 0, err
    secure = json.loads(out)
    assert secure["insecure"] is False and secure["reused"] is False
    assert "INSECURE" not in err

    result = CliRunner(mix_stderr=False).invoke(
        cli, ["circuit", "verifier", "--circuit", str(art.directory), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stderr
    generated = (tmp_path / "Halo2VerifierReusable.sol").read_text()
    assert generated.startswith(evm.HEADER)
    # One reusable verifier serves every circuit: the committed file is this one.
    committed = evm.verifiers_dir() / "Halo2VerifierReusable.sol"
    assert generated == committed.read_text()


def test_setup_errors_are_one_sentence(tmp_path: Path) -> None:
    code, _, err = _setup(tmp_path, "--srs-hash", "00" * 32)
    assert code == 1
    assert err.startswith("error: --srs-hash was given without --srs")
    assert len(err.strip().splitlines()) == 1
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["circuit", "setup", "--architecture", "mlp-1", "--zk-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Unknown architecture 'mlp-1'")
    code, _, err = _setup(tmp_path, "--srs", str(tmp_path / "missing.srs"))
    assert code == 1 and "does not exist" in err


def test_verifier_of_an_unknown_circuit_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["circuit", "verifier", "--circuit", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No circuit at")
