"""``zkpot circuit``: accuracy-circuit artifacts, ceremony contributions, EZKL's verifier."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from zkpot.cli.app import cli
from zkpot.cli.options import backend_option, chain_options, json_option, task_option
from zkpot.cli.output import _emit, _Steps, friendly_errors
from zkpot.cli.session import _session
from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    from zkpot.proving.circuit import BackendName


@cli.group()
def circuit() -> None:
    """Build a task's accuracy circuit (keys, VK artifact) and EZKL's on-chain verifier."""


@circuit.command("setup")
@click.option(
    "--architecture",
    default="mlp-64-32-10",
    show_default=True,
    help="Model architecture the circuit proves (zkpot.models.ARCHITECTURES).",
)
@click.option(
    "--samples",
    default=32,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Test samples per proof (one chunk: at most 256 with groth16, 64 with ezkl).",
)
@backend_option
@click.option(
    "--srs",
    "srs_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Phase-1 file (the public ceremony's: EZKL's SRS or Groth16's powers of tau); "
    "without it an INSECURE development one is used.",
)
@click.option(
    "--srs-hash",
    "--srs-sha256",
    "srs_sha256",
    default=None,
    help="The phase-1 file's published hash (SHA-256 for EZKL, BLAKE2b-512 for Groth16).",
)
@click.option(
    "--zk-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where circuits live (default: the project's zk/).",
)
@click.option("--force", is_flag=True, help="Rebuild even if the circuit's keys exist.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
@friendly_errors
def circuit_setup(
    architecture: str,
    samples: int,
    backend: str,
    srs_path: Path | None,
    srs_sha256: str | None,
    zk_dir: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Build the circuit's artifacts under zk/<short id>/ (calibrated on the digits data)."""
    from zkpot.data import load_digits
    from zkpot.models import architecture_by_name, build_model
    from zkpot.proving.backend import (
        Circuit,
        default_zk_dir,
        keys_from,
        load_circuit,
        setup_circuit,
        srs_identity,
    )
    from zkpot.proving.circuit import CircuitSpec, TestBatch
    from zkpot.proving.ezkl import pipeline

    if srs_sha256 is not None and srs_path is None:
        raise ZkpotError("--srs-hash was given without --srs", "pass the phase-1 file with --srs")
    arch = architecture_by_name(architecture)
    spec = CircuitSpec(arch, samples=samples, backend=cast("BackendName", backend))
    directory = (zk_dir or default_zk_dir()) / spec.short_id
    # The phase-1 file is checked against a known or given hash before anything else.
    given_srs = None if srs_path is None else srs_identity(backend, srs_path, srs_sha256)
    from zkpot.proving.folder_lock import circuit_lock

    with circuit_lock(directory):  # another build of this folder finishes first
        artifacts: Circuit | None = None
        if not force:
            try:
                artifacts = load_circuit(directory)
                artifacts.require_keys()
                if not keys_from(artifacts, given_srs):
                    artifacts = None  # built with another phase-1 file: rebuild
            except ZkpotError:
                artifacts = None
        reused = artifacts is not None
        if artifacts is None:
            digits = load_digits()
            calibration = TestBatch(digits.X[:samples], digits.y[:samples])
            with _Steps(as_json) as steps:
                steps(f"building the {backend} circuit {arch.name} x {samples} samples into "
                      f"{directory} (minutes)")
                artifacts = setup_circuit(
                    spec,
                    build_model(arch, seed=0),
                    calibration,
                    zk_dir=zk_dir,
                    srs_path=srs_path,
                    srs_sha256=srs_sha256,
                )
    built = artifacts
    from zkpot.proving.ezkl import EzklCircuit
    from zkpot.proving.groth16 import ceremony
    from zkpot.proving.groth16.backend import Groth16Circuit

    if isinstance(built, Groth16Circuit) and built.insecure:
        click.echo(ceremony.INSECURE_SETUP_WARNING if built.data.get("single_party")
                   else ceremony.INSECURE_DEV_PTAU_WARNING, err=True)
    elif reused and built.insecure:
        click.echo(pipeline.INSECURE_SRS_WARNING, err=True)

    size = (f"logrows {built.artifacts.logrows} ({built.artifacts.num_rows:,} rows)"
            if isinstance(built, EzklCircuit) else
            f"{built.constraints:,} constraints" if isinstance(built, Groth16Circuit) else "")
    data: dict[str, Any] = {
        "short_id": built.short_id,
        "circuit_id": built.circuit_id,
        "backend": built.backend,
        "directory": str(built.directory),
        "insecure": built.insecure,
        "reused": reused,
        "files": {name: str(path) for name, path in built.published_files().items()},
    }
    if isinstance(built, EzklCircuit):
        data.update(logrows=built.artifacts.logrows, num_rows=built.artifacts.num_rows)
    if isinstance(built, Groth16Circuit):
        data.update(constraints=built.constraints)

    def text() -> None:
        click.echo(f"circuit {data['short_id']} ({arch.name}, {samples} samples per proof, "
                   f"{built.backend})")
        click.echo(size)
        click.echo(f"artifacts {built.directory}" + (" (already built)" if reused else ""))
        if built.insecure:
            click.echo("INSECURE: development phase-1 file or single-party setup; pass --srs "
                       "with the ceremony file for real use")

    _emit(data, as_json, text)


