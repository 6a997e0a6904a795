"""Groth16 behind :class:`zkpot.proving.backend.Circuit`.

A Groth16 circuit folder ``zk/<short id>/`` holds:

- ``circuit.json``: the descriptor (spec, id, constraint count, how the keys were made);
- ``accuracy.circom``: the circuit emitted from the spec (:mod:`.circom`; published);
- ``build/``: circom's ``.r1cs``, ``.sym`` and wasm witness generator (derived, git-ignored);
- ``keys/``: the phase-2 ceremony (:mod:`.ceremony`): the final ``.zkey`` (or the
  single-party key), ``verification_key.json`` and ``transcript.json``.

The statement binds the submitter: a proof names the account that may submit it, so a
proof copied from the mempool is useless to anyone else (the consensus contract reverts
``SubmitterMismatch``). Commitments are Poseidon hashes computed in Python exactly as in
the circuit, so no proof is needed to know a model's or a chunk's commitment.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from torch import nn

from zkpot.errors import ProvingError
from zkpot.models import architecture_id
from zkpot.proving import curve
from zkpot.proving.backend import (
    DESCRIPTOR,
    AccuracyProof,
    Circuit,
    SrsIdentity,
    Statement,
    default_zk_dir,
    file_sha256,
    read_descriptor,
)
from zkpot.proving.circuit import Blinding, CircuitSpec, TestBatch, new_blinding
from zkpot.proving.groth16 import aggregation as agg_module
from zkpot.proving.groth16 import ceremony, circom, prover, solidity
from zkpot.proving.groth16.aggregation import Groth16AggregationCircuit
from zkpot.proving.verifier import CompiledContract, VerifierArtifacts

PROOF_FORMAT = "zkpot-groth16-proof/1"


class Groth16Circuit(ceremony.CircuitFolder, Circuit):
    """A set-up Groth16 circuit (see the module docstring for the folder's layout)."""

    proves_aggregation = True
    circuit_name = circom.CIRCUIT_NAME

    def __init__(self, directory: Path, spec: CircuitSpec, data: dict[str, Any]) -> None:
        self.directory = directory
        self.spec = spec
        self.data = data

    # -- files ---------------------------------------------------------------------------

    @property
    def constraints(self) -> int:
        return int(self.data.get("constraints", 0))

    # -- set up and load -----------------------------------------------------------------

    @classmethod
    def setup(
        cls,
        spec: CircuitSpec,
        model: nn.Module,
        calibration: TestBatch,
        *,
        zk_dir: Path | None = None,
        srs_path: Path | None = None,
        srs_sha256: str | None = None,
    ) -> Groth16Circuit:
        """Emit, compile and key ``spec``'s circuit.

        ``srs_path``: the phase-1 powers-of-tau file (checked against ``srs_sha256``, its
        BLAKE2b-512, or the public ceremony's hash for its power). ``None``: the committed
        INSECURE development file when the circuit fits it, else an INSECURE single-party
        setup. The publisher's phase-2 contribution and a beacon close the ceremony;
        further contributions go in with :func:`ceremony.contribute` before a rebuild.
        """
        del model  # keys do not depend on weights (private inputs)
        directory = (zk_dir or default_zk_dir()) / spec.short_id
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        compiled = circom.compile_circuit(spec, directory / "build")
        compiled.source.replace(directory / compiled.source.name)
        compile_seconds = time.perf_counter() - started
        info = ceremony.r1cs_info(compiled.r1cs)
        keys = directory / "keys"
        keys.mkdir(exist_ok=True)
        started = time.perf_counter()
        ptau: ceremony.PtauInfo | None = None
        if srs_path is not None:
            ptau = ceremony.check_ptau(srs_path, srs_sha256)
        elif info.required_power <= ceremony.ptau_power(ceremony.dev_ptau()):
            ptau = ceremony.check_ptau(ceremony.dev_ptau())
        if ptau is not None:
            ceremony.start_phase2(compiled.r1cs, ptau, keys)
            transcript = ceremony.finalize(keys, compiled.r1cs, ptau, beacon=_beacon())
        else:
            transcript = ceremony.insecure_setup(compiled.r1cs, keys)
        data: dict[str, Any] = {
            "spec": asdict(spec),
            "circuit_id": spec.circuit_id,
            "architecture_id": architecture_id(spec.architecture),
            "constraints": info.constraints,
            "public_signals": info.public_signals,
            "ptau": None if ptau is None else {
                "file": ptau.path.name, "blake2b": ptau.blake2b, "power": ptau.power,
                "source": ptau.source,
            },
            "single_party": transcript.single_party,
            "insecure": transcript.insecure,
            "compile_seconds": round(compile_seconds, 1),
            "setup_seconds": round(time.perf_counter() - started, 1),
        }
        (directory / DESCRIPTOR).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return cls(directory, spec, data)

    @classmethod
    def load(cls, directory: Path) -> Groth16Circuit:
        """Read the descriptor of a circuit built by :meth:`setup`."""
        data, spec = read_descriptor(directory)
        return cls(directory, spec, data)

    @classmethod
    def srs_identity(cls, srs_path: Path, srs_sha256: str | None) -> SrsIdentity:
        """The powers of tau's BLAKE2b-512 must be a known file's or ``srs_sha256``.

        The public ceremony's for its power, the development file's, or the one given
        (:func:`ceremony.check_ptau`).
        """
        ptau = ceremony.check_ptau(srs_path, srs_sha256)
        return SrsIdentity(ptau.blake2b, ptau.insecure)

    @property
    def srs_hash(self) -> str:
        ptau = self.data.get("ptau")
        return str(ptau["blake2b"]) if isinstance(ptau, dict) else ""

    @property
    def insecure(self) -> bool:
        return bool(self.data.get("insecure", True))

    def require_keys(self) -> None:
        for needed in (self.source, self.verification_key, self.transcript):
            if not needed.is_file():
                raise ProvingError(f"Circuit artifact {needed} is missing",
                                   "rerun `zkpot circuit setup` or fetch the task's artifacts")
        prover.proving_key(self.keys_dir)  # raises if neither key is there
        self._require_build()

    def _require_build(self) -> None:
        """Compile ``build/`` from the spec unless it is there (deterministic: same R1CS)."""
        if self.r1cs.is_file() and self.wasm.is_file():
            return
        compiled = circom.compile_circuit(self.spec, self.build_dir)
        if self.source.is_file() and compiled.source.read_text() != self.source.read_text():
            raise ProvingError(f"The circuit source in {self.directory} is not the spec's",
                               "fetch the task's artifacts again")
        compiled.source.unlink()

    # -- prove and verify ----------------------------------------------------------------

    def prove(
        self,
        model: nn.Module,
        batch: TestBatch,
        workdir: Path,
        name: str = "proof",
        *,
        blinding: Blinding,
        submitter: str,
    ) -> AccuracyProof:
        self.require_keys()
        inputs = circom.circuit_inputs(self.spec, model, blinding, batch, submitter)
        made = prover.prove(self.keys_dir, self.wasm, inputs, workdir, f"{name}-g16")
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(_proof_json(made.proof, made.public_signals)))
        return self.load_proof(path, prove_seconds=made.witness_seconds + made.prove_seconds)

    def load_proof(self, path: Path, prove_seconds: float = 0.0) -> AccuracyProof:
        try:
            raw = json.loads(path.read_text())
            proof = bytes.fromhex(str(raw["hex_proof"]).removeprefix("0x"))
            instances = [curve.felt_from_hex(v) for v in raw["instances"][0]]
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            raise ProvingError(f"{path} is not a Groth16 proof file ({error})",
                               "prove again") from error
        return AccuracyProof(path, proof, instances, self.statement_of(proof, instances),
                             prove_seconds)

    def verify(self, proof: AccuracyProof | Path) -> bool:
        try:
            loaded = proof if isinstance(proof, AccuracyProof) else self.load_proof(proof)
        except ProvingError:
            return False
        return prover.verify(self.verification_key, loaded.proof, list(loaded.instances))

    def statement_of(self, proof: bytes, instances: list[int]) -> Statement:
        if len(proof) != prover.PROOF_BYTES or len(instances) != prover.PUBLIC_SIGNALS:
            raise ProvingError(
                f"A Groth16 proof has {prover.PROOF_BYTES} bytes and {prover.PUBLIC_SIGNALS} "
                "public signals",
                "check that the proof was made for this task's circuit",
            )
        correct, model, test_set, submitter = instances
        if not 0 <= submitter < 1 << 160 or not 0 <= model < 1 << 256 or test_set >> 256:
            raise ProvingError("A Groth16 proof's public signals are out of range",
                               "check that the proof was made for this task's circuit")
        return Statement(model.to_bytes(32, "big"), test_set.to_bytes(32, "big"), correct,
                         to_checksum_address(submitter.to_bytes(20, "big")))

    # -- commitments ---------------------------------------------------------------------

    def model_commitment(self, model: nn.Module, *, blinding: Blinding) -> bytes:
        return circom.model_commitment(self.spec, model, blinding)

    def test_set_commitment(self, batch: TestBatch) -> bytes:
        return circom.test_set_commitment(self.spec, batch)

    def circuit_count(self, model: nn.Module, batch: TestBatch) -> int:
        import tempfile

        self._require_build()  # a witness needs no keys
        inputs = circom.circuit_inputs(self.spec, model, new_blinding(), batch, "0x" + "00" * 20)
        with tempfile.TemporaryDirectory(prefix="zkpot-g16-count-") as tmp:
            wtns = prover.compute_witness(self.wasm, inputs, Path(tmp), "count")
            return prover.public_signals(wtns)[0]

    # -- on chain ------------------------------------------------------------------------

    def verifier_source(self) -> str:
        """The generated Solidity verifier of this circuit's verification key."""
        return solidity.render_verifier(self.verification_key,
                                        solidity.contract_name(self.short_id))

    def _compiled_verifier(self) -> CompiledContract:
        return solidity.compile_verifier(self.verifier_source(),
                                         solidity.contract_name(self.short_id))

    def vk_digest(self) -> bytes:
        """keccak256 of the verifier's runtime code, which embeds the verification key.

        What ``Groth16AccuracyVerifier.vkDigest()`` reads with ``extcodehash``.
        """
        from eth_utils.crypto import keccak

        return bytes(keccak(self._compiled_verifier().runtime))

    def verifier_artifacts(self) -> VerifierArtifacts:
        return VerifierArtifacts(self._compiled_verifier(), "Groth16AccuracyVerifier",
                                 (bytes.fromhex(self.circuit_id), self.spec.samples))

    def audit_keys(self, phase1: Path | None = None) -> str:
        """``snarkjs zkey verify`` of the key against the circuit and phase 1.

        Every hash is also compared with the published transcript (:func:`ceremony.audit`).
        INSECURE keys fail (a :class:`ProvingError` saying what was still checked): a
        single-party key, whose maker knows its secrets, and a ceremony on the development
        phase-1 file, whose one contributor may know tau.
        """
        self.require_keys()
        return audit_key_folder(self.keys_dir, self.r1cs, phase1, "Groth16 keys")

    def audit_aggregation_keys(self, slots: int, phase1: Path | None = None) -> str:
        """:meth:`audit_keys` for the K-slot aggregation circuit's keys."""
        circ = self.aggregation(slots)
        return audit_key_folder(circ.keys_dir, circ.r1cs, phase1,
                                f"Groth16 {slots}-slot aggregation keys")

    def published_files(self) -> dict[str, Path]:
        # The phase-2 key cannot be re-derived (its contributions' secrets are gone), so
        # it is published; the build is not (it compiles deterministically from the spec).
        files = [self.source, self.verification_key, self.transcript,
                 prover.proving_key(self.keys_dir)]
        for circ in self.aggregation_circuits():
            files += circ.published_files()
        return {path.relative_to(self.directory).as_posix(): path for path in files}

    # -- proven aggregation --------------------------------------------------------------

    def aggregation_circuits(self) -> list[Groth16AggregationCircuit]:
        """Every aggregation circuit set up (or fetched) beside this circuit, by K."""
        found = sorted(self.directory.glob("aggregate-k*/" + agg_module.AGGREGATION_DESCRIPTOR))
        return [Groth16AggregationCircuit.open(self.spec, path.parent) for path in found]

    def aggregation(self, slots: int) -> Groth16AggregationCircuit:
        """The K-slot aggregation circuit over this circuit's model commitments, compiled."""
        directory = self.directory / agg_module.folder_name(slots)
        if not (directory / agg_module.AGGREGATION_DESCRIPTOR).is_file():
            raise ProvingError(f"{self.directory} has no {slots}-slot aggregation circuit",
                               "fetch the task's circuit again (zkpot circuit fetch)")
        circ = Groth16AggregationCircuit.open(self.spec, directory)
        circ.require_build()
        return circ

    def setup_aggregation(self, slots: int, srs_path: Path | None = None,
                          srs_sha256: str | None = None) -> Groth16AggregationCircuit:
        """Compile and key the K-slot aggregation circuit.

        Kept if already set up from the same phase-1 file: ``srs_path`` checked against
        its hash (:func:`ceremony.check_ptau`), or, without one, development keys.
        """
        directory = self.directory / agg_module.folder_name(slots)
        ptau = None if srs_path is None else ceremony.check_ptau(srs_path, srs_sha256)
        try:
            existing = self.aggregation(slots)
            transcript = ceremony.Transcript.load(existing.transcript)
            if (transcript.insecure if ptau is None
                    else transcript.ptau_blake2b == ptau.blake2b):
                return existing
        except ProvingError:
            pass
        agg = agg_module.AggregationSpec(self.spec, slots)
        return agg_module.setup_aggregation(agg, directory, ptau=ptau)

    def complete_fetched(self) -> float:
        """Check the fetched key against the transcript; compile the build; its seconds."""
        started = time.perf_counter()
        mismatch = ceremony.fetched_mismatch(self.keys_dir, self.r1cs, self._require_build)
        if mismatch == "key":
            raise ProvingError("The task's proving key is not the one its transcript names",
                               "do not prove for this task; report the publisher")
        if mismatch == "circuit":
            raise ProvingError("The circuit compiled from the task's spec is not the one its "
                               "keys were made for", "do not prove for this task; report the "
                               "publisher")
        for circ in self.aggregation_circuits():
            circ.complete_fetched()
        return time.perf_counter() - started


