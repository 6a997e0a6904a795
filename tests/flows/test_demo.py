"""The demo (`make demo`'s `zkpot demo`) end to end on a tiny circuit: real anvil, IPFS,
Groth16 proofs and aggregation proofs, two rounds, the poisoned and the lazy participant
included (a model that proves 0 correct is not admitted, and the demo goes on)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkpot.demo import DemoConfig, run_demo

from .conftest import TINY

pytestmark = pytest.mark.slow


def test_the_demo_runs_proven_fedavg_rounds_and_writes_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_zk_dir: Path
) -> None:
    monkeypatch.setenv("ZKPOT_STATE_DIR", str(tmp_path / "state"))
    # The run's circuit folder: the flow tests' tiny Groth16 task (8 samples, 4 slots) is
    # this circuit, built once per run.
    monkeypatch.setenv("ZKPOT_ZK_DIR", str(shared_zk_dir))
    config = DemoConfig(participants=4, rounds=2, architecture=TINY, samples_per_proof=8,
                        epochs=8, results_dir=tmp_path / "results")
    assert config.backend == "groth16" and config.policy == "fedavg"
    lines: list[str] = []
    rows = run_demo(config, progress=lines.append)

    assert [r.round for r in rows] == [0, 1]
    for row in rows:
        # Every round's aggregate was proven and recorded before publication.
        assert row.aggregation_prove_seconds > 0 and row.aggregation_gas > 0
        kinds = {p.name: p.kind for p in row.participants}
        assert kinds[row.leader_name] == "honest"
        assert row.leader_name in row.aggregated
        for p in row.participants:
            if p.submit_gas == 0:  # not admitted: it proved nothing correct
                assert p.correct == 0 and p.name not in row.aggregated
    report = (config.results_dir / "report.md").read_text()
    assert "aggregation proof s" in report and "groth16" in report
    saved = json.loads((config.results_dir / "rounds.json").read_text())
    assert [r["aggregation_gas"] > 0 for r in saved["rounds"]] == [True, True]
