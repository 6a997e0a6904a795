"""ZKPoTAvailability and the generated on-chain Poseidon, on a real anvil.

The on-chain Poseidon is checked against light-poseidon (circomlib's constants) for every
width the model commitment's chain can use (1 to 12 inputs), and the chain against
packing.py's ``poseidon_chain`` at lengths that end on every link width, at the tiny and
the default MLP's element counts, and at the posting cap (where its gas is read).
"""

from __future__ import annotations

import random
from typing import Any

import ape
import pytest
from ape import chain, project

from zkpot import models
from zkpot.availability.client import AvailabilityClient, deploy_availability
from zkpot.availability.elements import element_count
from zkpot.proving.circuit import CircuitSpec
from zkpot.proving.curve import SCALAR_MODULUS
from zkpot.proving.groth16.packing import poseidon, poseidon_chain

LIMIT = 19_660  # 20 % under EIP-170, as tests/contracts/test_contract_sizes.py
BLOCK_GAS = 30_000_000
rng = random.Random(17)


def _felts(n: int) -> list[int]:
    return [rng.randrange(SCALAR_MODULUS) for _ in range(n)]


def _b32(value: int) -> bytes:
    return value.to_bytes(32, "big")


@pytest.fixture(scope="module")
def availability(publisher: Any) -> Any:
    return deploy_availability(publisher)


@pytest.fixture(scope="module")
def poseidon_chain_contract(availability: Any) -> Any:
    return project.PoseidonChain.at(str(availability.poseidon()))


@pytest.mark.parametrize("inputs", range(1, 13))
def test_poseidon_matches_light_poseidon_at_every_width(
    poseidon_chain_contract: Any, inputs: int
) -> None:
    values = _felts(inputs)
    values[0] = SCALAR_MODULUS - 1  # the largest field element
    assert poseidon_chain_contract.hash(values) == poseidon(values)


def test_poseidon_of_zeros_matches(poseidon_chain_contract: Any) -> None:
    for inputs in (1, 12):
        assert poseidon_chain_contract.hash([0] * inputs) == poseidon([0] * inputs)


def test_poseidon_refuses_widths_not_generated(poseidon_chain_contract: Any) -> None:
    with ape.reverts(poseidon_chain_contract.PoseidonArity, inputs=0):
        poseidon_chain_contract.hash([])
    with ape.reverts(poseidon_chain_contract.PoseidonArity, inputs=13):
        poseidon_chain_contract.hash([1] * 13)


# 1..12: one call of that width; 13..23: a full first call and a last link of every width.
@pytest.mark.parametrize("length", [1, 5, 11, 12, *range(13, 24), 24, 34, 35])
def test_chain_matches_packing_poseidon_chain(poseidon_chain_contract: Any, length: int) -> None:
    elements = _felts(length)
    assert poseidon_chain_contract.hashChain(elements) == poseidon_chain(elements)


@pytest.mark.parametrize("arch", [models.TINY_MLP, models.MLP_DIGITS, models.LENET_DIGITS])
def test_chain_matches_at_model_sizes(poseidon_chain_contract: Any, arch: Any) -> None:
    elements = _felts(element_count(CircuitSpec(arch, samples=16, backend="groth16")))
    assert poseidon_chain_contract.hashChain(elements) == poseidon_chain(elements)


def test_chain_refuses_an_element_outside_the_field(poseidon_chain_contract: Any) -> None:
    elements = _felts(20)
    elements[14] = SCALAR_MODULUS
    with ape.reverts(poseidon_chain_contract.NotAFieldElement, index=14, value=SCALAR_MODULUS):
        poseidon_chain_contract.hashChain(elements)


def test_post_records_the_commitment_and_emits_the_elements(
    availability: Any, outsider: Any
) -> None:
    elements = _felts(45)
    commitment = _b32(poseidon_chain(elements))
    client = AvailabilityClient(availability)
    assert client.posted_block(commitment) == 0
    assert client.posting(commitment) is None
    receipt = availability.post(elements, sender=outsider)
    events = list(receipt.events.filter(availability.ModelPosted))
    assert len(events) == 1
    assert bytes(events[0].commitment) == commitment
    assert events[0].poster == outsider.address
    assert [int(v) for v in events[0].elements] == elements
    assert client.posted_block(commitment) == receipt.block_number
    posting = client.posting(commitment)
    assert posting is not None
    assert posting.elements == tuple(elements)
    assert posting.poster == outsider.address
    assert posting.block == receipt.block_number


def test_post_twice_reverts_with_the_first_block(availability: Any, publisher: Any) -> None:
    elements = _felts(13)
    receipt = availability.post(elements, sender=publisher)
    commitment = _b32(poseidon_chain(elements))
    with ape.reverts(
        availability.ModelAlreadyPosted, commitment=commitment, postedBlock=receipt.block_number
    ):
        availability.post(elements, sender=publisher)


def test_post_refuses_empty_and_oversized_postings(availability: Any, publisher: Any) -> None:
    most = int(availability.MAX_POSTED_ELEMENTS())
    with ape.reverts(availability.PostingSize, count=0, max=most):
        availability.post([], sender=publisher)
    with ape.reverts(availability.PostingSize, count=most + 1, max=most):
        availability.post([1] * (most + 1), sender=publisher)


def test_post_refuses_an_element_outside_the_field(availability: Any, publisher: Any) -> None:
    poseidon_contract = project.PoseidonChain.at(str(availability.poseidon()))
    with ape.reverts(poseidon_contract.NotAFieldElement, index=0, value=SCALAR_MODULUS + 5):
        availability.post([SCALAR_MODULUS + 5, 1], sender=publisher)


def test_a_posting_at_the_cap_fits_a_block(availability: Any, publisher: Any) -> None:
    most = int(availability.MAX_POSTED_ELEMENTS())
    receipt = availability.post(_felts(most), sender=publisher)
    assert receipt.gas_used < BLOCK_GAS // 2


def test_check_available_applies_to_groth16_adapters_only(
    availability: Any, publisher: Any, verifier: Any, poseidon_chain_contract: Any
) -> None:
    # Any contract with code stands in for the generated Groth16 verifier behind the adapter.
    groth16 = publisher.deploy(
        project.Groth16AccuracyVerifier, poseidon_chain_contract.address, b"\x01" * 32, 16
    )
    elements = _felts(30)
    commitment = _b32(poseidon_chain(elements))
    assert availability.checksPostings(groth16.address)
    assert not availability.checksPostings(verifier.address)  # EZKL's adapter
    with ape.reverts(availability.ModelNotPosted, commitment=commitment):
        availability.checkAvailable(groth16.address, commitment)
    availability.checkAvailable(verifier.address, commitment)  # EZKL: not enforced
    availability.post(elements, sender=publisher)
    availability.checkAvailable(groth16.address, commitment)


def test_every_availability_contract_keeps_a_fifth_of_eip170_free(availability: Any) -> None:
    poseidon_contract = project.PoseidonChain.at(str(availability.poseidon()))
    addresses = [
        availability.address,
        poseidon_contract.address,
        *poseidon_contract.dataContracts(),
    ]
    for address in addresses:
        size = len(bytes(chain.provider.get_code(address)))
        assert 0 < size <= LIMIT, f"{address} is {size} bytes"
    # A data contract's code starts with STOP: calling it does nothing.
    for address in poseidon_contract.dataContracts():
        assert bytes(chain.provider.get_code(address))[0] == 0
