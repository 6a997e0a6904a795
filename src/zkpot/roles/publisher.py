"""The task publisher: builds the circuit, creates the task, runs each round's test set.

The publisher holds the held-out pool and a secret seed; each round's test set is
drawn from them, committed (hidden) when the round opens and revealed only after
the commit deadline, so no participant can train on it. Rounds use the pool up
without replacement (a revealed sample is never tested again), and the seed and
round salts stay in owner-only files (0600 in 0700 folders).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkpot.chain import (
    MAX_SUBMISSIONS_PER_ROUND,
    AggregationPolicy,
    RoundStatus,
    TaskSpec,
    round_test_set_commitment,
)
from zkpot.chain.verifiers import deploy_verifier
from zkpot.data import (
    PUBLIC_POOL_WARNING,
    DataError,
    Dataset,
    RoundTestSet,
    TestSetConfig,
    is_public_dataset,
    round_test_set,
    rounds_in_pool,
)
from zkpot.errors import StateError, ZkpotError
from zkpot.models import architecture_by_name, architecture_id, build_model
from zkpot.proving.backend import (
    Circuit,
    default_zk_dir,
    keys_from,
    load_circuit,
    setup_circuit,
    srs_identity,
)
from zkpot.proving.circuit import (
    BackendName,
    CircuitSpec,
    ModelBinding,
    TestSetBinding,
    new_blinding,
)
from zkpot.proving.folder_lock import circuit_lock
from zkpot.roles import keytrust
from zkpot.roles.artifacts import publish_circuit
from zkpot.roles.common import (
    Session,
    TaskDocument,
    batches,
    role_dir,
    upload_model,
    write_json,
)
from zkpot.state import restrict_private

POLICIES = {"fedavg": AggregationPolicy.FEDAVG, "leader-model": AggregationPolicy.LEADER_MODEL}
DEFAULT_AGGREGATION_SLOTS = 4
"""K on Groth16 fedavg tasks unless chosen: the leader and three hand-offs per proof
(337k constraints, ~100 s to prove for the default MLP; see results/aggregation.md)."""
MAX_AGGREGATION_SLOTS = 16
MAX_ALLOWLIST = 256
"""The most accounts ``createTask`` takes in one list (``TooManyAccounts``)."""


_ERC20_ABI = [
    {"type": "function", "name": name, "stateMutability": mutability,
     "inputs": [{"name": n, "type": t} for n, t in inputs],
     "outputs": [{"name": "", "type": out}]}
    for name, mutability, inputs, out in (
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("allowance", "view", [("owner", "address"), ("spender", "address")], "uint256"),
        ("approve", "nonpayable", [("spender", "address"), ("value", "uint256")], "bool"),
    )
]
"""The three ERC-20 functions the publisher needs: any standard token has them."""


def _reward_token(publisher: Any, token: str, amount: int) -> Any:
    """The pool's ERC-20, once it answers as one and ``publisher`` holds ``amount`` of it.

    Checked before any work (the circuit, IPFS uploads), so a wrong token costs nothing.
    """
    from ape import Contract
    from ethpm_types import ContractType

    if not _has_code(token):
        raise ZkpotError(f"No contract is deployed at the reward token {token}",
                         "pass the ERC-20's address on this network")
    erc20 = Contract(token, contract_type=ContractType.model_validate(
        {"contractName": "ERC20", "abi": _ERC20_ABI}))
    try:
        balance = int(erc20.balanceOf(publisher.address))
    except Exception as error:  # noqa: BLE001 - a token that is not ERC-20: one sentence
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ZkpotError(f"The reward token {token} did not answer as an ERC-20 ({first})",
                         "pass a standard ERC-20 token's address") from error
    if balance < amount:
        raise ZkpotError(
            f"{publisher.address} holds {balance} of the reward token, less than the "
            f"pool of {amount}",
            "fund the publisher's account or choose a smaller --reward-pool",
        )
    return erc20


def _approve_reward_pool(session: Session, publisher: Any, erc20: Any, amount: int) -> None:
    """Let the reward contract pull ``amount`` (what ``createTask`` moves into the pool)."""
    spender = str(session.client.rewards.address)
    if int(erc20.allowance(publisher.address, spender)) < amount:
        session.progress(f"approving {amount} of {erc20.address} for the reward pool")
        erc20.approve(spender, amount, sender=publisher)


def _has_code(address: str) -> bool:
    from ape import chain
    from eth_utils.address import to_checksum_address

    return bool(chain.provider.get_code(to_checksum_address(address)))


def _is_address(value: str) -> bool:
    body = value[2:] if value.startswith("0x") else ""
    return len(body) == 40 and all(c in "0123456789abcdefABCDEF" for c in body)


@dataclass(frozen=True)
class TaskOptions:
    """What a publisher chooses when creating a task."""

    name: str = "digits"
    """Human-readable task name."""
    architecture: str = "mlp-64-32-10"
    """Architecture every participant trains (see ``zkpot.models``)."""
    samples_per_proof: int = 16
    """Samples per test-set chunk (one proof each), at most 64."""
    chunks_per_round: int = 1
    """Chunks per round: the round's test set has ``samples_per_proof * chunks`` samples."""
    policy: str = "fedavg"
    """``fedavg`` or ``leader-model``."""
    model_binding: ModelBinding = "polycommit"
    """How weights are committed in the proof."""
    test_set_binding: TestSetBinding = "polycommit"
    """How the test chunk is bound to the proof."""
    backend: BackendName = "ezkl"
    """The proving backend (see :mod:`zkpot.proving.backend`)."""
    commit_duration: int = 600
    """Seconds participants have to commit after a round opens."""
    reveal_duration: int = 600
    """Seconds the publisher has to reveal the test set after the commit deadline."""
    submit_duration: int = 1800
    """Seconds participants have to prove and submit after the reveal deadline."""
    aggregate_duration: int = 1800
    """Seconds each leader has to publish the next global model."""
    initial_seed: int = 0
    """Seed of the round-0 global model's initial weights."""
    srs_path: Path | None = None
    """Powers-of-tau file (production); ``None`` generates an insecure one locally."""
    srs_sha256: str | None = None
    """Expected SHA-256 of ``srs_path``."""
    training: dict[str, float] = field(
        default_factory=lambda: {"epochs": 5.0, "lr": 0.05, "batch_size": 32.0}
    )
    """Suggested local training hyper-parameters, published in the task document."""
    allowlist: tuple[str, ...] | None = None
    """Accounts allowed to take part, or ``None`` for an open task."""
    max_submissions: int = MAX_SUBMISSIONS_PER_ROUND
    """Most admitted submissions per round (1..64); a full round admits by rank."""
    reward_token: str | None = None
    """ERC-20 the rewards are paid in, or ``None`` for a task without rewards."""
    reward_pool: int = 0
    """Token units moved from the publisher into the pool at creation (approved here)."""
    reward_per_round: int = 0
    """Token units each finalised round allocates (leader share, then by verified count)."""
    leader_share_bps: int = 0
    """The leader's share of a round's reward, in basis points (0..10000)."""
    aggregation_slots: int | None = None
    """K of the proven-aggregation circuit (fedavg on Groth16): the leader's model plus at
    most K - 1 hand-offs per round. ``None``: :data:`DEFAULT_AGGREGATION_SLOTS` on Groth16
    fedavg tasks, 0 otherwise; 0: the leader is trusted to aggregate (nothing proven)."""

    def check_incentives(self) -> None:
        """Refuse, before any work, an allowlist, limit or reward the contract would refuse."""
        if not 1 <= self.max_submissions <= MAX_SUBMISSIONS_PER_ROUND:
            raise ZkpotError(f"--max-submissions {self.max_submissions} is out of range",
                             f"choose 1 to {MAX_SUBMISSIONS_PER_ROUND}")
        if self.allowlist is not None:
            bad = [a for a in self.allowlist if not _is_address(a)]
            if bad:
                raise ZkpotError(f"--allow {bad[0]} is not an account address",
                                 "pass 0x followed by 40 hex digits")
            if len(self.allowlist) > MAX_ALLOWLIST:
                raise ZkpotError(f"{len(self.allowlist)} accounts are too many for one "
                                 "allowlist", f"pass at most {MAX_ALLOWLIST} (add more later)")
        rewarded = self.reward_pool > 0 or self.reward_per_round > 0 or self.leader_share_bps > 0
        if self.reward_token is None:
            if rewarded:
                raise ZkpotError("A reward pool, per-round reward or leader share needs a token",
                                 "pass --reward-token with the ERC-20's address")
            return
        if not _is_address(self.reward_token):
            raise ZkpotError(f"--reward-token {self.reward_token} is not a contract address",
                             "pass 0x followed by 40 hex digits")
        if not 0 < self.reward_per_round <= self.reward_pool:
            raise ZkpotError(
                f"A per-round reward of {self.reward_per_round} from a pool of "
                f"{self.reward_pool} pays no round",
                "pass --reward-pool and a --reward-per-round between 1 and the pool",
            )
        if not 0 <= self.leader_share_bps <= 10_000:
            raise ZkpotError(f"--leader-share-bps {self.leader_share_bps} is out of range",
                             "choose 0 to 10000 basis points")

    def proven_slots(self) -> int:
        """The K this task's aggregation is proven with (0: not proven).

        A clear error for a K the backend or policy cannot have.
        """
        provable = self.backend == "groth16" and self.policy == "fedavg"
        if self.aggregation_slots is None:
            return DEFAULT_AGGREGATION_SLOTS if provable else 0
        if self.aggregation_slots and not provable:
            raise ZkpotError(
                "Proven aggregation needs the groth16 backend and the fedavg policy",
                "create the task with --backend groth16 --policy fedavg, or --aggregation-slots 0",
            )
        if not 0 <= self.aggregation_slots <= MAX_AGGREGATION_SLOTS:
            raise ZkpotError(
                f"--aggregation-slots {self.aggregation_slots} is out of range",
                f"choose 0 (not proven) or 2 to {MAX_AGGREGATION_SLOTS}",
            )
        return self.aggregation_slots