@circuit.command("fetch")
@chain_options
@task_option
@click.option(
    "--srs", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="The public ceremony SRS, when the task's keys use one it does not publish "
    "(env ZKPOT_SRS).",
)
@click.option("--max-mb", type=click.IntRange(1), default=None,
              help="Largest artifact to download, in MiB (default 2048).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def circuit_fetch(
    network: str, contract: str | None, ipfs_url: str | None, task_id: int,
    srs: Path | None, max_mb: int | None, as_json: bool,
) -> None:
    """Download a task's circuit by CID into the cache, derive its keys, check them on chain.

    The first prove, aggregate or audit of a task does the same implicitly.
    """
    from zkpot import limits
    from zkpot.roles.artifacts import fetch_circuit
    from zkpot.roles.precheck import check_verifier

    with _Steps(as_json) as steps, _session(network, contract, ipfs_url, steps, srs) as session:
        _, document = session.task(task_id)
        fetched = fetch_circuit(
            session.storage, document.circuit, srs=session.srs, progress=steps,
            meter=steps.meter,
            max_bytes=max_mb * limits.MIB if max_mb else limits.ARTIFACT_CAP,
        )
        session.check_circuit_keys(fetched.circuit, f"Task {task_id}")
        steps("checking the verifying key against the task's verifier on chain")
        check_verifier(session, task_id, document, fetched.circuit)
    data = {
        "task": task_id, "circuit_id": fetched.circuit.circuit_id,
        "backend": fetched.circuit.backend, "directory": str(fetched.directory),
        "from_cache": fetched.from_cache, "fetched_bytes": fetched.fetched_bytes,
        "fetch_seconds": round(fetched.fetch_seconds, 2),
        "derive_seconds": round(fetched.derive_seconds, 2), "sizes": fetched.sizes,
        "insecure": fetched.circuit.insecure,
    }

    def text() -> None:
        how = ("already cached; every file re-hashed" if fetched.from_cache else
               f"{fetched.fetched_bytes / (1024 * 1024):.1f} MiB fetched in "
               f"{fetched.fetch_seconds:.1f} s, derived in {fetched.derive_seconds:.1f} s")
        click.echo(f"circuit {fetched.circuit.short_id} ({fetched.circuit.backend}) of task "
                   f"{task_id} in {fetched.directory}: {how}")
        click.echo("verifying key matches the task's document and its verifier on chain")

    _emit(data, as_json, text)


@circuit.command("contribute")
@click.option("--circuit", "circuit_ref", required=True,
              help="A Groth16 circuit folder or its short id under zk/.")
@click.option("--name", required=True, help="The contributor's name, kept in the transcript.")
@click.option("--entropy", default=None,
              help="Extra text mixed into the contribution (snarkjs adds its own randomness).")
