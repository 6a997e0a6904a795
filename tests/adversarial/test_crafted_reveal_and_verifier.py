"""Attack: a publisher whose verifier or revealed test set does not match what it named.

A publisher could point a task at an adapter running other code than the task document
names, or reveal test-set bytes that do not open the round's chunk commitments; before,
a participant only found out after spending a full proof (a rejected submission). Now
``zkpot prove`` checks both first and stops with one sentence. Real anvil, real IPFS,
real circuit artifacts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from flows.conftest import World, tiny_options
from zkpot.data import Dataset
from zkpot.errors import ChainError
from zkpot.proving.circuit import TestBatch as Batch
from zkpot.roles import publisher as pub
from zkpot.roles.participant import pipeline_chunks
from zkpot.roles.precheck import check_test_set, check_verifier


@pytest.fixture(scope="module")
def revealed(world: World) -> tuple[int, list[Batch], list[bytes]]:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    session = world.session
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    pub.open_round(session, publisher, task_id, world.pool)
    info = session.client.round(task_id, 0)
    from flows.conftest import advance_to

    advance_to(info.commit_deadline + 1)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    info = session.client.round(task_id, 0)
    _, document = session.task(task_id)
    test_set = Dataset.from_bytes(session.storage.cat(info.test_set_cid))
    batches = pipeline_chunks(test_set, document.samples_per_proof)
    return task_id, batches, [bytes(c) for c in info.chunk_commitments]


def test_the_honest_reveal_and_verifier_pass(
    world: World, revealed: tuple[int, list[Batch], list[bytes]]
) -> None:
    task_id, batches, commitments = revealed
    _, document = world.session.task(task_id)
    artifacts = world.session.circuit(document)
    assert document.verifier_code_hash  # recorded by the publisher
    check_verifier(world.session, task_id, document, artifacts)
    check_test_set(artifacts, batches, commitments, task_id, 0)


def test_a_reveal_with_one_changed_label_is_refused_before_proving(
    world: World, revealed: tuple[int, list[Batch], list[bytes]]
) -> None:
    task_id, batches, commitments = revealed
    _, document = world.session.task(task_id)
    artifacts = world.session.circuit(document)
    y = batches[1].y.copy()
    y[0] = (y[0] + 1) % 10
    crafted = [batches[0], Batch(batches[1].X, y.astype(np.int64))]
    with pytest.raises(ChainError, match="Chunk 1 .* does not match its on-chain commitment"):
        check_test_set(artifacts, crafted, commitments, task_id, 0)
    with pytest.raises(ChainError, match="has 1 chunks but the round committed 2"):
        check_test_set(artifacts, batches[:1], commitments, task_id, 0)


def test_a_verifier_running_other_code_than_the_document_names_is_refused(
    world: World, revealed: tuple[int, list[Batch], list[bytes]]
) -> None:
    task_id, _, _ = revealed
    _, document = world.session.task(task_id)
    artifacts = world.session.circuit(document)
    forged = replace(document, verifier_code_hash="ab" * 32)
    with pytest.raises(ChainError, match="does not run the code its task document names"):
        check_verifier(world.session, task_id, forged, artifacts)
