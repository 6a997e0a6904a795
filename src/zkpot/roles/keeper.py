"""The keeper: anyone who moves a round past its deadlines.

After the submit deadline it selects the leader, after a leader missed its deadline it
passes the round to the next best, and after the leader published it finalises the
round's block. Each step is one contract call anyone may send; this is its one home,
used by ``zkpot round``, ``scripts/finalise.py`` and the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from zkpot.chain import Phase, RoundStatus, ZKPoTClient
from zkpot.errors import ChainError

Step = Literal["select", "replace-leader", "finalise"]
"""A keeper step, named as its ``zkpot round`` command."""


@dataclass(frozen=True)
class Outcome:
    """What a keeper step did, or found already done, in one sentence."""

    action: str
    """``leader-selected``, ``leader-replaced``, ``closed-empty`` or ``finalised`` when the
    step was sent now; ``already-finalised``, ``already-closed-empty`` or
    ``already-has-leader`` when the round had moved past it."""
    message: str
    """The sentence ``zkpot round`` prints."""
    leader: str | None = None
    """The leader the step selected (``None``: the round closed empty, or no selection)."""
    block_hash: bytes | None = None
    """The round's block, once finalised."""


def select_leader(client: ZKPoTClient, task_id: int, round_: int, sender: Any) -> Outcome:
    """Make the highest verified count the leader (after the submit deadline)."""
    leader = client.select_leader(task_id, round_, sender=sender)
    if leader:
        return Outcome("leader-selected", f"leader: {leader}", leader=leader)
    return Outcome("closed-empty", "no valid submission; the round closed empty", leader=leader)


def replace_leader(client: ZKPoTClient, task_id: int, round_: int, sender: Any) -> Outcome:
    """Pass the round to the next best after its leader missed the deadline."""
    leader = client.replace_leader(task_id, round_, sender=sender)
    if leader:
        return Outcome("leader-replaced", f"new leader: {leader}", leader=leader)
    return Outcome("closed-empty", "no candidate left; the round closed empty", leader=leader)


def finalise(client: ZKPoTClient, task_id: int, round_: int, sender: Any) -> Outcome:
    """Append the round's ZKPoT block (after the leader published)."""
    block = client.finalise(task_id, round_, sender=sender)
    return Outcome("finalised", f"finalised: block 0x{block.hex()}", block_hash=block)


STEPS: dict[Step, Callable[[ZKPoTClient, int, int, Any], Outcome]] = {
    "select": select_leader,
    "replace-leader": replace_leader,
    "finalise": finalise,
}


def already_done(client: ZKPoTClient, task_id: int, round_: int, step: Step) -> Outcome | None:
    """Say what the round holds when ``step`` has nothing left to do; ``None`` otherwise.

    Finalising a finalised round is not an error (the block is there); selecting a leader
    for a round that has one, or has closed, says what the round holds instead of the
    contract's revert name.
    """
    info = client.round(task_id, round_)
    where = f"task {task_id} round {round_}"
    if info.status == RoundStatus.FINALISED:
        return Outcome("already-finalised",
                       f"{where} is already finalised: block 0x{info.block_hash.hex()}",
                       block_hash=info.block_hash)
    if info.status == RoundStatus.CLOSED_EMPTY:
        return Outcome("already-closed-empty",
                       f"{where} closed empty (no valid submission): nothing to do")
    if step == "select" and info.status in (RoundStatus.LEADER_SELECTED,
                                            RoundStatus.PUBLISHED):
        return Outcome("already-has-leader", f"{where} already has its leader: {info.leader}",
                       leader=info.leader)
    return None


def take_step(
    client: ZKPoTClient, task_id: int, round_: int, step: Step, sender: Callable[[], Any]
) -> Outcome:
    """``step`` unless the round is past it (:func:`already_done`).

    ``sender`` is called only when the step is sent: a keystore account asks for its
    passphrase, which a round already past the step does not need.
    """
    return already_done(client, task_id, round_, step) or STEPS[step](
        client, task_id, round_, sender()
    )


def advance(client: ZKPoTClient, task_id: int, round_: int, sender: Any) -> Outcome:
    """Whichever step the round's phase allows now: select, replace or finalise.

    Refused in one sentence in any other phase (before the deadlines, while the leader
    works, once the round is over).
    """
    phase = client.phase(task_id, round_)
    if phase == Phase.LEADER_SELECTION:
        return select_leader(client, task_id, round_, sender)
    if phase == Phase.LEADER_EXPIRED:
        return replace_leader(client, task_id, round_, sender)
    if phase == Phase.PUBLISHED:
        return finalise(client, task_id, round_, sender)
    raise ChainError(
        f"Round {round_} is in phase {phase.name.lower()}; nothing to finalise now",
        "wait for the submit or aggregate deadline, or for the leader to publish",
    )
