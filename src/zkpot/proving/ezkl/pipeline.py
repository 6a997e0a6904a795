"""The EZKL pipeline of a proof of accuracy, as typed calls.

Per task, once (:func:`setup_circuit`): ONNX export, settings, calibration, compiled
circuit, SRS, proving/verifying keys, and the EVM verification-key artifact (VKA), all
under ``zk/<circuit short id>/``, described by a small committed ``circuit.json``.

Per participant (:func:`prove`): compile its own model with the task's settings, the
witness, the proof, local verification (:func:`verify`), and the decoded statement
(:func:`statement_of`). :func:`model_commitment` recomputes a model's commitment from
its weights alone, :func:`test_set_commitment` a chunk's, so the leader and the
publisher never need a proof to know them.

Keys do not depend on the weights (they are private advice committed in the proof),
so one setup serves every model of the architecture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from zkpot import toolchain
from zkpot.errors import ProvingError
from zkpot.models import architecture_id
from zkpot.proving import curve
from zkpot.proving.backend import (
    DESCRIPTOR,
    AccuracyProof,
    Statement,
    default_zk_dir,
    file_sha256,
    read_descriptor,
)
from zkpot.proving.circuit import (
    Blinding,
    CircuitForm,
    CircuitSpec,
    ModelBinding,
    TestBatch,
    TestSetBinding,
    check_batch,
    ezkl_input,
    new_blinding,
)

if TYPE_CHECKING:
    from torch import nn

T = TypeVar("T")

INSECURE_SRS_WARNING = (
    "WARNING: INSECURE DEVELOPMENT SRS. This powers-of-tau file was generated on this "
    "machine, whose toxic waste is not destroyed: anyone who ran it can forge proofs. "
    "Every artifact made with it is marked insecure. Pass --srs with the public "
    "ceremony file for anything real."
)


def _call_ezkl(step: str, hint: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one EZKL call, turning its exceptions and Rust panics into a ProvingError."""
    try:
        result = fn(*args, **kwargs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - pyo3 panics derive from BaseException
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ProvingError(f"EZKL {step} failed: {first[:200]}", hint) from error
    if result is False:
        raise ProvingError(f"EZKL {step} reported failure", hint)
    return result


@dataclass(frozen=True)
class SrsInfo:
    """The powers-of-tau file a circuit's keys were made with."""

    path: Path
    """Where the SRS lies (git-ignored)."""
    sha256: str
    """Hash of the file, checked before every use."""
    insecure: bool
    """True for a locally generated (development) SRS."""


@dataclass(frozen=True)
class CircuitArtifacts:
    """One circuit's artifacts on disk and the facts the verifier contract needs."""

    directory: Path
    """``zk/<short id>/``."""
    spec: CircuitSpec
    """The circuit's defining spec."""
    logrows: int
    """log2 of the circuit's rows (EZKL ``logrows``)."""
    num_rows: int
    """Rows the circuit uses before padding to ``2**logrows``."""
    srs: SrsInfo
    """The SRS the keys were made with."""
    test_set_points: int
    """G1 points at the start of the proof committing to the test chunk (features, labels)."""
    model_points: int
    """G1 points after those committing to the weights (0 with a hashed model binding)."""
    num_instances: int
    """Public instances per proof: ``[model hash]`` (hashed binding only), then the count."""
    count_scale: int
    """Fixed-point bits of the count instance (0: the instance is the count)."""
    setup_seconds: float = 0.0
    """Wall time of ``ezkl.setup`` (keys) when this was built."""
    extra: dict[str, str] = field(default_factory=dict)
    """Free-form notes (e.g. the VKA digest), strings only."""

    @property
    def circuit_id(self) -> str:
        return self.spec.circuit_id

    @property
    def insecure(self) -> bool:
        """True when the keys were made with a development SRS."""
        return self.srs.insecure

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def settings(self) -> Path:
        return self.path("settings.json")

    @property
    def compiled(self) -> Path:
        return self.path("reference.compiled")

    @property
    def pk(self) -> Path:
        return self.path("circuit.pk")

    @property
    def vk(self) -> Path:
        return self.path("circuit.vk")

    @property
    def vka(self) -> Path:
        """EZKL's VK artifact for the reusable EVM verifier."""
        return self.path("vka.bytes")

    def save(self) -> None:
        """Write the descriptor ``circuit.json`` (small, committed to git).

        Paths in it are relative to the circuit's own folder, so that the folder can be
        committed, copied or moved; :meth:`load` resolves them against where it lies.
        """
        data = asdict(self)
        del data["directory"]  # wherever the descriptor lies
        data["circuit_id"] = self.circuit_id
        data["architecture_id"] = architecture_id(self.spec.architecture)
        data["srs"]["path"] = os.path.relpath(self.srs.path, self.directory)
        self.path(DESCRIPTOR).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> CircuitArtifacts:
        """Read the descriptor of a circuit built by :func:`setup_circuit`."""
        data, spec = read_descriptor(directory)
        # Relative to the descriptor's folder (an absolute path from an older
        # descriptor is kept as it is).
        srs_path = Path(os.path.normpath(directory / data["srs"]["path"]))
        srs = SrsInfo(srs_path, data["srs"]["sha256"], data["srs"]["insecure"])
        return cls(
            directory=directory,
            spec=spec,
            logrows=data["logrows"],
            num_rows=data["num_rows"],
            srs=srs,
            test_set_points=data["test_set_points"],
            model_points=data["model_points"],
            num_instances=data["num_instances"],
            count_scale=data["count_scale"],
            setup_seconds=data.get("setup_seconds", 0.0),
            extra=data.get("extra", {}),
        )

    def require_keys(self) -> None:
        """Raise unless the git-ignored artifacts (keys, compiled circuit, SRS) are present."""
        for needed in (self.pk, self.vk, self.compiled, self.settings, self.srs.path):
            if not needed.is_file():
                raise ProvingError(
                    f"Circuit artifact {needed} is missing",
                    "rerun `zkpot circuit setup` (keys are not kept in git)",
                )


# -- SRS ---------------------------------------------------------------------------------


def prepare_srs(
    logrows: int,
    directory: Path,
    srs_path: Path | None = None,
    expected_sha256: str | None = None,
) -> SrsInfo:
    """The SRS for ``logrows``: the given ceremony file, or a generated development one.

    A given file must exist and, when ``expected_sha256`` is set, hash to it (the
    ceremony's published hash). Without a file, one is generated into ``directory``,
    a loud warning is printed, and the result is marked insecure.
    """
    if srs_path is not None:
        if not srs_path.is_file():
            raise ProvingError(f"SRS file {srs_path} does not exist", "check the --srs path")
        actual = file_sha256(srs_path)
        if expected_sha256 is not None and actual != expected_sha256.lower():
            raise ProvingError(
                f"SRS file {srs_path} has sha256 {actual}, not the expected {expected_sha256}",
                "download the ceremony file again and compare with its published hash",
            )
        return SrsInfo(srs_path.resolve(), actual, insecure=False)
    print(INSECURE_SRS_WARNING, file=sys.stderr, flush=True)
    path = directory / f"dev-k{logrows}.srs"
    if not path.is_file():
        _call_ezkl("gen_srs", "check the disk space", _ezkl().gen_srs, str(path), logrows)
    return SrsInfo(path.resolve(), file_sha256(path), insecure=True)


def _beside(srs: SrsInfo, directory: Path) -> SrsInfo:
    """The SRS as a file in the circuit's folder (linked, else copied), named as it was.

    The descriptor then names it by its bare file name, so a participant who fetched the
    circuit puts the same public file in the same place (see :mod:`zkpot.proving.fetch`).
    """
    inside = directory / srs.path.name
    if srs.path.resolve() != inside.resolve():
        inside.unlink(missing_ok=True)
        try:
            os.link(srs.path, inside)
        except OSError:
            shutil.copyfile(srs.path, inside)
    return SrsInfo(inside.resolve(), srs.sha256, srs.insecure)


def _check_srs(srs: SrsInfo) -> None:
    if not srs.path.is_file() or file_sha256(srs.path) != srs.sha256:
        raise ProvingError(
            f"SRS file {srs.path} is missing or changed since the keys were made",
            "restore the same SRS file or rerun `zkpot circuit setup`",
        )


# -- per task ----------------------------------------------------------------------------


def _ezkl() -> Any:
    import ezkl

    return ezkl


def _run_args(spec: CircuitSpec) -> Any:
    ezkl = _ezkl()
    args = ezkl.PyRunArgs()
    args.input_visibility = spec.test_set_binding
    args.param_visibility = spec.model_binding
    args.output_visibility = "public"
    args.input_scale = spec.input_scale
    args.param_scale = spec.param_scale
    args.num_inner_cols = spec.num_inner_cols
    args.decomp_base = spec.decomp_base
    args.decomp_legs = spec.decomp_legs
    return args


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data))


