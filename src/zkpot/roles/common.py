"""What every role shares: accounts, the task document on IPFS, models on IPFS.

A task is fully described by its on-chain record plus one JSON document on IPFS
(:class:`TaskDocument`), whose CID the chain stores. Everything a participant or
auditor needs to take part is reachable from those two: the document lists the
circuit's artifacts by CID (:mod:`zkpot.roles.artifacts` fetches them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zkpot import toolchain
from zkpot.chain import TaskState, ZKPoTClient
from zkpot.data import MAX_SAMPLES_PER_CHUNK, Dataset
from zkpot.errors import ChainError, ZkpotError
from zkpot.limits import MAX_CHUNKS_PER_ROUND, check_json_fields, model_cap
from zkpot.model_codec import decode_model, load_into, model_bytes
from zkpot.models import Architecture, architecture_by_name, build_model
from zkpot.proving.backend import DESCRIPTOR, Circuit, default_zk_dir, load_circuit
from zkpot.proving.circuit import Blinding, TestBatch, check_blinding
from zkpot.roles import keytrust
from zkpot.state import private_dir, write_private_json
from zkpot.storage import IpfsStorage

if TYPE_CHECKING:
    from torch import nn

TASK_FORMAT = "zkpot-task/2"


def _refuse_test_account_off_devnet(spec: str) -> None:
    """A ``test:N`` key is public (ape's test mnemonic): never a signer off a local devnet.

    Publisher commands default to ``test:0`` for the local walk-through; on any other chain
    that default is refused rather than signing with a key anyone can use.
    """
    from ape import chain

    try:
        chain_id = int(chain.chain_id)
    except Exception:  # noqa: BLE001 - not connected: nothing to sign on yet
        return
    if not keytrust.is_local_chain(chain_id):
        raise ZkpotError(
            f"{spec} is a public test key (anyone can sign with it), refused on chain "
            f"{chain_id}",
            "pass --account with an ape account alias (`ape accounts import <alias>`)",
        )


def resolve_account(spec: str) -> Any:
    """The ape account named by ``spec``: ``test:N`` (local test account N) or an alias.

    Aliases are ape keystore accounts (``ape accounts import <alias>``); their
    passphrase is asked for, or read from ``APE_ACCOUNTS_<alias>_PASSPHRASE``.
    """
    from ape import accounts

    if spec.startswith("test:"):
        _refuse_test_account_off_devnet(spec)
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
    files: dict[str, str]
    """CIDs of the circuit's published artifacts by name (the backend's
    ``published_files``: its descriptor, verifying key, ...)."""
    srs_hash: str
    """Hash of the phase-1 file the keys were made with (see ``Circuit.srs_hash``)."""
    insecure_srs: bool
    """True when that SRS (or setup) was made locally (development only)."""
    backend: str = "ezkl"
    """The proving backend (``ezkl`` or ``groth16``)."""
    aggregation_insecure: bool | None = None
    """True when any proven-aggregation circuit's keys are INSECURE (single-party setup or
    development phase 1); ``None`` in documents written before it was recorded (the
    fetched transcripts then decide, :mod:`zkpot.roles.keytrust`)."""


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
    public_pool: bool = False
    """True when the held-out pool comes from public bundled data (e.g. digits): a
    DEMO-ONLY setting, since anyone can load the pool the test sets are drawn from."""
    verifier_code_hash: str = ""
    """Hex keccak256 of the verifier adapter's runtime code, checked before proving
    (empty in documents written before it was recorded)."""
    aggregation_slots: int = 0
    """K of the proven-aggregation circuit published with the circuit (its files under
    ``aggregate-k<K>/``); 0 when the leader's aggregation is not proven."""
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
                f"The task specification on IPFS is not a {TASK_FORMAT} document",
                "check the task id and the network",
            )
        fields = dict(data)
        try:  # untrusted JSON: every field's type is checked, only ZkpotError escapes
            circuit = fields.get("circuit")
            if not isinstance(circuit, dict):
                raise TypeError("field circuit must be an object")
            check_json_fields(CircuitRef, circuit)
            if circuit.get("aggregation_insecure") not in (None, True, False):
                raise TypeError("field circuit.aggregation_insecure must be a boolean")
            files = circuit.get("files")
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise TypeError("field circuit.files must map names to CIDs")
            fields["circuit"] = CircuitRef(**circuit)
            check_json_fields(cls, fields)
            document = cls(**fields)
            if not 1 <= document.samples_per_proof <= MAX_SAMPLES_PER_CHUNK:
                raise ValueError(f"samples_per_proof {document.samples_per_proof} out of range")
            if not 1 <= document.chunks_per_round <= MAX_CHUNKS_PER_ROUND:
                raise ValueError(f"chunks_per_round {document.chunks_per_round} out of range")
            if not 0 <= document.aggregation_slots <= 64:
                raise ValueError(f"aggregation_slots {document.aggregation_slots} out of range")
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
    """Where circuits this machine set up live (``zk/``, or ``$ZKPOT_ZK_DIR``)."""
    circuit_cache: Path | None = None
    """Where fetched circuits go (default :func:`zkpot.roles.artifacts.cache_root`)."""
    srs: Path | None = None
    """A public ceremony SRS the task's keys use but do not publish (EZKL)."""
    progress: Callable[[str], None] = field(default=lambda _: None)
    """Told of each long step (downloads, key derivation)."""
    meter: Any = None
    """A byte progress bar for large downloads (:data:`zkpot.roles.artifacts.Meter`)."""
    allow_insecure_keys: bool = False
    """Accept INSECURE single-party keys on a chain that is not a local devnet
    (``--allow-insecure-single-party-keys``; see :mod:`zkpot.roles.keytrust`)."""
    chain_id: int | None = None
    """The connected chain's id; ``None``: read from the node when first needed."""
    _circuits: dict[str, Circuit] = field(default_factory=dict, repr=False)
    """Circuits already opened (and their cache re-hashed) by this session, by id."""
    _warned: dict[str, set[str]] = field(default_factory=dict, repr=False)
    """INSECURE key sets already warned about, by circuit id (each is said once)."""

    def task(self, task_id: int) -> tuple[TaskState, TaskDocument]:
        """The task's on-chain state and its IPFS document.

        A task whose document declares INSECURE keys is refused here off a local devnet
        (unless :attr:`allow_insecure_keys`), and warned about on stderr otherwise.
        """
        state = self.require_task(task_id)
        document = self.document(task_id)
        self.check_keys(f"Task {task_id}", document.circuit.circuit_id,
                        keytrust.claimed_insecure(document.circuit,
                                                  document.aggregation_slots))
        return state, document

    def require_task(self, task_id: int) -> TaskState:
        """The task's on-chain state; one sentence naming the task if it does not exist."""
        if task_id < 0 or task_id >= self.client.task_count():
            raise ChainError(
                f"Task {task_id} does not exist on this contract",
                "list the tasks with `zkpot task list` or check --contract",
            )
        return self.client.task_state(task_id)

    def require_round(self, task_id: int, round_: int) -> None:
        """One sentence naming the task or round if the chain has not opened it."""
        rounds = self.require_task(task_id).round_count
        if round_ < 0 or round_ >= rounds:
            raise ChainError(
                f"Round {round_} of task {task_id} does not exist yet (the task has "
                f"{rounds} round{'s' if rounds != 1 else ''})",
                f"wait for the publisher to open it (`zkpot status --task {task_id}`)",
            )

    def document(self, task_id: int) -> TaskDocument:
        """The task's IPFS document as published (no key check: see :meth:`task`)."""
        spec_cid = self.client.lens.taskConfig(task_id).specCID
        return TaskDocument.from_json(self.storage.cat_json(spec_cid))

    def circuit(self, document: TaskDocument) -> Circuit:
        """The task's circuit: set up here (``zk/``), else fetched by CID (cached).

        A folder under ``zk/`` is used only when it holds the task's circuit with its
        keys (the publisher's own); anything else comes from IPFS through
        :func:`zkpot.roles.artifacts.fetch_circuit`, checked file by file. Opened once
        per session: later calls reuse it rather than re-hash the cache. Its keys' own
        records then decide whether they are INSECURE (:meth:`check_circuit_keys`).
        """
        circuit_id = document.circuit.circuit_id
        if circuit_id not in self._circuits:
            opened = self._open_circuit(document.circuit)
            self.check_circuit_keys(opened, f"The task's circuit {opened.short_id}")
            self._circuits[circuit_id] = opened
        return self._circuits[circuit_id]

    def connected_chain_id(self) -> int:
        """The chain id of the node this session talks to (read once)."""
        if self.chain_id is None:
            from ape import chain

            self.chain_id = int(chain.chain_id)
        return self.chain_id

    def check_keys(
        self, what: str, circuit_id: str, parts: list[str], *, announce: bool = True,
        instead: str = keytrust.TAKE_PART,
    ) -> None:
        """Refuse or warn about INSECURE key sets ``parts`` (:func:`keytrust.enforce`).

        Each key set of a circuit is warned about once per session; ``announce=False``
        only refuses (a check before the keys exist); ``instead``: the refusal's remedy.
        """
        if not parts:
            return
        text = keytrust.enforce(what, parts, chain_id=self.connected_chain_id(),
                                allowed=self.allow_insecure_keys, instead=instead)
        said = self._warned.setdefault(circuit_id, set())
        if announce and text is not None and not set(parts) <= said:
            keytrust.say(text)
            said.update(parts)

    def check_circuit_keys(
        self, circuit: Circuit, what: str, instead: str = keytrust.TAKE_PART
    ) -> None:
        """:meth:`check_keys` for a set-up circuit, from its keys' own records."""
        self.check_keys(what, circuit.circuit_id, keytrust.insecure_parts(circuit),
                        instead=instead)

    def _open_circuit(self, ref: CircuitRef) -> Circuit:
        local = self.zk_dir / ref.short_id
        if (local / DESCRIPTOR).is_file():
            try:
                artifacts = load_circuit(local)
                if artifacts.circuit_id == ref.circuit_id:
                    artifacts.require_keys()
                    return artifacts
            except ZkpotError:
                pass  # not usable here: fetch it
        from zkpot.roles.artifacts import fetch_circuit

        return fetch_circuit(self.storage, ref, cache=self.circuit_cache, srs=self.srs,
                             progress=self.progress, meter=self.meter).circuit


