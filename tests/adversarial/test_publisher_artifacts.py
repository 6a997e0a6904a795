# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""A publisher names one verification key in the task and runs another on chain.

Before: ``TaskConfig.vkDigest`` was never checked (and was written as zero), so the key
a task document names said nothing about the key the chain verified against. Now
``createTask`` refuses a digest that differs from the verifier adapter's own
``vkDigest()``, and the typed client reads what a participant needs to check the
adapter before proving: its runtime code hash and its VK digest.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape import chain, project
from eth_utils.crypto import keccak

from adversarial.chain_fixtures import (  # noqa: F401 - fixtures are found by name
    ProofKit,
    client,
    kit,
    make_task,
    publisher,
    quiet_revert_traces,
    verifier,
)
from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient
from zkpot.errors import ChainError
from zkpot.proving.ezkl import evm


def _spec(verifier: Any, vk_digest: bytes) -> TaskSpec:
    return TaskSpec(
        circuit_id=bytes(verifier.circuitId()),
        verifier=str(verifier.address),
        vk_digest=vk_digest,
        chunks_per_round=2,
        spec_cid="bafyspec",
        initial_model_cid="bafyinit",
        initial_model_commitment=b"\x11" * 32,
        policy=AggregationPolicy.FEDAVG,
    )


def test_task_naming_another_vk_digest_is_refused(
    client: ZKPoTClient, verifier: Any, publisher: Any
) -> None:
    zkpot = client.contract
    actual = bytes(verifier.vkDigest())
    assert actual == bytes(verifier.vkaDigest()) and actual != bytes(32)
    for claimed in (bytes(32), keccak(b"the key in the task document")):
        spec = _spec(verifier, claimed)
        with ape.reverts(zkpot.VkDigestMismatch, expected=actual, given=claimed):
            zkpot.createTask(spec.as_tuple(), [], sender=publisher)
    with pytest.raises(ChainError, match="VkDigestMismatch"):
        client.create_task(_spec(verifier, bytes(32)), publisher)
    assert client.create_task(_spec(verifier, actual), publisher) >= 0


def test_client_reads_the_adapters_code_hash_and_vk_digest(
    client: ZKPoTClient, kit: ProofKit, verifier: Any, publisher: Any
) -> None:
    code = bytes(chain.provider.get_code(verifier.address))
    assert client.code_hash(verifier.address) == keccak(code)
    assert client.verifier_vk_digest(verifier.address) == bytes(verifier.vkDigest())
    # A look-alike adapter (same circuit id and shape, other reusable verifier behind it)
    # has other code: a participant comparing code hashes tells them apart.
    halo2 = publisher.deploy(project.Halo2VerifierReusable)
    args = evm.adapter_arguments(kit.artifacts)
    twin = publisher.deploy(project.EzklAccuracyVerifier, halo2.address, *args.as_tuple())
    assert bytes(twin.circuitId()) == bytes(verifier.circuitId())
    assert client.code_hash(twin.address) != client.code_hash(verifier.address)