def setup_circuit(
    spec: CircuitSpec,
    reference_model: nn.Module,
    calibration: TestBatch,
    *,
    zk_dir: Path | None = None,
    srs_path: Path | None = None,
    srs_sha256: str | None = None,
) -> CircuitArtifacts:
    """Build every per-task artifact of ``spec`` under ``<zk_dir>/<short id>/``.

    ``reference_model`` and ``calibration`` (a batch of the circuit's shape) only set
    the fixed-point ranges; the keys serve any model of the architecture. With a
    ``test_set_binding`` of ``fixed``, the calibration batch *is* the test chunk baked
    into the keys.
    """
    from zkpot.proving.ezkl.graph import export_onnx  # imports torch; only an export needs it

    check_batch(spec, calibration)
    ezkl = _ezkl()
    directory = (zk_dir or default_zk_dir()) / spec.short_id
    directory.mkdir(parents=True, exist_ok=True)
    onnx_path = directory / "reference.onnx"
    export_onnx(spec, reference_model, onnx_path, new_blinding())
    data_path = directory / "calibration.json"
    _write_json(data_path, ezkl_input(spec, calibration))
    settings = directory / "settings.json"
    hint = "check the model and the circuit spec"
    _call_ezkl("gen_settings", hint, ezkl.gen_settings, str(onnx_path), str(settings),
               py_run_args=_run_args(spec))
    _call_ezkl(
        "calibrate_settings", hint, ezkl.calibrate_settings, str(data_path), str(onnx_path),
        str(settings), "resources", scales=[spec.input_scale],
    )
    # Calibration may move the scales; the circuit id promises the spec's scales.
    tuned = json.loads(settings.read_text())
    run_args = tuned["run_args"]
    if (run_args["input_scale"], run_args["param_scale"]) != (spec.input_scale, spec.param_scale):
        raise ProvingError(
            f"Calibration changed the scales to {run_args['input_scale']}/"
            f"{run_args['param_scale']}",
            "choose input_scale and param_scale that calibration keeps",
        )
    # The exact integer arithmetic both backends share (zkpot.proving.fixedpoint) holds
    # only while no layer is rebased: calibration must keep EZKL's rebase multiplier.
    from zkpot.proving.fixedpoint import EZKL_SCALE_REBASE_MULTIPLIER

    if int(run_args.get("scale_rebase_multiplier", 0)) != EZKL_SCALE_REBASE_MULTIPLIER:
        raise ProvingError(
            f"Calibration chose scale_rebase_multiplier {run_args.get('scale_rebase_multiplier')}, "
            f"not {EZKL_SCALE_REBASE_MULTIPLIER}: EZKL would rescale layers the reference does not",
            "keep the circuit's scales; report this EZKL version's calibration change",
        )
    logrows = int(run_args["logrows"])
    compiled = directory / "reference.compiled"
    _call_ezkl("compile_circuit", hint, ezkl.compile_circuit, str(onnx_path), str(compiled),
               str(settings))
    srs = _beside(prepare_srs(logrows, directory, srs_path, srs_sha256), directory)
    vk, pk = directory / "circuit.vk", directory / "circuit.pk"
    started = time.perf_counter()
    _call_ezkl("setup", "check free memory", ezkl.setup, str(compiled), str(vk), str(pk),
               str(srs.path))
    setup_seconds = time.perf_counter() - started
    # One witness tells how many KZG points each committed tensor takes in the proof.
    witness = _witness(directory, compiled, data_path, vk, srs, "witness-calibration.json")
    test_set_points = _point_count(witness["processed_inputs"])
    model_points = _point_count(witness["processed_params"])
    scales = tuned.get("model_output_scales") or [0]
    artifacts = CircuitArtifacts(
        directory=directory,
        spec=spec,
        logrows=logrows,
        num_rows=int(tuned["num_rows"]),
        srs=srs,
        test_set_points=test_set_points,
        model_points=model_points,
        num_instances=sum(len(group) for group in witness_instances(witness, spec)),
        count_scale=int(scales[0]),
        setup_seconds=setup_seconds,
    )
    _make_vka(artifacts)
    artifacts.save()
    return artifacts


