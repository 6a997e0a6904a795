"""ZKPoTLens: the consensus contract's records decoded from its raw storage (extsload).

The core keeps no struct getters; the lens computes each record's slot and decodes the
words at the offsets of the structs in ``IZKPoT``. Every field of a task's configuration
and state is read back here after ``createTask`` set it to a value no other field shares,
so a wrong offset or shift shows up as a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
from ape import chain

from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient

LONG_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"  # 59 bytes: two words


def test_lens_and_aggregation_belong_to_the_core(client: ZKPoTClient) -> None:
    assert client.lens.zkpot() == client.address
    assert client.aggregation.zkpot() == client.address


def test_task_config_reads_back_every_field(
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    token: Any,
) -> None:
    spec = spec_factory(
        verifier,
        chunks_per_round=3,
        policy=AggregationPolicy.FEDAVG,
        commit_duration=601,
        reveal_duration=302,
        submit_duration=903,
        aggregate_duration=404,
        allowlist=(participants[0].address,),
        reward_token=str(token.address),
        reward_pool=5_000,
        reward_per_round=700,
        leader_share_bps=2_345,
        max_submissions=17,
        spec_cid=LONG_CID,
        initial_model_cid="bafy-short",
    )
    token.approve(client.rewards.address, spec.reward_pool, sender=publisher)
    task = client.create_task(spec, publisher)
    config = client.lens.taskConfig(task)
    assert tuple(config) == (
        spec.circuit_id,
        spec.verifier,
        spec.vk_digest,
        3,
        int(AggregationPolicy.FEDAVG),
        "0x0000000000000000000000000000000000000000",
        601,
        302,
        903,
        404,
        True,
        str(token.address),
        5_000,
        700,
        2_345,
        17,
        LONG_CID,
        "bafy-short",
        spec.initial_model_commitment,
    )
    state = client.lens.taskState(task)
    assert (state.publisher, state.closed, state.samplesPerProof) == (
        publisher.address,
        False,
        verifier.samplesPerProof(),
    )
    assert (state.roundCount, state.blockCount, state.globalModelCID) == (0, 0, "bafy-short")
    assert bytes(state.globalModelCommitment) == spec.initial_model_commitment


def test_extsload_reads_raw_words(client: ZKPoTClient) -> None:
    zkpot = client.contract
    count = zkpot.taskCount()
    # _taskCount is the first variable of ZKPoTStorage: slot 0.
    assert int.from_bytes(bytes(zkpot.extsload(bytes(32))), "big") == count
    words = zkpot.extsload(bytes(32), 3)
    assert len(words) == 3 and int.from_bytes(bytes(words[0]), "big") == count
    assert chain.provider.get_storage(zkpot.address, 0) == bytes(words[0])


def test_lens_reverts_with_the_cores_errors(client: ZKPoTClient) -> None:
    lens = client.lens
    missing = client.task_count() + 3
    with ape.reverts(lens.UnknownTask, taskId=missing):
        lens.getSubmission(missing, 0, client.address)
    with ape.reverts(lens.UnknownTask, taskId=missing):
        lens.getBlock(missing, 0)
