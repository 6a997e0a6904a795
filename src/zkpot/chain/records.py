"""Records and hashes of the consensus contract, as pure values (no ape import).

The hash helpers (:func:`commitment_hash`, :func:`round_test_set_commitment`,
:func:`block_hash`, :func:`next_submissions_digest`, :func:`aggregate_digest`) reproduce the
contract's ``abi.encode`` formulas exactly, so a client can prepare and audit values off chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from zkpot.errors import ChainError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


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
:class:`zkpot.model_codec.RejectionReason`)."""


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



def parse_bytes32(value: str) -> bytes:
    """Parse 0x-hex into 32 bytes; a ChainError says what was wrong otherwise."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as err:
        raise ChainError(f"{value!r} is not hex", "pass 32 bytes as 0x-prefixed hex") from err
    if len(raw) != 32:
        raise ChainError(f"Expected 32 bytes, got {len(raw)}", "pass 32 bytes as 0x-prefixed hex")
    return raw
