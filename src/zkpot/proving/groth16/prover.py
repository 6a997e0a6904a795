"""Groth16 proofs: witness, prove (groth16py, or snarkjs as the reference), verify, encode.

The witness comes from the circuit's circom-generated WebAssembly under node (``snarkjs
wtns calculate``); only the public signals are read back from it (:func:`public_signals`).
The proof comes from groth16py's native arkworks prover (``prove_wtns``) in one
long-lived child interpreter per process (:class:`ProverWorker`): it imports each proving
key once (a snarkjs ``.zkey``, ceremony or single-party, in about a second; groth16py's
own single-party format takes minutes) and keeps the last two in memory, so a key is
never parsed twice for one task. A Rust panic, an abort or a hang still costs one
ProvingError and a fresh child, not the caller. ``prover="snarkjs"`` proves with
``snarkjs groth16 prove`` instead: the reference implementation (it uses both cores
through worker threads) the tests cross-check against.

A proof on the wire is :func:`encode_proof`'s 256 bytes, ``abi.encode(uint256[2] a,
uint256[2][2] b, uint256[2] c)`` with each G2 coordinate's imaginary part first (the
EVM precompile's order). groth16py's "Ethereum bytes" proof is exactly this (its eight
words are a, b and c in calldata order); a snarkjs ``proof.json`` lists G2 coordinates
real part first and is converted by :func:`from_snarkjs_json`.

The public signals are the circuit's in circom order (outputs, then public inputs):
``[correct, modelCommitment, testSetCommitment, submitter]``, read from the witness.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import struct
import subprocess
import sys
import threading
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


def _open_witness(path: Path) -> tuple[Any, dict[int, tuple[int, int]], int, int]:
    """A circom ``.wtns`` file opened: the file, its sections, the field size n8, the wires."""
    f, sections = ceremony.binary_sections(path, b"wtns")
    try:
        if 1 not in sections or 2 not in sections:
            raise ProvingError(f"{path} is not a complete witness", "recompute it")
        f.seek(sections[1][0])
        (n8,) = struct.unpack("<I", f.read(4))
        f.seek(n8, os.SEEK_CUR)
        (wires,) = struct.unpack("<I", f.read(4))
    except BaseException:
        f.close()
        raise
    return f, sections, n8, wires


def read_witness(path: Path) -> list[int]:
    """All values of a circom ``.wtns`` file (wire 0 is the constant 1)."""
    f, sections, n8, count = _open_witness(path)
    with f:
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
    """The public signals of a witness: wires 1..count (outputs, then public inputs).

    Reads only those wires, not the whole witness.
    """
    f, sections, n8, wires = _open_witness(wtns)
    with f:
        if wires <= count or sections[2][1] < wires * n8:
            raise ProvingError("the witness has fewer wires than public signals", "recompute it")
        f.seek(sections[2][0] + n8)
        raw = f.read(count * n8)
    if len(raw) != count * n8:
        raise ProvingError(f"{wtns} is truncated", "recompute the witness")
    return [int.from_bytes(raw[i : i + n8], "little") for i in range(0, len(raw), n8)]


# --- prove ---------------------------------------------------------------------------

_WORKER = r"""
import json, os, sys, time
import groth16py
keys = {}
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # a stray print from a library cannot break the protocol
for line in sys.stdin:
    req = json.loads(line)
    loaded = False
    try:
        stat = os.stat(req["key"])
        ident = (req["key"], stat.st_size, stat.st_mtime_ns)
        started = time.perf_counter()
        if ident not in keys:
            if len(keys) >= 2:
                keys.pop(next(iter(keys)))
            if req["key"].endswith(".zkey"):
                keys[ident] = groth16py.import_zkey(req["key"])[0]
            else:
                keys[ident] = groth16py.ProvingKey.load(req["key"])
            loaded = True
        imported = time.perf_counter()
        if req.get("load_only"):
            out.write(json.dumps({"ok": True, "loaded": loaded,
                                  "load_s": imported - started if loaded else 0.0}) + "\n")
            out.flush()
            continue
        proof = groth16py.prove_wtns(keys[ident], req["wtns"])
        open(req["out"], "wb").write(proof)
        reply = {"ok": True, "loaded": loaded, "load_s": imported - started if loaded else 0.0,
                 "prove_s": time.perf_counter() - imported}
    except BaseException as error:  # a Rust panic is a BaseException
        reply = {"ok": False, "loaded": loaded,
                 "error": (type(error).__name__ + ": " + str(error))[:300]}
    out.write(json.dumps(reply) + "\n")
    out.flush()
