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
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from torch import nn

from zkpot.aggregate import (
    FedAvg,
    LeaderModel,
    ModelUpdate,
    Rejection,
    Strategy,
    check_received,
)
from zkpot.chain import ChunkProof, aggregate_digest
from zkpot.data import Dataset
from zkpot.errors import AggregationProofError, ChainError
from zkpot.handoff import receive_handoff
from zkpot.limits import EXTRA_MAX_ELEMENTS, ObjectCaps, test_set_cap
from zkpot.model_codec import (
    BLINDING,
    HandoffError,
    ModelPayload,
    RejectionReason,
    conform_state,
    decode_model,
    load_into,
    model_bytes,
)
from zkpot.models import build_model
from zkpot.proving.aggregation import AggregationProof
from zkpot.proving.backend import AccuracyProof
from zkpot.proving.circuit import Blinding, check_blinding, new_blinding
from zkpot.roles.availability import post_global_model
from zkpot.roles.baseline import record_baseline
from zkpot.roles.common import upload_model, write_json
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
    aggregation_prove_seconds: float = 0.0
    """Proven aggregation: the aggregation proof's witness and prove time."""
    aggregation_gas: int = 0
    """Proven aggregation: gas of the ``proveAggregation`` transaction (0 when resumed)."""
    availability_gas: int = 0
    """Groth16: gas of posting the global model's elements on chain (0: posted before)."""


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
    with its submitter and a :class:`~zkpot.model_codec.RejectionReason`; the rest are still
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


def handed_off(leader: Participant, task_id: int, round_: int) -> list[str]:
    """The admitted submitters that handed their model off to the round's current leader."""
    client = leader.session.client
    lens = client.lens
    return sorted(
        (
            str(a)
            for a in client.round(task_id, round_).submitters
            if int(str(lens.getSubmission(task_id, round_, a).handoffLeader), 16) != 0
        ),
        key=lambda a: int(a, 16),
    )


def wait_for_hand_offs(
    leader: Participant, task_id: int, round_: int, wait_seconds: float = 0.0
) -> None:
    """Return once the leader's hand-off window has closed, waiting up to ``wait_seconds``.

    A FedAvg leader can neither prove its aggregation nor publish while hand-offs may still
    arrive (the contract reverts ``HandOffsOpen``): the set it must account for is final
    only then. Raises a :class:`ChainError` that says when the window closes.
    """
    client = leader.session.client
    give_up = time.monotonic() + max(0.0, wait_seconds)
    announced = False
    while client.hand_offs_open(task_id, round_):
        info = client.round(task_id, round_)
        closes = datetime.fromtimestamp(info.hand_off_deadline, tz=UTC)
        others = max(0, len(info.submitters) - 1)
        when = f"{closes:%Y-%m-%d %H:%M:%S} UTC ({info.hand_offs} of {others} handed off)"
        if time.monotonic() >= give_up:
            raise ChainError(
                f"Hand-offs to the leader of task {task_id} round {round_} are open until {when}",
                "run `zkpot aggregate` again once it closes (early once every other admitted "
                "submitter has handed off), or pass --wait SECONDS",
            )
        if not announced:
            leader.progress(f"{leader.name}: waiting for the hand-off window to close at {when}")
            announced = True
        time.sleep(min(5.0, max(0.1, give_up - time.monotonic())))


