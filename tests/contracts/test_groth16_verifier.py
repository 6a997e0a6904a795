"""Groth16 on chain with real proofs: the generated verifier, its accuracy adapter, and
ZKPoT submissions (valid, tampered proof, tampered count, wrong test set, wrong
submitter, replay in another round), from both provers. Gas from real receipts goes to
``results/groth16-gas.json`` when ``ZKPOT_WRITE_RESULTS=1`` (else to a temp file)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import ape
import pytest
from ape import chain, project
from eth_utils.crypto import keccak
from groth16_kit import MODELS, Groth16Kit, build_kit, expected_count, gas_results_file
from zkpot_helpers import joined_task, open_and_commit, raw_submit, salt_for, warp

from zkpot.chain import ChunkProof, TaskSpec, ZKPoTClient, verifiers
from zkpot.proving.groth16 import prover, solidity

GAS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def g16(tmp_path_factory: pytest.TempPathFactory) -> Groth16Kit:
    return build_kit(tmp_path_factory.mktemp("groth16-kit"))


@pytest.fixture(scope="module")
def g16_verifier(g16: Groth16Kit, publisher: Any) -> Any:
    """The generated verifier, compiled by the project's solc 0.8.20."""
    compiled = solidity.compile_verifier(g16.verifier_source, g16.verifier_name)
    return publisher.deploy(verifiers.container(compiled))


@pytest.fixture(scope="module")
def adapter(g16_verifier: Any, publisher: Any) -> Any:
    return publisher.deploy(
        project.Groth16AccuracyVerifier, g16_verifier.address, bytes.fromhex("9a" * 32), 4
    )


@pytest.fixture(scope="module", autouse=True)
def _write_gas() -> Iterator[None]:
    yield
    if GAS:
        out = gas_results_file()
        recorded = json.loads(out.read_text()) if out.is_file() else {}
        recorded.update(GAS)
        recorded["device"] = "anvil (foundry 1.7.1), solc 0.8.20, optimizer 200 runs"
        out.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")


def _chunk(p: prover.Groth16Proof) -> ChunkProof:
    return ChunkProof(p.proof, tuple(p.public_signals))


