"""What every role shares: accounts, the task document on IPFS, models on IPFS.

A task is fully described by its on-chain record plus one JSON document on IPFS
(:class:`TaskDocument`), whose CID the chain stores. Everything a participant or
auditor needs to take part is reachable from those two, given the circuit's
artifacts (``zk/<short id>/``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from zkpot import toolchain
from zkpot.chain import TaskState, ZKPoTClient
from zkpot.data import MAX_SAMPLES_PER_CHUNK, Dataset
from zkpot.errors import ChainError, StateError, ZkpotError
from zkpot.handoff import deserialize_state_dict, load_into, serialize_state_dict
from zkpot.limits import MAX_CHUNKS_PER_ROUND, check_json_fields, model_cap
from zkpot.models import Architecture, architecture_by_name, build_model
from zkpot.proving.circuit import TestBatch
from zkpot.proving.pipeline import CircuitArtifacts, default_zk_dir
from zkpot.storage import IpfsStorage

TASK_FORMAT = "zkpot-task/1"


def resolve_account(spec: str) -> Any:
    """The ape account named by ``spec``: ``test:N`` (local test account N) or an alias.

    Aliases are ape keystore accounts (``ape accounts import <alias>``); their
    passphrase is asked for, or read from ``APE_ACCOUNTS_<alias>_PASSPHRASE``.
    """
    from ape import accounts

    if spec.startswith("test:"):
        try:
            return accounts.test_accounts[int(spec.removeprefix("test:"))]
        except (ValueError, IndexError):
            raise ZkpotError(
                f"There is no local test account {spec!r}", "use test:0 to test:9"
            ) from None
    try:
        return accounts.load(spec)
    except Exception:  # noqa: BLE001 - ape raises several kinds for an unknown alias
        raise ZkpotError(
            f"There is no ape account with alias {spec!r}",
            "import one with `ape accounts import <alias>` or use test:N on a local chain",
        ) from None


@dataclass(frozen=True)
class CircuitRef:
    """Where a task's circuit lives and what identifies it."""

    circuit_id: str
    """64 hex digits (sha256 of the circuit spec)."""
    short_id: str
    """The artifact folder's name under ``zk/``."""
    descriptor_cid: str
    """CID of ``circuit.json``."""
    settings_cid: str
    """CID of EZKL's ``settings.json``."""
    vk_cid: str
    """CID of the verifying key."""
    vka_cid: str
    """CID of the VK artifact the on-chain verifier was registered with."""
    srs_sha256: str
    """Hash of the powers-of-tau file the keys were made with."""
    insecure_srs: bool
    """True when that SRS was generated locally (development only)."""


@dataclass(frozen=True)
class TaskDocument:
    """The task specification published on IPFS (the chain stores its CID)."""

    name: str
    """Human-readable task name."""
    architecture: str
    """Architecture name (see :mod:`zkpot.models`)."""
    architecture_id: str
    """Its stable id."""
    circuit: CircuitRef
    """The accuracy circuit and its artifacts."""
    samples_per_proof: int
    """Samples in one test-set chunk."""
    chunks_per_round: int
    """Chunks (proofs) per round."""
    policy: str
    """``fedavg`` or ``leader-model``."""
    fedavg_weighting: str = "verified-correct"
    """How FedAvg weighs the verified models: by their on-chain verified correct count
    (``verified-correct``) or ``equal``."""
    dataset: str = "digits"
    """Name of the dataset the task is about (features must match the architecture)."""
    training: dict[str, float] = field(default_factory=dict)
    """Suggested local training hyper-parameters (epochs, lr, batch_size)."""
    format: str = TASK_FORMAT
    """Document format version."""

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> TaskDocument:
        """Parse a document; a clear error if it is not a ZKPoT task."""
        if not isinstance(data, dict) or data.get("format") != TASK_FORMAT:
            raise ZkpotError(
                "The task specification on IPFS is not a zkpot-task/1 document",
                "check the task id and the network",
            )
        fields = dict(data)
        try:  # untrusted JSON: every field's type is checked, only ZkpotError escapes
            circuit = fields.get("circuit")
            if not isinstance(circuit, dict):
                raise TypeError("field circuit must be an object")
            check_json_fields(CircuitRef, circuit)
            fields["circuit"] = CircuitRef(**circuit)
            check_json_fields(cls, fields)
            document = cls(**fields)
            if not 1 <= document.samples_per_proof <= MAX_SAMPLES_PER_CHUNK:
                raise ValueError(f"samples_per_proof {document.samples_per_proof} out of range")
            if not 1 <= document.chunks_per_round <= MAX_CHUNKS_PER_ROUND:
                raise ValueError(f"chunks_per_round {document.chunks_per_round} out of range")
        except (TypeError, ValueError) as error:
            raise ZkpotError(
                f"The task specification on IPFS is malformed ({str(error)[:160]})",
                "check the task id and the network",
            ) from error
        return document

    @property
    def arch(self) -> Architecture:
        """The architecture object."""
        return architecture_by_name(self.architecture)


