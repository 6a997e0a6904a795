"""Typed client for the ZKPoT consensus contract, over ape.

Every transaction method takes the sending ape account and returns what the
contract decided (ids, hashes, amounts); a revert becomes a :class:`ChainError`
naming the contract's custom error and saying what to do. The hash helpers
(:func:`commitment_hash`, :func:`round_test_set_commitment`, :func:`block_hash`,
:func:`next_submissions_digest`) reproduce the contract's ``abi.encode``
formulas exactly, so a client can prepare and audit values off chain.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from zkpot import toolchain
from zkpot.errors import ChainError
from zkpot.revert_hints import HINTS

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _harden_revert_trace_display() -> None:
    """Make ape's call-trace printout on a revert unable to hide the revert itself.

    ape-foundry prints the call trace of every reverted transaction and decodes each
    sub-call's return data by its ABI. EZKL's generated verifier returns raw words that
    do not match its declared ``(bool, bytes32, int256[])``, so the printout raises
    ``InvalidPointer`` and the contract's custom error is lost. A failing printout is
    now skipped; the revert is reported as usual.
    """
    from ape_ethereum.trace import Trace

    if getattr(Trace.show, "_zkpot_hardened", False):
        return
    original = Trace.show

    def show(self: Any, *args: Any, **kwargs: Any) -> None:
        if not _revert_traces["show"]:
            return
        try:
            original(self, *args, **kwargs)
        except Exception:  # noqa: BLE001 - display only; the revert is raised by the caller
            return

    show._zkpot_hardened = True  # type: ignore[attr-defined]
    Trace.show = show  # type: ignore[method-assign]


_revert_traces = {"show": True}


def show_revert_traces(enabled: bool) -> None:
    """Whether ape prints a reverted transaction's call trace (stdout) before the error.

    On by default for library use; the CLI turns it off unless ``--verbose``, so a revert
    reads as the one-sentence :class:`ChainError` alone.
    """
    _revert_traces["show"] = enabled


_harden_revert_trace_display()
CONTRACT_NAME = "ZKPoT"


class AggregationPolicy(IntEnum):
    """How a task's leader produces the next global model (``IZKPoT.AggregationPolicy``)."""

    FEDAVG = 0
    LEADER_MODEL = 1


class RoundStatus(IntEnum):
    """Stored progress of a round (``IZKPoT.RoundStatus``)."""

    NONE = 0
    OPEN = 1
    REVEALED = 2
    LEADER_SELECTED = 3
    PUBLISHED = 4
    FINALISED = 5
    CLOSED_EMPTY = 6


class Phase(IntEnum):
    """Phase of a round at the current block time (``IZKPoT.Phase``)."""

    NONE = 0
    COMMIT = 1
    REVEAL = 2
    SUBMIT = 3
    LEADER_SELECTION = 4
    AGGREGATE = 5
    LEADER_EXPIRED = 6
    PUBLISHED = 7
    FINALISED = 8
    CLOSED_EMPTY = 9


# What to do about each custom error, for the one-sentence ChainError.


def _b32(value: bytes | str) -> bytes:
    raw = (
        bytes.fromhex(value[2:] if value.startswith("0x") else value)
        if isinstance(value, str)
        else bytes(value)
    )
    if len(raw) != 32:
        raise ChainError(f"Expected 32 bytes, got {len(raw)}", "pass a bytes32 value")
    return raw


def commitment_hash(
    task_id: int, round_: int, participant: str, model_commitment: bytes, salt: bytes
) -> bytes:
    """Return the commit-phase commitment the contract expects from ``participant``.

    Equals ``keccak256(abi.encode(taskId, round, participant, modelCommitment, salt))``.
    """
    return keccak(
        encode(
            ["uint256", "uint256", "address", "bytes32", "bytes32"],
            [task_id, round_, to_checksum_address(participant), _b32(model_commitment), _b32(salt)],
        )
    )


def round_test_set_commitment(
    test_set_cid: str, chunk_commitments: Sequence[bytes], salt: bytes
) -> bytes:
    """Return the hiding test-set commitment a publisher passes to ``openRound``.

    Equals ``keccak256(abi.encode(testSetCID, chunkCommitments, salt))``.
    """
    return keccak(
        encode(
            ["string", "bytes32[]", "bytes32"],
            [test_set_cid, [_b32(c) for c in chunk_commitments], _b32(salt)],
        )
    )


def next_submissions_digest(
    digest: bytes, participant: str, model_commitment: bytes, correct: int, salt: bytes
) -> bytes:
    """Fold one accepted submission into a round's submissions digest (arrival order).

    ``salt`` is the submitter's commit salt (``SubmissionVerified`` carries it): every input
    is fixed at commit time, so the digest, and the tie-break seed made from it, cannot be
    ground after the reveal.
    """
    return keccak(
        encode(
            ["bytes32", "address", "bytes32", "uint256", "bytes32"],
            [
                _b32(digest),
                to_checksum_address(participant),
                _b32(model_commitment),
                correct,
                _b32(salt),
            ],
        )
    )


LOG_BLOCK_RANGE = 10_000
"""Most blocks one ``eth_getLogs`` request spans: public testnet RPCs refuse a scan from
block 0 (and many cap a request at 10,000 blocks)."""

LOG_RETRIES = 3
"""Tries of one bounded log request before its error is reported."""


def block_ranges(start: int, stop: int, span: int = LOG_BLOCK_RANGE) -> Iterator[tuple[int, int]]:
    """``[from, to]`` pairs (inclusive) covering ``start..stop`` in at most ``span`` blocks each."""
    if span < 1:
        raise ValueError("span must be at least 1")
    low = start
    while low <= stop:
        high = min(low + span - 1, stop)
        yield low, high
        low = high + 1