def derive_keys(artifacts: CircuitArtifacts) -> float:
    """Make the proving key of a fetched circuit; the seconds it took.

    Keys depend only on the compiled circuit and the SRS (EZKL's keygen is deterministic,
    and the weights are private advice), so the key is re-derived rather than
    downloaded; the verifying key derived beside it must equal the published one.
    """
    _check_srs(artifacts.srs)
    derived_vk = artifacts.directory / "derived.vk"
    started = time.perf_counter()
    try:
        _call_ezkl("setup", "check free memory", _ezkl().setup, str(artifacts.compiled),
                   str(derived_vk), str(artifacts.pk), str(artifacts.srs.path))
        if derived_vk.read_bytes() != artifacts.vk.read_bytes():
            artifacts.pk.unlink(missing_ok=True)
            raise ProvingError(
                "The verifying key derived from the task's compiled circuit and SRS is not "
                "the one the task published",
                "do not prove for this task; report the publisher",
            )
    finally:
        derived_vk.unlink(missing_ok=True)
    return time.perf_counter() - started


def _point_count(processed: dict[str, Any] | None) -> int:
    if not processed or not processed.get("polycommit"):
        return 0
    return sum(len(group) for group in processed["polycommit"])


def witness_instances(witness: dict[str, Any], spec: CircuitSpec) -> list[list[str]]:
    """The instance groups a proof of this witness will carry (hash first, then count)."""
    groups: list[list[str]] = []
    if spec.model_binding == "hashed":
        groups.append([str(h) for h in witness["processed_params"]["poseidon_hash"]])
    groups.extend(witness["outputs"])
    return groups


