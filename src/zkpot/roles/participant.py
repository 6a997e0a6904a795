"""A participant: train privately, commit, prove accuracy, submit, hand the model to the leader.

Every step is recorded in the participant's SQLite store before and after its
external effect (:mod:`zkpot.state`), so a process killed anywhere can be rerun:
finished steps are skipped, a step whose transaction may have been sent is
reconciled with the chain before anything is sent again, and the salt and keys
are never regenerated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zkpot.chain import ChunkProof, Phase, SubmissionInfo, commitment_hash
from zkpot.chain.transactions import hex_hash
from zkpot.data import Dataset
from zkpot.errors import ChainError, StateError
from zkpot.handoff import KeyPair, send_model
from zkpot.limits import test_set_cap
from zkpot.model_codec import decode_model, model_bytes, model_from_bytes
from zkpot.models import build_model
from zkpot.proving import curve
from zkpot.proving.backend import AccuracyProof
from zkpot.proving.circuit import Blinding, TestBatch, check_blinding, chunks, new_blinding
from zkpot.roles.availability import fetch_available_global_model
from zkpot.roles.common import Session, TaskDocument
from zkpot.roles.precheck import check_test_set, check_verifier
from zkpot.state import ParticipantState, RoundRecord, Step, default_path, write_private

if TYPE_CHECKING:
    from torch import nn

ProgressFn = Callable[[str], None]
COMMANDS = {
    Step.STARTED: "train",
    Step.TRAINED: "train",
    Step.COMMITTED: "commit",
    Step.PROVED: "prove",
    Step.SUBMITTED: "submit",
    Step.HANDED_OFF: "send-model",
}
"""The CLI command that performs each step."""


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True)
class TrainingConfig:
    """Local training hyper-parameters."""

    epochs: int = 5
    lr: float = 0.05
    batch_size: int = 32
    seed: int = 0
    """Seed of the sample order (with the round number)."""
    untrained: bool = False
    """Submit a freshly initialised model instead of training (a lazy participant)."""


def task_key(session: Session, task_id: int) -> str:
    """The local key of a task: contract address and task id (deployments differ)."""
    return f"{session.client.address.lower()}:{task_id}"


def proof_bundle(proofs: list[AccuracyProof]) -> dict[str, Any]:
    """The JSON document of a submission's proofs, as published on IPFS.

    It holds the backend's own proof files (EZKL's JSON, or the Groth16 proof file with
    snarkjs's JSON inside), so anyone can re-verify them with that backend's tools.
    """
    return {
        "format": "zkpot-proofs/1",
        "proofs": [json.loads(p.path.read_text()) for p in proofs],
    }


def parse_proof_bundle(data: Any) -> list[dict[str, Any]]:
    """The proof files in a bundle written by :func:`proof_bundle`.

    Untrusted JSON: every proof file must hold a hex ``hex_proof`` and ``instances`` as
    lists of hex field elements (so :func:`chunk_proof` cannot fail on it); anything
    else is one :class:`StateError`.
    """
    if not isinstance(data, dict) or data.get("format") != "zkpot-proofs/1":
        raise StateError("The proof bundle is not a zkpot-proofs/1 document", "check the CID")
    proofs = data.get("proofs")
    if not isinstance(proofs, list) or not all(isinstance(p, dict) for p in proofs):
        raise StateError("The proof bundle holds no proof files", "check the CID")
    for i, proof in enumerate(proofs):
        try:
            chunk_proof(proof)
        except StateError as error:
            raise StateError(f"Proof {i} in the bundle is malformed", "check the CID") from error
    return proofs


def chunk_proof(proof_file: dict[str, Any]) -> ChunkProof:
    """The calldata form (proof bytes, instances) of one proof file.

    Both backends write ``hex_proof`` and ``instances`` (little-endian hex field elements).
    """
    try:
        hex_proof, instances = proof_file["hex_proof"], proof_file["instances"]
        if not isinstance(hex_proof, str) or not isinstance(instances, list):
            raise TypeError("hex_proof must be a string and instances a list")
        felts = [v for group in instances for v in group]
        if not all(isinstance(v, str) and len(v.removeprefix("0x")) <= 64 for v in felts):
            raise TypeError("an instance is not a 32-byte hex field element")
        return ChunkProof(
            bytes.fromhex(hex_proof.removeprefix("0x")),
            tuple(curve.felt_from_hex(v) for v in felts),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise StateError("A proof in the bundle is malformed", "check the CID") from error


class Participant:
    """One participant (an account plus its local state) in one deployment."""

    def __init__(
        self,
        session: Session,
        account: Any,
        name: str,
        state: ParticipantState | None = None,
        progress: ProgressFn = _noop,
    ) -> None:
        self.session = session
        self.account = account
        self.name = name
        self.state = state or ParticipantState(default_path(name))
        self.identity = self.state.ensure_identity(
            name=name,
            eth_alias=str(getattr(account, "alias", "") or ""),
            eth_address=str(account.address),
        )
        self.progress = progress
        self.home = default_path(name).parent
        self.last_gas = 0
        """Gas of the last ``submit`` this object sent (0 if none)."""
        self.last_prove_seconds = 0.0
        """Wall time of the proofs the last ``prove`` made (0 if it made none)."""

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def keypair(self) -> KeyPair:
        return self.identity.keypair

    # -- helpers ---------------------------------------------------------------------

    def _chain_submission(self, task_id: int, round_: int) -> SubmissionInfo:
        return self.session.client.submission(task_id, round_, self.address)

    def _record(self, task_id: int, round_: int) -> RoundRecord:
        return self.state.start_round(task_key(self.session, task_id), round_)

    def _begin(self, task_id: int, round_: int, step: Step) -> tuple[RoundRecord, bool]:
        """The round's record, and whether ``step`` is still to do.

        Raises a :class:`StateError` naming the command to run first when the step
        before ``step`` is not done.
        """
        self.session.require_round(task_id, round_)  # before any local record
        record = self._record(task_id, round_)
        if record.step >= step:
            return record, False
        if record.step < step - 1:
            raise StateError(
                f"Round {round_} of task {task_id} is at step {record.step.name.lower()}, "
                f"so `zkpot {COMMANDS[step]}` cannot run yet",
                f"run `zkpot {COMMANDS[Step(step - 1)]}` first",
            )
        return record, True

    def _model(self, record: RoundRecord, document: TaskDocument) -> nn.Module:
        if record.model_path is None or not record.model_path.is_file():
            raise StateError(
                f"The trained model of round {record.round} is missing from {record.model_path}",
                "the model file was deleted; it cannot be recovered without retraining "
                "in a new round",
            )
        data = record.model_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != record.model_hash:
            raise StateError(
                f"The model file {record.model_path} changed since it was trained",
                "restore the original file; a different model would not match the commitment",
            )
        return model_from_bytes(data, document.arch)

    def _model_and_blinding(
        self, record: RoundRecord, document: TaskDocument
    ) -> tuple[nn.Module, Blinding]:
        model = self._model(record, document)
        assert record.model_path is not None  # checked by _model
        payload = decode_model(record.model_path.read_bytes(), architecture=document.architecture)
        if payload.blinding is None:
            raise StateError(
                f"The model file {record.model_path} holds no blinding (written by an older "
                "zkpot)",
                "train the model again in this round with this version of zkpot",
            )
        return model, check_blinding(payload.blinding)

    # -- steps -----------------------------------------------------------------------

    def join(self, task_id: int) -> None:
        """Join the task with this participant's X25519 public key (once)."""
        self.session.require_task(task_id)
        key = task_key(self.session, task_id)
        joined = self.state.task(key)
        if joined is not None and joined.join_tx:
            return
        journal = self.state.journal(key, -1, "join")
        client = self.session.client
        if client.participant_key(task_id, self.address) is None:
            receipt = client.join(task_id, self.keypair.public, sender=self.account,
                                  journal=journal)
        else:
            receipt = client.confirm("join", journal, self.account)
        self.state.mark_joined(key, tx_hash=_tx_hash(receipt, "joined"))

    def train(
        self, task_id: int, round_: int, data: Dataset, config: TrainingConfig
    ) -> RoundRecord:
        """Train from the round's global model on private data and save the model."""
        record, pending = self._begin(task_id, round_, Step.TRAINED)
        if not pending:
            return record
        _, document = self.session.task(task_id)
        info = self.session.client.round(task_id, round_)
        arch = document.arch
        if data.num_features != arch.input_size:
            raise StateError(
                f"The private data has {data.num_features} features per sample but the "
                f"task's architecture {arch.name} takes {arch.input_size}",
                "train on data of the task's shape",
            )
        if config.untrained:
            model = build_model(arch, seed=config.seed * 1000 + round_ + 1)
        else:
            from zkpot.train import train_local  # imports torch, which only training needs

            self.progress(f"{self.name}: fetching global model {info.global_model_cid}")
            # Checked against the chain's commitment before any training; a mismatch
            # raises and leaves the round's record as it was (rerun `train` later).
            model = fetch_available_global_model(
                self.session, task_id, round_, document, progress=self.progress
            )
            self.progress(f"{self.name}: training on {len(data)} private samples")
            flat = data.flat()
            model = train_local(
                model,
                flat.X,
                flat.y,
                epochs=config.epochs,
                lr=config.lr,
                batch_size=config.batch_size,
                seed=config.seed * 1000 + round_,
            )
        path = (
            self.home / "models" / key_dir(task_key(self.session, task_id)) / f"round-{round_}.zkpt"
        )
        # A fresh secret blinding per round, kept in the model file: the commitment to
        # this model is then unpredictable to anyone who knows (or guesses) its weights.
        blob = model_bytes(model, arch, new_blinding())
        write_private(path, blob)
        return self.state.mark_trained(
            task_key(self.session, task_id),
            round_,
            model_path=path,
            model_hash=hashlib.sha256(blob).hexdigest(),
        )

    def commit(self, task_id: int, round_: int) -> RoundRecord:
        """Commit to the trained model's commitment (before the test set is revealed)."""
        key = task_key(self.session, task_id)
        record, pending = self._begin(task_id, round_, Step.COMMITTED)
        if not pending:
            return record
        _, document = self.session.task(task_id)
        artifacts = self.session.circuit(document)
        model, blinding = self._model_and_blinding(record, document)
        model_commitment = artifacts.model_commitment(model, blinding=blinding)
        value = commitment_hash(task_id, round_, self.address, model_commitment, record.salt)
        on_chain = self._chain_submission(task_id, round_).commitment
        journal = self.state.journal(key, round_, "commit")
        if on_chain == value:
            # Mined (maybe by a run that died): wait for its confirmations, never resend.
            receipt = self.session.client.confirm("commit", journal, self.account)
            tx = _tx_hash(receipt, "recovered-from-chain")
        else:
            self.state.mark_intent(key, round_, Step.COMMITTED)
            self.progress(f"{self.name}: committing")
            # A commit recorded but not mined is waited for (or re-broadcast) first.
            self.session.client.commit(
                task_id, round_, model_commitment, record.salt, sender=self.account,
                journal=journal,
            )
            tx = _tx_hash(self.session.client.confirm("commit", journal, self.account), "sent")
        return self.state.mark_committed(
            key,
            round_,
            model_commitment="0x" + model_commitment.hex(),
            commitment="0x" + value.hex(),
            tx_hash=tx,
        )

    def prove(self, task_id: int, round_: int) -> RoundRecord:
        """Prove the model's accuracy on each chunk of the revealed test set."""
        key = task_key(self.session, task_id)
        record, pending = self._begin(task_id, round_, Step.PROVED)
        if not pending:
            return record
        info = self.session.client.round(task_id, round_)
        if not info.test_set_cid:
            raise ChainError(
                f"The test set of task {task_id} round {round_} is not revealed yet",
                "wait for the publisher to reveal it, then prove",
            )
        _, document = self.session.task(task_id)
        artifacts = self.session.circuit(document)
        model, blinding = self._model_and_blinding(record, document)
        test_set = Dataset.from_bytes(
            self.session.storage.cat(
                info.test_set_cid,
                max_bytes=test_set_cap(
                    document.samples_per_proof * document.chunks_per_round,
                    document.arch.input_size,
                ),
                what="test set",
            )
        )
        chunk_batches = pipeline_chunks(test_set, document.samples_per_proof)
        # The publisher's artifacts and reveal are checked before any proof is spent.
        check_verifier(self.session, task_id, document, artifacts)
        check_test_set(artifacts, chunk_batches, info.chunk_commitments, task_id, round_)
        workdir = self.home / "proofs" / key_dir(key) / f"round-{round_}"
        proofs = []
        for i, batch in enumerate(chunk_batches):
            self.progress(f"{self.name}: proving chunk {i + 1}/{len(chunk_batches)}")
            proof = artifacts.prove(
                model, batch, workdir, name=f"chunk-{i}", blinding=blinding,
                submitter=str(self.address),
            )
            if "0x" + proof.statement.model_commitment.hex() != record.model_commitment:
                raise StateError(
                    "The proof's model commitment differs from the committed one",
                    "the circuit artifacts changed since commit; restore them",
                )
            proofs.append(proof)
        self.last_prove_seconds = sum(p.prove_seconds for p in proofs)
        cid = self.session.storage.add_json(proof_bundle(proofs), name="proofs.json")
        self.session.storage.pin(cid)
        return self.state.mark_proved(
            key, round_, proof_paths=[p.path for p in proofs], proof_cid=cid
        )

    def submit(self, task_id: int, round_: int) -> RoundRecord:
        """Submit the proofs; the contract verifies them and records the count."""
        key = task_key(self.session, task_id)
        record, pending = self._begin(task_id, round_, Step.SUBMITTED)
        if not pending:
            return record
        chain_record = self._chain_submission(task_id, round_)
        journal = self.state.journal(key, round_, "submit")
        if chain_record.verified and journal.sent():
            receipt = self.session.client.confirm("submit", journal, self.account)
            tx = _tx_hash(receipt, "recovered-from-chain")
            if receipt is not None:
                self.last_gas = int(receipt.gas_used)
        elif not (record.intent == Step.SUBMITTED and chain_record.verified):
            proofs = [chunk_proof(json.loads(p.read_text())) for p in record.proof_paths]
            check = self.session.client.check_submission(
                task_id, round_, self.address, proofs, record.salt
            )
            if not check.accepted:
                raise ChainError(
                    f"The contract would reject this submission ({check.reason})",
                    "see `zkpot status` for the round's phase and your commitment",
                )
            self.state.mark_intent(key, round_, Step.SUBMITTED)
            self.progress(f"{self.name}: submitting {len(proofs)} proof(s)")
            receipt = self.session.client.submit(
                task_id, round_, proofs, record.salt, record.proof_cid or "", sender=self.account,
                journal=journal,
            )
            tx = str(receipt.txn_hash)
            self.last_gas = int(receipt.gas_used)
            chain_record = self._chain_submission(task_id, round_)
        else:
            tx = "recovered-from-chain"
        return self.state.mark_submitted(key, round_, tx_hash=tx, correct=chain_record.correct)

    def send_model(self, task_id: int, round_: int) -> RoundRecord:
        """Seal the model to the round's leader and record the ciphertext's CID on chain."""
        key = task_key(self.session, task_id)
        record, pending = self._begin(task_id, round_, Step.HANDED_OFF)
        if not pending:
            return record
        phase = self.session.client.phase(task_id, round_)
        info = self.session.client.round(task_id, round_)
        if phase != Phase.AGGREGATE or not info.leader or int(info.leader, 16) == 0:
            raise ChainError(
                f"Task {task_id} round {round_} has no leader yet (phase {phase.name.lower()})",
                "wait until the leader is selected, then send the model",
            )
        chain_record = self._chain_submission(task_id, round_)
        # One journal per leader: a hand-off to a replaced leader does not stand for this one.
        journal = self.state.journal(key, round_, f"handoff:{info.leader}")
        if chain_record.encrypted_model_cid and chain_record.handoff_leader == info.leader:
            receipt = self.session.client.confirm("handOffModel", journal, self.account)
            return self.state.mark_handed_off(
                key, round_, cid=chain_record.encrypted_model_cid,
                tx_hash=_tx_hash(receipt, "recovered-from-chain"),
            )
        if not self.session.client.hand_offs_open(task_id, round_):
            raise ChainError(
                f"The hand-off window of task {task_id} round {round_} has closed "
                f"(its deadline was {info.hand_off_deadline})",
                "a late hand-off is refused and earns nothing; hand off within "
                "aggregateDuration / 2 of the leader's selection next round",
            )
        leader_key = self.session.client.participant_key(task_id, info.leader)
        if leader_key is None:
            raise ChainError("The leader has no published encryption key", "wait and retry")
        _, document = self.session.task(task_id)
        model, blinding = self._model_and_blinding(record, document)
        self.state.mark_intent(key, round_, Step.HANDED_OFF)
        cid = send_model(
            self.session.storage, model.state_dict(), leader_key,
            architecture=document.architecture, blinding=blinding,
        )
        receipt = self.session.client.hand_off_model(
            task_id, round_, cid, sender=self.account, journal=journal
        )
        return self.state.mark_handed_off(key, round_, cid=cid, tx_hash=_tx_hash(receipt, "sent"))

    def model(self, task_id: int, round_: int) -> nn.Module:
        """This participant's trained model of a round (checked against its hash)."""
        _, document = self.session.task(task_id)
        return self._model(self._record(task_id, round_), document)

    def model_and_blinding(self, task_id: int, round_: int) -> tuple[nn.Module, Blinding]:
        """This participant's trained model of a round and the blinding it committed with."""
        _, document = self.session.task(task_id)
        return self._model_and_blinding(self._record(task_id, round_), document)


def _tx_hash(receipt: Any, fallback: str) -> str:
    """A receipt's transaction hash as 0x-hex, or ``fallback`` when there is no receipt."""
    return fallback if receipt is None else hex_hash(receipt.txn_hash)


def key_dir(key: str) -> str:
    """A task key as a directory name."""
    return key.replace(":", "-")


def pipeline_chunks(test_set: Dataset, samples: int) -> list[TestBatch]:
    """The test set as the circuit's chunks, in order."""
    flat = test_set.flat()
    n = len(flat)
    if n == 0 or n % samples:
        raise ChainError(
            f"The revealed test set has {n} samples, not a multiple of {samples}",
            "report the publisher; this round's test set is malformed",
        )
    return chunks(flat.X, flat.y, samples)
