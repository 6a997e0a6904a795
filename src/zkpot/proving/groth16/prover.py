"""Groth16 proofs: witness, prove (groth16py, or snarkjs as the reference), verify, encode.

The witness comes from the circuit's circom-generated WebAssembly under node (``snarkjs
wtns calculate``); the proof from groth16py's native arkworks prover (``prove_wtns`` with
the snarkjs ``.zkey`` imported, or the single-party key of an insecure setup), run in a
child interpreter so a Rust panic, an abort or a hang costs one ProvingError, not the
caller. ``prover="snarkjs"`` proves with ``snarkjs groth16 prove`` instead: the reference
implementation the tests cross-check against.

A proof on the wire is :func:`encode_proof`'s 256 bytes, ``abi.encode(uint256[2] a,
uint256[2][2] b, uint256[2] c)`` with each G2 coordinate's imaginary part first (the
EVM precompile's order). groth16py's "Ethereum bytes" proof is exactly this (its eight
words are a, b and c in calldata order); a snarkjs ``proof.json`` lists G2 coordinates
real part first and is converted by :func:`from_snarkjs_json`.

The public signals are the circuit's in circom order (outputs, then public inputs):
``[correct, modelCommitment, testSetCommitment, submitter]``, read from the witness.
"""

from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zkpot.errors import ProvingError
from zkpot.proving.groth16 import ceremony

FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""BN254's scalar field: every public signal is below it."""
PROOF_BYTES = 256
PUBLIC_SIGNALS = 4
"""[correct, modelCommitment, testSetCommitment, submitter]."""

PROVE_TIMEOUT_SECONDS = float(os.environ.get("ZKPOT_PROVE_TIMEOUT", "3600"))
"""Longest one proof (or witness) may take before it is abandoned."""

Prover = Literal["groth16py", "snarkjs"]
Point = tuple[int, int]
G2Point = tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class Groth16Proof:
    """A proof and the public signals it proves, as the on-chain adapter takes them."""

    proof: bytes
    """256 bytes: :func:`encode_proof`."""
    public_signals: list[int]
    """``[correct, modelCommitment, testSetCommitment, submitter]``."""
    prover: Prover = "groth16py"
    """Which prover made it."""
    witness_seconds: float = 0.0
    prove_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON form: hex proof, decimal-string signals."""
        return {
            "proof": "0x" + self.proof.hex(),
            "public_signals": [str(v) for v in self.public_signals],
            "prover": self.prover,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Groth16Proof:
        """Read :meth:`to_json`'s form; a ProvingError if malformed."""
        try:
            proof = bytes.fromhex(str(raw["proof"]).removeprefix("0x"))
            signals = [int(v) for v in raw["public_signals"]]
            prover = raw.get("prover", "groth16py")
        except (KeyError, TypeError, ValueError) as error:
            raise ProvingError("the Groth16 proof file is malformed", str(error)) from error
        check_shape(proof, signals)
        return cls(proof, signals, prover if prover in ("groth16py", "snarkjs") else "groth16py")


# --- encoding ------------------------------------------------------------------------


def check_shape(proof: bytes, public_signals: list[int]) -> None:
    """A ProvingError unless the proof is 256 bytes and the signals four field elements."""
    if len(proof) != PROOF_BYTES:
        raise ProvingError(f"a Groth16 proof is {PROOF_BYTES} bytes, not {len(proof)}", "re-prove")
    if len(public_signals) != PUBLIC_SIGNALS or any(
        not 0 <= v < FIELD_MODULUS for v in public_signals
    ):
        raise ProvingError(
            "a Groth16 proof has four public signals below the field modulus",
            "re-prove with the task's circuit",
        )


def encode_proof(a: Point, b: G2Point, c: Point) -> bytes:
    """``abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)``: eight big-endian words.

    ``b`` is already in the EVM's order (imaginary part first).
    """
    words = [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]
    return b"".join(w.to_bytes(32, "big") for w in words)


def decode_proof(proof: bytes) -> tuple[Point, G2Point, Point]:
    """Inverse of :func:`encode_proof`."""
    if len(proof) != PROOF_BYTES:
        raise ProvingError(f"a Groth16 proof is {PROOF_BYTES} bytes, not {len(proof)}", "re-prove")
    w = [int.from_bytes(proof[i : i + 32], "big") for i in range(0, PROOF_BYTES, 32)]
    return (w[0], w[1]), ((w[2], w[3]), (w[4], w[5])), (w[6], w[7])


