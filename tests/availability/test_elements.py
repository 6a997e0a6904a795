"""A Groth16 model as posted elements and back: the round trip, and untrusted postings refused."""

from __future__ import annotations

from typing import Any

import pytest

from zkpot import models
from zkpot.availability.elements import (
    ModelPostingError,
    element_count,
    model_elements,
    model_from_elements,
    unpack_elements,
)
from zkpot.errors import ZkpotError
from zkpot.models import build_model
from zkpot.proving.circuit import CircuitSpec, new_blinding
from zkpot.proving.curve import SCALAR_MODULUS
from zkpot.proving.groth16.circom import model_commitment, model_values
from zkpot.proving.groth16.packing import poseidon_chain

Posted = tuple[Any, tuple[int, ...], list[int]]
"""A model, its blinding and its posted elements."""

SPEC = CircuitSpec(models.TINY_MLP, samples=8, backend="groth16")


@pytest.fixture(scope="module")
def posted() -> Posted:
    model = build_model(models.TINY_MLP, seed=3)
    blinding = new_blinding()
    return model, blinding, model_elements(SPEC, model, blinding)


def test_the_elements_hash_to_the_model_commitment(posted: Posted) -> None:
    model, blinding, elements = posted
    assert len(elements) == element_count(SPEC) == 45
    assert poseidon_chain(elements).to_bytes(32, "big") == model_commitment(SPEC, model, blinding)


def test_unpacking_gives_back_the_quantised_model_and_blinding(posted: Posted) -> None:
    model, blinding, elements = posted
    params, unpacked_blinding = unpack_elements(SPEC, elements)
    assert params == model_values(SPEC, model)
    assert unpacked_blinding == blinding


def test_the_rebuilt_model_commits_to_the_same_value(posted: Posted) -> None:
    model, blinding, elements = posted
    expected = model_commitment(SPEC, model, blinding)
    rebuilt, rebuilt_blinding = model_from_elements(SPEC, elements, expected)
    assert rebuilt_blinding == blinding
    assert model_commitment(SPEC, rebuilt, rebuilt_blinding) == expected
    assert model_values(SPEC, rebuilt) == model_values(SPEC, model)


def test_a_posting_of_another_commitment_is_refused(posted: Posted) -> None:
    _, _, elements = posted
    with pytest.raises(ModelPostingError, match="commit to"):
        model_from_elements(SPEC, elements, b"\x01" * 32)


@pytest.mark.parametrize("count", [0, 44, 46])
def test_a_posting_of_the_wrong_length_is_refused(posted: Posted, count: int) -> None:
    _, _, elements = posted
    wrong = (elements * 2)[:count]
    with pytest.raises(ModelPostingError, match=f"holds {count} elements"):
        unpack_elements(SPEC, wrong)


def test_an_element_outside_the_field_is_refused(posted: Posted) -> None:
    _, _, elements = posted
    for bad in (SCALAR_MODULUS, -1):
        wrong = [*elements[:-1], bad]
        with pytest.raises(ModelPostingError, match="not a field element"):
            unpack_elements(SPEC, wrong)


def test_bits_the_packing_never_sets_are_refused(posted: Posted) -> None:
    _, _, elements = posted
    wrong = list(elements)
    wrong[0] |= 1 << 252  # above the last packed slot of a full weight element
    with pytest.raises(ModelPostingError, match="bits the packing never uses"):
        unpack_elements(SPEC, wrong)
    last = list(elements)
    last[-1] |= 1 << 250  # the blinding's element holds 8 x 22 = 176 bits
    with pytest.raises(ModelPostingError, match="bits the packing never uses"):
        unpack_elements(SPEC, last)


def test_every_refusal_is_the_projects_error_type(posted: Posted) -> None:
    _, _, elements = posted
    for wrong in ([], [1] * 45, [*elements[:-1], SCALAR_MODULUS + 1]):
        with pytest.raises(ZkpotError):
            model_from_elements(SPEC, wrong, bytes(32))
