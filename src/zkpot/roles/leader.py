"""The round leader: collect the verified models, aggregate, prove, publish.

Models reach the leader sealed to its key; each is decrypted, converted to the
architecture's own dtypes and shapes, and its commitment recomputed from the weights
and the blinding sent with them. A model whose commitment differs from the one its
proof verified on chain is ignored (it is not the model that earned its place), and so
is any model that cannot be fetched, opened or parsed: each such model is a recorded
:class:`~zkpot.aggregate.Rejection` with a reason, never an error that stops the round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from zkpot.aggregate import (
    FedAvg,
    LeaderModel,
    ModelUpdate,
    Rejection,
    Strategy,
    check_received,
)
from zkpot.chain import ChunkProof
from zkpot.data import Dataset
from zkpot.errors import ChainError
from zkpot.handoff import (
    BLINDING,
    HandoffError,
    ModelPayload,
    RejectionReason,
    conform_state,
    decode_model,
    load_into,
    receive_handoff,
)
from zkpot.limits import EXTRA_MAX_ELEMENTS, ObjectCaps, test_set_cap
from zkpot.models import build_model
from zkpot.proving.backend import AccuracyProof
from zkpot.proving.circuit import check_blinding, new_blinding
from zkpot.roles.baseline import record_baseline
from zkpot.roles.common import model_bytes, upload_model, write_json
from zkpot.roles.participant import Participant, key_dir, pipeline_chunks, task_key


@dataclass(frozen=True)
class AggregationResult:
    """What the leader published."""

    global_model_cid: str
    global_correct: int
    used: list[str] = field(default_factory=list)
    """Addresses whose models were aggregated."""
    rejected: list[Rejection] = field(default_factory=list)
    """Received models left out, each with its submitter and reason."""
    prove_seconds: float = 0.0
    gas_used: int = 0


def _strategy(policy: str, weighting: str) -> Strategy:
    if policy == "leader-model":
        return LeaderModel()
    # "verified-correct": each model counts by the correct count its proof verified on
    # chain, so a poisoned or lazy model that proved little accuracy weighs little.
    return FedAvg(weighting="published" if weighting == "verified-correct" else "equal")


def collect_models(
    leader: Participant, task_id: int, round_: int
) -> tuple[list[ModelUpdate], list[Rejection]]:
    """Decrypt and check every verified submitter's model (the leader's own included).

    Anything wrong with one model — not delivered, missing or oversized on IPFS, not
    sealed to this leader, malformed, of another architecture, not the committed model,
    or an error while recomputing its commitment — rejects that model only, recorded
    with its submitter and a :class:`~zkpot.handoff.RejectionReason`; the rest are still
    aggregated. Every accepted model holds the architecture's own dtypes and shapes.
    """
    session = leader.session
    client = session.client
    info = client.round(task_id, round_)
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    arch = document.arch
    template = build_model(arch).state_dict()
    caps = ObjectCaps.for_task(arch, document.samples_per_proof, document.chunks_per_round)
    max_elements = sum(t.numel() for t in template.values()) + EXTRA_MAX_ELEMENTS
    received: dict[str, ModelPayload] = {}
    on_chain: dict[str, bytes] = {}
    weights: dict[str, float] = {}
    rejected: list[Rejection] = []
    for address in info.submitters:
        submission = client.submission(task_id, round_, address)
        if not submission.verified:
            continue
        on_chain[address] = submission.model_commitment
        weights[address] = float(submission.correct)
        if address.lower() == leader.address.lower():
            received[address] = own_payload(leader, task_id, round_)
            continue
        if not submission.encrypted_model_cid or (
            submission.handoff_leader.lower() != info.leader.lower()
        ):
            rejected.append(
                Rejection(
                    address, "model not delivered to this leader", RejectionReason.UNAVAILABLE
                )
            )
            continue
        try:
            payload = receive_handoff(
                session.storage,
                submission.encrypted_model_cid,
                leader.keypair,
                architecture=document.architecture,
                max_bytes=caps.sealed_model,
                max_elements=max_elements,
            )
            received[address] = ModelPayload(conform_state(template, payload.state), payload.extras)
        except Exception as error:  # noqa: BLE001 - one bad hand-off must not stop the round
            rejected.append(Rejection.of(address, error, "unreadable model: "))

    def commitment_of(payload: ModelPayload) -> bytes:
        if payload.blinding is None:
            raise HandoffError(
                "The model arrived without its blinding, so its commitment cannot be checked",
                "send it with `zkpot send-model`, which seals the blinding with the weights",
            )
        blinding = check_blinding(payload.blinding)
        model = load_into(build_model(arch), payload.state)
        return artifacts.model_commitment(model, blinding=blinding)

    accepted, mismatched = check_received(received, on_chain, commitment_of, weights)
    return accepted, sorted(rejected + mismatched, key=lambda r: r.participant)


def own_payload(leader: Participant, task_id: int, round_: int) -> ModelPayload:
    """The leader's own model of the round, as it would have handed it off."""
    arch = leader.session.task(task_id)[1].arch
    model, blinding = leader.model_and_blinding(task_id, round_)
    state = conform_state(build_model(arch).state_dict(), model.state_dict())
    return ModelPayload(state, extras={BLINDING: np.asarray(blinding, dtype=np.int64)})