@dataclass(frozen=True)
class BlockHeader:
    """A ZKPoT block header, field for field ``IZKPoT.BlockHeader``."""

    chain_id: int
    """Chain id of the chain the consensus contract runs on."""
    zkpot: str
    """Address of the consensus contract that appended the block."""
    task_id: int
    round: int
    prev_block_hash: bytes
    leader: str
    global_model_cid: str
    global_model_commitment: bytes
    global_correct: int
    test_set_commitment: bytes
    submissions_digest: bytes
    timestamp: int

    def hash(self) -> bytes:
        """Return ``keccak256(abi.encode(header))`` as the contract computes it."""
        return block_hash(self)


def block_hash(header: BlockHeader) -> bytes:
    """Return the block hash of ``header``: ``keccak256(abi.encode(header))``."""
    return keccak(
        encode(
            [
                "(uint256,address,uint256,uint256,bytes32,address,string,bytes32,uint256,bytes32,"
                "bytes32,uint256)"
            ],
            [
                (
                    header.chain_id,
                    to_checksum_address(header.zkpot),
                    header.task_id,
                    header.round,
                    _b32(header.prev_block_hash),
                    to_checksum_address(header.leader),
                    header.global_model_cid,
                    _b32(header.global_model_commitment),
                    header.global_correct,
                    _b32(header.test_set_commitment),
                    _b32(header.submissions_digest),
                    header.timestamp,
                )
            ],
        )
    )


@dataclass(frozen=True)
class ChunkProof:
    """One proof over one test-set chunk, as the verifier takes it."""

    proof: bytes
    """Proof bytes (EZKL EVM calldata's proof part)."""
    instances: tuple[int, ...]
    """Public instances as field elements."""


MAX_SUBMISSIONS_PER_ROUND = 64
"""The contract's ``MAX_SUBMISSIONS_PER_ROUND``: the most admitted submissions a round holds."""


@dataclass(frozen=True)
class TaskSpec:
    """Everything a publisher fixes when creating a task (``IZKPoT.TaskConfig``)."""

    circuit_id: bytes
    """Circuit id; must equal the verifier's ``circuitId()``."""
    verifier: str
    """Address of the ``IAccuracyVerifier`` adapter."""
    vk_digest: bytes
    """Digest of the VK artifact the verifier was set up with."""
    chunks_per_round: int
    """Proofs per submission, one per test-set chunk."""
    spec_cid: str
    """IPFS CID of the task specification."""
    initial_model_cid: str
    """IPFS CID of round 0's global model."""
    initial_model_commitment: bytes
    """Commitment of round 0's global model."""
    policy: AggregationPolicy = AggregationPolicy.FEDAVG
    """Aggregation policy."""
    commit_duration: int = 3600
    """Seconds from opening to the commit deadline."""
    reveal_duration: int = 3600
    """Seconds from the commit deadline to the reveal deadline."""
    submit_duration: int = 3600
    """Seconds from the reveal deadline to the submit deadline."""
    aggregate_duration: int = 3600
    """Seconds each leader has to publish."""
    allowlist: tuple[str, ...] | None = None
    """Accounts allowed to take part; ``None`` for an open task."""
    reward_token: str | None = None
    """ERC-20 of the reward pool, or ``None``."""
    reward_pool: int = 0
    """Amount pulled from the publisher at creation (approve it first)."""
    reward_per_round: int = 0
    """Amount each finalised round allocates."""
    leader_share_bps: int = 0
    """Leader's share of a round's reward, in basis points."""
    max_submissions: int = MAX_SUBMISSIONS_PER_ROUND
    """Most admitted submissions per round (1..64); a full round admits by rank."""
    aggregation_verifier: str | None = None
    """FEDAVG only: the ``IAggregationVerifier`` whose proof every publication then needs."""

    def as_tuple(self) -> tuple[Any, ...]:
        """The ``TaskConfig`` struct as ABI values."""
        return (
            _b32(self.circuit_id),
            self.verifier,
            _b32(self.vk_digest),
            self.chunks_per_round,
            int(self.policy),
            self.aggregation_verifier or ZERO_ADDRESS,
            self.commit_duration,
            self.reveal_duration,
            self.submit_duration,
            self.aggregate_duration,
            self.allowlist is not None,
            self.reward_token or ZERO_ADDRESS,
            self.reward_pool,
            self.reward_per_round,
            self.leader_share_bps,
            self.max_submissions,
            self.spec_cid,
            self.initial_model_cid,
            _b32(self.initial_model_commitment),
        )


@dataclass(frozen=True)
class TaskState:
    """Mutable state of a task (``IZKPoT.TaskState``)."""

    publisher: str
    closed: bool
    samples_per_proof: int
    round_count: int
    block_count: int
    global_model_cid: str
    global_model_commitment: bytes
    global_correct: int
    last_block_hash: bytes
    funded: int
    """Reward tokens received at creation (read from the rewards contract)."""
    unallocated: int
    """Reward tokens not yet allocated (read from the rewards contract)."""


@dataclass(frozen=True)
class RoundInfo:
    """A round's record (``IZKPoT.Round``)."""

    status: RoundStatus
    commit_deadline: int
    reveal_deadline: int
    submit_deadline: int
    aggregate_deadline: int
    global_model_cid: str
    global_model_commitment: bytes
    baseline_proven: bool
    """True once the starting global model's count on this round's chunks is proven."""
    baseline_correct: int
    """That count: the reward baseline."""
    test_set_commitment: bytes
    test_set_cid: str
    chunk_commitments: tuple[bytes, ...]
    submitters: tuple[str, ...]
    """Admitted submitters (evicted ones removed; order not meaningful)."""
    submissions_digest: bytes
    randao_seed: bytes
    """``prevrandao`` at the first admitted submission."""
    tie_seed: bytes
    """``keccak256(abi.encode(randaoSeed, submissionsDigest))``, fixed at leader selection."""
    leader: str
    included: tuple[str, ...]
    """Participants whose models the leader aggregated, as it published them."""
    new_model_cid: str
    new_model_commitment: bytes
    new_global_correct: int
    block_hash: bytes
    opened_block: int
    """Block number of ``openRound``: the round's events (proof and hand-off CIDs) follow it."""
    leader_reward: int
    """From the rewards contract (zero before finalisation or without a pool)."""
    participant_pool: int
    total_improvement: int
    hand_off_deadline: int = 0
    """End of the current leader's hand-off window (``aggregateDuration / 2`` after its
    selection); it closes earlier once every other admitted submitter handed off."""
    hand_offs: int = 0
    """Admitted submitters that handed their model off to the current leader."""


