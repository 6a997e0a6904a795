"""What a circuit's on-chain verifier is made of, as plain values: no chain, no ape.

A backend describes its verifier (:meth:`Circuit.verifier_artifacts`,
:meth:`AggregationCircuit.verifier_artifacts`); :mod:`zkpot.chain.verifiers` deploys it
and checks a deployed one against it. Every verifier here is two contracts: the proof
system's verifier, then an adapter of ``contracts/`` that calls it and decodes the
statement, whose constructor takes the verifier's address first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CompiledContract:
    """A contract generated and compiled here (not one of ``contracts/``)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    """Creation code."""
    runtime: bytes
    """Runtime code: what the chain stores, and what ``vkDigest()`` (EXTCODEHASH) hashes."""


@dataclass(frozen=True)
class VerifierArtifacts:
    """What to deploy for one circuit's verifier, and what a deployed one must answer."""

    verifier: str | CompiledContract
    """The proof system's verifier: a contract of ``contracts/`` by name, or generated code."""
    adapter: str
    """The adapter's contract name in ``contracts/``."""
    adapter_args: tuple[Any, ...]
    """The adapter's constructor arguments after the verifier's address."""
    facts: tuple[tuple[str, str, Any], ...] = ()
    """What a deployed adapter must answer: (what, getter, expected value) for each."""
    verifier_getter: str | None = None
    """The adapter's getter for its verifier's address, whose code must be ``verifier``'s
    runtime (generated verifiers only)."""