def aggregate_and_publish(leader: Participant, task_id: int, round_: int) -> AggregationResult:
    """Aggregate the round's verified models, prove the result, and publish it on chain.

    Resumable: the aggregated model and its proofs are kept in the leader's
    directory, and a crash after publishing is detected from the chain.
    """
    session = leader.session
    client = session.client
    info = client.round(task_id, round_)
    if info.leader.lower() != leader.address.lower():
        raise ChainError(
            f"{leader.address} is not the leader of task {task_id} round {round_}",
            "only the selected leader can aggregate; see `zkpot status`",
        )
    if info.new_model_cid:
        return AggregationResult(info.new_model_cid, info.new_global_correct)
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    arch = document.arch
    workdir = leader.home / "leader" / key_dir(task_key(session, task_id)) / f"round-{round_}"
    workdir.mkdir(parents=True, exist_ok=True)
    model_file = workdir / "global.zkpt"
    used: list[str] = []
    rejected: list[Rejection] = []
    # Which models were used and which refused (and why), kept for a resumed run.
    record_file = workdir / "aggregation.json"
    if model_file.is_file():
        payload = decode_model(model_file.read_bytes(), architecture=document.architecture)
        global_model = load_into(build_model(arch), payload.state)
        saved: list[int] = [] if payload.blinding is None else payload.blinding.tolist()
        blinding = check_blinding(saved)
        if record_file.is_file():
            record = json.loads(record_file.read_text())
            used = [str(a) for a in record["used"]]
            rejected = [Rejection.from_json(r) for r in record["rejected"]]
    else:
        updates, rejected = collect_models(leader, task_id, round_)
        used = [u.participant for u in updates]
        write_json(record_file, {"used": used, "rejected": [r.to_json() for r in rejected]})
        weighting = document.fedavg_weighting
        if not any(u.weight > 0 for u in updates):
            weighting = "equal"  # no model proved any accuracy: nothing to weigh by
        strategy = _strategy(document.policy, weighting)
        state = strategy.aggregate(updates, leader=leader.address)
        global_model = load_into(build_model(arch), state)
        # The global model's blinding is public (published with it), so that every
        # participant and auditor can recompute its commitment; fresh per round.
        blinding = new_blinding()
        model_file.write_bytes(model_bytes(global_model, arch, blinding))
    test_set = Dataset.from_bytes(
        session.storage.cat(
            info.test_set_cid,
            max_bytes=test_set_cap(
                document.samples_per_proof * document.chunks_per_round, arch.input_size
            ),
            what="test set",
        )
    )
    proofs: list[AccuracyProof] = []
    for i, batch in enumerate(pipeline_chunks(test_set, document.samples_per_proof)):
        existing = workdir / f"global-{i}.json"
        if existing.is_file():
            proofs.append(artifacts.load_proof(existing))
            continue
        leader.progress(f"{leader.name}: proving the global model, chunk {i + 1}")
        proofs.append(
            artifacts.prove(
                global_model, batch, workdir, name=f"global-{i}", blinding=blinding,
                submitter=str(leader.account.address),
            )
        )
    # A rewarded round cannot finalise without its baseline (no-op without a reward pool).
    record_baseline(session, leader.account, task_id, round_, workdir, leader.progress)
    cid = upload_model(session.storage, global_model, arch, blinding)
    receipt = client.publish_global_model(
        task_id,
        round_,
        cid,
        [ChunkProof(p.proof, tuple(p.instances)) for p in proofs],
        sender=leader.account,
        # Only the participants whose models the aggregate used earn rewards.
        included=used if document.policy == "fedavg" else (),
    )
    return AggregationResult(
        global_model_cid=cid,
        global_correct=sum(p.statement.correct for p in proofs),
        used=used,
        rejected=rejected,
        prove_seconds=sum(p.prove_seconds for p in proofs),
        gas_used=int(getattr(receipt, "gas_used", 0) or 0),
    )