@dataclass(frozen=True)
class PublisherSecrets:
    """The publisher's private record of a task (never published)."""

    task_id: int
    test_seed: int
    """Secret seed of the test-set draws (128 random bits, made per task); knowing it
    would reveal future test sets."""
    samples_per_proof: int
    chunks_per_round: int
    pool_sha256: str | None = None
    """SHA-256 of the held-out pool the task was created with: rounds use that pool up
    in a fixed order, so drawing from any other pool could reuse revealed samples.
    ``None`` in records written before it was kept."""


@dataclass(frozen=True)
class RoundSecrets:
    """What the publisher keeps between opening a round and revealing its test set."""

    round: int
    salt: str
    test_set_cid: str
    chunk_commitments: list[str]


def _task_dir(session: Session, publisher: str, task_id: int) -> Path:
    contract = session.client.address.lower()
    return role_dir("publisher", publisher.lower()) / f"{contract}-task-{task_id}"


def build_circuit(
    options: TaskOptions, calibration: Dataset, zk_dir: Path | None = None
) -> Circuit:
    """Build (or reuse) the task's circuit under ``zk/<short id>/``.

    A given ``srs_path`` is checked against its hash (a known public one or
    ``srs_sha256``) before anything else, and keys already there are reused only when
    they were made from that same phase-1 file (without one: only development keys).
    """
    arch = architecture_by_name(options.architecture)
    given_srs = (None if options.srs_path is None else
                 srs_identity(options.backend, options.srs_path, options.srs_sha256))
    spec = CircuitSpec(
        architecture=arch,
        samples=options.samples_per_proof,
        model_binding=options.model_binding,
        test_set_binding=options.test_set_binding,
        backend=options.backend,
    )
    directory = (zk_dir or default_zk_dir()) / spec.short_id
    with circuit_lock(directory):  # another build of this folder finishes first
        try:
            existing = load_circuit(directory)
            existing.require_keys()
            if existing.circuit_id == spec.circuit_id and keys_from(existing, given_srs):
                return existing
        except ZkpotError:
            pass
        [batch] = batches([calibration.subset(range(options.samples_per_proof))])
        return setup_circuit(
            spec,
            build_model(arch, options.initial_seed),
            batch,
            zk_dir=zk_dir,
            srs_path=options.srs_path,
            srs_sha256=options.srs_sha256,
        )