def aggregate_and_publish(
    leader: Participant, task_id: int, round_: int, wait_seconds: float = 0.0
) -> AggregationResult:
    """Aggregate the round's verified models, prove the result, and publish it on chain.

    Under FedAvg it first waits (up to ``wait_seconds``) for the hand-off window to close,
    then aggregates exactly what was handed off in it. Resumable: the aggregated model and
    its proofs are kept in the leader's directory with the hand-off set they account for
    (a run that finds another set on chain collects again instead of resending a proof the
    contract would refuse), and a crash after publishing is detected from the chain.
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
    fedavg = document.policy == "fedavg"
    if fedavg:
        wait_for_hand_offs(leader, task_id, round_, wait_seconds)
    handed = handed_off(leader, task_id, round_) if fedavg else []
    workdir = leader.home / "leader" / key_dir(task_key(session, task_id)) / f"round-{round_}"
    workdir.mkdir(parents=True, exist_ok=True)
    model_file = workdir / "global.zkpt"
    used: list[str] = []
    rejected: list[Rejection] = []
    # Which models were used and which refused (and why), and which hand-offs the chain
    # held when they were collected, kept for a resumed run.
    record_file = workdir / "aggregation.json"
    proven: AggregationProof | None = None
    proof_file = workdir / "aggregate-proof.json"
    if model_file.is_file() and _recorded_hand_offs(record_file) != handed:
        # Collected against another hand-off set (an older run, or one from before the
        # window closed): its proof would not account for the chain's set. Start over.
        leader.progress(
            f"{leader.name}: the hand-offs changed since the last run; collecting again"
        )
        for stale in [model_file, record_file, proof_file, *workdir.glob("global-*")]:
            stale.unlink(missing_ok=True)
    if model_file.is_file():
        payload = decode_model(model_file.read_bytes(), architecture=document.architecture)
        global_model = load_into(build_model(arch), payload.state)
        saved: list[int] = [] if payload.blinding is None else payload.blinding.tolist()
        blinding = check_blinding(saved)
        if record_file.is_file():
            record = json.loads(record_file.read_text())
            used = [str(a) for a in record["used"]]
            rejected = [Rejection.from_json(r) for r in record["rejected"]]
        if proof_file.is_file():
            proven = AggregationProof.from_json(json.loads(proof_file.read_text()))
    else:
        updates, rejected = collect_models(leader, task_id, round_)
        # A fresh global blinding per round, public (published with the model) so that
        # every participant and auditor can recompute its commitment. Under leader-model
        # the global model is the leader's own, whose commitment (its own blinding) the
        # contract requires: that blinding is published instead.
        if document.policy == "leader-model":
            _, blinding = leader.model_and_blinding(task_id, round_)
        else:
            blinding = new_blinding()
        if document.aggregation_slots:
            leader.progress(f"{leader.name}: proving the aggregate")
            global_model, proven, used, rejected = prove_aggregate(
                leader, task_id, round_, updates, rejected, blinding, workdir
            )
            write_json(proof_file, proven.to_json())
        else:
            used = [u.participant for u in updates]
            weighting = document.fedavg_weighting
            if not any(u.weight > 0 for u in updates):
                weighting = "equal"  # no model proved any accuracy: nothing to weigh by
            strategy = _strategy(document.policy, weighting)
            state = strategy.aggregate(updates, leader=leader.address)
            global_model = load_into(build_model(arch), state)
        write_json(
            record_file,
            {"used": used, "rejected": [r.to_json() for r in rejected], "handed_off": handed},
        )
        model_file.write_bytes(model_bytes(global_model, arch, blinding))
    aggregation_gas = 0
    if proven is not None:
        aggregation_gas = record_aggregation_proof(leader, task_id, round_, proven, used, rejected)
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
    # The chain refuses a Groth16 global model whose elements were never posted: posting
    # them keeps the model readable from the chain alone (zkpot.roles.availability).
    leader.progress(f"{leader.name}: posting the global model on chain")
    availability_gas = post_global_model(session, leader.account, artifacts, global_model, blinding)
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
        aggregation_prove_seconds=0.0 if proven is None else proven.prove_seconds,
        aggregation_gas=aggregation_gas,
        availability_gas=availability_gas,
    )


def _recorded_hand_offs(record_file: Path) -> list[str] | None:
    """The hand-off set a saved aggregation was collected against (``None``: unknown)."""
    if not record_file.is_file():
        return None
    recorded = json.loads(record_file.read_text()).get("handed_off")
    return None if recorded is None else [str(a) for a in recorded]


def prove_aggregate(
    leader: Participant,
    task_id: int,
    round_: int,
    updates: list[ModelUpdate],
    rejected: list[Rejection],
    global_blinding: Blinding,
    workdir: Path,
) -> tuple[nn.Module, AggregationProof, list[str], list[Rejection]]:
    """The proven FedAvg: a fixed-point aggregate and its proof.

    The aggregate of the leader's model (slot 0) and the K - 1 best-scoring accepted
    hand-offs (ascending addresses).

    Weights are the verified counts the chain holds; the commitments are the chain's.
    Accepted hand-offs beyond K - 1 (lowest counts first) become ``no-slot`` rejections.
    Returns the global model (float32, exactly the fixed-point aggregate), the proof,
    the addresses used (the leader first) and every rejection.
    """
    session = leader.session
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    circ = artifacts.aggregation(document.aggregation_slots)
    own = leader.address.lower()
    mine = [u for u in updates if u.participant.lower() == own]
    if not mine:
        raise AggregationProofError(
            "The leader's own model is not among the checked models",
            "keep the round's model file the leader submitted and aggregate again",
        )
    others = sorted(
        (u for u in updates if u.participant.lower() != own),
        key=lambda u: (-u.weight, int(u.participant, 16)),
    )
    room = circ.slots - 1
    for left_out in others[room:]:
        rejected.append(
            Rejection(
                left_out.participant,
                f"no slot: the {circ.slots}-slot aggregation holds the leader and "
                f"{room} hand-offs with higher verified counts",
                RejectionReason.NO_SLOT,
            )
        )
    slots = mine + sorted(others[:room], key=lambda u: int(u.participant, 16))
    arch = document.arch
    models = [load_into(build_model(arch), u.state) for u in slots]
    blindings = [check_blinding(list(u.blinding or ())) for u in slots]
    client = session.client
    records = [client.submission(task_id, round_, u.participant) for u in slots]
    weights = [int(r.correct) for r in records]
    params = circ.aggregate(models, weights)
    proof = circ.prove(
        models, blindings, [r.model_commitment for r in records], weights, params,
        global_blinding, workdir,
    )
    used = [u.participant for u in slots]
    return circ.to_model(params), proof, used, sorted(
        rejected, key=lambda r: r.participant
    )


def record_aggregation_proof(
    leader: Participant,
    task_id: int,
    round_: int,
    proven: AggregationProof,
    used: list[str],
    rejected: list[Rejection],
) -> int:
    """Send the aggregation proof unless the chain already holds it for this leader; its gas.

    Only hand-offs to this leader go on chain as rejected (the contract accounts for
    exactly those); models never delivered are not the leader's to explain.
    """
    client = leader.session.client
    included = [a for a in used if a.lower() != leader.address.lower()]
    digest = aggregate_digest(included, proven.public.global_commitment)
    if client.proven_aggregate(task_id, round_, leader.address) == digest:
        return 0
    handed = []
    for r in rejected:
        submission = client.submission(task_id, round_, r.participant)
        if submission.verified and submission.handoff_leader.lower() == leader.address.lower():
            handed.append((r.participant, str(r.code)))
    receipt = client.prove_aggregation(
        task_id, round_, proven.public.global_commitment, included, handed, proven.proof,
        sender=leader.account,
    )
    return int(getattr(receipt, "gas_used", 0) or 0)