@dataclass(frozen=True)
class SubmissionInfo:
    """One participant's record in one round.

    ``IZKPoT.Submission`` from the lens, plus what the contract keeps in events only
    (commit salt, proof CID, hand-off), read from the round's logs over bounded block ranges.
    """

    commitment: bytes
    model_commitment: bytes
    correct: int
    verified: bool
    """True while admitted (false once evicted)."""
    evicted: bool
    """True once a better submission evicted it from a full round."""
    passed_over: bool
    salt: bytes
    proof_cid: str
    handoff_leader: str
    encrypted_model_cid: str
    claimed: bool = False
    """From the rewards contract: whether its reward for the round was claimed."""


@dataclass(frozen=True)
class SubmissionCheck:
    """What ``checkSubmission`` said about a would-be submission."""

    accepted: bool
    reason: str | None
    """Name of the custom error ``submit`` would revert with; ``None`` when accepted."""
    model_commitment: bytes
    correct: int


REJECTION_REASONS = (
    "unavailable",
    "undecryptable",
    "malformed",
    "wrong-architecture",
    "commitment-mismatch",
    "no-slot",
)
"""``IZKPoTAggregation.Rejection`` reason codes by index (the names of
:class:`zkpot.handoff.RejectionReason`)."""


@dataclass(frozen=True)
class AggregationRecord:
    """A leader's recorded aggregation proof (``AggregationProven``)."""

    leader: str
    global_commitment: bytes
    included: tuple[str, ...]
    """Handed-off participants aggregated, ascending (the leader's own model is slot 0)."""
    rejected: tuple[tuple[str, str], ...]
    """Every other hand-off to the leader, with its reason name."""
    block_number: int
    transaction_hash: str


def aggregate_digest(included: Iterable[str], global_commitment: bytes) -> bytes:
    """What ``provenAggregate`` holds once the leader's aggregation proof verified.

    ``keccak256(abi.encode(included, globalCommitment))`` with ``included`` ascending.
    """
    ordered = _ascending(included)
    return bytes(keccak(encode(["address[]", "bytes32"], [ordered, _b32(global_commitment)])))


def _included(included: Iterable[str], sender: Any) -> list[str]:
    """A leader's included list as the contracts take it: ascending, leader left out.

    The leader is an earner (and aggregation slot 0) by itself; listing it would read as
    a missing hand-off.
    """
    own = to_checksum_address(str(sender.address))
    return _ascending({to_checksum_address(a) for a in included} - {own})


def _ascending(addresses: Iterable[str]) -> list[str]:
    return sorted({to_checksum_address(a) for a in addresses}, key=lambda a: int(a, 16))


