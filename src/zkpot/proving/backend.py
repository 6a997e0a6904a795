"""Proving backends behind one interface.

A task names its backend (``CircuitSpec.backend``: ``ezkl`` or ``groth16``); every role
works through a :class:`Circuit`, the set-up circuit of one task, and never through a
backend's own module. A backend implements the same statement — "the committed model,
in the task's fixed-point arithmetic, strictly wins on ``correct`` of the committed
chunk's samples" — with its own proof system:

- ``ezkl`` (:mod:`zkpot.proving.ezkl`): Halo2/KZG over EZKL's compiled ONNX graph, a
  universal SRS (no per-circuit ceremony), KZG commitments to weights and chunk,
  ~2.1 M gas per proof through EZKL's reusable verifier.
- ``groth16`` (:mod:`zkpot.proving.groth16`): R1CS emitted from the architecture
  (circom), Poseidon commitments, a per-circuit phase-2 ceremony over a public
  powers-of-tau file, ~0.2 M gas per proof, the submitter bound in the statement.

:func:`load_circuit` opens a set-up circuit folder (``zk/<short id>/``) of either kind;
:func:`setup_circuit` builds one.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from zkpot import toolchain
from zkpot.errors import ProvingError
from zkpot.models import Architecture
from zkpot.proving.aggregation import AggregationCircuit
from zkpot.proving.circuit import Blinding, CircuitSpec, TestBatch
from zkpot.proving.verifier import VerifierArtifacts

if TYPE_CHECKING:
    from torch import nn

DESCRIPTOR = "circuit.json"
"""Every circuit folder's small, committed descriptor."""


def default_zk_dir() -> Path:
    """Where circuits are set up: ``$ZKPOT_ZK_DIR``, else the project's ``zk/`` folder."""
    env = os.environ.get("ZKPOT_ZK_DIR")
    return Path(env).resolve() if env else toolchain.repo_root() / "zk"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's content, read in blocks (SRS files, keys, transcripts)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class Statement:
    """What a proof claims, as the task's verifier adapter decodes it on chain."""

    model_commitment: bytes
    """32 bytes: the hiding commitment to the weights and their blinding."""
    test_set_commitment: bytes
    """32 bytes: the commitment to the chunk the proof ran on."""
    correct: int
    """Samples of the chunk the model strictly wins on."""
    submitter: str | None = None
    """The account the proof is bound to (checksummed hex); ``None``: not bound (EZKL)."""


@dataclass(frozen=True)
class AccuracyProof:
    """A proof of accuracy for one chunk, ready for the chain."""

    path: Path
    """The proof's file (the backend's own format)."""
    proof: bytes
    """The proof bytes the verifier adapter takes."""
    instances: list[int]
    """The public instances (field elements) the verifier adapter takes."""
    statement: Statement
    """The decoded claim."""
    prove_seconds: float = 0.0
    """Wall time of the prover."""


