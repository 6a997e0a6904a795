"""Chain fixtures for the adversarial contract tests: real anvil, real EZKL proofs.

The contract suite's proof kit (``tests/contracts/proof_kit.py``: a tiny circuit,
trained and constant-output models, two test sets, every proof real) and its helpers
are reused. The fixtures are registered by the suite's conftest; test modules import
the helpers (``submit``, ``open_and_commit``, ...) from here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ape import accounts, project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))

from proof_kit import ProofKit, build_kit  # noqa: E402
from zkpot_helpers import (  # noqa: E402
    AGGREGATE,
    COMMIT,
    INITIAL_MODEL,
    REVEAL,
    SUBMIT,
    TS_SALT,
    X25519_KEY,
    open_and_commit,
    raw_publish,
    raw_submit,
    salt_for,
    submit,
    to_leader_selection,
    warp,
)

from zkpot.chain import AggregationPolicy, TaskSpec, ZKPoTClient  # noqa: E402
from zkpot.proving.ezkl import evm  # noqa: E402

__all__ = [
    "TS_SALT",
    "X25519_KEY",
    "ProofKit",
    "open_and_commit",
    "raw_publish",
    "raw_submit",
    "salt_for",
    "submit",
    "to_leader_selection",
    "warp",
    "client",
    "honest",
    "kit",
    "make_task",
    "outsider",
    "publisher",
    "quiet_revert_traces",
    "sybils",
    "token",
    "verifier",
]


@pytest.fixture(scope="session", autouse=True)
def quiet_revert_traces() -> Iterator[None]:
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
def honest() -> list[Any]:
    """Participants who submit the models they trained."""
    return [accounts.test_accounts[i] for i in range(1, 4)]


@pytest.fixture(scope="session")
def sybils() -> list[Any]:
    """Accounts of one attacker."""
    return [accounts.test_accounts[i] for i in range(4, 8)]


@pytest.fixture(scope="session")
def outsider() -> Any:
    return accounts.test_accounts[8]


@pytest.fixture(scope="session")
def kit() -> ProofKit:
    """Real EZKL proofs of a tiny circuit (cached on disk across runs)."""
    return build_kit()


@pytest.fixture(scope="session")
def client(publisher: Any) -> ZKPoTClient:
    return ZKPoTClient.deploy(publisher)


@pytest.fixture(scope="session")
def verifier(kit: ProofKit, publisher: Any) -> Any:
    """EZKL's reusable Halo2 verifier behind the accuracy adapter, for the kit's circuit."""
    halo2 = publisher.deploy(project.Halo2VerifierReusable)
    args = evm.adapter_arguments(kit.artifacts)
    return publisher.deploy(project.EzklAccuracyVerifier, halo2.address, *args.as_tuple())


@pytest.fixture(scope="session")
def token(publisher: Any) -> Any:
    t = publisher.deploy(project.RewardToken)
    t.mint(publisher, 10**24, sender=publisher)
    return t


@pytest.fixture(scope="session")
def make_task(client: ZKPoTClient, verifier: Any, publisher: Any) -> Callable[..., int]:
    """Create a task on the real verifier (2 chunks of the kit's test sets) and join accounts."""

    def make(members: list[Any], /, **overrides: Any) -> int:
        spec = TaskSpec(
            circuit_id=bytes(verifier.circuitId()),
            verifier=str(verifier.address),
            vk_digest=bytes(verifier.vkDigest()),
            chunks_per_round=2,
            spec_cid="bafyspec",
            initial_model_cid="bafyinitialmodel",
            initial_model_commitment=INITIAL_MODEL,
            policy=AggregationPolicy.FEDAVG,
            commit_duration=COMMIT,
            reveal_duration=REVEAL,
            submit_duration=SUBMIT,
            aggregate_duration=AGGREGATE,
        )
        spec = replace(spec, **overrides)
        if spec.reward_token:
            from ape import Contract

            Contract(spec.reward_token).approve(
                client.rewards.address, spec.reward_pool, sender=publisher
            )
        task = client.create_task(spec, publisher)
        for account in members:
            client.join(task, X25519_KEY, account)
        return task

    return make