@pytest.fixture
def task(
    client: ZKPoTClient,
    adapter: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> int:
    return joined_task(client, adapter, spec_factory, publisher, participants, chunks_per_round=1)


# --- the verifier and the adapter ------------------------------------------------------


def test_kit_commitments_match_the_circuits_public_signals(
    g16: Groth16Kit, participants: list[Any]
) -> None:
    alice = participants[0]
    p = g16.proof("a", "s1", alice.address)
    assert p.public_signals == [
        expected_count("a", "s1"),
        int.from_bytes(g16.commitments["a"], "big"),
        int.from_bytes(g16.test_sets["s1"].chunk_commitments[0], "big"),
        int(alice.address, 16),
    ]


def test_generated_verifier_accepts_both_provers_and_rejects_tampering(
    g16: Groth16Kit, g16_verifier: Any, participants: list[Any]
) -> None:
    alice = participants[0]
    for via in ("groth16py", "snarkjs"):
        p = g16.proof("a", "s1", alice.address, via)
        a, b, c = prover.decode_proof(p.proof)
        assert g16_verifier.verifyProof(a, b, c, p.public_signals) is True
        tampered = list(p.public_signals)
        tampered[0] += 1
        assert g16_verifier.verifyProof(a, b, c, tampered) is False


def test_adapter_reports_the_statement_and_digest(
    g16: Groth16Kit, adapter: Any, g16_verifier: Any, publisher: Any, participants: list[Any]
) -> None:
    alice = participants[0]
    p = g16.proof("a", "s1", alice.address)
    valid, st = adapter.verifyAccuracy(p.proof, p.public_signals)
    assert valid
    model, test_set, correct, submitter = st
    assert (bytes(model), bytes(test_set), correct, submitter) == (
        g16.commitments["a"],
        g16.test_sets["s1"].chunk_commitments[0],
        expected_count("a", "s1"),
        alice.address,
    )
    assert tuple(adapter.statementOf(p.proof, p.public_signals)) == tuple(st)
    code = bytes(chain.provider.get_code(g16_verifier.address))
    assert bytes(adapter.vkDigest()) == keccak(code)
    # The template returns false (no revert) when the pairing runs out of gas, so
    # eth_estimateGas finds a failing call: a transaction with ample gas measures the real one.
    a, b, c = prover.decode_proof(p.proof)
    assert g16_verifier.verifyProof(a, b, c, p.public_signals) is True
    receipt = g16_verifier.verifyProof.transact(
        a, b, c, p.public_signals, sender=publisher, gas=2_000_000
    )
    GAS["Groth16Verifier.verifyProof alone (transaction receipt, 21k base included)"] = (
        receipt.gas_used
    )
    assert adapter.groth16Verifier() == g16_verifier.address
    assert adapter.samplesPerProof() == 4


def test_adapter_rejects_tampered_malformed_and_unbound_proofs(
    g16: Groth16Kit, adapter: Any, participants: list[Any]
) -> None:
    alice = participants[0]
    p = g16.proof("a", "s1", alice.address)
    flipped = bytearray(p.proof)
    flipped[40] ^= 1
    assert adapter.verifyAccuracy(bytes(flipped), p.public_signals)[0] is False
    for i in range(4):
        changed = list(p.public_signals)
        changed[i] = (changed[i] + 1) % prover.FIELD_MODULUS
        assert adapter.verifyAccuracy(p.proof, changed)[0] is False
    assert adapter.verifyAccuracy(p.proof[:-1], p.public_signals)[0] is False
    assert adapter.verifyAccuracy(p.proof, p.public_signals[:3])[0] is False
    assert adapter.verifyAccuracy(p.proof, [*p.public_signals, 0])[0] is False
    with ape.reverts(adapter.MalformedProof):
        adapter.statementOf(p.proof[:255], p.public_signals)
    # A valid proof bound to no one (submitter 0) is refused: anyone could copy it.
    unbound = g16.proof("a", "s1", 0)
    assert prover.verify(g16.verification_key, unbound.proof, unbound.public_signals)
    assert adapter.verifyAccuracy(unbound.proof, unbound.public_signals)[0] is False


def test_adapter_constructor_refuses_an_address_without_code(publisher: Any) -> None:
    with ape.reverts():
        publisher.deploy(project.Groth16AccuracyVerifier, publisher.address, bytes(32), 4)


# --- ZKPoT submissions -----------------------------------------------------------------


def test_valid_proof_is_verified_recorded_and_gas_measured(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    adapter: Any,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, g16, task, "s1", {alice: "a"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a", "s1", alice.address)
    check = client.check_submission(task, round_, alice.address, [_chunk(p)], salt_for(alice))
    assert check.accepted and check.correct == expected_count("a", "s1")
    receipt = raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(alice), "bafy-g16", alice)
    [event] = receipt.events.filter(zkpot.SubmissionVerified)
    assert (event.participant, event.correct) == (alice.address, expected_count("a", "s1"))
    assert bytes(event.modelCommitment) == g16.commitments["a"]
    record = client.submission(task, round_, alice.address)
    assert record.verified and record.correct == expected_count("a", "s1")

    probe = publisher.deploy(project.VerifyGasProbe)
    estimate = int(
        chain.provider.web3.eth.estimate_gas(
            {
                "to": probe.address,
                "data": bytes(probe.probe.encode_input(adapter.address, p.proof, p.public_signals)),
            }
        )
    )
    probe_receipt = probe.probe.transact(
        adapter.address, p.proof, p.public_signals, sender=publisher
    )
    calldata = len(
        bytes(
            zkpot.submit.encode_input(
                task, round_, [p.proof], [p.public_signals], salt_for(alice), "bafy-g16"
            )
        )
    )
    GAS["verifyAccuracy (1 valid proof, VerifyGasProbe transaction receipt)"] = (
        probe_receipt.gas_used
    )
    GAS["verifyAccuracy (1 valid proof, eth_estimateGas of the probe)"] = estimate
    GAS["submit (1 proof, receipt)"] = receipt.gas_used
    GAS["submit calldata bytes"] = calldata
    GAS["proof bytes"] = len(p.proof)
    GAS["runtime bytes"] = {
        "ZKPoT": len(bytes(chain.provider.get_code(client.address))),
        "Groth16AccuracyVerifier": len(bytes(chain.provider.get_code(adapter.address))),
        "Groth16Verifier (snarkjs template, 4 public signals)": len(
            bytes(chain.provider.get_code(adapter.groth16Verifier()))
        ),
    }


def test_snarkjs_proof_is_accepted_on_chain(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    bob = participants[1]
    round_ = open_and_commit(client, g16, task, "s1", {bob: "b"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("b", "s1", bob.address, "snarkjs")
    receipt = raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(bob), "bafy-g16-b", bob)
    [event] = receipt.events.filter(zkpot.SubmissionVerified)
    assert event.correct == expected_count("b", "s1")


def test_tampered_proof_and_count_are_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, g16, task, "s1", {alice: "a"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a", "s1", alice.address)
    flipped = bytearray(p.proof)
    flipped[100] ^= 1
    bad_proof = ChunkProof(bytes(flipped), tuple(p.public_signals))
    inflated = ChunkProof(p.proof, (p.public_signals[0] + 1, *p.public_signals[1:]))
    for bad in (bad_proof, inflated):
        assert (
            client.check_submission(task, round_, alice.address, [bad], salt_for(alice)).reason
            == "InvalidProof"
        )
        with ape.reverts(zkpot.InvalidProof):
            raw_submit(zkpot, task, round_, [bad], salt_for(alice), "bafy-x", alice)
    raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(alice), "bafy-g16", alice)


def test_proof_on_another_test_set_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round_ = open_and_commit(client, g16, task, "s2", {alice: "a"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a", "s1", alice.address)
    with ape.reverts(zkpot.ChunkMismatch):
        raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(alice), "bafy-x", alice)


def test_proof_copied_by_another_sender_reverts_submitter_mismatch(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, mallory = participants[0], participants[2]
    # Mallory even commits alice's model commitment: the bound submitter still stops her.
    round_ = open_and_commit(client, g16, task, "s1", {alice: "a", mallory: "a"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a", "s1", alice.address)
    check = client.check_submission(task, round_, mallory.address, [_chunk(p)], salt_for(mallory))
    assert (check.accepted, check.reason) == (False, "SubmitterMismatch")
    with ape.reverts(zkpot.SubmitterMismatch):
        raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(mallory), "bafy-x", mallory)
    raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(alice), "bafy-g16", alice)


def test_proof_replayed_in_another_round_is_rejected(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice = participants[0]
    round0 = open_and_commit(client, g16, task, "s1", {alice: "a"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a", "s1", alice.address)
    raw_submit(zkpot, task, round0, [_chunk(p)], salt_for(alice), "bafy-g16", alice)
    # Close round 0: leader, global model (the leader's proof is bound to the leader too).
    warp(client.round(task, round0).submit_deadline)
    zkpot.selectLeader(task, round0, sender=publisher)
    _post(zkpot, "a", alice)
    receipt = zkpot.publishGlobalModel(
        task, round0, "bafy-global", [], [p.proof], [p.public_signals], sender=alice
    )
    GAS["publishGlobalModel (1 proof, receipt)"] = receipt.gas_used
    zkpot.finalise(task, round0, sender=publisher)
    # Round 1 on the same chunk: the fresh per-round blinding ("a2") makes the old proof's
    # model commitment differ from the one committed this round.
    round1 = open_and_commit(client, g16, task, "s1", {alice: "a2"}, publisher)  # type: ignore[arg-type]
    with ape.reverts(zkpot.CommitmentMismatch):
        raw_submit(zkpot, task, round1, [_chunk(p)], salt_for(alice), "bafy-x", alice)
    fresh = g16.proof("a2", "s1", alice.address)
    raw_submit(zkpot, task, round1, [_chunk(fresh)], salt_for(alice), "bafy-g16", alice)


def _post(zkpot: Any, model: str, sender: Any) -> Any:
    """Post the kit model's elements (its commitment is Poseidon(w0, w1, blinding))."""
    availability = project.ZKPoTAvailability.at(str(zkpot.availability()))
    return availability.post(list(MODELS[model]), sender=sender)


def test_publish_reverts_until_the_global_model_is_posted(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
    outsider: Any,
) -> None:
    """A Groth16 global model is published only once its elements are on chain (issue 17).

    The model is "a2", whose elements no other test posts: postings are content-addressed
    and live on the session's availability contract, so a posting that ape's isolation
    failed to revert ("a", in the test above) must not answer for this one.
    """
    alice = participants[0]
    round_ = open_and_commit(client, g16, task, "s1", {alice: "a2"}, publisher)  # type: ignore[arg-type]
    p = g16.proof("a2", "s1", alice.address)
    raw_submit(zkpot, task, round_, [_chunk(p)], salt_for(alice), "bafy-g16", alice)
    warp(client.round(task, round_).submit_deadline)
    zkpot.selectLeader(task, round_, sender=publisher)
    with ape.reverts(zkpot.ModelNotPosted, commitment=g16.commitments["a2"]):
        zkpot.publishGlobalModel(
            task, round_, "bafy-global", [], [p.proof], [p.public_signals], sender=alice
        )
    # Another model's elements do not stand for this one.
    _post(zkpot, "b", outsider)
    with ape.reverts(zkpot.ModelNotPosted, commitment=g16.commitments["a2"]):
        zkpot.publishGlobalModel(
            task, round_, "bafy-global", [], [p.proof], [p.public_signals], sender=alice
        )
    # Anyone may post the right elements (content-addressed): then the leader publishes.
    _post(zkpot, "a2", outsider)
    zkpot.publishGlobalModel(
        task, round_, "bafy-global", [], [p.proof], [p.public_signals], sender=alice
    )
    assert client.round(task, round_).new_model_commitment == g16.commitments["a2"]


def test_leader_cannot_publish_with_another_accounts_proof(
    zkpot: Any,
    client: ZKPoTClient,
    g16: Groth16Kit,
    task: int,
    publisher: Any,
    participants: list[Any],
) -> None:
    alice, bob = participants[0], participants[1]
    round_ = open_and_commit(client, g16, task, "s1", {alice: "a", bob: "b"}, publisher)  # type: ignore[arg-type]
    pa = g16.proof("a", "s1", alice.address)
    raw_submit(zkpot, task, round_, [_chunk(pa)], salt_for(alice), "bafy-a", alice)
    pb = g16.proof("b", "s1", bob.address)
    receipt = raw_submit(zkpot, task, round_, [_chunk(pb)], salt_for(bob), "bafy-b", bob)
    GAS["submit (1 proof, second submitter of the round, receipt)"] = receipt.gas_used
    warp(client.round(task, round_).submit_deadline)
    zkpot.selectLeader(task, round_, sender=publisher)
    assert client.round(task, round_).leader == alice.address
    # A proof of the leader's model bound to bob does not serve the leader's publication.
    copied = g16.proof("a", "s1", bob.address)
    with ape.reverts(zkpot.SubmitterMismatch):
        zkpot.publishGlobalModel(
            task, round_, "bafy-global", [], [copied.proof], [copied.public_signals], sender=alice
        )