class Circuit(ABC):
    """One task's set-up circuit: everything a role needs to prove, verify and commit."""

    spec: CircuitSpec
    directory: Path
    proves_aggregation: ClassVar[bool] = False
    """Whether the backend has an aggregation circuit (:meth:`aggregation`)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Circuit:
        """Open the circuit this backend set up in ``directory``."""

    @classmethod
    @abstractmethod
    def setup(
        cls,
        spec: CircuitSpec,
        model: nn.Module,
        calibration: TestBatch,
        *,
        zk_dir: Path | None = None,
        srs_path: Path | None = None,
        srs_sha256: str | None = None,
    ) -> Circuit:
        """Build ``spec``'s circuit under ``zk_dir/<short id>/`` (see :func:`setup_circuit`)."""

    @classmethod
    @abstractmethod
    def srs_identity(cls, srs_path: Path, srs_sha256: str | None) -> SrsIdentity:
        """Check a given phase-1 file by hash (see :func:`srs_identity`)."""

    @property
    def backend(self) -> str:
        """``ezkl`` or ``groth16``."""
        return self.spec.backend

    @property
    def circuit_id(self) -> str:
        return self.spec.circuit_id

    @property
    def short_id(self) -> str:
        return self.spec.short_id

    @property
    @abstractmethod
    def srs_hash(self) -> str:
        """Hash of the phase-1 file the keys used.

        SHA-256 of EZKL's SRS, BLAKE2b-512 of Groth16's powers of tau (the hash its
        ceremony publishes); empty for a single-party Groth16 setup, which has none.
        """

    @property
    @abstractmethod
    def insecure(self) -> bool:
        """True when the keys came from a development (toxic-waste-known) setup."""

    @abstractmethod
    def require_keys(self) -> None:
        """Raise a :class:`ProvingError` unless everything needed to prove is on disk."""

    @abstractmethod
    def prove(
        self,
        model: nn.Module,
        batch: TestBatch,
        workdir: Path,
        name: str = "proof",
        *,
        blinding: Blinding,
        submitter: str,
    ) -> AccuracyProof:
        """Prove ``model``'s count on ``batch``; bound to ``submitter`` where the backend can."""

    @abstractmethod
    def load_proof(self, path: Path, prove_seconds: float = 0.0) -> AccuracyProof:
        """Read a proof this circuit's :meth:`prove` wrote (a ProvingError if malformed)."""

    @abstractmethod
    def verify(self, proof: AccuracyProof | Path) -> bool:
        """Whether the proof verifies under this circuit's key; never raises on bad input."""

    @abstractmethod
    def statement_of(self, proof: bytes, instances: list[int]) -> Statement:
        """Decode a proof's claim exactly as the on-chain adapter does."""

    @abstractmethod
    def model_commitment(self, model: nn.Module, *, blinding: Blinding) -> bytes:
        """The 32-byte commitment a proof by ``model`` with ``blinding`` carries."""

    @abstractmethod
    def test_set_commitment(self, batch: TestBatch) -> bytes:
        """The 32-byte commitment a proof on ``batch`` carries (the round commits to it)."""

    @abstractmethod
    def circuit_count(self, model: nn.Module, batch: TestBatch) -> int:
        """The count the circuit computes (a witness, no proof)."""

    @abstractmethod
    def vk_digest(self) -> bytes:
        """The digest the task's verifier adapter reports as ``vkDigest()``."""

    @abstractmethod
    def verifier_artifacts(self) -> VerifierArtifacts:
        """This circuit's verifier and adapter, as values; :mod:`zkpot.chain` deploys them."""

    @abstractmethod
    def audit_keys(self, phase1: Path | None = None) -> str:
        """Check that the keys belong to this circuit and its phase-1 file; say what was checked.

        ``phase1``: the phase-1 file to check against (default: the development one, when
        the keys used it). A :class:`ProvingError` on any mismatch.
        """

    @abstractmethod
    def published_files(self) -> dict[str, Path]:
        """The artifacts a task document lists by CID, by name, besides the descriptor.

        Names are paths relative to the circuit's folder (``/``-separated). Each must be
        byte-identical wherever the circuit is set up or fetched.
        """

    def aggregation(self, slots: int) -> AggregationCircuit:
        """The K-slot proven-aggregation circuit over this circuit's model commitments.

        Only Groth16 has one (its Poseidon model commitment is cheap to open in R1CS);
        other backends refuse.
        """
        raise ProvingError(f"The {self.backend} backend cannot prove aggregation",
                           "create the task with --backend groth16 to prove aggregation")

    def setup_aggregation(self, slots: int, srs_path: Path | None = None,
                          srs_sha256: str | None = None) -> AggregationCircuit:
        """Compile and key the K-slot aggregation circuit beside this one (publisher).

        ``srs_path``/``srs_sha256`` as for :func:`setup_circuit`.
        """
        return self.aggregation(slots)

    def aggregation_circuits(self) -> Sequence[AggregationCircuit]:
        """Every aggregation circuit set up (or fetched) beside this one, by K."""
        return []

    def audit_aggregation_keys(self, slots: int, phase1: Path | None = None) -> str:
        """:meth:`audit_keys` for the K-slot aggregation circuit's keys."""
        raise ProvingError(f"The {self.backend} backend has no aggregation keys to audit",
                           "only a --backend groth16 task proves aggregation")

    def external_files(self) -> dict[str, str]:
        """Files the folder needs that no task publishes: a public ceremony's SRS.

        The name each must have in the folder, and its SHA-256.
        """
        return {}

    @abstractmethod
    def complete_fetched(self) -> float:
        """Derive, in a folder fetched from :meth:`published_files`, what is not published.

        EZKL re-derives its proving key from the compiled circuit and the SRS and checks
        the verifying key against the published one; Groth16 checks the published key
        against its transcript and compiles the circuit from the spec. A
        :class:`ProvingError` on any mismatch; the seconds it took.
        """