@dataclass
class ZKPoTClient:
    """A deployed ZKPoT contract, driven through ape.

    Construct with :meth:`deploy` or :meth:`at`; all calls go to ``contract``.
    """

    contract: Any
    """The ape contract instance."""
    _selectors: dict[bytes, str] = field(default_factory=dict, repr=False)
    _rewards: Any = field(default=None, repr=False)
    _aggregation: Any = field(default=None, repr=False)
    _lens: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for abi in self.contract.contract_type.errors:
            types = ",".join(inp.canonical_type for inp in abi.inputs)
            self._selectors[keccak(text=f"{abi.name}({types})")[:4]] = abi.name

    @property
    def rewards(self) -> Any:
        """The ``ZKPoTRewards`` contract (reward pools, ``claim``) this contract created.

        A publisher approves *this* address for a task's reward pool.
        """
        if self._rewards is None:
            from ape import project

            self._rewards = project.ZKPoTRewards.at(str(self.contract.rewards()))
        return self._rewards

    @property
    def lens(self) -> Any:
        """The ``ZKPoTLens`` contract this contract created: its records as structs.

        The consensus contract keeps no struct getters (EIP-170 headroom); ``taskConfig``,
        ``taskState``, ``getRound``, ``getSubmission`` and ``getBlock`` are the lens's,
        decoded from the consensus contract's storage.
        """
        if self._lens is None:
            from ape import project

            self._lens = project.ZKPoTLens.at(str(self.contract.lens()))
        return self._lens

    # ------------------------------------------------------------- deploy

    @classmethod
    def deploy(cls, sender: Any) -> ZKPoTClient:
        """Deploy a fresh ZKPoT contract from ``sender`` (the local project's build).

        It checks Groth16 global models' postings with this chain's availability contract
        (deployed first if this process has none on the chain: it is task-agnostic).
        """
        from ape import project

        from zkpot.availability.client import shared_availability

        availability = shared_availability(sender)
        contract = _transact(
            "deploy ZKPoT", lambda: sender.deploy(project.ZKPoT, availability.address)
        )
        return cls(contract)

    @classmethod
    def at(cls, address: str) -> ZKPoTClient:
        """Attach to a ZKPoT contract already deployed at ``address``."""
        from ape import project

        return cls(project.ZKPoT.at(address))

    @property
    def address(self) -> str:
        """The contract's address."""
        return str(self.contract.address)

    # ------------------------------------------------------------- tasks

    def create_task(self, spec: TaskSpec, sender: Any) -> int:
        """Create a task from ``spec``; returns its id. Approve the pool beforehand."""
        receipt = _transact(
            "createTask",
            lambda: self.contract.createTask(
                spec.as_tuple(), list(spec.allowlist or ()), sender=sender
            ),
        )
        events = list(receipt.events.filter(self.contract.TaskCreated))
        return int(events[0].taskId)

    def set_allowed(
        self, task_id: int, accounts: Iterable[str], allowed: bool, sender: Any
    ) -> None:
        """Publisher adds (``allowed``) or removes accounts from the task's allowlist."""
        _transact(
            "setAllowed",
            lambda: self.contract.setAllowed(task_id, list(accounts), allowed, sender=sender),
        )

    def join(self, task_id: int, encryption_public_key: bytes, sender: Any) -> None:
        """Join ``task_id`` with the X25519 public key models are encrypted to."""
        _transact(
            "join",
            lambda: self.contract.join(task_id, _b32(encryption_public_key), sender=sender),
        )

    def close_task(self, task_id: int, sender: Any) -> int:
        """Close the task; returns the unallocated reward refunded to the publisher."""
        receipt = _transact("closeTask", lambda: self.contract.closeTask(task_id, sender=sender))
        return int(next(iter(receipt.events.filter(self.contract.TaskClosed))).refunded)

    # ------------------------------------------------------------- rounds

    def open_round(self, task_id: int, test_set_commitment: bytes, sender: Any) -> int:
        """Open the task's next round over its current global model; returns the round."""
        receipt = _transact(
            "openRound",
            lambda: self.contract.openRound(task_id, _b32(test_set_commitment), sender=sender),
        )
        return int(next(iter(receipt.events.filter(self.contract.RoundOpened))).round)

    def commit(
        self, task_id: int, round_: int, model_commitment: bytes, salt: bytes, sender: Any
    ) -> bytes:
        """Commit to ``model_commitment`` with ``salt``; returns the commitment sent."""
        value = commitment_hash(task_id, round_, sender.address, model_commitment, salt)
        _transact("commit", lambda: self.contract.commit(task_id, round_, value, sender=sender))
        return value

    def reveal_test_set(
        self,
        task_id: int,
        round_: int,
        test_set_cid: str,
        chunk_commitments: Sequence[bytes],
        salt: bytes,
        sender: Any,
    ) -> None:
        """Publisher reveals the round's test set (must open the committed value)."""
        _transact(
            "revealTestSet",
            lambda: self.contract.revealTestSet(
                task_id,
                round_,
                test_set_cid,
                [_b32(c) for c in chunk_commitments],
                _b32(salt),
                sender=sender,
            ),
        )

    def check_submission(
        self,
        task_id: int,
        round_: int,
        participant: str,
        proofs: Sequence[ChunkProof],
        salt: bytes,
    ) -> SubmissionCheck:
        """Ask the contract whether ``submit`` from ``participant`` would be accepted now."""
        accepted, reason, model, correct = _call(
            "checkSubmission",
            lambda: self.contract.checkSubmission(
                task_id,
                round_,
                participant,
                [p.proof for p in proofs],
                [list(p.instances) for p in proofs],
                _b32(salt),
            ),
        )
        reason_bytes = bytes(reason)
        return SubmissionCheck(
            accepted=bool(accepted),
            reason=None if accepted else self._selectors.get(reason_bytes, reason_bytes.hex()),
            model_commitment=bytes(model),
            correct=int(correct),
        )

    def submit(
        self,
        task_id: int,
        round_: int,
        proofs: Sequence[ChunkProof],
        salt: bytes,
        proof_cid: str,
        sender: Any,
    ) -> Any:
        """Submit one proof per chunk; returns the receipt (its gas and events)."""
        return _transact(
            "submit",
            lambda: self.contract.submit(
                task_id,
                round_,
                [p.proof for p in proofs],
                [list(p.instances) for p in proofs],
                _b32(salt),
                proof_cid,
                sender=sender,
            ),
        )

    def select_leader(self, task_id: int, round_: int, sender: Any) -> str | None:
        """Select the leader after the submit deadline; ``None`` if the round closed empty."""
        _transact(
            "selectLeader", lambda: self.contract.selectLeader(task_id, round_, sender=sender)
        )
        return self._leader_or_none(task_id, round_)

    def replace_leader(self, task_id: int, round_: int, sender: Any) -> str | None:
        """Pass over a leader past its deadline; returns the new leader or ``None`` (empty)."""
        _transact(
            "replaceLeader", lambda: self.contract.replaceLeader(task_id, round_, sender=sender)
        )
        return self._leader_or_none(task_id, round_)

    def hand_off_model(
        self, task_id: int, round_: int, encrypted_model_cid: str, sender: Any
    ) -> None:
        """Record the CID of the sender's model encrypted to the current leader."""
        _transact(
            "handOffModel",
            lambda: self.contract.handOffModel(task_id, round_, encrypted_model_cid, sender=sender),
        )

    # ------------------------------------------------------ proven aggregation

    @property
    def aggregation(self) -> Any:
        """The ``ZKPoTAggregation`` contract this contract created (aggregation proofs)."""
        if self._aggregation is None:
            from ape import project

            self._aggregation = project.ZKPoTAggregation.at(str(self.contract.aggregation()))
        return self._aggregation

    def aggregation_verifier(self, task_id: int) -> str | None:
        """The task's ``IAggregationVerifier``, or ``None`` when aggregation is not proven."""
        address = str(self.lens.taskConfig(task_id).aggregationVerifier)
        return None if int(address, 16) == 0 else to_checksum_address(address)

    def prove_aggregation(
        self,
        task_id: int,
        round_: int,
        global_commitment: bytes,
        included: Iterable[str],
        rejected: Iterable[tuple[str, str]],
        proof: bytes,
        sender: Any,
    ) -> Any:
        """The leader records its aggregation proof (before :meth:`publish_global_model`).

        ``included``: handed-off participants aggregated (the leader is slot 0 by itself);
        ``rejected``: every other hand-off to the leader, with a :data:`REJECTION_REASONS`
        name. Both are sent in the ascending order the contract requires.
        """
        ordered = _included(included, sender)
        reasons = {str(to_checksum_address(a)): REJECTION_REASONS.index(r) for a, r in rejected}
        return _transact(
            "proveAggregation",
            lambda: self.aggregation.proveAggregation(
                task_id, round_, _b32(global_commitment), ordered,
                [(a, reasons[a]) for a in _ascending(reasons)], proof, sender=sender,
            ),
        )

    def proven_aggregate(self, task_id: int, round_: int, leader: str) -> bytes:
        """The digest of ``leader``'s recorded aggregation proof (zero bytes when none)."""
        return bytes(self.aggregation.provenAggregate(task_id, round_, leader))

    def aggregation_record(self, task_id: int, round_: int) -> AggregationRecord | None:
        """The round's final leader's last recorded aggregation proof (from its event)."""
        from ape import chain

        info = self.round(task_id, round_)
        leader = info.leader
        found = None
        for log in self.logs(
            self.aggregation.AggregationProven,
            info.opened_block,
            {"taskId": task_id, "round": round_},
            stop_block=int(chain.blocks.height),
        ):
            if to_checksum_address(str(log.leader)) == to_checksum_address(leader):
                found = log
        if found is None:
            return None
        return AggregationRecord(
            leader=to_checksum_address(str(found.leader)),
            global_commitment=bytes(found.globalCommitment),
            included=tuple(to_checksum_address(str(a)) for a in found.included),
            rejected=tuple(
                (to_checksum_address(str(r[0])), REJECTION_REASONS[int(r[1])])
                for r in found.rejected
            ),
            block_number=int(found.block_number),
            transaction_hash=str(found.transaction_hash),
        )

    def aggregation_proof(self, record: AggregationRecord) -> bytes:
        """The proof bytes the leader sent with ``record`` (read from its transaction)."""
        from ape import chain

        tx = chain.provider.web3.eth.get_transaction(record.transaction_hash)
        _, arguments = self.aggregation.decode_input(bytes(tx["input"]))
        return bytes(arguments["proof"])

    def publish_global_model(
        self,
        task_id: int,
        round_: int,
        global_model_cid: str,
        proofs: Sequence[ChunkProof],
        sender: Any,
        included: Iterable[str] = (),
    ) -> Any:
        """Leader publishes the new global model with one accuracy proof per chunk.

        ``included`` names the participants whose models the aggregate used (each must have
        handed its model off to this leader on chain; empty under leader-model); only they
        and the leader earn rewards. Sent in the ascending order the contract requires.
        """
        ordered = _included(included, sender)
        return _transact(
            "publishGlobalModel",
            lambda: self.contract.publishGlobalModel(
                task_id,
                round_,
                global_model_cid,
                ordered,
                [p.proof for p in proofs],
                [list(p.instances) for p in proofs],
                sender=sender,
            ),
        )

    def record_baseline(
        self, task_id: int, round_: int, proofs: Sequence[ChunkProof], sender: Any
    ) -> Any:
        """Prove the round's starting global model on the round's chunks (reward baseline).

        Sent by the publisher or the round's leader, after the reveal and before
        ``finalise``; a task with a reward pool cannot finalise a round without it.
        """
        return _transact(
            "recordBaseline",
            lambda: self.contract.recordBaseline(
                task_id,
                round_,
                [p.proof for p in proofs],
                [list(p.instances) for p in proofs],
                sender=sender,
            ),
        )

    def finalise(self, task_id: int, round_: int, sender: Any) -> bytes:
        """Append the round's block; returns its hash."""
        receipt = _transact(
            "finalise", lambda: self.contract.finalise(task_id, round_, sender=sender)
        )
        return bytes(next(iter(receipt.events.filter(self.contract.BlockFinalised))).blockHash)

    def claim(self, task_id: int, round_: int, sender: Any) -> int:
        """Claim the sender's reward for a finalised round; returns the amount paid."""
        rewards = self.rewards
        receipt = _transact("claim", lambda: rewards.claim(task_id, round_, sender=sender))
        return int(next(iter(receipt.events.filter(rewards.RewardClaimed))).amount)

    # -------------------------------------------------------------- views

    def task_count(self) -> int:
        """Number of tasks created."""
        return int(self.contract.taskCount())

    def task_state(self, task_id: int) -> TaskState:
        """The task's current state."""
        s = _call("taskState", lambda: self.lens.taskState(task_id))
        pool = self.rewards.pool(task_id)
        return TaskState(
            publisher=str(s.publisher),
            closed=bool(s.closed),
            samples_per_proof=int(s.samplesPerProof),
            round_count=int(s.roundCount),
            block_count=int(s.blockCount),
            global_model_cid=str(s.globalModelCID),
            global_model_commitment=bytes(s.globalModelCommitment),
            global_correct=int(s.globalCorrect),
            last_block_hash=bytes(s.lastBlockHash),
            funded=int(pool.funded),
            unallocated=int(pool.unallocated),
        )

    def round(self, task_id: int, round_: int) -> RoundInfo:
        """The round's stored record."""
        r = _call("getRound", lambda: self.lens.getRound(task_id, round_))
        paid = self.rewards.roundRewards(task_id, round_)
        return RoundInfo(
            status=RoundStatus(int(r.status)),
            commit_deadline=int(r.commitDeadline),
            reveal_deadline=int(r.revealDeadline),
            submit_deadline=int(r.submitDeadline),
            aggregate_deadline=int(r.aggregateDeadline),
            global_model_cid=str(r.globalModelCID),
            global_model_commitment=bytes(r.globalModelCommitment),
            baseline_proven=bool(r.baselineProven),
            baseline_correct=int(r.baselineCorrect),
            test_set_commitment=bytes(r.testSetCommitment),
            test_set_cid=str(r.testSetCID),
            chunk_commitments=tuple(bytes(c) for c in r.chunkCommitments),
            submitters=tuple(str(a) for a in r.submitters),
            submissions_digest=bytes(r.submissionsDigest),
            randao_seed=bytes(r.randaoSeed),
            tie_seed=bytes(r.tieSeed),
            leader=str(r.leader),
            included=tuple(str(a) for a in r.included),
            new_model_cid=str(r.newModelCID),
            new_model_commitment=bytes(r.newModelCommitment),
            new_global_correct=int(r.newGlobalCorrect),
            block_hash=bytes(r.blockHash),
            opened_block=int(r.openedBlock),
            leader_reward=int(paid.leaderReward),
            participant_pool=int(paid.participantPool),
            total_improvement=int(paid.totalImprovement),
            hand_off_deadline=int(r.handOffDeadline),
            hand_offs=int(r.handOffs),
        )

    def hand_offs_open(self, task_id: int, round_: int) -> bool:
        """Whether the set of hand-offs to the round's current leader may still grow.

        True before ``hand_off_deadline`` while some other admitted submitter has not handed
        off yet (after that a hand-off is refused, or only replaces a CID). A FedAvg leader
        can neither prove its aggregation nor publish while it is.
        """
        return bool(_call("handOffsOpen", lambda: self.lens.handOffsOpen(task_id, round_)))

    def phase(self, task_id: int, round_: int) -> Phase:
        """The round's phase at the current block time."""
        return Phase(int(_call("phaseOf", lambda: self.lens.phaseOf(task_id, round_))))

    def submission(self, task_id: int, round_: int, participant: str) -> SubmissionInfo:
        """The participant's record in the round (storage through the lens, CIDs from logs)."""
        s = _call(
            "getSubmission", lambda: self.lens.getSubmission(task_id, round_, participant)
        )
        model = bytes(s.modelCommitment)
        commitment = bytes(s.commitment)
        salt, proof_cid = b"\x00" * 32, ""
        handoff_leader, handoff_cid = ZERO_ADDRESS, ""
        submitted = bool(s.verified) or bool(s.evicted)
        passed_over = bool(s.passedOver)
        if submitted:
            opened = self.round_opened_block(task_id, round_)
            topics = {"taskId": task_id, "round": round_, "participant": participant}
            verified = self.logs(self.contract.SubmissionVerified, opened, topics)
            if verified:
                event = verified[-1]
                salt, proof_cid = bytes(event.salt), str(event.proofCID)
                commitment = commitment_hash(task_id, round_, participant, model, salt)
            handed = self.logs(self.contract.ModelHandedOff, opened, topics)
            if handed:
                handoff_leader = to_checksum_address(str(handed[-1].leader))
                handoff_cid = str(handed[-1].encryptedModelCID)
        return SubmissionInfo(
            commitment=commitment,
            model_commitment=model,
            correct=int(s.correct),
            verified=bool(s.verified),
            evicted=bool(s.evicted),
            passed_over=passed_over,
            salt=salt,
            proof_cid=proof_cid,
            handoff_leader=handoff_leader,
            encrypted_model_cid=handoff_cid,
            claimed=bool(self.rewards.claimed(task_id, round_, participant)),
        )

    def round_opened_block(self, task_id: int, round_: int) -> int:
        """The block ``openRound`` ran in (the round's logs start there)."""
        lens = self.lens
        return int(_call("getRound", lambda: lens.getRound(task_id, round_)).openedBlock)

    def logs(
        self,
        event: Any,
        start_block: int,
        topics: dict[str, Any],
        stop_block: int | None = None,
        span: int = LOG_BLOCK_RANGE,
    ) -> list[Any]:
        """``event``'s logs matching ``topics`` from ``start_block`` to the head, oldest first.

        Read in windows of at most ``span`` blocks (a testnet RPC refuses a scan from block
        0), each retried :data:`LOG_RETRIES` times before the error is reported.
        """
        from ape import chain

        stop = int(chain.blocks.height) if stop_block is None else stop_block
        found: list[Any] = []
        for low, high in block_ranges(start_block, stop, span):
            for attempt in range(LOG_RETRIES):
                try:
                    found.extend(event.range(low, high + 1, search_topics=topics))
                    break
                except Exception as err:  # noqa: BLE001 - an RPC error of any kind is retried
                    if attempt == LOG_RETRIES - 1:
                        raise ChainError(
                            f"Reading {event.name} logs of blocks {low}-{high} failed ({err})",
                            "check the RPC node; a smaller block range may help",
                        ) from err
        return found

    def participant_key(self, task_id: int, account: str) -> bytes | None:
        """The account's X25519 public key, or ``None`` if it has not joined."""
        joined, key = _call(
            "participantKey", lambda: self.lens.participantKey(task_id, account)
        )
        return bytes(key) if joined else None

    def is_allowed(self, task_id: int, account: str) -> bool:
        """Whether the account may take part in the task."""
        return bool(_call("isAllowed", lambda: self.lens.isAllowed(task_id, account)))

    def block(self, task_id: int, index: int) -> tuple[BlockHeader, bytes]:
        """Block ``index`` of the task's chain and its hash as stored."""
        header, digest = _call("getBlock", lambda: self.lens.getBlock(task_id, index))
        return header_from_abi(header), bytes(digest)

    def blocks(self, task_id: int) -> list[BlockHeader]:
        """All blocks of the task's chain, oldest first."""
        count = self.task_state(task_id).block_count
        return [self.block(task_id, i)[0] for i in range(count)]

    def has_reward_pool(self, task_id: int) -> bool:
        """Whether the task pays rewards (its rounds then need a proven baseline)."""
        token = str(_call("pool", lambda: self.rewards.pool(task_id)).token)
        return int(token, 16) != 0

    def claimable(self, task_id: int, round_: int, account: str) -> int:
        """Reward ``account`` can claim in the round now."""
        return int(_call("claimable", lambda: self.rewards.claimable(task_id, round_, account)))

    def code_hash(self, address: str) -> bytes:
        """keccak256 of the runtime code at ``address`` (``EXTCODEHASH``; empty code hashes too).

        Lets a participant check, before proving, that a task's verifier adapter runs the
        code its task document names.
        """
        from ape import chain

        code = chain.provider.get_code(to_checksum_address(address))
        return keccak(bytes(code))

    def verifier_vk_digest(self, address: str) -> bytes:
        """The ``vkDigest()`` an ``IAccuracyVerifier`` adapter checks proofs against."""
        from ape import Contract, project

        adapter = Contract(address, contract_type=project.IAccuracyVerifier.contract_type)
        return bytes(_call("vkDigest", lambda: adapter.vkDigest()))

    def _leader_or_none(self, task_id: int, round_: int) -> str | None:
        info = self.round(task_id, round_)
        return info.leader if info.status == RoundStatus.LEADER_SELECTED else None


