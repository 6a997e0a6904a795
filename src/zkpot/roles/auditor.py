"""The auditor: re-verify a task's rounds from the chain and IPFS alone.

Nothing local is trusted except the circuit's verifying key, which is itself
checked against the task's published artifacts. For each round the auditor
checks, and reports as one verdict per item:

* the block hash chain (each header hashes to the next block's ``prevBlockHash``);
* the revealed test set: its content matches its CID and each chunk's commitment
  equals the one the proofs were checked against on chain;
* every submission: the proof bundle on IPFS verifies with EZKL, proves the model
  commitment recorded on chain, on the round's chunks, with the recorded count;
* the global model: its content matches its CID, its weights hash to the
  commitment in the block, and it really classifies ``globalCorrect`` samples of
  the test set (recomputed by the circuit itself);
* continuity: each round starts from the previous block's global model;
* proven aggregation (Groth16 fedavg tasks): the task's aggregation verifier runs the
  published circuit's key, and each round's leader proof verifies for public inputs
  rebuilt from the chain (its own and the included submitters' commitments and verified
  counts, the block's global commitment); the included and rejected lists are reported.
  Local models stay private, so the aggregate itself cannot be recomputed; the global
  model's weights opening the proven commitment is what ties it to the proof.

Every object the auditor reads is untrusted and read under the size cap its kind has in
the task (:class:`~zkpot.limits.ObjectCaps`); a malformed one, or any error while
checking it, is that item's FAIL and the audit goes on with the next item.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from zkpot.chain import BlockHeader, RoundInfo, RoundStatus, SubmissionInfo, verify_chain
from zkpot.data import Dataset
from zkpot.errors import ZkpotError
from zkpot.limits import ObjectCaps
from zkpot.model_codec import decode_model, load_into
from zkpot.models import build_model
from zkpot.proving.backend import Circuit
from zkpot.proving.circuit import TestBatch, check_blinding
from zkpot.roles import keytrust
from zkpot.roles.common import Session
from zkpot.roles.participant import chunk_proof, parse_proof_bundle, pipeline_chunks
from zkpot.roles.precheck import check_aggregation


@dataclass(frozen=True)
class Finding:
    """One audited item and its verdict."""

    round: int | None
    """The round, or ``None`` for task-wide items."""
    item: str
    """What was checked, e.g. ``submission 0xabc…`` or ``block chain``."""
    ok: bool
    detail: str


Verdict = tuple[bool, str]
"""(ok, detail) of one check."""


class _Audit:
    """The checks of one task, each returning a :data:`Verdict`."""

    def __init__(self, session: Session, task_id: int) -> None:
        self.session = session
        self.client = session.client
        self.task_id = task_id
        self.state, self.document = session.task(task_id)
        self.artifacts = session.circuit(self.document)
        arch = self.document.arch
        self.caps = ObjectCaps.for_task(
            arch, self.document.samples_per_proof, self.document.chunks_per_round
        )
        self.findings: list[Finding] = []

    def record(self, round_: int | None, item: str, check: Callable[[], Verdict]) -> bool:
        """Run one check; an error it raises (IPFS, chain, a malformed object) is a FAIL.

        Every object the auditor reads is untrusted, so whatever one check raises is
        that check's failed verdict and the audit goes on with the next one.
        """
        try:
            ok, detail = check()
        except ZkpotError as error:
            ok, detail = False, error.sentence()
        except Exception as error:  # noqa: BLE001 - one bad object must not end the audit
            ok, detail = False, f"could not be checked ({type(error).__name__}: {error})"[:300]
        self.findings.append(Finding(round_, item, ok, detail))
        return ok

    def verifying_key(self) -> Verdict:
        published = self.document.circuit.files
        local_files = self.artifacts.published_files()
        differ = []
        for name, path in sorted(local_files.items()):
            local = path.read_bytes()
            if name not in published:
                differ.append(name)
                continue
            # The published file must equal the local one, so it may not be any larger.
            remote = self.session.storage.cat(published[name], max_bytes=len(local), what=name)
            if remote != local:
                differ.append(name)
        ok = not differ
        return ok, (
            f"local circuit artifacts ({', '.join(sorted(local_files))}) equal the task's "
            "published ones"
            if ok
            else "local circuit artifacts differ from the task's published ones: "
            + ", ".join(differ)
        )

    def block_chain(self, headers: list[BlockHeader]) -> Verdict:
        verify_chain(headers, self.state.last_block_hash)
        last = self.state.last_block_hash.hex()[:16]
        return True, f"{len(headers)} block(s) hash-linked up to {last}…"

    @staticmethod
    def continuity(info: RoundInfo, prev_cid: str | None, prev_commitment: bytes) -> Verdict:
        ok = info.global_model_commitment == prev_commitment and (
            prev_cid is None or info.global_model_cid == prev_cid
        )
        return ok, (
            "starts from the previous global model"
            if ok
            else "does not start from the previous block's global model"
        )

    def test_set(self, info: RoundInfo, out: list[TestBatch]) -> Verdict:
        data = Dataset.from_bytes(
            self.session.storage.cat(
                info.test_set_cid, max_bytes=self.caps.test_set, what="test set"
            )
        )
        chunks = pipeline_chunks(data, self.document.samples_per_proof)
        computed = [self.artifacts.test_set_commitment(b) for b in chunks]
        if tuple(computed) != tuple(info.chunk_commitments):
            return False, "chunk commitments do not match the revealed test set"
        out.extend(chunks)
        return True, f"{len(data)} samples match the CID and {len(chunks)} chunk commitment(s)"

    def submission(self, round_: int, info: RoundInfo, address: str) -> Verdict:
        submission = self.client.submission(self.task_id, round_, address)
        return _audit_submission(
            self.session, self.artifacts, info.chunk_commitments, submission, self.caps
        )

    def global_model(
        self, info: RoundInfo, header: BlockHeader, chunks: list[TestBatch]
    ) -> Verdict:
        if header.global_model_cid == info.global_model_cid:
            ok = header.global_model_commitment == info.global_model_commitment
            return ok, "no new model; the previous global model carries over"
        data = self.session.storage.cat(
            header.global_model_cid, max_bytes=self.caps.model, what="model"
        )
        payload = decode_model(data, architecture=self.document.architecture)
        model = load_into(build_model(self.document.arch), payload.state)
        if payload.blinding is None:
            return False, "global model carries no blinding, so its commitment cannot be checked"
        blinding = check_blinding(payload.blinding)
        commitment = self.artifacts.model_commitment(model, blinding=blinding)
        if commitment != header.global_model_commitment:
            return False, "global model weights do not match the block's commitment"
        if not chunks:
            return False, "cannot recompute its accuracy without the test set"
        correct = sum(self.artifacts.circuit_count(model, b) for b in chunks)
        total = len(chunks) * self.document.samples_per_proof
        if correct != header.global_correct:
            return False, f"classifies {correct}/{total}, the block says {header.global_correct}"
        return True, f"matches its commitment; {correct}/{total} correct as recorded"

    def aggregation_verifier(self) -> Verdict:
        """The task's aggregation verifier runs the published circuit's key.

        The check a participant runs before proving; its refusal is this item's FAIL.
        """
        return True, check_aggregation(self.session, self.task_id, self.document, self.artifacts)

    def aggregation_keys(self, slots: int, phase1: Path | None) -> Verdict:
        """The aggregation circuit's keys derive from its circuit and phase 1; not INSECURE."""
        if not self.artifacts.proves_aggregation:
            return False, f"a {self.artifacts.backend} task cannot have proven aggregation"
        return True, self.artifacts.audit_aggregation_keys(slots, phase1)

    def aggregation(self, round_: int, info: RoundInfo, header: BlockHeader) -> Verdict:
        """The final leader's aggregation proof verifies for inputs rebuilt from the chain."""
        record = self.client.aggregation_record(self.task_id, round_)
        if record is None:
            return False, "no aggregation proof recorded by the round's leader"
        if record.global_commitment != header.global_model_commitment:
            return False, "the proven aggregate is not the block's global model"
        if tuple(record.included) != tuple(info.included):
            return False, "the proven included list is not the round's"
        circ = self.artifacts.aggregation(self.document.aggregation_slots)
        slots = [record.leader, *record.included]
        records = [self.client.submission(self.task_id, round_, a) for a in slots]
        public = circ.statement(
            [r.model_commitment for r in records], [r.correct for r in records],
            record.global_commitment,
        )
        proof = self.client.aggregation_proof(record)
        if not circ.verify(proof, public.public_signals()):
            return False, "the aggregation proof does not verify for the chain's records"
        rejected = ", ".join(f"{a} ({why})" for a, why in record.rejected) or "none"
        return True, (
            f"the global model is the proven weighted mean of the leader's and "
            f"{len(record.included)} handed-off model(s) (weights {public.weights[:len(slots)]});"
            f" rejected: {rejected}"
        )

    @staticmethod
    def block(info: RoundInfo, header: BlockHeader) -> Verdict:
        ok = header.hash() == info.block_hash and (
            header.test_set_commitment == info.test_set_commitment
        )
        return ok, (
            "header hashes to the round's block hash"
            if ok
            else "block header does not match the round record"
        )


