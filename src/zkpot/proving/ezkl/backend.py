"""EZKL behind :class:`zkpot.proving.backend.Circuit`.

The pipeline itself (ONNX export, settings, keys, witness, proof) is
:mod:`zkpot.proving.ezkl.pipeline`; the on-chain side (EZKL's reusable verifier and the
``EzklAccuracyVerifier`` adapter) is :mod:`zkpot.proving.ezkl.evm`. This class only maps
the interface onto them. EZKL cannot bind a submitter into the proof: the commit
phase (``keccak(modelCommitment, participant, round, salt)``) and the hiding model
commitment keep a copied proof useless instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zkpot.errors import ProvingError
from zkpot.proving.backend import (
    AccuracyProof,
    Circuit,
    SrsIdentity,
    Statement,
    file_sha256,
)
from zkpot.proving.circuit import Blinding, CircuitSpec, TestBatch
from zkpot.proving.ezkl import pipeline
from zkpot.proving.verifier import VerifierArtifacts

if TYPE_CHECKING:
    from torch import nn


class EzklCircuit(Circuit):
    """A set-up EZKL circuit (its :class:`pipeline.CircuitArtifacts`)."""

    def __init__(self, artifacts: pipeline.CircuitArtifacts) -> None:
        self.artifacts = artifacts
        self.spec = artifacts.spec
        self.directory = artifacts.directory

    @classmethod
    def load(cls, directory: Path) -> EzklCircuit:
        return cls(pipeline.CircuitArtifacts.load(directory))

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
    ) -> EzklCircuit:
        return cls(pipeline.setup_circuit(spec, model, calibration, zk_dir=zk_dir,
                                          srs_path=srs_path, srs_sha256=srs_sha256))

    @classmethod
    def srs_identity(cls, srs_path: Path, srs_sha256: str | None) -> SrsIdentity:
        """The SRS's SHA-256 must equal ``srs_sha256``, which is required.

        There is no table of public EZKL SRS hashes to recognise one by.
        """
        if not srs_path.is_file():
            raise ProvingError(f"The SRS file {srs_path} does not exist",
                               "pass the ceremony file's path")
        if srs_sha256 is None:
            raise ProvingError(f"The SRS file {srs_path} needs its published hash",
                               "pass the ceremony file's published SHA-256 with --srs-hash")
        actual = file_sha256(srs_path)
        if actual != srs_sha256.strip().lower():
            raise ProvingError(f"The SRS file {srs_path} has SHA-256 {actual}, not the expected "
                               f"{srs_sha256}", "download the ceremony file again")
        return SrsIdentity(actual, insecure=False)

    @property
    def srs_hash(self) -> str:
        return self.artifacts.srs.sha256

    @property
    def insecure(self) -> bool:
        return self.artifacts.insecure

    def require_keys(self) -> None:
        self.artifacts.require_keys()

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
        del submitter  # not bindable in EZKL's statement (see the module docstring)
        return pipeline.prove(self.artifacts, model, batch, workdir, name, blinding=blinding)

    def load_proof(self, path: Path, prove_seconds: float = 0.0) -> AccuracyProof:
        return pipeline.load_proof(self.artifacts, path, prove_seconds=prove_seconds)

    def verify(self, proof: AccuracyProof | Path) -> bool:
        return pipeline.verify(self.artifacts, proof)

    def statement_of(self, proof: bytes, instances: list[int]) -> Statement:
        return pipeline.statement_of(self.artifacts, proof, instances)

    def model_commitment(self, model: nn.Module, *, blinding: Blinding) -> bytes:
        return pipeline.model_commitment(self.artifacts, model, blinding=blinding)

    def test_set_commitment(self, batch: TestBatch) -> bytes:
        return pipeline.test_set_commitment(self.artifacts, batch)

    def circuit_count(self, model: nn.Module, batch: TestBatch) -> int:
        return pipeline.circuit_count(self.artifacts, model, batch)

    def vk_digest(self) -> bytes:
        from eth_utils.crypto import keccak

        return bytes(keccak(b"".join(pipeline.vka_words(self.artifacts))))

    def verifier_artifacts(self) -> VerifierArtifacts:
        from zkpot.proving.ezkl.evm import adapter_arguments

        return VerifierArtifacts("Halo2VerifierReusable", "EzklAccuracyVerifier",
                                 adapter_arguments(self.artifacts).as_tuple())

    def audit_keys(self, phase1: Path | None = None) -> str:
        srs = self.artifacts.srs
        path = phase1 or srs.path
        if file_sha256(path) != srs.sha256:
            raise ProvingError(f"The SRS {path} is not the one the circuit's keys were made with",
                               "use the SRS file the task names (its SHA-256 is in circuit.json)")
        if srs.insecure:
            raise ProvingError(
                "EZKL keys: the SRS matches its SHA-256, but it is an INSECURE development SRS "
                "generated by one party (who can forge proofs with it)",
                "do not trust this task's proofs; the publisher must use the public ceremony SRS",
            )
        return ("EZKL keys: universal SRS checked by SHA-256; the keys are re-derivable from "
                "the circuit and the SRS")

    def published_files(self) -> dict[str, Path]:
        a = self.artifacts
        files = {"settings.json": a.settings, "circuit.vk": a.vk, "vka.bytes": a.vka,
                 "reference.compiled": a.compiled, "reference.onnx": a.directory / "reference.onnx"}
        if a.srs.insecure:  # a development SRS exists nowhere else
            files[a.srs.path.name] = a.srs.path
        return files

    def external_files(self) -> dict[str, str]:
        srs = self.artifacts.srs
        return {} if srs.insecure else {srs.path.name: srs.sha256}

    def complete_fetched(self) -> float:
        return pipeline.derive_keys(self.artifacts)