def _witness(
    directory: Path, compiled: Path, data: Path, vk: Path, srs: SrsInfo, name: str
) -> dict[str, Any]:
    out = directory / name
    _call_ezkl(
        "gen_witness",
        "check that the model and test batch fit the task's circuit",
        _ezkl().gen_witness, str(data), str(compiled), str(out), vk_path=str(vk),
        srs_path=str(srs.path),
    )
    witness: dict[str, Any] = json.loads(out.read_text())
    return witness


_VKA_SCRIPT = """
import asyncio, sys, ezkl
async def main():
    return await ezkl.create_evm_vka(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
ok = asyncio.run(main())
sys.stdout.write("ok" if ok else "failed")
sys.stdout.flush()
"""


def _ezkl_subprocess(script: str, args: list[str], step: str, produced: Path) -> None:
    """Run an async EZKL call in a child: it may crash the interpreter at exit."""
    env = dict(os.environ)
    env["HOME"] = str(toolchain.ezkl_home())  # EZKL finds solc only under $HOME/.svm
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
        timeout=1800, check=False,
    )
    if not produced.is_file() or produced.stat().st_size == 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProvingError(f"EZKL {step} failed: {tail[0][:200]}", "run `make setup` again")


def _make_vka(artifacts: CircuitArtifacts) -> None:
    _ezkl_subprocess(
        _VKA_SCRIPT,
        [str(artifacts.vk), str(artifacts.settings), str(artifacts.vka), str(artifacts.srs.path)],
        "create_evm_vka",
        artifacts.vka,
    )