@click.option("--beacon", default=None,
              help="Hex of public randomness to close the ceremony with (e.g. a later block "
              "hash); default 32 fresh random bytes.")
@click.option("--phase1", type=click.Path(exists=True, path_type=Path), default=None,
              help="The phase-1 file the circuit was set up with (default: the development one).")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def circuit_contribute(
    circuit_ref: str,
    name: str,
    entropy: str | None,
    beacon: str | None,
    phase1: Path | None,
    as_json: bool,
) -> None:
    """Add a phase-2 contribution to a Groth16 circuit, then close it with a new beacon.

    Run before `task create`: the verifier deployed for a task embeds the final key.
    """
    import secrets

    from zkpot.proving.backend import default_zk_dir, load_circuit
    from zkpot.proving.groth16 import ceremony
    from zkpot.proving.groth16.backend import Groth16Circuit

    as_path = Path(circuit_ref)
    directory = as_path if as_path.is_dir() else default_zk_dir() / circuit_ref
    built = load_circuit(directory)
    if not isinstance(built, Groth16Circuit):
        raise ZkpotError(f"Circuit {built.short_id} is an {built.backend} circuit",
                         "contributions are for Groth16 circuits (EZKL has no per-circuit setup)")
    if built.data.get("single_party"):
        raise ZkpotError(f"Circuit {built.short_id} has INSECURE single-party keys, so there is "
                         "no ceremony to contribute to",
                         "set it up again with a powers-of-tau file (--srs) that fits it")
    built.require_keys()
    with _Steps(as_json) as steps:
        steps(f"contributing to circuit {built.short_id} as {name!r}")
        contribution = ceremony.contribute(built.keys_dir, name=name, entropy=entropy,
                                           reopen=True)
        steps("closing the ceremony: beacon, zkey verify, verification key")
        ptau = ceremony.check_ptau(phase1 or ceremony.dev_ptau(),
                                   built.srs_hash or None)
        transcript = ceremony.finalize(built.keys_dir, built.r1cs, ptau,
                                       beacon=beacon or secrets.token_hex(32))
    data = {"circuit": built.short_id, "contribution": asdict(contribution),
            "contributions": [c.name for c in transcript.contributions]}

    def text() -> None:
        click.echo(f"contribution {contribution.hash[:32]}… added to {built.short_id}")
        click.echo("transcript: " + " -> ".join(data["contributions"]))

    _emit(data, as_json, text)


@circuit.command("verifier")
@click.option(
    "--circuit",
    "circuit_ref",
    default=None,
    help="A circuit folder or short id under zk/ (default: the first built one).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: contracts/verifiers).",
)
@json_option
@friendly_errors
def circuit_verifier(circuit_ref: str | None, out: Path | None, as_json: bool) -> None:
    """Regenerate contracts/verifiers/Halo2VerifierReusable.sol from a circuit's keys."""
    from zkpot.proving.backend import default_zk_dir
    from zkpot.proving.ezkl import evm, pipeline

    zk_dir = default_zk_dir()
    if circuit_ref is None:
        built = sorted(p.parent for p in zk_dir.glob("*/circuit.pk"))
        if not built:
            raise ZkpotError(f"No built circuit under {zk_dir}", "run `zkpot circuit setup` first")
        directory = built[0]
    else:
        as_path = Path(circuit_ref)
        directory = as_path if as_path.is_dir() else zk_dir / circuit_ref
    artifacts = pipeline.CircuitArtifacts.load(directory)
    target = (out or evm.verifiers_dir()) / "Halo2VerifierReusable.sol"
    before = target.read_text() if target.is_file() else None
    path = evm.generate_reusable_verifier(artifacts, out)
    changed = before != path.read_text()
    _emit({"path": str(path), "circuit": artifacts.spec.short_id, "changed": changed}, as_json,
          lambda: click.echo(f"wrote {path} from circuit {artifacts.spec.short_id}"
                             + (" (changed: run `ape compile`)" if changed else " (unchanged)")))
