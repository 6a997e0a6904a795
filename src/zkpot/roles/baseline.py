"""The reward baseline: the round's starting global model, proven on the round's own chunks.

On a task with a reward pool, improvement is measured against the previous global
model's count *on this round's test set*, so a copy of the public global model earns
nothing; the contract will not finalise such a round until its publisher or its leader
has proven that count (``recordBaseline``). Anyone holding the round's test set can make
the proof: the global model and the blinding of its commitment are public on IPFS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkpot.chain import ChunkProof
from zkpot.data import Dataset
from zkpot.limits import test_set_cap
from zkpot.proving.backend import AccuracyProof
from zkpot.roles.availability import fetch_available_model
from zkpot.roles.common import Session
from zkpot.roles.participant import pipeline_chunks


def _quiet(_: str) -> None:
    return None


def record_baseline(
    session: Session,
    sender: Any,
    task_id: int,
    round_: int,
    workdir: Path,
    progress: Callable[[str], None] = _quiet,
    *,
    only_if_rewarded: bool = True,
) -> int | None:
    """Prove and record round ``round_``'s baseline if its task pays rewards.

    Returns the recorded baseline count, or ``None`` for a task without a reward pool
    (nothing to do, unless ``only_if_rewarded`` is false). Resumable: proofs already in
    ``workdir`` are reused, and a baseline already on chain is returned as is. ``sender``
    must be the task's publisher or the round's leader.
    """
    client = session.client
    if only_if_rewarded and not client.has_reward_pool(task_id):
        return None
    info = client.round(task_id, round_)
    if info.baseline_proven:
        return info.baseline_correct
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    # IPFS first, the chain's posting of a Groth16 model when IPFS does not serve it.
    model, blinding = fetch_available_model(
        session, document, info.global_model_cid, info.global_model_commitment,
        task_id=task_id, round_=round_,
    )
    test_set = Dataset.from_bytes(
        session.storage.cat(
            info.test_set_cid,
            max_bytes=test_set_cap(
                document.samples_per_proof * document.chunks_per_round, document.arch.input_size
            ),
            what="test set",
        )
    )
    workdir.mkdir(parents=True, exist_ok=True)
    proofs: list[AccuracyProof] = []
    for i, batch in enumerate(pipeline_chunks(test_set, document.samples_per_proof)):
        existing = workdir / f"baseline-{i}.json"
        if existing.is_file():
            proofs.append(artifacts.load_proof(existing))
            continue
        progress(f"proving the round's starting global model (reward baseline), chunk {i + 1}")
        proofs.append(
            artifacts.prove(
                model, batch, workdir, name=f"baseline-{i}", blinding=blinding,
                submitter=str(sender.address),
            )
        )
    client.record_baseline(
        task_id, round_, [ChunkProof(p.proof, tuple(p.instances)) for p in proofs], sender
    )
    return sum(p.statement.correct for p in proofs)
