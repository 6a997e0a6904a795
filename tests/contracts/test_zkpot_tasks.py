"""ZKPoT tasks: creation checks, allowlist, joining, closing — every revert and event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from zkpot_helpers import CIRCUIT_ID, X25519_KEY

from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient


def _create(zkpot: Any, spec: TaskSpec, sender: Any) -> Any:
    return zkpot.createTask(spec.as_tuple(), list(spec.allowlist or ()), sender=sender)


def test_create_task_records_config_and_emits_task_created(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
) -> None:
    spec = spec_factory(verifier, chunks_per_round=2, policy=AggregationPolicy.FEDAVG)
    before = zkpot.taskCount()
    receipt = _create(zkpot, spec, publisher)
    [event] = receipt.events.filter(zkpot.TaskCreated)
    assert event.taskId == before
    assert event.publisher == publisher.address
    assert bytes(event.circuitId) == bytes(verifier.circuitId())
    assert event.verifier == verifier.address
    assert event.policy == int(AggregationPolicy.FEDAVG)
    assert event.chunksPerRound == 2
    assert event.funded == 0
    assert event.specCID == "bafyspec"
    state = client.task_state(before)
    assert state.publisher == publisher.address
    assert state.samples_per_proof == verifier.samplesPerProof()
    assert state.global_model_cid == "bafyinitialmodel"
    assert state.round_count == 0 and state.block_count == 0 and not state.closed
    config = client.lens.taskConfig(before)
    assert config.chunksPerRound == 2 and bytes(config.vkDigest) == spec.vk_digest


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"verifier": "0x0000000000000000000000000000000000000000"}, "InvalidVerifier"),
        ({"circuit_id": bytes(32)}, "CircuitMismatch"),
        ({"chunks_per_round": 0}, "InvalidChunkCount"),
        ({"chunks_per_round": 13}, "TooManyChunks"),
        ({"vk_digest": bytes(32)}, "VkDigestMismatch"),
        ({"commit_duration": 30 * 86400 + 1}, "PhaseDurationTooLong"),
        ({"aggregate_duration": 2**64 - 1}, "PhaseDurationTooLong"),
        (
            {
                "commit_duration": 20 * 86400,
                "reveal_duration": 20 * 86400,
                "submit_duration": 20 * 86400,
            },
            "RoundDurationTooLong",
        ),
        ({"commit_duration": 0}, "InvalidPhaseDuration"),
        ({"reveal_duration": 0}, "InvalidPhaseDuration"),
        ({"submit_duration": 0}, "InvalidPhaseDuration"),
        ({"aggregate_duration": 0}, "InvalidPhaseDuration"),
        ({"leader_share_bps": 10_001}, "InvalidLeaderShare"),
        ({"max_submissions": 0}, "InvalidSubmissionLimit"),
        ({"max_submissions": 65}, "InvalidSubmissionLimit"),
        ({"reward_pool": 5}, "InvalidRewardConfig"),
        ({"reward_per_round": 5}, "InvalidRewardConfig"),
        ({"initial_model_commitment": bytes(32)}, "InvalidModelCommitment"),
        ({"spec_cid": ""}, "EmptyCID"),
        ({"initial_model_cid": ""}, "EmptyCID"),
    ],
)
def test_create_task_reverts_on_bad_config(
    zkpot: Any,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    overrides: dict[str, Any],
    error: str,
) -> None:
    spec = spec_factory(verifier, **overrides)
    with ape.reverts(getattr(zkpot, error)):
        _create(zkpot, spec, publisher)


def test_create_task_reverts_when_verifier_has_no_code(
    zkpot: Any, verifier: Any, spec_factory: Callable[..., TaskSpec], publisher: Any, outsider: Any
) -> None:
    spec = spec_factory(verifier, verifier=outsider.address)
    with ape.reverts(zkpot.InvalidVerifier):
        _create(zkpot, spec, publisher)


def test_create_task_reverts_when_token_set_without_pool(
    zkpot: Any, verifier: Any, token: Any, spec_factory: Callable[..., TaskSpec], publisher: Any
) -> None:
    spec = spec_factory(verifier, reward_token=token.address)
    with ape.reverts(zkpot.InvalidRewardConfig):
        _create(zkpot, spec, publisher)


def test_create_task_pulls_reward_pool(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
) -> None:
    spec = spec_factory(
        verifier, reward_token=token.address, reward_pool=1000, reward_per_round=300
    )
    token.approve(client.rewards.address, 1000, sender=publisher)
    before = token.balanceOf(publisher)
    held = token.balanceOf(client.rewards.address)
    receipt = client.contract.createTask(spec.as_tuple(), [], sender=publisher)
    [event] = receipt.events.filter(zkpot.TaskCreated)
    task_id = event.taskId
    assert event.funded == 1000
    assert token.balanceOf(publisher) == before - 1000
    assert token.balanceOf(client.rewards.address) == held + 1000
    pool = client.rewards.pool(task_id)
    assert (pool.token, pool.perRound, pool.leaderShareBps) == (token.address, 300, 0)
    state = client.task_state(task_id)
    assert state.funded == 1000 and state.unallocated == 1000


def test_views_revert_for_unknown_task(
    client: ZKPoTClient, zkpot: Any, outsider: Any
) -> None:
    missing = zkpot.taskCount() + 7
    lens = client.lens
    for view in (lens.taskState, lens.taskConfig):
        with ape.reverts(lens.UnknownTask, taskId=missing):
            view(missing)
    with ape.reverts(lens.UnknownTask, taskId=missing):
        lens.getRound(missing, 0)
    with ape.reverts(zkpot.UnknownTask, taskId=missing):
        zkpot.join(missing, X25519_KEY, sender=outsider)


def test_open_task_lets_anyone_join_and_emits_participant_joined(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    outsider: Any,
) -> None:
    task_id = client.create_task(spec_factory(verifier), publisher)
    assert client.is_allowed(task_id, outsider.address)
    assert client.participant_key(task_id, outsider.address) is None
    receipt = zkpot.join(task_id, X25519_KEY, sender=outsider)
    [event] = receipt.events.filter(zkpot.ParticipantJoined)
    assert (event.taskId, event.participant, bytes(event.encryptionPublicKey)) == (
        task_id,
        outsider.address,
        X25519_KEY,
    )
    assert client.participant_key(task_id, outsider.address) == X25519_KEY
    with ape.reverts(zkpot.AlreadyJoined):
        zkpot.join(task_id, X25519_KEY, sender=outsider)


def test_join_reverts_on_zero_key(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    outsider: Any,
) -> None:
    task_id = client.create_task(spec_factory(verifier), publisher)
    with ape.reverts(zkpot.InvalidEncryptionKey):
        zkpot.join(task_id, bytes(32), sender=outsider)


def test_allowlist_is_publisher_managed(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    alice, bob = participants[0], participants[1]
    receipt = _create(zkpot, spec_factory(verifier, allowlist=(alice.address,)), publisher)
    [created] = receipt.events.filter(zkpot.TaskCreated)
    task_id = created.taskId
    [listed] = receipt.events.filter(zkpot.AllowlistUpdated)
    assert (listed.taskId, listed.account, listed.allowed) == (task_id, alice.address, True)
    assert client.is_allowed(task_id, alice.address)
    assert not client.is_allowed(task_id, bob.address)
    with ape.reverts(zkpot.NotAllowed):
        zkpot.join(task_id, X25519_KEY, sender=bob)
    with ape.reverts(zkpot.NotPublisher):
        zkpot.setAllowed(task_id, [bob.address], True, sender=outsider)
    receipt = zkpot.setAllowed(task_id, [bob.address], True, sender=publisher)
    [event] = receipt.events.filter(zkpot.AllowlistUpdated)
    assert (event.taskId, event.account, event.allowed) == (task_id, bob.address, True)
    zkpot.join(task_id, X25519_KEY, sender=bob)
    client.set_allowed(task_id, [bob.address], False, publisher)
    assert not client.is_allowed(task_id, bob.address)


def test_set_allowed_reverts_on_open_task(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
) -> None:
    task_id = client.create_task(spec_factory(verifier), publisher)
    with ape.reverts(zkpot.AllowlistDisabled):
        zkpot.setAllowed(task_id, [publisher.address], True, sender=publisher)


def test_close_task_refunds_unallocated_pool_and_blocks_further_use(
    zkpot: Any,
    client: ZKPoTClient,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    outsider: Any,
) -> None:
    spec = spec_factory(verifier, reward_token=token.address, reward_pool=700, reward_per_round=100)
    token.approve(client.rewards.address, 700, sender=publisher)
    task_id = client.create_task(spec, publisher)
    before = token.balanceOf(publisher)
    with ape.reverts(zkpot.NotPublisher):
        zkpot.closeTask(task_id, sender=outsider)
    receipt = zkpot.closeTask(task_id, sender=publisher)
    [event] = receipt.events.filter(zkpot.TaskClosed)
    assert (event.taskId, event.refunded) == (task_id, 700)
    assert token.balanceOf(publisher) == before + 700
    assert client.task_state(task_id).closed
    with ape.reverts(zkpot.TaskIsClosed):
        zkpot.closeTask(task_id, sender=publisher)
    with ape.reverts(zkpot.TaskIsClosed):
        zkpot.join(task_id, X25519_KEY, sender=outsider)
    with ape.reverts(zkpot.TaskIsClosed):
        zkpot.openRound(task_id, bytes(31) + b"\x01", sender=publisher)


def test_unused_circuit_id_constant_matches_fake(reverting_verifier: Any) -> None:
    assert bytes(reverting_verifier.circuitId()) == CIRCUIT_ID
