"""The `ape run` scripts drive a real round on anvil; deploy writes deployments/<network>.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from proof_kit import ProofKit
from zkpot_helpers import TS_SALT, warp

from zkpot.chain import Deployment, Phase, ZKPoTClient

ROOT = Path(__file__).resolve().parents[2]


def _ape_run(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ape"),
            "run",
            *args,
            "--network",
            "ethereum:local:foundry",
            "--account",
            "TEST::0",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_scripts_deploy_create_open_reveal_and_finalise(
    tmp_path: Path, kit: ProofKit, verifier: Any
) -> None:
    out = _ape_run(
        "deploy",
        "--verifier",
        verifier.address,
        "--artifact-cid",
        "vk=bafyvk",
        "--root",
        str(tmp_path),
    )
    path = tmp_path / "deployments" / "local.json"
    assert out["deployment"] == str(path)
    deployment = Deployment.from_json(path.read_text())
    assert deployment.zkpot == out["zkpot"] and deployment.chain_id == 31337
    assert deployment.verifier is not None
    assert deployment.verifier.vka_digest == "0x" + bytes(verifier.vkaDigest()).hex()
    client = ZKPoTClient.at(deployment.zkpot)
    assert deployment.verifier.code_hash == "0x" + client.code_hash(verifier.address).hex()
    assert deployment.rewards == out["rewards"] == client.rewards.address
    assert deployment.artifact_cids == {"vk": "bafyvk"}
    zk = ["--zkpot", deployment.zkpot]
    task = _ape_run(
        "create_task",
        *zk,
        "--verifier",
        verifier.address,
        "--chunks",
        "2",
        "--policy",
        "leader-model",
        "--spec-cid",
        "bafyspec",
        "--initial-model-cid",
        "bafyinit",
        "--initial-model-commitment",
        "0x" + "11" * 32,
    )
    task_id = task["task_id"]
    ts = kit.test_sets["s1"]
    chunks = [a for c in ts.chunk_commitments for a in ("--chunk", "0x" + c.hex())]
    opened = _ape_run(
        "open_round",
        *zk,
        "--task-id",
        str(task_id),
        "--test-set-cid",
        ts.cid,
        *chunks,
        "--salt",
        "0x" + TS_SALT.hex(),
    )
    client = ZKPoTClient.at(deployment.zkpot)
    info = client.round(task_id, opened["round"])
    assert "0x" + info.test_set_commitment.hex() == opened["test_set_commitment"]
    warp(info.commit_deadline)
    _ape_run(
        "reveal",
        *zk,
        "--task-id",
        str(task_id),
        "--round",
        "0",
        "--test-set-cid",
        ts.cid,
        *chunks,
        "--salt",
        "0x" + TS_SALT.hex(),
    )
    assert client.phase(task_id, 0) == Phase.SUBMIT
    warp(info.submit_deadline)
    done = _ape_run("finalise", *zk, "--task-id", str(task_id), "--round", "0")
    assert done["action"] == "closed-empty"
    assert client.phase(task_id, 0) == Phase.CLOSED_EMPTY
