# ruff: noqa: F811 - pytest fixtures imported from chain_fixtures are parameters here
"""Attack: steal a proof by pre-committing to a model commitment one can predict.

Before the fix the model commitment was a deterministic function of the weights, so
whoever had seen a model (a global model, an earlier submission, a model the leader
received) could commit to its commitment in the commit phase, copy the owner's proof
from the mempool, and get the owner rejected as ``ModelAlreadySubmitted``. Now every
commitment carries a fresh secret blinding: knowing the weights is not enough to
predict it, the copied proof does not open the thief's commitment, and the owner's own
submission goes through. Real proofs (the contract kit), real anvil.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape

from adversarial.chain_fixtures import (  # noqa: F401 - fixtures are found by name
    TS_SALT,
    ProofKit,
    client,
    honest,
    kit,
    make_task,
    open_and_commit,
    publisher,
    quiet_revert_traces,
    raw_submit,
    salt_for,
    submit,
    sybils,
    verifier,
    warp,
)
from zkpot.chain import ZKPoTClient
from zkpot.proving import circuit
from zkpot.proving.ezkl import pipeline


def _known_weights_commitments(kit: ProofKit, tries: int) -> set[bytes]:
    """What a thief who knows model ``a``'s weights (not its blinding) can compute."""
    from proof_kit import _trained  # on sys.path once chain_fixtures is imported

    weights = _trained(0, 5)  # the kit's model "a", rebuilt from public recipe
    guesses = {
        pipeline.model_commitment(kit.artifacts, weights, blinding=circuit.new_blinding())
        for _ in range(tries)
    }
    guesses.add(
        pipeline.model_commitment(
            kit.artifacts, weights, blinding=(0,) * circuit.BLINDING_SIZE
        )
    )
    return guesses


def test_knowing_the_weights_does_not_reveal_the_commitment(kit: ProofKit) -> None:
    guesses = _known_weights_commitments(kit, 2)
    assert kit.commitments["a"] not in guesses
    assert len(guesses) == 3


def test_a_copied_proof_does_not_open_the_thiefs_commitment(
    client: ZKPoTClient,
    kit: ProofKit,
    make_task: Callable[..., int],
    publisher: Any,
    honest: list[Any],
    sybils: list[Any],
) -> None:
    zkpot = client.contract
    owner, thief = honest[0], sybils[0]
    task = make_task([owner, thief])
    round_ = open_and_commit(client, kit, task, "s1", {owner: "a"}, publisher, reveal=False)
    # The thief's best guess at the owner's commitment, from the owner's known weights.
    [guess] = list(_known_weights_commitments(kit, 0))
    client.commit(task, round_, guess, salt_for(thief), thief)
    ts = kit.test_sets["s1"]
    warp(client.round(task, round_).commit_deadline)
    client.reveal_test_set(task, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    # Front-running with the owner's proof (copied from the mempool) fails...
    stolen = kit.proofs[("a", "s1")]
    check = client.check_submission(task, round_, thief.address, stolen, salt_for(thief))
    assert (check.accepted, check.reason) == (False, "CommitmentMismatch")
    with ape.reverts(zkpot.CommitmentMismatch):
        raw_submit(zkpot, task, round_, stolen, salt_for(thief), "bafy-stolen", thief)
    # ...and the owner's own submission is accepted with its count.
    submit(client, kit, task, round_, owner, "a", "s1")
    record = client.submission(task, round_, owner.address)
    assert record.verified and record.correct == kit.correct("a", "s1")
    assert not client.submission(task, round_, thief.address).verified