def vka_words(artifacts: CircuitArtifacts) -> list[bytes]:
    """The VK artifact as the ``bytes32[]`` the reusable verifier registers and takes."""
    raw = artifacts.vka.read_bytes()
    # bincode: an 8-byte little-endian length, then that many 32-byte words.
    count = int.from_bytes(raw[:8], "little")
    words = [raw[8 + 32 * i : 8 + 32 * (i + 1)] for i in range(count)]
    if 8 + 32 * count != len(raw):
        raise ProvingError(f"VK artifact {artifacts.vka} is malformed", "rerun the setup")
    return words


# -- per participant ---------------------------------------------------------------------


def compile_model(
    artifacts: CircuitArtifacts,
    model: nn.Module,
    workdir: Path,
    name: str = "model",
    *,
    blinding: Blinding,
) -> Path:
    """Compile ``model`` with ``blinding`` into the task's circuit (a clear error if unfit)."""
    from zkpot.proving.ezkl.graph import export_onnx

    spec = artifacts.spec
    onnx_path = workdir / f"{name}.onnx"
    export_onnx(spec, model, onnx_path, blinding)
    _check_same_graph(artifacts, onnx_path)
    compiled = workdir / f"{name}.compiled"
    _call_ezkl(
        "compile_circuit",
        "use a model of the task's architecture",
        _ezkl().compile_circuit, str(onnx_path), str(compiled), str(artifacts.settings),
    )
    return compiled


def _graph_shape(path: Path) -> list[tuple[str, tuple[int, ...]]]:
    import onnx

    graph = onnx.load(str(path)).graph
    return sorted(
        (init.name.split(".")[-1], tuple(int(d) for d in init.dims)) for init in graph.initializer
    ) + [(node.op_type, ()) for node in graph.node]


def _check_same_graph(artifacts: CircuitArtifacts, onnx_path: Path) -> None:
    # EZKL would compile a different architecture with the task's settings and fail
    # later with an opaque key or constraint error; compare the graphs first.
    reference = artifacts.directory / "reference.onnx"
    if reference.is_file() and _graph_shape(reference) != _graph_shape(onnx_path):
        raise ProvingError(
            f"The model's architecture does not match the task's circuit "
            f"({artifacts.spec.architecture.name})",
            "train a model of the task's architecture",
        )


def prove(
    artifacts: CircuitArtifacts,
    model: nn.Module,
    batch: TestBatch,
    workdir: Path,
    name: str = "proof",
    *,
    blinding: Blinding,
) -> AccuracyProof:
    """Prove that ``model`` classifies the returned count of ``batch`` correctly.

    The proof carries the commitment to the weights *and* ``blinding`` (see
    :func:`model_commitment`). Writes the witness and ``<name>.json`` under
    ``workdir``; verifies nothing (see :func:`verify`).
    """
    artifacts.require_keys()
    _check_srs(artifacts.srs)
    workdir.mkdir(parents=True, exist_ok=True)
    compiled = compile_model(artifacts, model, workdir, name + "-model", blinding=blinding)
    data = workdir / f"{name}-input.json"
    _write_json(data, ezkl_input(artifacts.spec, batch))
    _witness(workdir, compiled, data, artifacts.vk, artifacts.srs, f"witness-{name}.json")
    proof_path = workdir / f"{name}.json"
    proof_path.unlink(missing_ok=True)
    started = time.perf_counter()
    _prove_in_child(
        [str(workdir / f"witness-{name}.json"), str(compiled), str(artifacts.pk),
         str(proof_path), str(artifacts.srs.path)],
        proof_path,
    )
    elapsed = time.perf_counter() - started
    return load_proof(artifacts, proof_path, prove_seconds=elapsed)


PROVE_TIMEOUT_SECONDS = float(os.environ.get("ZKPOT_PROVE_TIMEOUT", "3600"))
"""Longest one EZKL proof may take before it is abandoned (env ``ZKPOT_PROVE_TIMEOUT``)."""