def create_task(
    session: Session,
    publisher: Any,
    options: TaskOptions,
    pool: Dataset,
    *,
    verifier: str | None = None,
) -> int:
    """Create a task on chain; return its id.

    Builds the circuit if needed, deploys its verifier adapter unless ``verifier``
    is given, publishes the artifacts, the initial model and the task document.
    """
    if options.policy not in POLICIES:
        raise ZkpotError(
            f"Unknown aggregation policy {options.policy!r}", "use fedavg or leader-model"
        )
    per_round = TestSetConfig(
        samples_per_chunk=options.samples_per_proof, chunks=options.chunks_per_round
    )
    if rounds_in_pool(len(pool), per_round) < 1:
        raise DataError(
            f"The held-out pool has {len(pool)} samples, fewer than one round's "
            f"{per_round.size}, so no round of this task could ever be opened",
            "hold out more data or use fewer/smaller chunks",
        )
    arch = architecture_by_name(options.architecture)
    public_pool = is_public_dataset(pool)
    if public_pool:
        print(
            PUBLIC_POOL_WARNING.format(name=pool.name.split(":")[0]), file=sys.stderr, flush=True
        )
    slots = options.proven_slots()
    options.check_incentives()
    token = (None if options.reward_token is None
             else _reward_token(publisher, options.reward_token, options.reward_pool))
    if options.srs_path is None:
        # Development keys only (INSECURE): refused off a local devnet before any work.
        session.check_keys("The new task", "", [keytrust.ACCURACY], announce=False,
                           instead=keytrust.SET_UP)
    artifacts = build_circuit(options, pool, session.zk_dir)
    aggregator = None
    if slots:
        # Set up before publishing: its files travel with the circuit's.
        session.progress(f"setting up the {slots}-slot aggregation circuit")
        with circuit_lock(artifacts.directory):
            aggregator = artifacts.setup_aggregation(slots, options.srs_path,
                                                     options.srs_sha256)
    # Every key set, from its own records, before anything is deployed.
    session.check_circuit_keys(artifacts, "The new task", keytrust.SET_UP)
    adapter = verifier or deploy_verifier(artifacts.verifier_artifacts(), publisher)
    aggregation_verifier = None
    if aggregator is not None:
        aggregation_verifier = deploy_verifier(aggregator.verifier_artifacts(), publisher)
    circuit = publish_circuit(session.storage, artifacts, progress=session.progress,
                              meter=session.meter)
    initial = build_model(arch, options.initial_seed)
    # Published with the model, so every participant can recompute its commitment.
    initial_blinding = new_blinding()
    initial_cid = upload_model(session.storage, initial, arch, initial_blinding)
    document = TaskDocument(
        name=options.name,
        architecture=arch.name,
        architecture_id=architecture_id(arch),
        circuit=circuit,
        samples_per_proof=options.samples_per_proof,
        chunks_per_round=options.chunks_per_round,
        policy=options.policy,
        dataset=pool.name.split(":")[0],
        training=dict(options.training),
        public_pool=public_pool,
        verifier_code_hash=session.client.code_hash(adapter).hex(),
        aggregation_slots=slots,
    )
    spec_cid = session.storage.add_json(document.to_json(), name="task.json")
    session.storage.pin(spec_cid)
    if token is not None:
        _approve_reward_pool(session, publisher, token, options.reward_pool)
    task_id = session.client.create_task(
        TaskSpec(
            circuit_id=bytes.fromhex(artifacts.circuit_id),
            verifier=adapter,
            vk_digest=artifacts.vk_digest(),
            chunks_per_round=options.chunks_per_round,
            spec_cid=spec_cid,
            initial_model_cid=initial_cid,
            initial_model_commitment=artifacts.model_commitment(
                initial, blinding=initial_blinding
            ),
            policy=POLICIES[options.policy],
            commit_duration=options.commit_duration,
            reveal_duration=options.reveal_duration,
            submit_duration=options.submit_duration,
            aggregate_duration=options.aggregate_duration,
            allowlist=options.allowlist,
            aggregation_verifier=aggregation_verifier,
            max_submissions=options.max_submissions,
            reward_token=options.reward_token,
            reward_pool=options.reward_pool,
            reward_per_round=options.reward_per_round,
            leader_share_bps=options.leader_share_bps,
        ),
        sender=publisher,
    )
    secrets_ = PublisherSecrets(
        task_id=task_id,
        test_seed=secrets.randbits(128),
        samples_per_proof=options.samples_per_proof,
        chunks_per_round=options.chunks_per_round,
        pool_sha256=pool_digest(pool),
    )
    directory = _task_dir(session, publisher.address, task_id)
    if directory.exists():
        # Files of a task with this id on a chain that was reset: keep them aside.
        directory.rename(directory.with_name(f"{directory.name}.stale-{time.time_ns()}"))
    write_json(directory / "task.json", asdict(secrets_))
    return task_id