def verify_chain(headers: Sequence[BlockHeader], last_block_hash: bytes) -> None:
    """Check that ``headers`` are hash-linked and end in ``last_block_hash``.

    Raises :class:`ChainError` naming the first broken link.
    """
    prev = b"\x00" * 32
    for i, header in enumerate(headers):
        if header.prev_block_hash != prev:
            raise ChainError(
                f"Block {i} does not link to block {i - 1}",
                "the chain was tampered with or read from a different contract",
            )
        prev = header.hash()
    if prev != last_block_hash:
        raise ChainError(
            "The last block's hash differs from the task's lastBlockHash",
            "re-read the blocks from the same contract",
        )


def header_from_abi(h: Any) -> BlockHeader:
    """A :class:`BlockHeader` from ABI-decoded values (struct object or tuple, ABI order)."""
    # ape returns a struct object for a single struct result and a plain tuple inside
    # multi-value results; both keep the ABI field order.
    values = list(h)
    return BlockHeader(
        chain_id=int(values[0]),
        zkpot=to_checksum_address(str(values[1])),
        task_id=int(values[2]),
        round=int(values[3]),
        prev_block_hash=bytes(values[4]),
        leader=to_checksum_address(str(values[5])),
        global_model_cid=str(values[6]),
        global_model_commitment=bytes(values[7]),
        global_correct=int(values[8]),
        test_set_commitment=bytes(values[9]),
        submissions_digest=bytes(values[10]),
        timestamp=int(values[11]),
    )