def from_snarkjs_json(proof_json: dict[str, Any]) -> bytes:
    """A snarkjs ``proof.json`` (affine coordinates, G2 real part first) as wire bytes."""
    try:
        a, b, c = proof_json["pi_a"], proof_json["pi_b"], proof_json["pi_c"]
        return encode_proof(
            (int(a[0]), int(a[1])),
            ((int(b[0][1]), int(b[0][0])), (int(b[1][1]), int(b[1][0]))),
            (int(c[0]), int(c[1])),
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ProvingError("the snarkjs proof.json is malformed", str(error)) from error


def to_snarkjs_json(proof: bytes) -> dict[str, Any]:
    """Wire bytes as a snarkjs ``proof.json`` (what ``snarkjs groth16 verify`` reads)."""
    a, b, c = decode_proof(proof)
    return {
        "pi_a": [str(a[0]), str(a[1]), "1"],
        "pi_b": [[str(b[0][1]), str(b[0][0])], [str(b[1][1]), str(b[1][0])], ["1", "0"]],
        "pi_c": [str(c[0]), str(c[1]), "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


def _strings(value: Any) -> Any:
    """Input JSON with every integer as a decimal string.

    node parses JSON numbers as doubles, which would round field elements above 2^53.
    """
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strings(v) for v in value]
    return value


# --- witness -------------------------------------------------------------------------


def read_witness(path: Path) -> list[int]:
    """All values of a circom ``.wtns`` file (wire 0 is the constant 1)."""
    f, sections = ceremony.binary_sections(path, b"wtns")
    with f:
        if 1 not in sections or 2 not in sections:
            raise ProvingError(f"{path} is not a complete witness", "recompute it")
        f.seek(sections[1][0])
        (n8,) = struct.unpack("<I", f.read(4))
        f.seek(n8, os.SEEK_CUR)
        (count,) = struct.unpack("<I", f.read(4))
        f.seek(sections[2][0])
        raw = f.read(count * n8)
    if len(raw) != count * n8:
        raise ProvingError(f"{path} is truncated", "recompute the witness")
    return [int.from_bytes(raw[i : i + n8], "little") for i in range(0, len(raw), n8)]


def compute_witness(wasm: Path, inputs: dict[str, Any], workdir: Path, name: str = "proof") -> Path:
    """Run the circuit's witness generator (``snarkjs wtns calculate``) on ``inputs``.

    A ProvingError when an input is missing or a constraint's assertion fails (e.g. a
    value out of its range: the batch or model does not fit the circuit).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    input_json = workdir / f"{name}.input.json"
    wtns = workdir / f"{name}.wtns"
    input_json.write_text(json.dumps(_strings(inputs)))
    try:
        ceremony.snarkjs(
            ["wtns", "calculate", str(wasm), str(input_json), str(wtns)],
            "witness",
            "the model or batch does not fit the task's circuit",
            timeout=PROVE_TIMEOUT_SECONDS,
        )
    finally:
        input_json.unlink(missing_ok=True)
    return wtns


def public_signals(wtns: Path, count: int = PUBLIC_SIGNALS) -> list[int]:
    """The public signals of a witness: wires 1..count (outputs, then public inputs)."""
    values = read_witness(wtns)
    if len(values) <= count:
        raise ProvingError("the witness has fewer wires than public signals", "recompute it")
    return values[1 : 1 + count]


# --- prove ---------------------------------------------------------------------------

_PROVE = """
import sys, groth16py
key = sys.argv[1]
if key.endswith(".zkey"):
    pk, _ = groth16py.import_zkey(key)
else:
    pk = groth16py.ProvingKey.load(key)
proof = groth16py.prove_wtns(pk, sys.argv[2])
open(sys.argv[3], "wb").write(proof)
"""


def proving_key(keys_dir: Path) -> Path:
    """The proving key of a key folder: the ceremony's final ``.zkey``, else the insecure one."""
    for name in (ceremony.FINAL_ZKEY, ceremony.INSECURE_PK):
        if (keys_dir / name).is_file():
            return keys_dir / name
    raise ProvingError(f"no Groth16 proving key under {keys_dir}", "set the circuit up first")


def prove_witness(key: Path, wtns: Path, *, prover: Prover = "groth16py") -> bytes:
    """Prove a computed witness with ``key``; the proof's wire bytes.

    ``key`` is a ``.zkey`` (groth16py also takes the single-party key).
    """
    out = wtns.with_suffix(".proof.bin")
    try:
        if prover == "groth16py":
            ceremony.run_child(
                _PROVE,
                [str(key), str(wtns), str(out)],
                "prove",
                "free memory and retry, or prove with --prover snarkjs",
                PROVE_TIMEOUT_SECONDS,
            )
            proof = out.read_bytes()
        elif prover == "snarkjs":
            if key.suffix != ".zkey":
                raise ProvingError("snarkjs proves only with a ceremony .zkey", "use groth16py")
            proof_json, public_json = out.with_suffix(".json"), out.with_suffix(".public.json")
            try:
                ceremony.snarkjs(
                    ["groth16", "prove", str(key), str(wtns), str(proof_json), str(public_json)],
                    "groth16 prove",
                    "free memory and retry",
                    timeout=PROVE_TIMEOUT_SECONDS,
                )
                proof = from_snarkjs_json(json.loads(proof_json.read_text()))
            finally:
                proof_json.unlink(missing_ok=True)
                public_json.unlink(missing_ok=True)
        else:
            raise ProvingError(f"unknown Groth16 prover {prover!r}", "use groth16py or snarkjs")
    finally:
        out.unlink(missing_ok=True)
    if len(proof) != PROOF_BYTES:
        raise ProvingError(f"the {prover} prover returned {len(proof)} bytes, not a proof", "retry")
    return proof


def prove(
    keys_dir: Path,
    wasm: Path,
    inputs: dict[str, Any],
    workdir: Path,
    name: str = "proof",
    *,
    prover: Prover = "groth16py",
    keep_witness: bool = False,
    public_count: int = PUBLIC_SIGNALS,
) -> Groth16Proof:
    """Witness and proof for ``inputs`` with the key folder's proving key.

    ``inputs`` is the circuit's input JSON (``circom.circuit_inputs``); ``public_count``
    the circuit's number of public signals (the accuracy circuit's four by default).
    """
    started = time.perf_counter()
    wtns = compute_witness(wasm, inputs, workdir, name)
    try:
        signals = public_signals(wtns, public_count)
        witnessed = time.perf_counter()
        proof = prove_witness(proving_key(keys_dir), wtns, prover=prover)
        proved = time.perf_counter()
    finally:
        if not keep_witness:
            wtns.unlink(missing_ok=True)
    return Groth16Proof(proof, signals, prover, witnessed - started, proved - witnessed)


# --- verify --------------------------------------------------------------------------


def verify(
    verification_key: Path,
    proof: bytes,
    signals: list[int],
    *,
    verifier: Prover = "groth16py",
) -> bool:
    """Whether the proof verifies under the key (snarkjs ``verification_key.json``).

    False, never an exception, for a malformed proof or signals.
    """
    try:
        check_shape(proof, signals)
    except ProvingError:
        return False
    if verifier == "groth16py":
        import groth16py

        try:
            vk = groth16py.VerifyingKey.from_snarkjs(verification_key.read_text())
            return bool(groth16py.Verifier(vk).verify(proof, list(signals)))
        except Exception:  # noqa: BLE001 - an undecodable point is an invalid proof
            return False
    tmp = verification_key.parent / f".verify-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        (tmp / "proof.json").write_text(json.dumps(to_snarkjs_json(proof)))
        (tmp / "public.json").write_text(json.dumps([str(v) for v in signals]))
        log = ceremony.snarkjs(
            [
                "groth16",
                "verify",
                str(verification_key),
                str(tmp / "public.json"),
                str(tmp / "proof.json"),
            ],
            "groth16 verify",
            "check the verification key",
        )
        return "OK!" in log
    except ProvingError:
        return False
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


__all__ = [
    "FIELD_MODULUS",
    "PROOF_BYTES",
    "PUBLIC_SIGNALS",
    "Groth16Proof",
    "Prover",
    "check_shape",
    "compute_witness",
    "decode_proof",
    "encode_proof",
    "from_snarkjs_json",
    "prove",
    "prove_witness",
    "proving_key",
    "public_signals",
    "read_witness",
    "to_snarkjs_json",
    "verify",
]