def _load_secrets(session: Session, publisher: str, task_id: int) -> PublisherSecrets:
    path = _task_dir(session, publisher, task_id) / "task.json"
    if not path.is_file():
        raise StateError(
            f"This machine has no publisher record of task {task_id} for {publisher}",
            "run the round commands on the machine and account that created the task",
        )
    restrict_private(path)
    return PublisherSecrets(**json.loads(path.read_text()))


def pool_digest(pool: Dataset) -> str:
    """SHA-256 (hex) of the pool's samples and labels, in order."""
    return hashlib.sha256(pool.to_bytes()).hexdigest()


def _test_set(secrets_: PublisherSecrets, pool: Dataset, round_: int) -> RoundTestSet:
    if secrets_.pool_sha256 is not None and pool_digest(pool) != secrets_.pool_sha256:
        raise StateError(
            f"The held-out pool given ({len(pool)} samples) is not the one task "
            f"{secrets_.task_id} was created with, and drawing from another pool could "
            "reuse revealed samples",
            "pass the same --data, --holdout and --seed as at `zkpot task create`",
        )
    config = TestSetConfig(
        samples_per_chunk=secrets_.samples_per_proof,
        chunks=secrets_.chunks_per_round,
        seed=secrets_.test_seed,
    )
    return round_test_set(pool, round_, config)


