"""Proven aggregation behind one interface, beside the accuracy :class:`~.backend.Circuit`.

A backend whose model commitment is cheap to open inside its proof system offers a
K-slot circuit for "the global model is the weighted mean, in fixed point, of K committed
models" (Groth16's: :mod:`zkpot.proving.groth16.aggregation`, where the statement and its
rounding rule are written down). A role reaches one through :meth:`Circuit.aggregation`
and works through :class:`AggregationCircuit` only, never through a backend's module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zkpot.errors import AggregationProofError
from zkpot.proving.circuit import Blinding
from zkpot.proving.verifier import VerifierArtifacts

if TYPE_CHECKING:
    from torch import nn

ModelParams = tuple[tuple[int, ...], ...]
"""A model's quantized parameters as the accuracy circuit commits to them: one flat tuple
per part, in the circuit's order (layer 0 weights row-major, layer 0 biases, layer 1 ...)."""


@dataclass(frozen=True)
class AggregationStatement:
    """The public side of an aggregation proof: what the contract recomputes from its records."""

    commitments: tuple[bytes, ...]
    """K model commitments (32 bytes each), empty slots padded with the padding commitment."""
    weights: tuple[int, ...]
    """K weights, 0 for empty slots."""
    global_commitment: bytes
    """The new global model's commitment."""

    def public_signals(self) -> list[int]:
        """``[commitment[0..K-1], weight[0..K-1], globalCommitment]`` as field elements."""
        return [*(int.from_bytes(c, "big") for c in self.commitments), *self.weights,
                int.from_bytes(self.global_commitment, "big")]


PROOF_FORMAT = "zkpot-aggregation-proof/1"


@dataclass(frozen=True)
class AggregationProof:
    """A proof of one aggregate, with the statement it proves (kept for a resumed run)."""

    proof: bytes
    public: AggregationStatement
    prove_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"format": PROOF_FORMAT, "proof": self.proof.hex(),
                "commitments": [c.hex() for c in self.public.commitments],
                "weights": list(self.public.weights),
                "global_commitment": self.public.global_commitment.hex(),
                "prove_seconds": round(self.prove_seconds, 3)}

    @classmethod
    def from_json(cls, raw: Any) -> AggregationProof:
        """Read a saved proof; an :class:`AggregationProofError` if it is not one."""
        try:
            if raw["format"] != PROOF_FORMAT:
                raise ValueError(f"format {raw['format']!r}")
            public = AggregationStatement(
                tuple(bytes.fromhex(c) for c in raw["commitments"]),
                tuple(int(w) for w in raw["weights"]), bytes.fromhex(raw["global_commitment"]))
            return cls(bytes.fromhex(raw["proof"]), public, float(raw["prove_seconds"]))
        except (KeyError, TypeError, ValueError) as error:
            raise AggregationProofError(f"Not a saved aggregation proof ({error})",
                                        "delete it and aggregate again") from error


class AggregationCircuit(ABC):
    """A set-up K-slot aggregation circuit over one accuracy circuit's model commitments."""

    @property
    @abstractmethod
    def slots(self) -> int:
        """K: the most models one aggregate holds (the leader's and K - 1 hand-offs)."""

    @property
    @abstractmethod
    def short_id(self) -> str:
        """A short form of the circuit's id, for messages."""

    @property
    @abstractmethod
    def insecure(self) -> bool:
        """True when its keys came from a development setup (or their record is unreadable)."""

    @abstractmethod
    def aggregate(self, models: Sequence[nn.Module], weights: Sequence[int]) -> ModelParams:
        """The fixed-point weighted mean of ``models``, exactly as the circuit computes it."""

    @abstractmethod
    def to_model(self, params: ModelParams) -> nn.Module:
        """A float model holding exactly ``params`` (its commitment is theirs)."""

    @abstractmethod
    def prove(
        self,
        models: Sequence[nn.Module],
        blindings: Sequence[Blinding],
        commitments: Sequence[bytes],
        weights: Sequence[int],
        global_params: ModelParams,
        global_blinding: Blinding,
        workdir: Path,
    ) -> AggregationProof:
        """Prove that ``global_params`` is the aggregate of ``models`` in slot order.

        ``commitments`` and ``weights`` are what the chain holds for them; the proof is
        checked before it is returned (an :class:`AggregationProofError` otherwise).
        """

    @abstractmethod
    def statement(self, commitments: Sequence[bytes], weights: Sequence[int],
                  global_commitment: bytes) -> AggregationStatement:
        """The K-slot statement for at most K included models, padded."""

    @abstractmethod
    def verify(self, proof: bytes, signals: Sequence[int]) -> bool:
        """Whether ``proof`` verifies for the public ``signals``; never raises on bad input."""

    @abstractmethod
    def verifier_artifacts(self) -> VerifierArtifacts:
        """What its on-chain verifier and adapter are, and what a deployed adapter answers."""
