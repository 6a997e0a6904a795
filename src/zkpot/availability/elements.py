"""A Groth16 model as the field elements its commitment hashes, and back.

:func:`model_elements` packs the quantised weights, biases and blinding exactly as
:func:`zkpot.proving.groth16.circom.model_commitment` does, so
``poseidon_chain(model_elements(...))`` *is* the model commitment. :func:`unpack_elements`
reverses it for elements read from the chain (untrusted: a wrong count, an element
outside the field, or bits the packing never sets are a :class:`ModelPostingError`),
and re-packs its result to check the round trip instead of assuming it.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from zkpot.errors import ZkpotError
from zkpot.proving.circuit import Blinding, CircuitSpec, check_blinding
from zkpot.proving.curve import SCALAR_MODULUS
from zkpot.proving.groth16.circom import model_values, plan
from zkpot.proving.groth16.packing import Segment, pack, poseidon_chain


class ModelPostingError(ZkpotError):
    """Posted model elements cannot be the task's model (shape, range or commitment)."""


def model_elements(spec: CircuitSpec, model: nn.Module, blinding: Blinding) -> list[int]:
    """The packed field elements of ``model`` and ``blinding`` (the commitment's preimage)."""
    values = [*model_values(spec, model), list(check_blinding(blinding))]
    elements: list[int] = []
    for (segment, _, _), part in zip(plan(spec).model_parts(), values, strict=True):
        elements += pack(segment, part)
    return elements


def element_count(spec: CircuitSpec) -> int:
    """How many elements a model of ``spec`` packs into."""
    return sum(segment.elements for segment, _, _ in plan(spec).model_parts())


def _unpack_segment(segment: Segment, elements: Sequence[int]) -> list[int]:
    values: list[int] = []
    mask = (1 << segment.bits) - 1
    for e, element in enumerate(elements):
        slots = min(segment.per_element, segment.count - e * segment.per_element)
        if element >> (segment.bits * slots):
            raise ModelPostingError(
                f"A posted {segment.name} element sets bits the packing never uses",
                "the posting is not a packed model of this task; report its poster",
            )
        values += [((element >> (segment.bits * k)) & mask) - segment.offset for k in range(slots)]
    return values


def unpack_elements(
    spec: CircuitSpec, elements: Sequence[int]
) -> tuple[list[list[int]], Blinding]:
    """The quantised parameters (per layer: weights, biases) and the blinding of ``elements``."""
    expected = element_count(spec)
    if len(elements) != expected:
        raise ModelPostingError(
            f"The posting holds {len(elements)} elements; a model of this task packs into "
            f"{expected}",
            "the posting is not a model of this task's architecture",
        )
    if not all(isinstance(v, int) and 0 <= v < SCALAR_MODULUS for v in elements):
        raise ModelPostingError("A posted element is not a field element",
                                "the posting is malformed; report its poster")
    parts: list[list[int]] = []
    start = 0
    for segment, _, _ in plan(spec).model_parts():
        chunk = elements[start : start + segment.elements]
        parts.append(_unpack_segment(segment, chunk))
        start += segment.elements
    repacked: list[int] = []
    for (segment, _, _), part in zip(plan(spec).model_parts(), parts, strict=True):
        repacked += pack(segment, part)
    if repacked != list(elements):
        raise ModelPostingError("The posted elements do not re-pack to themselves",
                                "the posting is malformed; report its poster")
    try:
        blinding = check_blinding(parts[-1])
    except ZkpotError as err:
        raise ModelPostingError(f"The posted blinding is invalid: {err.message}",
                                "the posting is malformed; report its poster") from err
    return parts[:-1], blinding


def model_from_elements(
    spec: CircuitSpec, elements: Sequence[int], expected: bytes
) -> tuple[nn.Module, Blinding]:
    """The model and blinding posted as ``elements``, checked to commit to ``expected``.

    The model's float weights are the quantised ones divided by their scale, so it
    quantises back to exactly the posted integers (checked).
    """
    from zkpot.errors import ProvingError
    from zkpot.proving.groth16.aggregation import to_model

    # Shape and range first: only field elements of the right count can be hashed.
    params, blinding = unpack_elements(spec, elements)
    digest = poseidon_chain(list(elements)).to_bytes(32, "big")
    if digest != expected:
        raise ModelPostingError(
            f"The posted elements commit to 0x{digest.hex()[:16]}…, not to "
            f"0x{expected.hex()[:16]}…",
            "read the posting recorded under the expected commitment",
        )
    try:
        model = to_model(spec, tuple(tuple(p) for p in params))
    except ProvingError as err:
        raise ModelPostingError(f"The posted model cannot be rebuilt: {err.message}",
                                err.hint) from err
    return model, blinding


__all__ = [
    "ModelPostingError",
    "element_count",
    "model_elements",
    "model_from_elements",
    "unpack_elements",
]