def open_round(session: Session, publisher: Any, task_id: int, pool: Dataset) -> int:
    """Draw the next round's test set, commit to it (hidden) and open the round."""
    secrets_ = _load_secrets(session, publisher.address, task_id)
    state, document = session.task(task_id)
    round_ = state.round_count
    if round_ > 0 and _opened_earlier(session, publisher.address, task_id, round_ - 1):
        return round_ - 1  # an earlier run opened it and lost the node's reply
    round_file = _task_dir(session, publisher.address, task_id) / f"round-{round_}.json"
    # Refuses (one sentence) a round the pool cannot fill without reusing a sample.
    test_set = _test_set(secrets_, pool, round_)
    if round_file.is_file():
        # A crash after writing the secrets but before the transaction: reuse them.
        restrict_private(round_file)
        kept = RoundSecrets(**json.loads(round_file.read_text()))
    else:
        artifacts = session.circuit(document)
        kept = RoundSecrets(
            round=round_,
            salt="0x" + secrets.token_bytes(32).hex(),
            test_set_cid=session.storage.cid_of(test_set.combined().to_bytes()),
            chunk_commitments=[
                "0x" + artifacts.test_set_commitment(b).hex()
                for b in batches(test_set.chunks)
            ],
        )
        write_json(round_file, asdict(kept))
    return session.client.open_round(task_id, _round_commitment(kept), sender=publisher)


def _round_commitment(kept: RoundSecrets) -> bytes:
    return round_test_set_commitment(
        kept.test_set_cid,
        [bytes.fromhex(c[2:]) for c in kept.chunk_commitments],
        bytes.fromhex(kept.salt[2:]),
    )


def _opened_earlier(session: Session, publisher: str, task_id: int, round_: int) -> bool:
    """Whether ``round_`` is open with this machine's test-set commitment for it.

    A run whose ``openRound`` reached the node but whose reply was lost (the RPC node
    stopped answering) finds its round open; running the command again must not open
    another.
    """
    round_file = _task_dir(session, publisher, task_id) / f"round-{round_}.json"
    if not round_file.is_file():
        return False
    kept = RoundSecrets(**json.loads(round_file.read_text()))
    info = session.client.round(task_id, round_)
    return info.status == RoundStatus.OPEN and info.test_set_commitment == _round_commitment(kept)


def reveal(session: Session, publisher: Any, task_id: int, round_: int, pool: Dataset) -> str:
    """Publish the round's test set on IPFS and reveal it on chain; return its CID."""
    secrets_ = _load_secrets(session, publisher.address, task_id)
    round_file = _task_dir(session, publisher.address, task_id) / f"round-{round_}.json"
    if not round_file.is_file():
        raise StateError(
            f"No committed test set for task {task_id} round {round_} on this machine",
            "open the round from this machine first",
        )
    restrict_private(round_file)
    kept = RoundSecrets(**json.loads(round_file.read_text()))
    test_set = _test_set(secrets_, pool, round_).combined()
    cid = session.storage.add(test_set.to_bytes(), name="test-set")
    if cid != kept.test_set_cid:
        raise StateError(
            "The regenerated test set does not match the one committed",
            "use the same held-out data and seed the round was opened with",
        )
    session.storage.pin(cid)
    if session.client.round(task_id, round_).test_set_cid == cid:
        return cid  # revealed by an earlier run whose reply was lost
    session.client.reveal_test_set(
        task_id,
        round_,
        cid,
        [bytes.fromhex(c[2:]) for c in kept.chunk_commitments],
        bytes.fromhex(kept.salt[2:]),
        sender=publisher,
    )
    return cid
