"""`zkpot circuit setup --backend groth16` and `zkpot circuit contribute` (real circom).

The single-party setup runs groth16py; the refusal needs no keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zkpot.cli import cli
from zkpot.proving.backend import load_circuit


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_groth16_setup_builds_then_reuses_and_refuses_a_contribution_without_ceremony(
    tmp_path: Path,
) -> None:
    # 4 samples of the tiny MLP need 2^15 > the 2^14 development powers of tau: the
    # only setup is the INSECURE single-party one, which says so.
    setup = ["circuit", "setup", "--backend", "groth16", "--architecture", "mlp-64-8-10",
             "--samples", "4", "--zk-dir", str(tmp_path)]
    code, out, err = _invoke(*setup, "--json")
    assert code == 0, err
    built = json.loads(out)
    assert built["backend"] == "groth16" and built["insecure"] is True
    assert built["reused"] is False and built["constraints"] > 16384
    assert "INSECURE SINGLE-PARTY" in err
    circuit = load_circuit(tmp_path / built["short_id"])
    assert circuit.backend == "groth16" and circuit.circuit_id == built["circuit_id"]
    assert set(built["files"]) == {"accuracy.circom", "keys/verification_key.json",
                                   "keys/transcript.json", "keys/circuit_insecure.zkey"}

    code, out, err = _invoke(*setup)
    assert code == 0, err
    assert "already built" in out and f"{built['constraints']:,} constraints" in out
    assert "INSECURE" in err

    # A single-party setup has no ceremony to contribute to: one sentence, nothing changed.
    key = circuit.directory / "keys" / "circuit_insecure.zkey"
    before = key.read_bytes()
    code, _, err = _invoke("circuit", "contribute", "--circuit", str(circuit.directory),
                           "--name", "alice")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: Circuit {built['short_id']} has INSECURE single-party keys")
    assert key.read_bytes() == before


def test_contributing_to_an_ezkl_circuit_is_refused() -> None:
    # The committed default EZKL circuit: its descriptor is enough (no keys are read).
    folder = Path(__file__).resolve().parents[2] / "zk" / "45cc8488bbe3fbeb"
    code, _, err = _invoke("circuit", "contribute", "--circuit", str(folder), "--name", "x")
    assert code == 1
    assert err.startswith("error: Circuit 45cc8488bbe3fbeb is an ezkl circuit")
    assert "contributions are for Groth16 circuits" in err
