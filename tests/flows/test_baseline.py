"""The reward baseline proven by the roles: the round's starting model on its own chunks.

Real anvil, IPFS and EZKL proofs of the tiny circuit: the publisher proves the initial
global model on round 0's revealed test set, and the chain records exactly the count
the circuit gives that model on those chunks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zkpot import limits
from zkpot.roles import publisher as pub
from zkpot.roles.baseline import record_baseline
from zkpot.roles.common import fetch_model_and_blinding
from zkpot.roles.participant import pipeline_chunks

from .conftest import World, advance_to, tiny_options

pytestmark = pytest.mark.slow


def test_publisher_proves_the_starting_model_on_the_rounds_chunks(
    world: World, tmp_path: Path
) -> None:
    from ape import accounts

    from zkpot.data import Dataset

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    # No reward pool: nothing to prove by default.
    assert record_baseline(session, publisher, task_id, round_, tmp_path) is None
    advance_to(session.client.round(task_id, round_).commit_deadline)
    pub.reveal(session, publisher, task_id, round_, world.pool)
    count = record_baseline(session, publisher, task_id, round_, tmp_path, only_if_rewarded=False)
    info = session.client.round(task_id, round_)
    assert info.baseline_proven and info.baseline_correct == count
    # The recorded count is the circuit's count of the initial model on those chunks.
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    model, _ = fetch_model_and_blinding(session.storage, info.global_model_cid, document)
    test_set = Dataset.from_bytes(
        session.storage.cat(
            info.test_set_cid,
            max_bytes=limits.test_set_cap(
                document.samples_per_proof * document.chunks_per_round, document.arch.input_size
            ),
        )
    )
    chunks = pipeline_chunks(test_set, document.samples_per_proof)
    assert count == sum(artifacts.circuit_count(model, b) for b in chunks)
    # Resumable and idempotent: asking again returns the recorded value, proves nothing.
    assert (
        record_baseline(session, publisher, task_id, round_, tmp_path, only_if_rewarded=False)
        == count
    )