def audit_task(
    session: Session,
    task_id: int,
    rounds: list[int] | None = None,
    *,
    check_keys: bool = False,
    phase1: Path | None = None,
) -> list[Finding]:
    """Audit ``rounds`` of a task (all by default); return every finding, in order.

    ``check_keys`` also checks that the proving keys (the accuracy circuit's and every
    aggregation circuit's) derive from their circuit and phase-1 file (``phase1``, default
    the development one): for Groth16 this re-runs the ceremony's ``zkey verify``, which
    takes minutes. INSECURE keys (single-party, or made from a development phase-1 file or
    SRS) are that item's FAIL.
    """
    try:
        audit = _Audit(session, task_id)
    except keytrust.InsecureKeysError:
        raise  # a refusal to take part, not a finding about the task
    except ZkpotError as error:
        # Without a readable task document nothing else can be checked.
        return [Finding(None, "task document", False, error.sentence())]
    audit.record(None, "verifying key", audit.verifying_key)
    if audit.document.aggregation_slots:
        audit.record(None, "aggregation verifier", audit.aggregation_verifier)
    if check_keys:
        audit.record(None, "proving keys", lambda: (True, audit.artifacts.audit_keys(phase1)))
        slots = audit.document.aggregation_slots
        if slots:
            audit.record(None, "aggregation keys", partial(audit.aggregation_keys, slots, phase1))
    headers = audit.client.blocks(task_id)
    audit.record(None, "block chain", lambda: audit.block_chain(headers))
    by_round = {h.round: h for h in headers}
    initial = bytes(audit.client.lens.taskConfig(task_id).initialModelCommitment)
    for round_ in rounds if rounds is not None else range(audit.state.round_count):
        info = audit.client.round(task_id, round_)
        header = by_round.get(round_)
        if info.status != RoundStatus.FINALISED or header is None:
            status = info.status.name.lower()
            audit.findings.append(Finding(round_, "round", True, f"{status}; not audited yet"))
            continue
        prev_cid, prev_commitment = _previous_global_model(headers, round_, initial)
        audit.record(
            round_, "continuity", partial(audit.continuity, info, prev_cid, prev_commitment)
        )
        chunks: list[TestBatch] = []
        if info.test_set_cid:
            audit.record(round_, "test set", partial(audit.test_set, info, chunks))
        for address in info.submitters:
            audit.record(
                round_, f"submission {address}", partial(audit.submission, round_, info, address)
            )
        audit.record(round_, "global model", partial(audit.global_model, info, header, chunks))
        if audit.document.aggregation_slots:
            audit.record(round_, "aggregation", partial(audit.aggregation, round_, info, header))
        audit.record(round_, "block", partial(audit.block, info, header))
    return audit.findings