def read_descriptor(directory: Path) -> tuple[dict[str, Any], CircuitSpec]:
    """A circuit folder's descriptor and the spec it names, checked against its own id.

    Every backend's descriptor holds ``spec`` (the :class:`CircuitSpec` as JSON; no
    ``backend`` field means ``ezkl``) and ``circuit_id``.
    """
    descriptor = directory / DESCRIPTOR
    if not descriptor.is_file():
        raise ProvingError(
            f"No circuit at {directory} (missing {DESCRIPTOR})",
            "run `zkpot circuit setup` for the task's architecture first",
        )
    try:
        data = json.loads(descriptor.read_text())
        spec_data = dict(data["spec"])
        arch = dict(spec_data.pop("architecture"))
        arch["hidden"] = tuple(arch["hidden"])
        spec = CircuitSpec(architecture=Architecture(**arch), **spec_data)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ProvingError(
            f"The circuit descriptor {descriptor} is malformed ({error})",
            "rebuild the circuit with `zkpot circuit setup`",
        ) from error
    if spec.circuit_id != data.get("circuit_id"):
        raise ProvingError(
            f"The circuit descriptor at {directory} does not match its own id",
            "rebuild the circuit with `zkpot circuit setup`",
        )
    return data, spec


_BACKENDS: dict[str, type[Circuit] | str] = {
    "ezkl": "zkpot.proving.ezkl.backend:EzklCircuit",
    "groth16": "zkpot.proving.groth16.backend:Groth16Circuit",
}
"""The registry: each backend's :class:`Circuit`, or where to import it from when first asked.

Named by ``module:class`` so that this interface imports no implementation (each imports it).
"""


def backend_class(name: str) -> type[Circuit]:
    """The :class:`Circuit` class of backend ``name`` (a :class:`ProvingError` if unknown)."""
    entry = _BACKENDS.get(name)
    if entry is None:
        raise ProvingError(f"Unknown proving backend {name!r}",
                           f"use one of {', '.join(sorted(_BACKENDS))}")
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        loaded = getattr(importlib.import_module(module), attribute)
        if not (isinstance(loaded, type) and issubclass(loaded, Circuit)):
            raise ProvingError(f"The {name} backend's {entry} is not a Circuit", "report this bug")
        _BACKENDS[name] = entry = loaded
    return entry


def load_circuit(directory: Path) -> Circuit:
    """Open the set-up circuit in ``directory``, whichever backend built it."""
    backend = read_descriptor(directory)[1].backend
    if backend not in _BACKENDS:
        raise ProvingError(f"Unknown proving backend {backend!r} in {directory}",
                           "use a zkpot that knows it, or rebuild the circuit")
    return backend_class(backend).load(directory)


@dataclass(frozen=True)
class SrsIdentity:
    """A phase-1 file given by the user, checked: what keys made from it record."""

    hash: str
    """What :attr:`Circuit.srs_hash` records (BLAKE2b-512 for Groth16, SHA-256 for EZKL)."""
    insecure: bool
    """True when the file is the development one (Groth16 recognises it by its hash)."""


def srs_identity(backend: str, srs_path: Path, srs_sha256: str | None) -> SrsIdentity:
    """Check a given phase-1 file by hash; what a circuit set up from it records.

    Groth16: the powers of tau's BLAKE2b-512 must be the public ceremony's for its power,
    the development file's, or ``srs_sha256`` (:func:`ceremony.check_ptau`). EZKL: the
    SRS's SHA-256 must equal ``srs_sha256`` (there is no table of public EZKL SRS hashes,
    so it is required). A :class:`ProvingError` for any other file: a file no hash vouches
    for is never used, and keys made from another file are never reused for it
    (:func:`keys_from`).
    """
    return backend_class(backend).srs_identity(srs_path, srs_sha256)


def keys_from(circuit: Circuit, srs: SrsIdentity | None) -> bool:
    """Whether ``circuit``'s keys were made from the phase-1 file ``srs`` identifies.

    ``None`` means no file was given, which only INSECURE development keys answer (a
    rebuild without ``--srs`` never takes keys made from a ceremony file, nor the reverse).
    """
    if srs is None:
        return circuit.insecure
    return (bool(circuit.srs_hash) and circuit.srs_hash == srs.hash
            and circuit.insecure == srs.insecure)


def setup_circuit(
    spec: CircuitSpec,
    model: nn.Module,
    calibration: TestBatch,
    *,
    zk_dir: Path | None = None,
    srs_path: Path | None = None,
    srs_sha256: str | None = None,
) -> Circuit:
    """Build ``spec``'s circuit under ``zk_dir/<short id>/`` with its backend.

    ``srs_path``/``srs_sha256``: EZKL's KZG SRS and its SHA-256, or Groth16's phase-1
    powers of tau and its BLAKE2b-512; ``None`` uses a development one, loudly insecure.
    """
    return backend_class(spec.backend).setup(spec, model, calibration, zk_dir=zk_dir,
                                             srs_path=srs_path, srs_sha256=srs_sha256)
