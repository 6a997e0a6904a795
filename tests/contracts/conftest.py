"""Shared fixtures for the ZKPoT contract tests: accounts, deployment, tasks, clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from ape import accounts, project
from proof_kit import ProofKit, build_kit
from zkpot_helpers import AGGREGATE, CIRCUIT_ID, COMMIT, INITIAL_MODEL, REVEAL, SUBMIT

from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient
from zkpot.proving.ezkl import evm


@pytest.fixture(scope="session", autouse=True)
def _quiet_revert_traces() -> Iterator[None]:
    """Skip ape-foundry's call-trace printout on reverts: display only, slow and noisy."""
    from ape_ethereum.trace import Trace

    original = Trace.show
    Trace.show = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    yield
    Trace.show = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def publisher() -> Any:
    return accounts.test_accounts[0]


@pytest.fixture(scope="session")
def participants() -> list[Any]:
    return [accounts.test_accounts[i] for i in range(1, 6)]


@pytest.fixture(scope="session")
def outsider() -> Any:
    return accounts.test_accounts[8]


@pytest.fixture(scope="session")
def client(publisher: Any) -> ZKPoTClient:
    return ZKPoTClient.deploy(publisher)


@pytest.fixture(scope="session")
def zkpot(client: ZKPoTClient) -> Any:
    return client.contract


@pytest.fixture(scope="session")
def lens(client: ZKPoTClient) -> Any:
    """The read-only lens the consensus contract created (its struct getters)."""
    return client.lens


@pytest.fixture(scope="session")
def reverting_verifier(publisher: Any) -> Any:
    """FAKE verifier that always reverts: only for the reverting-verifier failure path."""
    return publisher.deploy(project.RevertingVerifier, CIRCUIT_ID, 4)


@pytest.fixture(scope="session")
def token(publisher: Any) -> Any:
    t = publisher.deploy(project.RewardToken)
    t.mint(publisher, 10**24, sender=publisher)
    return t


@pytest.fixture(scope="session", autouse=True)
def _session_contracts(client: ZKPoTClient, verifier: Any, token: Any,
                       reverting_verifier: Any) -> None:
    """Deploy the session's contracts at the first contract test of the process.

    ape's isolation reverts each module's chain changes when the module ends. A session
    contract first deployed by a later test inside a module is reverted with it while its
    fixture stays cached, and every later module then calls an address without code (seen
    under xdist, where a worker's module order is not the directory's).
    """


@pytest.fixture(scope="session")
def spec_factory() -> Callable[..., TaskSpec]:
    def make(verifier: Any, /, **overrides: Any) -> TaskSpec:
        base = TaskSpec(
            circuit_id=bytes(verifier.circuitId()),
            verifier=str(verifier.address),
            vk_digest=bytes(verifier.vkDigest()),
            chunks_per_round=1,
            spec_cid="bafyspec",
            initial_model_cid="bafyinitialmodel",
            initial_model_commitment=INITIAL_MODEL,
            policy=AggregationPolicy.LEADER_MODEL,
            commit_duration=COMMIT,
            reveal_duration=REVEAL,
            submit_duration=SUBMIT,
            aggregate_duration=AGGREGATE,
        )
        return replace(base, **overrides)

    return make


@pytest.fixture(scope="session")
def kit() -> ProofKit:
    """Real EZKL proofs of a tiny circuit (cached on disk across runs)."""
    return build_kit()


@pytest.fixture(scope="session")
def verifier(kit: ProofKit, publisher: Any) -> Any:
    """The real verifier: EZKL's reusable Halo2 verifier behind the accuracy adapter."""
    halo2 = publisher.deploy(project.Halo2VerifierReusable)
    args = evm.adapter_arguments(kit.artifacts)
    return publisher.deploy(project.EzklAccuracyVerifier, halo2.address, *args.as_tuple())