"""


class ProverWorker:
    """One long-lived groth16py child that keeps its proving keys in memory.

    :meth:`prove` sends it a key and a witness; the child imports a key only the first
    time it sees that file (same path, size and mtime), keeping the last two. A crash or
    a timeout kills the child and raises a ProvingError; the next call starts a new one.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._owner = os.getpid()
        self._pending = 0
        self._lock = threading.Lock()
        self.key_loads = 0
        """How many times a child imported a key (for tests and benchmarks)."""
        self.last_load_seconds = 0.0
        """Key import time of the last proof (0 when the key was already in memory)."""
        self.last_prove_seconds = 0.0
        """Proving time of the last proof, without the key import."""

    def _start(self) -> subprocess.Popen[bytes]:
        if self._owner != os.getpid():  # a forked copy never shares its parent's child
            self._proc, self._owner = None, os.getpid()
        if self._proc is None or self._proc.poll() is not None:
            self._pending, self._buffer = 0, b""
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                bufsize=0,
            )
        return self._proc

    def close(self) -> None:
        """End the child (its keys are dropped)."""
        proc, self._proc = self._proc, None
        if self._owner != os.getpid():
            return
        if proc is not None and proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def preload(self, key: Path) -> None:
        """Start importing ``key`` in the child now (e.g. while the witness is computed).

        Returns at once; the next :meth:`prove` collects the answer. Errors surface there.
        """
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(json.dumps({"key": str(key.resolve()), "load_only": True})
                                 .encode() + b"\n")
                proc.stdin.flush()
                self._pending += 1
            except OSError:
                self._kill()

    def _reply(self, proc: subprocess.Popen[bytes], timeout: float, hint: str) -> dict[str, Any]:
        """The child's next answer line, read unbuffered so select sees every byte."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, 1 << 16) if ready else b""
            if not chunk:
                self._kill()
                what = "did not finish in time" if not ready else "exited"
                raise ProvingError(f"groth16py prove {what}", hint)
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        if reply.get("loaded"):
            self.key_loads += 1
        return reply

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def prove(self, key: Path, wtns: Path, out: Path, timeout: float) -> None:
        """Write the proof of ``wtns`` under ``key`` to ``out``; a ProvingError on failure."""
        hint = "free memory and retry, or prove with --prover snarkjs"
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            deadline = time.monotonic() + timeout
            preloaded = 0.0
            while self._pending:
                self._pending -= 1
                early = self._reply(proc, max(0.0, deadline - time.monotonic()), hint)
                preloaded += float(early.get("load_s", 0.0))
            request = {"key": str(key.resolve()), "wtns": str(wtns), "out": str(out)}
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
            except OSError as error:
                self._kill()
                raise ProvingError("the groth16py prover exited", hint) from error
            reply = self._reply(proc, max(0.0, deadline - time.monotonic()), hint)
            self.last_load_seconds = preloaded + float(reply.get("load_s", 0.0))
            self.last_prove_seconds = float(reply.get("prove_s", 0.0))
            if not reply.get("ok"):
                raise ProvingError(f"groth16py prove failed: {reply.get('error', '?')}", hint)


WORKER = ProverWorker()
"""This process's groth16py prover."""
atexit.register(WORKER.close)


def proving_key(keys_dir: Path) -> Path:
    """The proving key of a key folder: the ceremony's final ``.zkey``, else the insecure one."""
    for name in (ceremony.FINAL_ZKEY, ceremony.INSECURE_ZKEY, ceremony.INSECURE_PK):
        if (keys_dir / name).is_file():
            return keys_dir / name
    raise ProvingError(f"no Groth16 proving key under {keys_dir}", "set the circuit up first")


def prove_witness(key: Path, wtns: Path, *, prover: Prover = "groth16py") -> bytes:
    """Prove a computed witness with ``key``; the proof's wire bytes.

    ``key`` is a ``.zkey`` (groth16py also takes groth16py's own single-party key).
    """
    out = wtns.with_suffix(".proof.bin")
    try:
        if prover == "groth16py":
            WORKER.prove(key, wtns, out, PROVE_TIMEOUT_SECONDS)
            proof = out.read_bytes()
        elif prover == "snarkjs":
            if key.suffix != ".zkey":
                raise ProvingError("snarkjs proves only with a .zkey", "use groth16py")
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
    key = proving_key(keys_dir)
    if prover == "groth16py":
        WORKER.preload(key)  # the child imports the key while node computes the witness
    wtns = compute_witness(wasm, inputs, workdir, name)
    try:
        signals = public_signals(wtns, public_count)
        witnessed = time.perf_counter()
        proof = prove_witness(key, wtns, prover=prover)
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
    "ProverWorker",
    "WORKER",
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
