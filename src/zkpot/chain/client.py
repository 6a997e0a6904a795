"""Typed client for the ZKPoT consensus contract, over ape.

Every transaction method takes the sending ape account and returns what the
contract decided (ids, hashes, amounts); a revert becomes a :class:`ChainError`
naming the contract's custom error and saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from zkpot.chain.records import (
    LOG_BLOCK_RANGE,
    LOG_RETRIES,
    REJECTION_REASONS,
    ZERO_ADDRESS,
    AggregationRecord,
    BlockHeader,
    ChunkProof,
    Phase,
    RoundInfo,
    RoundStatus,
    SubmissionCheck,
    SubmissionInfo,
    TaskSpec,
    TaskState,
    _ascending,
    _b32,
    _included,
    block_ranges,
    commitment_hash,
    header_from_abi,
)
from zkpot.chain.rpc import RpcUnavailable, lost_node
from zkpot.chain.transactions import TxJournal, TxPolicy, settle
from zkpot.chain.transactions import send as send_transaction
from zkpot.errors import ChainError
from zkpot.revert_hints import HINTS


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
    tx_policy: TxPolicy = field(default_factory=TxPolicy)
    """Confirmations, fee cap and replacement of every transaction this client sends."""

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

    def _send(self, method: Any, *args: Any, sender: Any, journal: TxJournal | None = None) -> Any:
        """Send ``method(*args)`` from ``sender`` under :attr:`tx_policy`; the confirmed receipt."""
        action = str(method.abis[0].name)
        return _transact(
            action,
            lambda: send_transaction(
                action, method, *args, sender=sender, policy=self.tx_policy, journal=journal
            ),
        )

    def confirm(self, action: str, journal: TxJournal, sender: Any) -> Any:
        """The confirmed receipt of ``journal``'s recorded transactions, or ``None``.

        ``None`` when nothing is recorded or every recorded transaction is void (its nonce
        taken by another); otherwise waits as :func:`zkpot.chain.transactions.settle` does.
        """
        if not journal.sent():
            return None
        return _transact(action, lambda: settle(action, journal, sender, self.tx_policy))

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
        receipt = self._send(
            self.contract.createTask, spec.as_tuple(), list(spec.allowlist or ()), sender=sender
        )
        events = list(receipt.events.filter(self.contract.TaskCreated))
        return int(events[0].taskId)

    def set_allowed(
        self, task_id: int, accounts: Iterable[str], allowed: bool, sender: Any
    ) -> None:
        """Publisher adds (``allowed``) or removes accounts from the task's allowlist."""
        self._send(self.contract.setAllowed, task_id, list(accounts), allowed, sender=sender)

    def join(
        self,
        task_id: int,
        encryption_public_key: bytes,
        sender: Any,
        journal: TxJournal | None = None,
    ) -> Any:
        """Join ``task_id`` with the X25519 public key models are encrypted to; the receipt."""
        return self._send(
            self.contract.join,
            task_id,
            _b32(encryption_public_key),
            sender=sender,
            journal=journal,
        )

    def close_task(self, task_id: int, sender: Any) -> int:
        """Close the task; returns the unallocated reward refunded to the publisher."""
        receipt = self._send(self.contract.closeTask, task_id, sender=sender)
        return int(next(iter(receipt.events.filter(self.contract.TaskClosed))).refunded)

    # ------------------------------------------------------------- rounds

    def open_round(self, task_id: int, test_set_commitment: bytes, sender: Any) -> int:
        """Open the task's next round over its current global model; returns the round."""
        receipt = self._send(
            self.contract.openRound, task_id, _b32(test_set_commitment), sender=sender
        )
        return int(next(iter(receipt.events.filter(self.contract.RoundOpened))).round)

    def commit(
        self,
        task_id: int,
        round_: int,
        model_commitment: bytes,
        salt: bytes,
        sender: Any,
        journal: TxJournal | None = None,
    ) -> bytes:
        """Commit to ``model_commitment`` with ``salt``; returns the commitment sent."""
        value = commitment_hash(task_id, round_, sender.address, model_commitment, salt)
        self._send(self.contract.commit, task_id, round_, value, sender=sender, journal=journal)
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
        self._send(
            self.contract.revealTestSet,
            task_id,
            round_,
            test_set_cid,
            [_b32(c) for c in chunk_commitments],
            _b32(salt),
            sender=sender,
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
        journal: TxJournal | None = None,
    ) -> Any:
        """Submit one proof per chunk; returns the receipt (its gas and events)."""
        return self._send(
            self.contract.submit,
            task_id,
            round_,
            [p.proof for p in proofs],
            [list(p.instances) for p in proofs],
            _b32(salt),
            proof_cid,
            sender=sender,
            journal=journal,
        )

    def select_leader(self, task_id: int, round_: int, sender: Any) -> str | None:
        """Select the leader after the submit deadline; ``None`` if the round closed empty."""
        self._send(self.contract.selectLeader, task_id, round_, sender=sender)
        return self._leader_or_none(task_id, round_)

    def replace_leader(self, task_id: int, round_: int, sender: Any) -> str | None:
        """Pass over a leader past its deadline; returns the new leader or ``None`` (empty)."""
        self._send(self.contract.replaceLeader, task_id, round_, sender=sender)
        return self._leader_or_none(task_id, round_)

    def hand_off_model(
        self,
        task_id: int,
        round_: int,
        encrypted_model_cid: str,
        sender: Any,
        journal: TxJournal | None = None,
    ) -> Any:
        """Record the CID of the sender's model encrypted to the current leader; the receipt."""
        return self._send(
            self.contract.handOffModel,
            task_id,
            round_,
            encrypted_model_cid,
            sender=sender,
            journal=journal,
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
        return self._send(
            self.aggregation.proveAggregation,
            task_id,
            round_,
            _b32(global_commitment),
            ordered,
            [(a, reasons[a]) for a in _ascending(reasons)],
            proof,
            sender=sender,
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
        return self._send(
            self.contract.publishGlobalModel,
            task_id,
            round_,
            global_model_cid,
            ordered,
            [p.proof for p in proofs],
            [list(p.instances) for p in proofs],
            sender=sender,
        )

    def record_baseline(
        self, task_id: int, round_: int, proofs: Sequence[ChunkProof], sender: Any
    ) -> Any:
        """Prove the round's starting global model on the round's chunks (reward baseline).

        Sent by the publisher or the round's leader, after the reveal and before
        ``finalise``; a task with a reward pool cannot finalise a round without it.
        """
        return self._send(
            self.contract.recordBaseline,
            task_id,
            round_,
            [p.proof for p in proofs],
            [list(p.instances) for p in proofs],
            sender=sender,
        )

    def finalise(self, task_id: int, round_: int, sender: Any) -> bytes:
        """Append the round's block; returns its hash."""
        receipt = self._send(self.contract.finalise, task_id, round_, sender=sender)
        return bytes(next(iter(receipt.events.filter(self.contract.BlockFinalised))).blockHash)

    def claim(self, task_id: int, round_: int, sender: Any) -> int:
        """Claim the sender's reward for a finalised round; returns the amount paid."""
        rewards = self.rewards
        receipt = self._send(rewards.claim, task_id, round_, sender=sender)
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
        s = _call("getSubmission", lambda: self.lens.getSubmission(task_id, round_, participant))
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
                except RpcUnavailable:
                    raise  # the transport retried already; its sentence names the node
                except Exception as err:  # noqa: BLE001 - an RPC error of any kind is retried
                    if attempt == LOG_RETRIES - 1:
                        raise ChainError(
                            f"Reading {event.name} logs of blocks {low}-{high} failed ({err})",
                            "check the RPC node; a smaller block range may help",
                        ) from err
        return found

    def participant_key(self, task_id: int, account: str) -> bytes | None:
        """The account's X25519 public key, or ``None`` if it has not joined."""
        joined, key = _call("participantKey", lambda: self.lens.participantKey(task_id, account))
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
    except Exception as err:
        # A node lost mid-call, wrapped by ape (e.g. in a VirtualMachineError): its sentence.
        lost = lost_node(err)
        if lost is None or lost is err:
            raise
        raise lost from err


def _call(action: str, call: Any) -> Any:
    return _transact(action, call)