_PROVE_SCRIPT = """
import sys, ezkl
ok = ezkl.prove(*sys.argv[1:6])
sys.exit(0 if ok else 3)
"""


def _prove_in_child(args: list[str], produced: Path) -> None:
    """Run ``ezkl.prove`` in a child interpreter, bounded by :data:`PROVE_TIMEOUT_SECONDS`.

    EZKL 23.0.5's prover holds the GIL while its worker threads may log through Python
    (pyo3-log), which deadlocks on some inputs inside a process whose logging is
    configured (seen under pytest; cf. zkonduit/ezkl#1029). A child keeps such a hang
    from freezing the caller and turns it into a clear, bounded error.
    """
    env = dict(os.environ)
    env["RUST_LOG"] = "error"
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROVE_SCRIPT, *args], env=env, capture_output=True,
            text=True, timeout=PROVE_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProvingError(
            f"EZKL prove did not finish within {PROVE_TIMEOUT_SECONDS:.0f} s",
            "free memory and retry, or raise ZKPOT_PROVE_TIMEOUT; EZKL 23.0.5 can hang on "
            "some inputs (zkonduit/ezkl#1029)",
        ) from None
    if done.returncode != 0 or not produced.is_file():
        lines = [ln for ln in (done.stderr or done.stdout).strip().splitlines() if ln.strip()]
        tail = lines[-1] if lines else f"exit status {done.returncode}"
        raise ProvingError(
            f"EZKL prove failed: {tail[:200]}",
            "check that the model matches the task's circuit and that memory is free",
        )


def load_proof(
    artifacts: CircuitArtifacts, proof_path: Path, prove_seconds: float = 0.0
) -> AccuracyProof:
    """Read an EZKL proof file and decode its statement."""
    try:
        data = json.loads(proof_path.read_text())
        proof = bytes.fromhex(data["hex_proof"].removeprefix("0x"))
        instances = [curve.felt_from_hex(v) for group in data["instances"] for v in group]
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ProvingError(f"{proof_path} is not an EZKL proof file", "prove again") from error
    return AccuracyProof(
        path=proof_path,
        proof=proof,
        instances=instances,
        statement=statement_of(artifacts, proof, instances),
        prove_seconds=prove_seconds,
    )


def statement_of(artifacts: CircuitArtifacts, proof: bytes, instances: list[int]) -> Statement:
    """Decode the claim exactly as ``EzklAccuracyVerifier.statementOf`` does on chain."""
    points = artifacts.test_set_points + artifacts.model_points
    if len(proof) < 64 * points or len(instances) != artifacts.num_instances:
        raise ProvingError(
            f"A proof for circuit {artifacts.spec.short_id} has at least {64 * points} bytes "
            f"and {artifacts.num_instances} instances",
            "check that the proof was made for this task's circuit",
        )
    split = 64 * artifacts.test_set_points
    test_set = curve.commitment_digest([proof[:split]]) if split else bytes(32)
    if artifacts.model_points:
        model = curve.commitment_digest([proof[split : 64 * points]])
    else:
        model = instances[0].to_bytes(32, "big")
    return Statement(
        model_commitment=model,
        test_set_commitment=test_set,
        correct=instances[-1] >> artifacts.count_scale,
    )


def write_proof(path: Path, proof: bytes, instances: list[int], template: Path) -> Path:
    """Write an EZKL proof file with the given bytes and instances (used to test tampering)."""
    data = json.loads(template.read_text())
    data["hex_proof"] = "0x" + proof.hex()
    data["proof"] = list(proof)
    data["instances"] = [[curve.felt_to_hex(v) for v in instances]]
    path.write_text(json.dumps(data))
    return path


