"""Checks a participant runs before spending minutes on a proof.

A publisher could deploy a task whose verifier adapter is not the one its document
names, whose VK digest does not match the circuit participants prove with, whose
aggregation verifier accepts anything, or reveal a test set that does not open the
round's chunk commitments. Each of these would only
show after a full proof (as a rejected submission); here each is one sentence first.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkpot.chain.verifiers import check_aggregation_verifier
from zkpot.errors import ChainError
from zkpot.proving.backend import Circuit
from zkpot.proving.circuit import TestBatch
from zkpot.roles.common import Session, TaskDocument


def check_verifier(session: Session, task_id: int, document: TaskDocument,
                   artifacts: Circuit) -> None:
    """Refuse unless the task's adapter runs the named code and holds the local circuit's VK."""
    client = session.client
    config = client.lens.taskConfig(task_id)
    adapter = str(config.verifier)
    local = artifacts.vk_digest()
    on_chain = bytes(config.vkDigest)
    if on_chain != local or client.verifier_vk_digest(adapter) != local:
        raise ChainError(
            f"Task {task_id}'s verifier does not hold the verifying key of the local circuit "
            f"{artifacts.spec.short_id}",
            "fetch the task's circuit artifacts again; if they match the task document, "
            "report the publisher",
        )
    expected = document.verifier_code_hash.removeprefix("0x").lower()
    if expected and client.code_hash(adapter).hex() != expected:
        raise ChainError(
            f"Task {task_id}'s verifier at {adapter} does not run the code its task document "
            "names",
            "do not prove for this task; report the publisher",
        )
    check_aggregation(session, task_id, document, artifacts)


def check_aggregation(session: Session, task_id: int, document: TaskDocument,
                      artifacts: Circuit) -> str:
    """Refuse unless the task's aggregation verifier is the published circuit's; what held.

    It must be absent exactly when the document says aggregation is not proven. A
    publisher could point the task at an adapter with the right ids but a verifier that
    accepts anything: every leader could then publish a model of its own choosing.
    """
    address = session.client.aggregation_verifier(task_id)
    if (address is None) != (document.aggregation_slots == 0):
        raise ChainError(
            f"Task {task_id}'s document and its on-chain configuration disagree on whether "
            "aggregation is proven",
            "do not prove for this task; report the publisher",
        )
    if address is None:
        return "aggregation is not proven (the document and the chain agree)"
    circ = artifacts.aggregation(document.aggregation_slots)
    ok, detail = check_aggregation_verifier(address, circ)
    if not ok:
        raise ChainError(
            f"Task {task_id}'s aggregation verifier is not the published circuit's: {detail}",
            "do not prove for this task (its leaders' aggregates would go unchecked); report "
            "the publisher",
        )
    return detail


def check_test_set(artifacts: Circuit, batches: Sequence[TestBatch],
                   chunk_commitments: Sequence[bytes], task_id: int, round_: int) -> None:
    """Refuse unless every revealed chunk opens the round's on-chain chunk commitment."""
    if len(batches) != len(chunk_commitments):
        raise ChainError(
            f"The revealed test set of task {task_id} round {round_} has {len(batches)} "
            f"chunks but the round committed {len(chunk_commitments)}",
            "report the publisher; this round's test set is inconsistent",
        )
    for i, (batch, expected) in enumerate(zip(batches, chunk_commitments, strict=True)):
        if artifacts.test_set_commitment(batch) != bytes(expected):
            raise ChainError(
                f"Chunk {i} of the revealed test set of task {task_id} round {round_} does "
                "not match its on-chain commitment",
                "report the publisher; proofs on this test set would be rejected",
            )