def upload_model(
    storage: IpfsStorage,
    model: nn.Module,
    arch: Architecture,
    blinding: Blinding | None = None,
) -> str:
    """Add a model's weights (and a global model's public blinding) to IPFS, pinned; its CID."""
    cid = storage.add(model_bytes(model, arch, blinding), name="model.zkpt")
    storage.pin(cid)
    return cid


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
    """Write JSON atomically (a crash never leaves half a file), owner-only (0600 in 0700)."""
    write_private_json(path, data)


def role_dir(role: str, name: str) -> Path:
    """``$ZKPOT_STATE_DIR/<role>/<name>``: a role's private files, in 0700 folders."""
    return private_dir(toolchain.state_dir() / role / name)


class GlobalModelMismatchError(ZkpotError):
    """The global model downloaded from IPFS is not the one the chain commits to."""


def check_global_model(
    artifacts: Circuit,
    model: nn.Module,
    expected: bytes,
    *,
    blinding: Blinding,
    task_id: int,
    round_: int,
    cid: str,
) -> None:
    """Raise :class:`GlobalModelMismatchError` unless ``model`` has commitment ``expected``.

    ``expected`` is the chain's ``globalModelCommitment`` of the round (round 0: the
    task's initial model commitment); the commitment is recomputed from the weights
    and the model's public ``blinding``, so a leader (or publisher) that published a
    CID of other weights is caught before anyone trains on them.
    """
    actual = artifacts.model_commitment(model, blinding=blinding)
    if actual != expected:
        raise GlobalModelMismatchError(
            f"The global model {cid} of task {task_id} round {round_} does not match the "
            f"commitment on chain (it commits to 0x{actual.hex()[:16]}…, the chain to "
            f"0x{expected.hex()[:16]}…), so it was not trained on",
            "report the round's leader (or the task's publisher for round 0); "
            "training resumes once a matching model is published",
        )


