"""BN254 G1 points as EZKL writes them (compressed, little-endian) and as the EVM reads them."""

from __future__ import annotations

from eth_utils import keccak  # type: ignore[attr-defined]

FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583
"""The BN254 base field (G1 coordinates live here)."""

SCALAR_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The BN254 scalar field (circuit values and instances live here)."""


def decompress_g1(compressed_hex: str) -> bytes:
    """The 64-byte ``x || y`` big-endian encoding of a compressed halo2curves G1 point.

    halo2curves stores ``x`` little-endian with the sign of ``y`` in the top bit and the
    identity flag in the bit below; the proof bytes the EVM verifier reads hold ``x``
    and ``y`` big-endian, which is what the on-chain commitment hashes.
    """
    raw = bytes.fromhex(compressed_hex.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"a compressed G1 point has 32 bytes, not {len(raw)}")
    odd = raw[31] >> 7
    if (raw[31] >> 6) & 1:
        return bytes(64)  # the identity, encoded as (0, 0) on the EVM
    x = int.from_bytes(raw[:31] + bytes([raw[31] & 0x3F]), "little")
    rhs = (pow(x, 3, FIELD_MODULUS) + 3) % FIELD_MODULUS
    y = pow(rhs, (FIELD_MODULUS + 1) // 4, FIELD_MODULUS)
    if y * y % FIELD_MODULUS != rhs:
        raise ValueError("the compressed bytes are not a point on BN254's G1")
    if y & 1 != odd:
        y = FIELD_MODULUS - y
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def commitment_digest(points: list[bytes]) -> bytes:
    """keccak256 over concatenated 64-byte points: the bytes32 the contract compares."""
    digest: bytes = keccak(b"".join(points))
    return digest


def felt_from_hex(value: str) -> int:
    """An EZKL instance (little-endian hex) as an integer in the scalar field."""
    return int.from_bytes(bytes.fromhex(value.removeprefix("0x")), "little")


def felt_to_hex(value: int) -> str:
    """A field element as an EZKL instance writes it (little-endian hex, reduced mod r)."""
    return (value % SCALAR_MODULUS).to_bytes(32, "little").hex()


def signed_felt(value: int) -> int:
    """A field element read as a signed integer (values above half the field are negative)."""
    return value - SCALAR_MODULUS if value > SCALAR_MODULUS // 2 else value