def audit_key_folder(keys_dir: Path, r1cs: Path, phase1: Path | None, what: str) -> str:
    """Audit one key folder against its circuit and phase 1; what was checked.

    ``phase1``: the file the transcript names, when given (else the development file,
    when the transcript names that). A :class:`ProvingError` on any mismatch and for
    INSECURE keys.
    """
    transcript = ceremony.Transcript.load(keys_dir / ceremony.TRANSCRIPT)
    if transcript.single_party:
        key = prover.proving_key(keys_dir)
        if file_sha256(key) != transcript.zkey_sha256:
            raise ProvingError(f"{what}: the proving key in {keys_dir} is not the one the "
                               "transcript names", "fetch the task's artifacts again")
        raise ProvingError(
            f"{what}: INSECURE single-party setup (its maker knows the secrets and can forge "
            "proofs; the key matches the transcript's hash, and no ceremony exists to verify)",
            "do not trust this task's proofs; the publisher must run a ceremony on a public "
            "phase-1 file",
        )
    ptau = phase1
    if ptau is None:
        if transcript.ptau_source != "dev":
            raise ProvingError(
                f"{what} were made from a phase-1 file the auditor does not have (BLAKE2b "
                f"{transcript.ptau_blake2b[:16]}…, 2^{transcript.ptau_power})",
                "pass that file with --phase1",
            )
        ptau = ceremony.dev_ptau()
    checked = ceremony.audit(keys_dir, r1cs, ptau)
    names = ", ".join(c.name for c in checked.contributions)
    done = (f"{what} derive from the circuit and the 2^{checked.ptau_power} phase-1 file "
            f"({checked.ptau_source}) through {len(checked.contributions)} contribution(s): "
            f"{names}")
    if checked.insecure:
        raise ProvingError(
            f"{done}, but that phase-1 file is the INSECURE development one (one contributor "
            "who could have kept tau can forge proofs)",
            "do not trust this task's proofs; the publisher must use a public phase-1 file",
        )
    return done


def _beacon() -> str:
    """The phase-2 beacon: 32 fresh random bytes.

    A publisher may pass a later block hash through :func:`ceremony.finalize` instead,
    for a publicly checkable beacon.
    """
    import secrets

    return secrets.token_hex(32)


def _proof_json(proof: bytes, signals: list[int]) -> dict[str, Any]:
    """The proof file, plus snarkjs's JSON of it.

    The shape the proof bundle and ``chunk_proof`` read for every backend: a hex proof,
    instances as little-endian hex field elements.
    """
    return {
        "format": PROOF_FORMAT,
        "hex_proof": "0x" + proof.hex(),
        "instances": [[curve.felt_to_hex(v) for v in signals]],
        "snarkjs": {"proof": prover.to_snarkjs_json(proof),
                    "public": [str(v) for v in signals]},
    }