def verify(artifacts: CircuitArtifacts, proof: AccuracyProof | Path) -> bool:
    """Whether EZKL accepts the proof with the circuit's verifying key; never raises on bad input.

    This checks the proof against the instances and the commitments *it carries*; a
    caller must still compare :attr:`Statement.test_set_commitment` with the round's.
    """
    path = proof.path if isinstance(proof, AccuracyProof) else proof
    _check_srs(artifacts.srs)
    try:
        return bool(
            _ezkl().verify(str(path), str(artifacts.settings), str(artifacts.vk),
                           str(artifacts.srs.path))
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - a malformed proof makes EZKL raise or panic
        return False


def model_commitment(artifacts: CircuitArtifacts, model: nn.Module, *, blinding: Blinding) -> bytes:
    """The 32-byte commitment a proof by ``model`` with ``blinding`` carries.

    Computed from the weights and the blinding alone (no proof): the leader checks a
    received model against the chain with it, a participant a downloaded global model.
    """
    artifacts.require_keys()
    spec = artifacts.spec
    zeros = TestBatch(
        np.zeros((spec.samples, spec.architecture.input_size), dtype=np.float32),
        np.zeros(spec.samples, dtype=np.int64),
    )
    with tempfile.TemporaryDirectory(prefix="zkpot-commit-") as tmp:
        work = Path(tmp)
        compiled = compile_model(artifacts, model, work, blinding=blinding)
        data = work / "input.json"
        _write_json(data, ezkl_input(spec, zeros))
        witness = _witness(work, compiled, data, artifacts.vk, artifacts.srs, "witness.json")
    if spec.model_binding == "hashed":
        return curve.felt_from_hex(witness["processed_params"]["poseidon_hash"][0]).to_bytes(
            32, "big"
        )
    points = [curve.decompress_g1(p) for g in witness["processed_params"]["polycommit"] for p in g]
    return curve.commitment_digest(points)


def test_set_commitment(artifacts: CircuitArtifacts, batch: TestBatch) -> bytes:
    """The 32-byte commitment a proof on ``batch`` carries: what the publisher commits to."""
    return curve.commitment_digest([test_set_points(artifacts, batch)])


def test_set_points(artifacts: CircuitArtifacts, batch: TestBatch) -> bytes:
    """The G1 points (64 bytes each, as in the proof) committing to ``batch``."""
    artifacts.require_keys()
    if artifacts.spec.test_set_binding != "polycommit":
        raise ProvingError(
            "This circuit bakes its test set into the keys and has no test-set commitment",
            "use a circuit with test_set_binding polycommit",
        )
    with tempfile.TemporaryDirectory(prefix="zkpot-commit-") as tmp:
        work = Path(tmp)
        data = work / "input.json"
        _write_json(data, ezkl_input(artifacts.spec, batch))
        witness = _witness(work, artifacts.compiled, data, artifacts.vk, artifacts.srs, "w.json")
    return b"".join(
        curve.decompress_g1(p) for g in witness["processed_inputs"]["polycommit"] for p in g
    )


def circuit_count(artifacts: CircuitArtifacts, model: nn.Module, batch: TestBatch) -> int:
    """The count the circuit computes for ``model`` on ``batch`` (a witness, no proof).

    The blinding cannot change a count, so a fresh one is used.
    """
    with tempfile.TemporaryDirectory(prefix="zkpot-count-") as tmp:
        work = Path(tmp)
        compiled = compile_model(artifacts, model, work, blinding=new_blinding())
        data = work / "input.json"
        _write_json(data, ezkl_input(artifacts.spec, batch))
        out = work / "witness.json"
        _call_ezkl("gen_witness", "check the model and batch", _ezkl().gen_witness, str(data),
                   str(compiled), str(out))
        witness = json.loads(out.read_text())
    return curve.felt_from_hex(witness["outputs"][0][0]) >> artifacts.count_scale


def clean_workdir(path: Path) -> None:
    """Remove a proving work directory (witnesses and compiled models are large)."""
    shutil.rmtree(path, ignore_errors=True)


__all__ = [
    "AccuracyProof",
    "Blinding",
    "CircuitArtifacts",
    "CircuitForm",
    "CircuitSpec",
    "ModelBinding",
    "SrsInfo",
    "Statement",
    "TestBatch",
    "TestSetBinding",
    "load_proof",
    "model_commitment",
    "prepare_srs",
    "prove",
    "setup_circuit",
    "statement_of",
    "test_set_commitment",
    "verify",
    "vka_words",
]