@dataclass
class Session:
    """A connection to one deployed ZKPoT contract and one IPFS node."""

    client: ZKPoTClient
    storage: IpfsStorage
    zk_dir: Path = field(default_factory=default_zk_dir)
    """Where circuit artifacts live (``zk/``)."""

    def task(self, task_id: int) -> tuple[TaskState, TaskDocument]:
        """The task's on-chain state and its IPFS document."""
        if task_id < 0 or task_id >= self.client.task_count():
            raise ChainError(
                f"Task {task_id} does not exist on this contract",
                "list tasks with `zkpot status` or check --contract",
            )
        state = self.client.task_state(task_id)
        spec_cid = self.client.contract.taskConfig(task_id).specCID
        return state, TaskDocument.from_json(self.storage.cat_json(spec_cid))

    def circuit(self, document: TaskDocument) -> CircuitArtifacts:
        """The task's circuit artifacts from ``zk/``, checked against the document."""
        artifacts = CircuitArtifacts.load(self.zk_dir / document.circuit.short_id)
        if artifacts.circuit_id != document.circuit.circuit_id:
            raise StateError(
                f"The circuit in {artifacts.directory} is not the task's circuit",
                "rebuild it with `zkpot task create` or fetch the task's artifacts",
            )
        artifacts.require_keys()
        return artifacts


def model_bytes(model: nn.Module, arch: Architecture) -> bytes:
    """Deterministic, pickle-free encoding of a model's weights."""
    return serialize_state_dict(model.state_dict(), architecture=arch.name)


def model_from_bytes(data: bytes, arch: Architecture) -> nn.Module:
    """A model of ``arch`` holding the weights encoded in ``data``."""
    state = deserialize_state_dict(data, architecture=arch.name)
    return load_into(build_model(arch), state)


def upload_model(storage: IpfsStorage, model: nn.Module, arch: Architecture) -> str:
    """Add a model's weights to IPFS (pinned); return the CID."""
    cid = storage.add(model_bytes(model, arch), name="model.zkpt")
    storage.pin(cid)
    return cid


def fetch_model(storage: IpfsStorage, cid: str, arch: Architecture) -> nn.Module:
    """Fetch (CID-checked) and load a model of ``arch`` from IPFS."""
    return model_from_bytes(storage.cat(cid, max_bytes=model_cap(arch), what="model"), arch)


def batches(chunks: tuple[Dataset, ...] | list[Dataset]) -> list[TestBatch]:
    """Dataset chunks as the circuit's flat test batches."""
    return [
        TestBatch(
            np.ascontiguousarray(c.X.reshape(len(c), -1), dtype=np.float32),
            np.ascontiguousarray(c.y, dtype=np.int64),
        )
        for c in chunks
    ]


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


def role_dir(role: str, name: str) -> Path:
    """``$ZKPOT_STATE_DIR/<role>/<name>``: a role's private files."""
    path = toolchain.state_dir() / role / name
    path.mkdir(parents=True, exist_ok=True)
    return path
