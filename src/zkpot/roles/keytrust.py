"""Whether a task's proving keys can be trusted, and what happens when they cannot.

A task's keys are INSECURE when one party made them and could have kept the toxic waste:
a Groth16 single-party setup (``circuit_insecure.zkey``), a Groth16 ceremony on the
development powers of tau (one local contributor to phase 1), or EZKL's locally generated
development SRS. Whoever made them can forge a proof of any accuracy, so on a network
where anything is at stake they are refused unless the user passes
:data:`ALLOW_FLAG`; on the local devnet they are allowed. Either way every role
command that reads the task says so on stderr (:func:`enforce`), once per circuit.

"Local devnet" is decided from the node's chain id, never from the network's name: anvil's
default (31337) or ape's local test chain (1337). ``--network http://127.0.0.1:PORT`` to an
anvil is local; an anvil started with ``--chain-id 1`` is not.

Every role goes through :class:`zkpot.roles.common.Session`, which calls :func:`enforce`
when it reads a task document (:meth:`Session.task`, from the document's claims) and
when it opens the task's circuit (:meth:`Session.circuit`, from the keys' own transcripts).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    from zkpot.proving.backend import Circuit
    from zkpot.roles.common import CircuitRef

LOCAL_CHAIN_IDS = frozenset({31337, 1337})
"""Chain ids of a local devnet: anvil's (and hardhat's) default, ape's local test chain."""

ALLOW_FLAG = "--allow-insecure-single-party-keys"
"""The CLI flag that accepts INSECURE keys on a chain that is not a local devnet."""

ACCURACY = "accuracy circuit"

WARNING_PREFIX = "WARNING: INSECURE SINGLE-PARTY KEYS."
"""How the warning line starts (every role prints it on stderr, apart from any error)."""


class InsecureKeysError(ZkpotError):
    """A task's keys are INSECURE and the chain is not a local devnet."""


def is_local_chain(chain_id: int) -> bool:
    """True for a local devnet's chain id (:data:`LOCAL_CHAIN_IDS`)."""
    return chain_id in LOCAL_CHAIN_IDS


def _aggregation_name(slots: int) -> str:
    return f"{slots}-slot aggregation circuit"


def claimed_insecure(ref: CircuitRef, slots: int) -> list[str]:
    """Which of a task's key sets its document says are INSECURE (checked at fetch).

    ``slots``: the document's ``aggregation_slots`` (0: no aggregation circuit).
    """
    parts = [ACCURACY] if ref.insecure_srs else []
    if slots and ref.aggregation_insecure:
        parts.append(_aggregation_name(slots))
    return parts


def insecure_parts(circuit: Circuit) -> list[str]:
    """Which of a set-up circuit's key sets are INSECURE, read from the keys' own records.

    The accuracy circuit's (its descriptor, checked against the task document at fetch)
    and, for Groth16, every aggregation circuit beside it (its published transcript; an
    unreadable one counts as INSECURE).
    """
    parts = [ACCURACY] if circuit.insecure else []
    parts += [_aggregation_name(agg.slots) for agg in circuit.aggregation_circuits()
              if agg.insecure]
    return parts


def warning(what: str, parts: Iterable[str], why: str) -> str:
    """The WARNING line every role prints for INSECURE keys."""
    listed = ", ".join(parts)
    return (
        f"{WARNING_PREFIX} {what}'s proving keys ({listed}) were made by "
        "one party who could have kept the toxic waste (a single-party setup or the "
        "development phase-1 file): whoever made them can forge a proof of any accuracy, "
        f"take every round and its rewards. {why}"
    )


TAKE_PART = "do not take part in it"
"""What a role other than the publisher should do instead (the refusal's hint)."""
SET_UP = "set its keys up with a ceremony on a public phase-1 file (--srs)"
"""What the publisher should do instead."""


def enforce(
    what: str, parts: list[str], *, chain_id: int, allowed: bool, instead: str = TAKE_PART
) -> str | None:
    """Refuse INSECURE keys off a local devnet unless ``allowed``; else the warning to print.

    ``what`` names the task (or circuit) in sentences; ``parts`` lists its INSECURE key
    sets (none: nothing to say, ``None``); ``instead`` is the refusal's first remedy.
    """
    if not parts:
        return None
    if is_local_chain(chain_id):
        why = f"Allowed only because chain id {chain_id} is a local devnet."
    elif allowed:
        why = f"Allowed on chain id {chain_id} only because {ALLOW_FLAG} was given."
    else:
        raise InsecureKeysError(
            f"{what} uses INSECURE single-party proving keys ({', '.join(parts)}) that "
            f"their maker can forge proofs with, and chain id {chain_id} is not a local devnet",
            f"{instead}, or pass {ALLOW_FLAG} if you accept that",
        )
    return warning(what, parts, why)


def say(text: str) -> None:
    """Print a warning to stderr, flushed (progress bars draw on stderr too)."""
    print(text, file=sys.stderr, flush=True)