def _previous_global_model(
    headers: list[BlockHeader], round_: int, initial: bytes
) -> tuple[str | None, bytes]:
    """The global model round ``round_`` must start from: the last block before it.

    Rounds closed empty leave no block and carry the model over, so this is the block of
    the highest finalised round below ``round_``, or the task's initial model (whose CID
    is not compared) when there is none. Computed per round, so auditing one round alone
    compares it with its real predecessor.
    """
    earlier = [h for h in headers if h.round < round_]
    if not earlier:
        return None, initial
    last = max(earlier, key=lambda h: h.round)
    return last.global_model_cid, last.global_model_commitment


def _audit_submission(
    session: Session,
    artifacts: Circuit,
    chunk_commitments: tuple[bytes, ...],
    submission: SubmissionInfo,
    caps: ObjectCaps,
) -> Verdict:
    if not submission.verified:
        return True, "not verified on chain; carries no weight"
    bundle = parse_proof_bundle(
        session.storage.cat_json(
            submission.proof_cid, max_bytes=caps.proof_bundle, what="proof bundle"
        )
    )
    if len(bundle) != len(chunk_commitments):
        return False, f"{len(bundle)} proofs for {len(chunk_commitments)} chunks"
    total = 0
    with tempfile.TemporaryDirectory(prefix="zkpot-audit-") as tmp:
        for i, ezkl_proof in enumerate(bundle):
            chunk = chunk_proof(ezkl_proof)
            statement = artifacts.statement_of(chunk.proof, list(chunk.instances))
            if statement.model_commitment != submission.model_commitment:
                return False, f"proof {i} is for another model"
            if statement.test_set_commitment != chunk_commitments[i]:
                return False, f"proof {i} is for another test-set chunk"
            path = Path(tmp) / f"proof-{i}.json"
            path.write_text(json.dumps(ezkl_proof))
            if not artifacts.verify(path):
                return False, f"proof {i} does not verify with {artifacts.backend}"
            total += statement.correct
    if total != submission.correct:
        return False, f"proofs show {total} correct, chain recorded {submission.correct}"
    return True, f"{len(bundle)} proof(s) verify; {total} correct as recorded"
