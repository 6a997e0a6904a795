"""The global model's availability, for the roles: the leader posts it, participants read it.

A Groth16 global model cannot be published unless its packed elements were posted to the
availability contract (the consensus contract refuses with ``ModelNotPosted``), so every
published Groth16 global model can be rebuilt from the chain alone. Participants fetch it
from IPFS first (fast) and fall back to the chain's posting when IPFS does not serve it or
serves something else. EZKL tasks commit with EZKL's own hash: nothing is posted for them
and the fallback does not apply (a known limit, see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zkpot.availability.client import AvailabilityClient
from zkpot.errors import ChainError, StorageError
from zkpot.proving.backend import Circuit
from zkpot.proving.circuit import Blinding
from zkpot.roles.common import (
    GlobalModelMismatchError,
    Session,
    TaskDocument,
    check_global_model,
    fetch_checked_model_and_blinding,
)

if TYPE_CHECKING:
    from torch import nn


def availability_of(session: Session) -> AvailabilityClient:
    """The availability contract the session's consensus contract checks postings with."""
    address = str(session.client.contract.availability())
    return AvailabilityClient.at(address)


def post_global_model(
    session: Session, account: Any, artifacts: Circuit, model: nn.Module, blinding: Blinding
) -> int:
    """Post ``model``'s packed elements (Groth16 tasks); returns the gas used (0: none sent).

    Idempotent: a model already posted (by anyone) is not posted again.
    """
    if artifacts.backend != "groth16":
        return 0
    # The Groth16 packing imports torch: only a posting (or reading one) pays for it.
    from zkpot.availability.elements import model_elements

    commitment = artifacts.model_commitment(model, blinding=blinding)
    elements = model_elements(artifacts.spec, model, blinding)
    return availability_of(session).ensure_posted(
        elements, commitment, account, session.client.tx_policy
    )


def read_posted_model(
    session: Session, artifacts: Circuit, commitment: bytes
) -> tuple[nn.Module, Blinding] | None:
    """The model posted under ``commitment`` and its blinding; ``None`` when never posted."""
    from zkpot.availability.elements import model_from_elements

    posting = availability_of(session).posting(commitment)
    if posting is None:
        return None
    return model_from_elements(artifacts.spec, posting.elements, commitment)


def fetch_available_model(
    session: Session,
    document: TaskDocument,
    cid: str,
    commitment: bytes,
    *,
    task_id: int,
    round_: int,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[nn.Module, Blinding]:
    """The model published as ``cid`` under ``commitment`` (round ``round_``'s start), checked.

    IPFS first; when it cannot serve the model or serves one that does not commit to
    ``commitment``, a Groth16 task's model is rebuilt from the elements posted under that
    commitment (checked against it). The IPFS error is raised when there is no posting to
    fall back to (an EZKL task, or a round-0 model the publisher never posted).
    """
    try:
        return fetch_checked_model_and_blinding(
            session, document, cid, commitment, task_id=task_id, round_=round_
        )
    except (StorageError, GlobalModelMismatchError) as err:
        artifacts = session.circuit(document)
        if artifacts.backend != "groth16":
            raise
        try:
            posted = read_posted_model(session, artifacts, commitment)
        except ChainError:
            raise err from None
        if posted is None:
            raise
        progress(f"IPFS did not serve the global model ({err.message}); rebuilt it from the chain")
        model, blinding = posted
        check_global_model(
            artifacts, model, commitment, blinding=blinding, task_id=task_id, round_=round_,
            cid="(posted on chain)",
        )
        return model, blinding


def fetch_available_global_model(
    session: Session,
    task_id: int,
    round_: int,
    document: TaskDocument,
    progress: Callable[[str], None] = lambda _: None,
) -> nn.Module:
    """The round's starting global model, as :func:`fetch_available_model` finds it."""
    info = session.client.round(task_id, round_)
    model, _ = fetch_available_model(
        session, document, info.global_model_cid, info.global_model_commitment,
        task_id=task_id, round_=round_, progress=progress,
    )
    return model


__all__ = [
    "availability_of",
    "fetch_available_model",
    "fetch_available_global_model",
    "post_global_model",
    "read_posted_model",
]
