"""EzklAccuracyVerifier on anvil: EZKL's reusable verifier plus the tiny circuit's VK artifact."""

from __future__ import annotations

from typing import Any

import pytest
from ape import accounts, project, reverts

from proving.conftest import TinySetup
from zkpot.proving import curve
from zkpot.proving.ezkl import evm, pipeline

EIP170_LIMIT = 24_576


@pytest.fixture(scope="module")
def deployed(tiny: TinySetup) -> tuple[Any, Any]:
    owner = accounts.test_accounts[0]
    halo2 = owner.deploy(project.Halo2VerifierReusable)
    args = evm.adapter_arguments(tiny.artifacts)
    adapter = owner.deploy(project.EzklAccuracyVerifier, halo2.address, *args.as_tuple())
    return halo2, adapter


def _statement(raw: Any) -> pipeline.Statement:
    # ape returns the Solidity struct as a tuple in declaration order.
    return pipeline.Statement(bytes(raw[0]), bytes(raw[1]), int(raw[2]))


def _check(adapter: Any, proof: bytes, instances: list[int]) -> tuple[bool, pipeline.Statement]:
    valid, statement = adapter.verifyAccuracy(proof, instances)
    return bool(valid), _statement(statement)


def test_valid_proof_verifies_on_chain_with_the_python_statement(
    tiny: TinySetup, deployed: tuple[Any, Any]
) -> None:
    _, adapter = deployed
    for proof in (tiny.proof_a, tiny.proof_b):
        valid, statement = _check(adapter, proof.proof, proof.instances)
        assert valid
        assert statement == proof.statement
        assert _statement(adapter.statementOf(proof.proof, proof.instances)) == proof.statement


def test_adapter_reports_its_circuit(tiny: TinySetup, deployed: tuple[Any, Any]) -> None:
    halo2, adapter = deployed
    assert bytes(adapter.circuitId()) == bytes.fromhex(tiny.artifacts.circuit_id)
    assert adapter.samplesPerProof() == tiny.spec.samples
    assert adapter.halo2Verifier() == halo2.address
    assert [bytes(w) for w in adapter.vka()] == pipeline.vka_words(tiny.artifacts)


def test_deployed_code_fits_the_contract_size_limit(deployed: tuple[Any, Any]) -> None:
    from ape import chain

    for contract in deployed:
        size = len(chain.provider.get_code(contract.address))
        assert 0 < size <= EIP170_LIMIT


@pytest.mark.parametrize("delta", [1, -1])
def test_count_changed_is_rejected_on_chain(
    tiny: TinySetup, deployed: tuple[Any, Any], delta: int
) -> None:
    instances = list(tiny.proof_a.instances)
    instances[-1] = (instances[-1] + delta) % curve.SCALAR_MODULUS
    assert not _check(deployed[1], tiny.proof_a.proof, instances)[0]


def test_swapped_model_commitment_is_rejected_on_chain(
    tiny: TinySetup, deployed: tuple[Any, Any]
) -> None:
    art = tiny.artifacts
    start, end = 64 * art.test_set_points, 64 * (art.test_set_points + art.model_points)
    proof = bytearray(tiny.proof_a.proof)
    proof[start:end] = tiny.proof_b.proof[start:end]
    assert not _check(deployed[1], bytes(proof), tiny.proof_a.instances)[0]


def test_other_test_set_is_rejected_on_chain(tiny: TinySetup, deployed: tuple[Any, Any]) -> None:
    points = pipeline.test_set_points(tiny.artifacts, tiny.other_batch)
    proof = points + tiny.proof_a.proof[len(points) :]
    _, adapter = deployed
    claimed = _statement(adapter.statementOf(proof, tiny.proof_a.instances))
    assert claimed.test_set_commitment == pipeline.test_set_commitment(
        tiny.artifacts, tiny.other_batch
    )
    assert not _check(adapter, proof, tiny.proof_a.instances)[0]


@pytest.mark.parametrize("position", [0, 200, -1])
def test_flipped_proof_byte_is_rejected_on_chain(
    tiny: TinySetup, deployed: tuple[Any, Any], position: int
) -> None:
    proof = bytearray(tiny.proof_a.proof)
    proof[position] ^= 0x01
    assert not _check(deployed[1], bytes(proof), tiny.proof_a.instances)[0]


def test_malformed_input_is_invalid_and_statement_of_reverts(
    tiny: TinySetup, deployed: tuple[Any, Any]
) -> None:
    _, adapter = deployed
    short = tiny.proof_a.proof[:64]
    assert not _check(adapter, short, tiny.proof_a.instances)[0]
    assert not _check(adapter, tiny.proof_a.proof, [*tiny.proof_a.instances, 0])[0]
    with reverts(adapter.MalformedProof):
        adapter.statementOf(short, tiny.proof_a.instances)


def test_constructor_rejects_an_empty_verification_key(
    tiny: TinySetup, deployed: tuple[Any, Any]
) -> None:
    halo2, _ = deployed
    args = evm.adapter_arguments(tiny.artifacts).as_tuple()
    with reverts(project.EzklAccuracyVerifier.EmptyVerificationKey):
        accounts.test_accounts[0].deploy(project.EzklAccuracyVerifier, halo2.address, [], *args[1:])


def test_constructor_rejects_a_verification_key_over_the_code_size_limit(
    tiny: TinySetup, deployed: tuple[Any, Any]
) -> None:
    # 769 words = 24,608 bytes: one data contract cannot hold them (EIP-170).
    halo2, _ = deployed
    args = evm.adapter_arguments(tiny.artifacts).as_tuple()
    too_large = [b"\x01" * 32] * 769
    with reverts(project.EzklAccuracyVerifier.VerificationKeyTooLarge, bytesLength=769 * 32):
        accounts.test_accounts[0].deploy(
            project.EzklAccuracyVerifier, halo2.address, too_large, *args[1:]
        )