def _error_sentence(action: str, err: Exception) -> ChainError:
    from ape.exceptions import CustomError

    if isinstance(err, CustomError):
        name = err.abi.name
        args = ", ".join(f"{k}={v}" for k, v in err.inputs.items())
        detail = f"{name}({args})" if args else name
        return ChainError(f"The contract rejected {action}: {detail}", HINTS.get(name, ""))
    return ChainError(f"The contract rejected {action}: {err}", "check the arguments and phase")


def _transact(action: str, send: Any) -> Any:
    from ape.exceptions import ContractLogicError

    try:
        return send()
    except ContractLogicError as err:
        raise _error_sentence(action, err) from err


def _call(action: str, call: Any) -> Any:
    return _transact(action, call)


@dataclass(frozen=True)
class VerifierRecord:
    """The verifier adapter a deployment serves, as read from the adapter itself."""

    address: str
    circuit_id: str
    """``circuitId()`` as 0x-hex."""
    samples_per_proof: int
    vka_digest: str | None
    """``vkaDigest()`` (digest of the VK artifact) as 0x-hex, when the adapter exposes it."""
    code_hash: str | None = None
    """keccak256 of the adapter's runtime code as 0x-hex (what a participant compares)."""


@dataclass(frozen=True)
class Deployment:
    """What ``ape run deploy`` writes to ``deployments/<network>.json``."""

    network: str
    """ape network choice, e.g. ``ethereum:local:foundry``."""
    chain_id: int
    zkpot: str
    """Address of the ZKPoT contract."""
    deployer: str
    block_number: int
    verifier: VerifierRecord | None = None
    rewards: str | None = None
    """Address of the ZKPoTRewards contract the ZKPoT contract created (reward pools)."""
    artifact_cids: dict[str, str] = field(default_factory=dict)
    """IPFS CIDs of the circuit artifacts (settings, vk, compiled circuit, ...), by name."""

    def to_json(self) -> str:
        """Serialise as pretty JSON."""
        import json
        from dataclasses import asdict

        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Parse what :meth:`to_json` wrote."""
        import json

        raw = json.loads(text)
        verifier = raw.pop("verifier", None)
        return cls(**raw, verifier=VerifierRecord(**verifier) if verifier else None)


def deployment_path(network_name: str, root: Any = None) -> Any:
    """``deployments/<network>.json`` under ``root``.

    Without ``root``: under ``ZKPOT_DEPLOYMENTS_DIR`` when set (one record folder per
    local chain, e.g. beside its ``ZKPOT_STATE_DIR``), else the repository's ``deployments/``.
    """
    import os
    from pathlib import Path

    from zkpot.toolchain import repo_root

    if root is None and (env := os.environ.get("ZKPOT_DEPLOYMENTS_DIR")):
        return Path(env) / f"{network_name}.json"
    base = Path(root) if root is not None else repo_root()
    return base / "deployments" / f"{network_name}.json"


def write_deployment(
    client: ZKPoTClient,
    provider: Any,
    deployer: str,
    root: Any = None,
    verifier: VerifierRecord | None = None,
    artifact_cids: dict[str, str] | None = None,
) -> Any:
    """Record a fresh deployment in ``deployments/<network>.json``; return the path."""
    deployment = Deployment(
        network=f"{provider.network.choice}:{provider.name}",
        chain_id=int(provider.chain_id),
        zkpot=client.address,
        deployer=str(deployer),
        block_number=int(provider.get_block("latest").number),
        verifier=verifier,
        rewards=str(client.rewards.address),
        artifact_cids=dict(artifact_cids or {}),
    )
    path = deployment_path(network_file_stem(provider), root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(deployment.to_json())
    return path


def load_deployment(network_name: str, root: Any = None) -> Deployment:
    """Read ``deployments/<network>.json``; a ChainError says to deploy first if missing."""
    path = deployment_path(network_name, root)
    if not path.exists():
        raise ChainError(
            f"No deployment recorded for network {network_name} at {path}",
            "deploy with `zkpot deploy --network <choice>` or pass --contract",
        )
    return Deployment.from_json(path.read_text())


def read_verifier(address: str) -> VerifierRecord:
    """Read an ``IAccuracyVerifier`` adapter's identity from the chain."""
    from ape import Contract, project

    try:
        adapter = project.EzklAccuracyVerifier.at(address)
    except Exception:  # noqa: BLE001 - the adapter may not be in this build; use the interface
        adapter = Contract(address, contract_type=project.IAccuracyVerifier.contract_type)
    digest: str | None = None
    if hasattr(adapter, "vkaDigest"):
        digest = "0x" + bytes(adapter.vkaDigest()).hex()
    from ape import chain

    code = bytes(chain.provider.get_code(to_checksum_address(address)))
    return VerifierRecord(
        address=str(address),
        circuit_id="0x" + bytes(adapter.circuitId()).hex(),
        samples_per_proof=int(adapter.samplesPerProof()),
        vka_digest=digest,
        code_hash="0x" + keccak(code).hex(),
    )


