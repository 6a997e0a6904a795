"""Attack: a leader that publishes a global model of its own choosing under proven FedAvg.

One Groth16 round on real parts (anvil, IPFS, the tiny MLP's generated accuracy circuit
and its 3-slot aggregation circuit, real proofs): four participants, the leader and three
hand-offs, so one model has no slot (the lowest count, rejected ``no-slot``). Every attack
is a real transaction the contracts refuse with a named error (ape reverts each test's
transactions afterwards, so the attacks do not see each other); the honest leader then
publishes and the round finalises. The inputs of every aggregation proof are rebuilt by
the contract from its own records, so a proof of anything but the honest statement fails.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.conftest import World, advance_to, tiny_options
from zkpot.chain import AggregationPolicy, ChunkProof, RoundStatus, TaskSpec
from zkpot.data import Dataset, LabelFlipConfig, flip_labels
from zkpot.errors import ChainError
from zkpot.models import build_model
from zkpot.proving.circuit import Blinding, new_blinding
from zkpot.proving.groth16 import aggregation
from zkpot.roles import leader as leader_module
from zkpot.roles import publisher as pub
from zkpot.roles.auditor import audit_task
from zkpot.roles.availability import post_global_model
from zkpot.roles.participant import Participant, TrainingConfig, pipeline_chunks
from zkpot.roles.precheck import check_verifier
from zkpot.train import train_local

pytestmark = pytest.mark.slow

SLOTS = 3


@dataclass
class Scene:
    task_id: int
    leader: Participant
    others: list[Participant]
    """Everyone else; all handed their model off to the leader."""
    circ: aggregation.Groth16AggregationCircuit
    work: Path
    models: dict[str, Any]
    """Address -> (model, blinding) of every participant (the leader holds them all)."""
    weights: dict[str, int]
    """Address -> verified count on chain."""
    commitments: dict[str, bytes]
    """Address -> model commitment on chain."""
    honest_model: Any
    honest_blinding: Blinding
    honest_proof: aggregation.AggregationProof
    included: list[str]
    """The honest included list (ascending, the leader not in it)."""
    no_slot: str
    """The hand-off left out for want of a slot."""
    honest_chunks: list[ChunkProof]

    @property
    def agg(self) -> Any:
        return self.leader.session.client.aggregation

    @staticmethod
    def order(addresses: Sequence[str]) -> list[str]:
        return sorted(addresses, key=lambda a: int(a, 16))

    @staticmethod
    def order_rejected(rejected: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        return sorted(rejected, key=lambda r: int(r[0], 16))

    def prove(self, slots: Sequence[str], weights: Sequence[int] | None = None,
              name: str = "attack") -> tuple[aggregation.AggregationProof, Any]:
        """A real proof that the aggregate of ``slots`` (with ``weights``, default the
        chain's) is the returned model; the circuit checks it, the contract may not."""
        models = [self.models[a][0] for a in slots]
        blindings = [self.models[a][1] for a in slots]
        used = list(weights) if weights is not None else [self.weights[a] for a in slots]
        params = aggregation.fixed_point_aggregate(self.circ.agg.spec, models, used)
        blinding = new_blinding()
        proof = aggregation.prove_aggregate(
            self.circ, models, blindings, [self.commitments[a] for a in slots], used, params,
            blinding, self.work / name)
        return proof, aggregation.to_model(self.circ.agg.spec, params)

    def send(self, commitment: bytes, included: Sequence[str],
             rejected: Sequence[tuple[str, int]], proof: bytes, sender: Any = None) -> Any:
        return self.agg.proveAggregation(
            self.task_id, 0, commitment, list(included), [list(r) for r in rejected], proof,
            sender=sender or self.leader.account)

    def honest_rejected(self) -> list[tuple[str, int]]:
        return [(self.no_slot, 5)]

    def publish(self, proofs: list[ChunkProof], included: Sequence[str]) -> Any:
        return self.leader.session.client.contract.publishGlobalModel(
            self.task_id, 0, "bafy-attack", list(included), [p.proof for p in proofs],
            [list(p.instances) for p in proofs], sender=self.leader.account)


def _accuracy_proofs(world: World, leader: Participant, task_id: int, model: Any,
                     blinding: Blinding, work: Path) -> list[ChunkProof]:
    """Real accuracy proofs of ``model`` on the round's chunks, bound to the leader."""
    session = world.session
    _, document = session.task(task_id)
    artifacts = session.circuit(document)
    info = session.client.round(task_id, 0)
    test_set = Dataset.from_bytes(session.storage.cat(info.test_set_cid, what="test set"))
    work.mkdir(parents=True, exist_ok=True)
    proofs = []
    for i, batch in enumerate(pipeline_chunks(test_set, document.samples_per_proof)):
        made = artifacts.prove(model, batch, work, name=f"chunk-{i}", blinding=blinding,
                               submitter=str(leader.account.address))
        proofs.append(ChunkProof(made.proof, tuple(made.instances)))
    return proofs


@pytest.fixture(scope="module")
def scene(world: World, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    options = tiny_options(backend="groth16", samples_per_proof=16, chunks_per_round=1,
                           aggregation_slots=SLOTS)
    task_id = pub.create_task(session, publisher, options, world.pool)
    people = [Participant(session, accounts.test_accounts[i], f"aggatk-p{i}") for i in (1, 2, 3, 4)]
    assert pub.open_round(session, publisher, task_id, world.pool) == 0
    for i, person in enumerate(people):
        person.join(task_id)
        # Different shards: different models. #3 learns from half-flipped labels, so its
        # count is well above zero but below the others' (it is the one without a slot).
        data = world.train.subset(range(300 * i, 300 * i + 300))
        if i == 2:
            data = flip_labels(data, LabelFlipConfig(fraction=0.5))
        person.train(task_id, 0, data, TrainingConfig(epochs=12))
        person.commit(task_id, 0)
    advance_to(session.client.round(task_id, 0).commit_deadline)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    for person in people:
        person.prove(task_id, 0)
        person.submit(task_id, 0)
    advance_to(session.client.round(task_id, 0).submit_deadline)
    leader_address = session.client.select_leader(task_id, 0, sender=publisher)
    leader = next(p for p in people if p.address == leader_address)
    others = [p for p in people if p is not leader]
    for person in others:
        person.send_model(task_id, 0)

    work = tmp_path_factory.mktemp("aggregation-attacks")
    updates, rejected = leader_module.collect_models(leader, task_id, 0)
    assert not rejected and len(updates) == 4
    blinding = new_blinding()
    model, proof, used, rejected = leader_module.prove_aggregate(
        leader, task_id, 0, updates, rejected, blinding, work / "honest")
    [left_out] = rejected
    assert left_out.code == "no-slot" and used[0] == leader.address
    circ = session.circuit(session.task(task_id)[1]).aggregation(SLOTS)
    records = {p.address: session.client.submission(task_id, 0, p.address) for p in people}
    return Scene(
        task_id=task_id, leader=leader, others=others, circ=circ, work=work,
        models={p.address: p.model_and_blinding(task_id, 0) for p in people},
        weights={a: int(r.correct) for a, r in records.items()},
        commitments={a: bytes(r.model_commitment) for a, r in records.items()},
        honest_model=model, honest_blinding=blinding, honest_proof=proof,
        included=used[1:], no_slot=left_out.participant,
        honest_chunks=_accuracy_proofs(world, leader, task_id, model, blinding, work / "acc"),
    )


def test_a_task_cannot_name_an_aggregation_verifier_it_cannot_use(scene: Scene) -> None:
    import ape
    from ape import accounts, project

    client = scene.leader.session.client
    config = client.lens.taskConfig(scene.task_id)
    publisher = accounts.test_accounts[0]

    def spec(**changes: Any) -> TaskSpec:
        fields: dict[str, Any] = {
            "circuit_id": bytes(config.circuitId), "verifier": str(config.verifier),
            "vk_digest": bytes(config.vkDigest), "chunks_per_round": 1,
            "spec_cid": config.specCID, "initial_model_cid": config.initialModelCID,
            "initial_model_commitment": bytes(config.initialModelCommitment),
            "aggregation_verifier": str(config.aggregationVerifier),
        }
        return TaskSpec(**{**fields, **changes})

    # Under LEADER_MODEL nothing is aggregated: a verifier there is a mistake.
    with ape.reverts(client.contract.AggregationVerifierMismatch):
        client.contract.createTask(spec(policy=AggregationPolicy.LEADER_MODEL).as_tuple(), [],
                                   sender=publisher)
    # A verifier over another accuracy circuit's commitments.
    adapter = project.Groth16AggregationVerifier.at(str(config.aggregationVerifier))
    other = publisher.deploy(project.Groth16AggregationVerifier, adapter.groth16Verifier(),
                             adapter.circuitId(), b"\x01" * 32, SLOTS,
                             adapter.paddingCommitment())
    with ape.reverts(client.contract.AggregationVerifierMismatch):
        client.contract.createTask(spec(aggregation_verifier=str(other.address)).as_tuple(), [],
                                   sender=publisher)


def test_a_permissive_aggregation_verifier_is_refused_before_proving_and_fails_the_audit(
    world: World, scene: Scene
) -> None:
    """A publisher's adapter with the right ids over a verifier that accepts anything:
    the chain cannot tell (the ids match), so participants and auditors must."""
    from ape import accounts, project

    client = scene.leader.session.client
    config = client.lens.taskConfig(scene.task_id)
    publisher = accounts.test_accounts[0]
    honest = project.Groth16AggregationVerifier.at(str(config.aggregationVerifier))
    accept_all = publisher.deploy(project.AcceptAllVerifier)
    rogue = publisher.deploy(project.Groth16AggregationVerifier, accept_all.address,
                             honest.circuitId(), honest.accuracyCircuitId(), SLOTS,
                             honest.paddingCommitment())
    # It really accepts a proof of nothing for any global model.
    assert rogue.verifyAggregation(b"\x00" * 256, [b"\x11" * 32], [1], b"\x22" * 32)
    task_id = client.create_task(TaskSpec(
        circuit_id=bytes(config.circuitId), verifier=str(config.verifier),
        vk_digest=bytes(config.vkDigest), chunks_per_round=1, spec_cid=config.specCID,
        initial_model_cid=config.initialModelCID,
        initial_model_commitment=bytes(config.initialModelCommitment),
        aggregation_verifier=str(rogue.address)), sender=publisher)
    session = world.session
    document = session.task(task_id)[1]  # the honest task's document, on IPFS
    with pytest.raises(ChainError, match="aggregation verifier is not the published circuit's"):
        check_verifier(session, task_id, document, session.circuit(document))
    findings = {f.item: f for f in audit_task(session, task_id)}
    assert not findings["aggregation verifier"].ok
    assert "not compiled from the published key" in findings["aggregation verifier"].detail
    # The honest task passes both.
    check_verifier(session, scene.task_id, document, session.circuit(document))
    assert {f.item: f for f in audit_task(session, scene.task_id)}["aggregation verifier"].ok


def test_the_leader_cannot_publish_without_an_aggregation_proof(scene: Scene) -> None:
    import ape

    with ape.reverts(scene.leader.session.client.contract.AggregationNotProven):
        scene.publish(scene.honest_chunks, scene.included)


def test_an_aggregate_with_other_weights_is_refused(scene: Scene) -> None:
    import ape

    slots = [scene.leader.address, *scene.included]
    equal, _ = scene.prove(slots, weights=[1] * len(slots), name="equal-weights")
    assert equal.public.weights[: len(slots)] != tuple(scene.weights[a] for a in slots)
    with ape.reverts(scene.agg.InvalidAggregationProof):
        scene.send(equal.public.global_commitment, scene.included, scene.honest_rejected(),
                   equal.proof)


def test_the_leaders_own_model_is_not_the_aggregate(scene: Scene) -> None:
    import ape

    own = scene.commitments[scene.leader.address]
    # The honest proof, claimed for the leader's own model: the statement differs.
    with ape.reverts(scene.agg.InvalidAggregationProof):
        scene.send(own, scene.included, scene.honest_rejected(), scene.honest_proof.proof)
    # A real proof of the leader's model "aggregated" alone, passed off as the aggregate.
    alone, _ = scene.prove([scene.leader.address], name="alone")
    with ape.reverts(scene.agg.InvalidAggregationProof):
        scene.send(alone.public.global_commitment, scene.included, scene.honest_rejected(),
                   alone.proof)


def test_omitting_a_handed_off_model_is_refused(scene: Scene) -> None:
    import ape

    dropped, kept = scene.included[0], scene.included[1:]
    # Silently: neither included nor rejected.
    proof, _ = scene.prove([scene.leader.address, *kept], name="omit")
    with ape.reverts(scene.agg.HandOffNotAccounted):
        scene.send(proof.public.global_commitment, kept, [], proof.proof)
    # Listed as included, but left out of the proven aggregate.
    with ape.reverts(scene.agg.InvalidAggregationProof):
        scene.send(proof.public.global_commitment, scene.included, scene.honest_rejected(),
                   proof.proof)
    # Rejected "for want of a slot" while a slot is free.
    rejected = sorted([(dropped, 5), *scene.honest_rejected()], key=lambda r: int(r[0], 16))
    with ape.reverts(scene.agg.UnjustifiedNoSlot):
        scene.send(proof.public.global_commitment, kept, rejected, proof.proof)


def test_a_higher_count_cannot_be_left_out_for_want_of_a_slot(scene: Scene) -> None:
    import ape

    best = max(scene.included, key=lambda a: scene.weights[a])
    if scene.weights[best] <= scene.weights[scene.no_slot]:
        pytest.fail("the scene needs distinct counts; retrain with other epochs")
    swapped = scene.order([a for a in scene.included if a != best] + [scene.no_slot])
    proof, _ = scene.prove([scene.leader.address, *swapped], name="swap-slot")
    with ape.reverts(scene.agg.UnjustifiedNoSlot):
        scene.send(proof.public.global_commitment, swapped, [(best, 5)], proof.proof)


def test_adding_a_participant_that_did_not_hand_off_is_refused(scene: Scene) -> None:
    import ape
    from ape import accounts

    outsider = str(accounts.test_accounts[7].address)
    included = scene.order([*scene.included[:1], outsider])
    with ape.reverts(scene.agg.NotHandedOffToLeader):
        scene.send(scene.honest_proof.public.global_commitment, included,
                   scene.honest_rejected(), scene.honest_proof.proof)
    with ape.reverts(scene.agg.NotHandedOffToLeader):
        scene.send(scene.honest_proof.public.global_commitment, scene.included,
                   scene.order_rejected([*scene.honest_rejected(), (outsider, 0)]),
                   scene.honest_proof.proof)


def test_malformed_lists_are_refused(scene: Scene) -> None:
    import ape

    commitment, proof = scene.honest_proof.public.global_commitment, scene.honest_proof.proof
    with ape.reverts(scene.agg.NotAscending):
        scene.send(commitment, list(reversed(scene.included)), scene.honest_rejected(), proof)
    with ape.reverts(scene.agg.IncludedAndRejected):
        scene.send(commitment, scene.included, [(scene.included[0], 1)], proof)
    with ape.reverts(scene.agg.InvalidRejectionReason):
        scene.send(commitment, scene.included, [(scene.no_slot, 9)], proof)
    too_many = scene.order([*scene.included, scene.no_slot])
    with ape.reverts(scene.agg.TooManyModels):
        scene.send(commitment, too_many, [], proof)


def test_only_the_leader_proves_the_aggregate(scene: Scene) -> None:
    import ape

    with ape.reverts(scene.agg.NotRoundLeader):
        scene.send(scene.honest_proof.public.global_commitment, scene.included,
                   scene.honest_rejected(), scene.honest_proof.proof,
                   sender=scene.others[0].account)


def test_a_model_fine_tuned_after_the_proven_aggregate_is_refused(
    world: World, scene: Scene
) -> None:
    import ape

    receipt = scene.send(scene.honest_proof.public.global_commitment, scene.included,
                         scene.honest_rejected(), scene.honest_proof.proof)
    assert receipt.gas_used > 0
    # The leader's own model, with its own (valid, leader-bound) accuracy proofs.
    own, own_blinding = scene.models[scene.leader.address]
    own_proofs = _accuracy_proofs(world, scene.leader, scene.task_id, own, own_blinding,
                                  scene.work / "own")
    with ape.reverts(scene.leader.session.client.contract.AggregationNotProven):
        scene.publish(own_proofs, scene.included)
    # The proven aggregate, trained further on the (now public) test set.
    info = scene.leader.session.client.round(scene.task_id, 0)
    revealed = Dataset.from_bytes(scene.leader.session.storage.cat(info.test_set_cid)).flat()
    tuned = train_local(copy.deepcopy(scene.honest_model), revealed.X, revealed.y, epochs=3,
                        lr=0.05, batch_size=8, seed=0)
    assert aggregation.quantized_params(scene.circ.agg.spec, tuned) != aggregation.quantized_params(
        scene.circ.agg.spec, scene.honest_model)
    tuned_proofs = _accuracy_proofs(world, scene.leader, scene.task_id, tuned,
                                    scene.honest_blinding, scene.work / "tuned")
    with ape.reverts(scene.leader.session.client.contract.AggregationNotProven):
        scene.publish(tuned_proofs, scene.included)
    # The proven model with an included list other than the proven one.
    with ape.reverts(scene.leader.session.client.contract.AggregationNotProven):
        scene.publish(scene.honest_chunks, scene.included[:1])


def test_the_honest_aggregate_publishes_and_the_round_finalises(
    world: World, scene: Scene
) -> None:
    from ape import accounts

    client = scene.leader.session.client
    # (ape's test isolation reverted the earlier tests' transactions: record it again.)
    scene.send(scene.honest_proof.public.global_commitment, scene.included,
               scene.honest_rejected(), scene.honest_proof.proof)
    # The aggregate's elements go on chain first (issue 17: the model stays available).
    session = scene.leader.session
    artifacts = session.circuit(session.task(scene.task_id)[1])
    post_global_model(session, scene.leader.account, artifacts, scene.honest_model,
                      scene.honest_blinding)
    scene.publish(scene.honest_chunks, scene.included)
    info = client.round(scene.task_id, 0)
    assert info.status == RoundStatus.PUBLISHED
    assert tuple(info.included) == tuple(scene.included)
    assert info.new_model_commitment == scene.honest_proof.public.global_commitment
    record = client.aggregation_record(scene.task_id, 0)
    assert record is not None and record.rejected == ((scene.no_slot, "no-slot"),)
    client.finalise(scene.task_id, 0, sender=accounts.test_accounts[0])
    assert client.round(scene.task_id, 0).status == RoundStatus.FINALISED
    # The published weights are exactly the proven aggregate (float32 round trip).
    honest = aggregation.quantized_params(scene.circ.agg.spec, scene.honest_model)
    rebuilt = build_model(scene.circ.agg.spec.architecture)
    rebuilt.load_state_dict(scene.honest_model.state_dict())
    assert aggregation.quantized_params(scene.circ.agg.spec, rebuilt) == honest
