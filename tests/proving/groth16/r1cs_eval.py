"""A second R1CS check beside ``snarkjs wtns check``, for the witness-tampering sweeps.

The sweeps in ``test_circuit.py`` check dozens of altered witnesses against one circuit;
snarkjs reloads the circuit for each (0.7 s apiece for the 8-sample tiny MLP). This reads
the ``.r1cs`` once and evaluates every constraint ``<A,w> * <B,w> = <C,w>`` over the
field in Python. It is a test oracle only, and ``test_circuit.py`` holds it to snarkjs:
both accept the honest witness and both reject the same altered ones.

File layout (iden3's binary format): ``r1cs``, version, section count, then sections of
(type u32, size u64, bytes). Section 1 (header): field size n8, the prime (n8 bytes,
little endian), wires, public outputs, public inputs, private inputs (u32 each), labels
(u64), constraints (u32). Section 2: per constraint the linear combinations A, B and C,
each a term count (u32) and per term a wire (u32) and a coefficient (n8 bytes, little
endian, the plain value).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

Combination = tuple[tuple[int, int], ...]
"""(wire, coefficient) terms of one linear combination."""


@dataclass(frozen=True)
class R1cs:
    prime: int
    wires: int
    constraints: tuple[tuple[Combination, Combination, Combination], ...]


def load(path: Path) -> R1cs:
    raw = path.read_bytes()
    if raw[:4] != b"r1cs":
        raise ValueError(f"{path} is not an r1cs file")
    (count,) = struct.unpack_from("<I", raw, 8)
    sections: dict[int, tuple[int, int]] = {}
    at = 12
    for _ in range(count):
        kind, size = struct.unpack_from("<IQ", raw, at)
        sections.setdefault(kind, (at + 12, size))
        at += 12 + size
    head, _ = sections[1]
    (n8,) = struct.unpack_from("<I", raw, head)
    prime = int.from_bytes(raw[head + 4 : head + 4 + n8], "little")
    wires, _out, _pub, _prv = struct.unpack_from("<IIII", raw, head + 4 + n8)
    (n_constraints,) = struct.unpack_from("<I", raw, head + 4 + n8 + 16 + 8)
    at, _ = sections[2]
    constraints = []
    for _ in range(n_constraints):
        triple = []
        for _part in range(3):
            (terms,) = struct.unpack_from("<I", raw, at)
            at += 4
            combination = []
            for _t in range(terms):
                (wire,) = struct.unpack_from("<I", raw, at)
                combination.append((wire, int.from_bytes(raw[at + 4 : at + 4 + n8], "little")))
                at += 4 + n8
            triple.append(tuple(combination))
        constraints.append((triple[0], triple[1], triple[2]))
    return R1cs(prime, wires, tuple(constraints))


def satisfied(r1cs: R1cs, witness: list[int]) -> bool:
    """Whether ``witness`` (wire 0 = 1) satisfies every constraint."""
    if len(witness) != r1cs.wires or witness[0] != 1:
        return False
    p = r1cs.prime
    for a, b, c in r1cs.constraints:
        av = sum(witness[w] * k for w, k in a) % p
        bv = sum(witness[w] * k for w, k in b) % p
        if (av * bv - sum(witness[w] * k for w, k in c)) % p:
            return False
    return True