def _first_line(error: BaseException) -> str:
    """The first line of an error's message, without ape's trailing "Options:" list."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line.removesuffix(":").removesuffix(" Options").rstrip(".:")


def _provider_uri(provider: Any) -> str | None:
    """The RPC URL a provider is configured with, without letting ape look one up."""
    for attribute in ("_configured_rpc", "_connected_uri"):
        try:
            value = getattr(provider, attribute, None)
        except Exception:  # noqa: BLE001 - a property of a plugin; absent is fine
            value = None
        if isinstance(value, str) and value:
            return value
    return None


def refuse_unconfigured_network(provider: Any, network: str) -> None:
    """Raise :class:`ChainError` if ``provider`` would pick a random public RPC.

    ape's node provider, given a live network (sepolia, mainnet, ...) without a
    configured URI and without ``WEB3_PROVIDER_URI``, tries up to ten public endpoints
    from ``evmchains``: zkpot never signs through an RPC the user did not choose.
    """
    import os

    from ape_ethereum.provider import EthereumNodeProvider

    if (
        isinstance(provider, EthereumNodeProvider)
        and not provider.network.is_dev
        and _provider_uri(provider) is None
        and not os.environ.get("WEB3_PROVIDER_URI")
    ):
        eco, net = provider.network.ecosystem.name, provider.network.name
        raise ChainError(
            f"Network {network} has no RPC URL configured",
            f"set `node: {eco}: {net}: uri: <URL>` in ape-config.yaml "
            f"or pass --network {eco}:{net}:<URL>",
        )


def pin_ape_project() -> None:
    """Make ape's project (contract types, ``ape-config.yaml``) the checkout's, from any cwd.

    ape builds its local project once, from the working directory of its first use; a
    participant running ``zkpot`` from its own working directory would otherwise get an
    empty project. The directory is switched only for that first use.
    """
    here = Path.cwd()
    os.chdir(toolchain.repo_root())
    try:
        from ape.utils.basemodel import ManagerAccessMixin

        ManagerAccessMixin.local_project.config  # noqa: B018 - built and cached here
    finally:
        os.chdir(here)


def _local_url_settings(network: str) -> dict[str, Any] | None:
    """Provider settings for ``<ecosystem>:local:<URL>``: the node's own chain id.

    ape's node provider signs local-network transactions with the chain id of its
    configuration (1337 unless set), so every transaction to an anvil (31337) at that URL
    failed with "invalid chain id for signer". The id is asked of the node itself
    (``eth_chainId``); a node that does not answer is left to the connection's own error.
    """
    parts = network.split(":", 2)
    if len(parts) != 3 or parts[1] != "local" or not parts[2].startswith(("http://", "https://")):
        return None
    import httpx

    try:
        reply = httpx.post(parts[2], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                           "params": []}, timeout=10.0)
        chain_id = int(reply.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return {parts[0]: {"local": {"chain_id": chain_id}}}


@contextmanager
def connect(network: str) -> Iterator[Any]:
    """Connect ape to ``network`` (an ape network choice) and yield the provider.

    Every way of failing to connect is one :class:`ChainError` sentence: an unknown
    ecosystem, network or provider; a live network without a configured RPC URL (never
    a random public one); a node that does not answer.
    """
    pin_ape_project()
    from ape import networks
    from ape.exceptions import ApeException

    try:
        context = networks.parse_network_choice(
            network, provider_settings=_local_url_settings(network)
        )
    except (ApeException, ValueError, KeyError) as error:
        raise ChainError(
            f"Unknown network {network!r} ({_first_line(error)})",
            "pass an ape network choice such as ethereum:local:foundry "
            "(`ape networks list` shows them)",
        ) from None
    # ape 0.8's ProviderContextManager keeps the unconnected provider here.
    provider = getattr(context, "_provider", None)
    if provider is not None:
        refuse_unconfigured_network(provider, network)
    with ExitStack() as stack:
        try:
            connected = stack.enter_context(context)
        except (ApeException, ConnectionError, OSError) as error:
            where = _provider_uri(provider) if provider is not None else None
            raise ChainError(
                f"Cannot connect to network {network}"
                + (f" at {where}" if where and where != network else "")
                + f" ({_first_line(error)})",
                "check that its node is running and the URL is right",
            ) from None
        yield connected


def network_file_stem(provider: Any) -> str:
    """Deployment file stem: the network name on ethereum (``local``), else ``eco-network``."""
    net = provider.network
    if net.ecosystem.name == "ethereum":
        return str(net.name)
    return f"{net.ecosystem.name}-{net.name}"


def client_for_network(provider: Any, address: str | None) -> tuple[ZKPoTClient, Deployment | None]:
    """The ZKPoT client at ``address``, or at the deployment recorded for the provider's network."""
    if address:
        return ZKPoTClient.at(address), None
    deployment = load_deployment(network_file_stem(provider))
    return ZKPoTClient.at(deployment.zkpot), deployment


def parse_bytes32(value: str) -> bytes:
    """Parse 0x-hex into 32 bytes; a ChainError says what was wrong otherwise."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as err:
        raise ChainError(f"{value!r} is not hex", "pass 32 bytes as 0x-prefixed hex") from err
    if len(raw) != 32:
        raise ChainError(f"Expected 32 bytes, got {len(raw)}", "pass 32 bytes as 0x-prefixed hex")
    return raw