def fetch_global_model(
    session: Session, task_id: int, round_: int, document: TaskDocument
) -> nn.Module:
    """The round's starting global model from IPFS, checked against its on-chain commitment.

    Raises :class:`GlobalModelMismatchError` (nothing is written) on a mismatch.
    """
    info = session.client.round(task_id, round_)
    return fetch_checked_model(
        session,
        document,
        info.global_model_cid,
        info.global_model_commitment,
        task_id=task_id,
        round_=round_,
    )


def fetch_checked_model(
    session: Session,
    document: TaskDocument,
    cid: str,
    expected: bytes,
    *,
    task_id: int,
    round_: int,
) -> nn.Module:
    """The global model at ``cid`` (round ``round_``'s start), checked against ``expected``.

    Raises :class:`GlobalModelMismatchError` when it carries no blinding or its
    recomputed commitment differs from ``expected``.
    """
    return fetch_checked_model_and_blinding(
        session, document, cid, expected, task_id=task_id, round_=round_
    )[0]


def fetch_checked_model_and_blinding(
    session: Session,
    document: TaskDocument,
    cid: str,
    expected: bytes,
    *,
    task_id: int,
    round_: int,
) -> tuple[nn.Module, Blinding]:
    """:func:`fetch_checked_model`, with the public blinding the commitment was checked with."""
    model, blinding = fetch_model_and_blinding(session.storage, cid, document)
    if blinding is None:
        raise GlobalModelMismatchError(
            f"The global model {cid} of task {task_id} round {round_} carries no blinding, "
            "so its on-chain commitment cannot be checked and it was not used",
            "report the round's leader (or the task's publisher for round 0)",
        )
    check_global_model(
        session.circuit(document),
        model,
        expected,
        blinding=blinding,
        task_id=task_id,
        round_=round_,
        cid=cid,
    )
    return model, blinding


def fetch_model_and_blinding(
    storage: IpfsStorage, cid: str, document: TaskDocument
) -> tuple[nn.Module, Blinding | None]:
    """Fetch (CID-checked) a model of the task's architecture and the blinding sent with it."""
    data = storage.cat(cid, max_bytes=model_cap(document.arch), what="model")
    payload = decode_model(data, architecture=document.architecture)
    model = load_into(build_model(document.arch), payload.state)
    if payload.blinding is None:
        return model, None
    return model, check_blinding(payload.blinding)
