"""Packing bounded integers into field elements, and Poseidon over many elements.

Both commitments of the Groth16 circuit hash *packed* values: a segment of integers,
each known to lie in ``[-offset, 2**bits - offset)``, is shifted by ``offset`` into
``[0, 2**bits)`` and ``253 // bits`` of them are written side by side in one field
element (at most 253 bits, below the BN254 scalar field's 2**253.6, so no wrap-around).
Because every shifted value is range-checked to ``bits`` bits in the circuit, packing is
injective, and hashing the packed elements binds every value.

Poseidon is circomlib's (the same constants as ``circomlib/circuits/poseidon.circom``),
computed off chain by ``light-poseidon``. More than :data:`POSEIDON_ARITY` elements are
hashed as a chain: the first call takes up to 12 elements, every later call the
previous digest and up to 11 more. The element count is fixed by the circuit, so the
chain needs no length padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import light_poseidon_python as light_poseidon  # type: ignore[import-untyped]

from zkpot.errors import ProvingError
from zkpot.proving.curve import SCALAR_MODULUS

PACK_BITS = 253
"""Bits one packed field element holds (2**253 < the scalar field)."""

POSEIDON_ARITY = 12
"""Most inputs of one Poseidon call (light-poseidon's limit; circomlib goes to 16)."""


@dataclass(frozen=True)
class Segment:
    """A run of integers packed together: each in ``[-offset, 2**bits - offset)``."""

    name: str
    """What the values are (for error messages)."""
    count: int
    """How many values."""
    bits: int
    """Bits of each shifted value."""
    offset: int
    """Added to each value before packing (``2**(bits-1)`` for signed values)."""

    @property
    def per_element(self) -> int:
        """Values per packed field element."""
        return PACK_BITS // self.bits

    @property
    def elements(self) -> int:
        """Packed field elements of the segment."""
        return -(-self.count // self.per_element)


def pack(segment: Segment, values: Sequence[int]) -> list[int]:
    """``values`` packed as :class:`Segment` describes; raise if one is out of range."""
    if len(values) != segment.count:
        raise ProvingError(f"{segment.name}: expected {segment.count} values, got {len(values)}",
                           "check the model and batch shapes")
    packed = [0] * segment.elements
    top = 1 << segment.bits
    for i, value in enumerate(values):
        shifted = int(value) + segment.offset
        if not 0 <= shifted < top:
            low, high = -segment.offset, top - segment.offset - 1
            raise ProvingError(
                f"{segment.name} value {int(value)} is outside the circuit's range "
                f"[{low}, {high}]",
                "the Groth16 circuit bounds every weight's magnitude below 256 and every "
                "feature to [0, 1]",
            )
        k = i % segment.per_element
        packed[i // segment.per_element] += shifted << (segment.bits * k)
    return packed


def chain_chunks(count: int) -> list[int]:
    """The number of new elements each Poseidon call of the chain takes."""
    if count < 1:
        raise ValueError("nothing to hash")
    chunks = [min(count, POSEIDON_ARITY)]
    left = count - chunks[0]
    while left > 0:
        chunks.append(min(left, POSEIDON_ARITY - 1))
        left -= chunks[-1]
    return chunks


def poseidon(inputs: Sequence[int]) -> int:
    """The circomlib ``Poseidon(len(inputs))`` of field elements."""
    if not 1 <= len(inputs) <= POSEIDON_ARITY:
        raise ValueError(f"Poseidon takes 1 to {POSEIDON_ARITY} inputs, not {len(inputs)}")
    if not all(0 <= v < SCALAR_MODULUS for v in inputs):
        raise ValueError("Poseidon inputs must be field elements")
    hasher = light_poseidon.Hasher(len(inputs))
    digest: str = hasher.hash_bytes_be([int(v).to_bytes(32, "big") for v in inputs])
    return int(digest, 16)


def poseidon_chain(elements: Sequence[int]) -> int:
    """Poseidon over any number of elements (see the module docstring)."""
    chunks = chain_chunks(len(elements))
    state = poseidon(elements[: chunks[0]])
    start = chunks[0]
    for size in chunks[1:]:
        state = poseidon([state, *elements[start : start + size]])
        start += size
    return state


__all__ = [
    "PACK_BITS",
    "POSEIDON_ARITY",
    "Segment",
    "chain_chunks",
    "pack",
    "poseidon",
    "poseidon_chain",
]
