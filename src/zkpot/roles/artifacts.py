"""A task's circuit, from its content addresses alone.

A participant, leader or auditor on its own machine has the chain and an IPFS node, not
the publisher's ``zk/`` folder. :func:`fetch_circuit` downloads every file the task
document lists by CID into a cache folder keyed by the circuit id, each streamed, capped
and checked against its CID; checks that the folder is the circuit the document names;
and derives what is not published (EZKL's proving key from the compiled circuit and the
SRS, its verifying key compared with the published one; Groth16's build, its published
key checked against the transcript). A manifest then records every file's SHA-256, and
each later use re-hashes the folder against it, so a cached file changed since (one
byte) is refused before any proof. The on-chain check (the task's verifier holds this
circuit's VK digest) is :func:`zkpot.roles.precheck.check_verifier`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zkpot import limits, toolchain
from zkpot.errors import ProvingError, StateError, ZkpotError
from zkpot.proving.backend import DESCRIPTOR, Circuit, file_sha256, load_circuit
from zkpot.roles.common import CircuitRef
from zkpot.storage import IpfsStorage, OnBytes

MANIFEST = "fetched.json"
"""The cache folder's record of what was fetched and every file's SHA-256."""

DESCRIPTOR_CAP = 1 * limits.MIB
"""A circuit descriptor is a few KiB of JSON."""

Meter = Callable[[str, int], OnBytes]
"""Starts a byte progress bar for a named transfer of a given size; returns its advance."""

_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


def cache_root() -> Path:
    """``$ZKPOT_CIRCUIT_CACHE``, else ``$ZKPOT_STATE_DIR/circuits``."""
    env = os.environ.get("ZKPOT_CIRCUIT_CACHE")
    return Path(env).resolve() if env else toolchain.state_dir() / "circuits"


@dataclass(frozen=True)
class Fetched:
    """A task's circuit in the local cache and what getting it cost."""

    circuit: Circuit
    directory: Path
    from_cache: bool
    """True when the folder was already complete (only re-hashed)."""
    fetched_bytes: int
    """Bytes downloaded this time."""
    fetch_seconds: float
    derive_seconds: float
    """Key derivation (EZKL) or circuit compilation (Groth16) this time."""
    sizes: dict[str, int]
    """Every file of the folder by relative name, in bytes (derived ones included)."""


def publish_circuit(
    storage: IpfsStorage,
    circuit: Circuit,
    *,
    progress: Callable[[str], None] = lambda _: None,
    meter: Meter | None = None,
) -> CircuitRef:
    """Add the circuit's descriptor and published files to IPFS (streamed, pinned); its ref."""

    def add(path: Path) -> str:
        size = path.stat().st_size
        large = size > limits.MIB
        if large:
            progress(f"adding {path.name} ({size / limits.MIB:.1f} MiB) to IPFS")
        advance = meter(path.name, size) if meter is not None and large else None
        cid = storage.add_file(path, on_bytes=advance)
        storage.pin(cid)
        return cid

    files = {name: add(path) for name, path in circuit.published_files().items()}
    files[DESCRIPTOR] = add(circuit.directory / DESCRIPTOR)
    return CircuitRef(
        circuit_id=circuit.circuit_id,
        short_id=circuit.short_id,
        files=files,
        srs_hash=circuit.srs_hash,
        insecure_srs=circuit.insecure,
        backend=circuit.backend,
        aggregation_insecure=_aggregation_insecure(circuit),
    )


def _aggregation_insecure(circuit: Circuit) -> bool:
    """True when any aggregation circuit beside ``circuit`` has INSECURE keys."""
    from zkpot.roles import keytrust

    return any(part != keytrust.ACCURACY for part in keytrust.insecure_parts(circuit))


def fetch_circuit(
    storage: IpfsStorage,
    ref: CircuitRef,
    *,
    cache: Path | None = None,
    srs: Path | None = None,
    max_bytes: int = limits.ARTIFACT_CAP,
    progress: Callable[[str], None] = lambda _: None,
    meter: Meter | None = None,
) -> Fetched:
    """The circuit ``ref`` names, from the cache or fetched into it; refused on any mismatch.

    ``srs``: the public ceremony file, when the task's keys use one it does not publish.
    """
    directory = (cache or cache_root()) / ref.circuit_id
    manifest = _read_manifest(directory)
    if manifest is not None and manifest.get("files") == ref.files:
        circuit = _check_cached(directory, manifest, ref)
        return Fetched(circuit, directory, True, 0, 0.0, 0.0, _sizes(directory))
    _check_names(ref)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    started = time.perf_counter()
    fetched = 0
    for name, cid in sorted(ref.files.items(), key=lambda item: item[0] != DESCRIPTOR):
        fetched += storage.cat_to_file(
            cid, directory / name, what=f"circuit artifact {name}",
            max_bytes=DESCRIPTOR_CAP if name == DESCRIPTOR else max_bytes,
            on_size=_announcer(name, progress, meter),
        )
    fetch_seconds = time.perf_counter() - started
    circuit = _open(directory, ref)
    _place_external(circuit, directory, srs)
    progress("deriving the circuit's keys" if circuit.backend == "ezkl"
             else "compiling the circuit and checking its key")
    derive_seconds = circuit.complete_fetched()
    _write_manifest(directory, ref)
    return Fetched(circuit, directory, False, fetched, fetch_seconds, derive_seconds,
                   _sizes(directory))


def _announcer(
    name: str, progress: Callable[[str], None], meter: Meter | None
) -> Callable[[int | None], OnBytes | None]:
    """Announce a download once its size is known; its byte progress callback, if any."""

    def announce(size: int | None) -> OnBytes | None:
        progress(f"fetching {name}" + (f" ({size / limits.MIB:.1f} MiB)" if size else ""))
        return meter(name, size) if meter is not None and size else None

    return announce


def _check_names(ref: CircuitRef) -> None:
    for name in ref.files:
        parts = name.split("/")
        if not _NAME.fullmatch(name) or any(part in (".", "..") for part in parts) \
                or name == MANIFEST:
            raise ProvingError(f"The task document names a circuit file {name[:80]!r} that is "
                               "not a plain relative path",
                               "do not prove for this task; report the publisher")
    if DESCRIPTOR not in ref.files:
        raise ProvingError(f"The task document lists no {DESCRIPTOR}",
                           "do not prove for this task; report the publisher")


def _open(directory: Path, ref: CircuitRef) -> Circuit:
    """Load the fetched folder and check it is the circuit, and only the files, ``ref`` names."""
    try:
        circuit = load_circuit(directory)
    except ProvingError as error:
        raise ProvingError(f"The task's circuit descriptor is unusable ({error.message})",
                           "do not prove for this task; report the publisher") from error
    expected = set(circuit.published_files()) | {DESCRIPTOR}
    facts = {
        "circuit id": (circuit.circuit_id, ref.circuit_id),
        "backend": (circuit.backend, ref.backend),
        "SRS hash": (circuit.srs_hash, ref.srs_hash),
        "SRS security": (circuit.insecure, ref.insecure_srs),
        "file list": (sorted(expected), sorted(ref.files)),
    }
    if ref.aggregation_insecure is not None:
        facts["aggregation keys' security"] = (_aggregation_insecure(circuit),
                                               ref.aggregation_insecure)
    for what, (actual, claimed) in facts.items():
        if actual != claimed:
            raise ProvingError(f"The task's circuit artifacts do not match its document's "
                               f"{what}", "do not prove for this task; report the publisher")
    return circuit


def _place_external(circuit: Circuit, directory: Path, srs: Path | None) -> None:
    for name, sha256 in circuit.external_files().items():
        if srs is None:
            raise ProvingError(
                f"The task's keys use the public SRS {name} (SHA-256 {sha256}), which the "
                "task does not publish",
                "download that ceremony file and pass it with --srs",
            )
        if file_sha256(srs) != sha256:
            raise ProvingError(f"The SRS file {srs} is not the task's (SHA-256 {sha256})",
                               "pass the ceremony file the task names")
        target = directory / name
        try:
            os.link(srs, target)
        except OSError:
            shutil.copyfile(srs, target)


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def _sizes(directory: Path) -> dict[str, int]:
    return {p.relative_to(directory).as_posix(): p.stat().st_size for p in _files(directory)}


def _write_manifest(directory: Path, ref: CircuitRef) -> None:
    hashes = {p.relative_to(directory).as_posix(): file_sha256(p) for p in _files(directory)}
    data = {"circuit_id": ref.circuit_id, "files": ref.files, "sha256": hashes}
    (directory / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _read_manifest(directory: Path) -> dict[str, object] | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sha256"), dict) else None


def _check_cached(directory: Path, manifest: dict[str, object], ref: CircuitRef) -> Circuit:
    """Re-hash every cached file against the manifest; the loaded circuit."""
    hashes = manifest["sha256"]
    assert isinstance(hashes, dict)
    for name, expected in sorted(hashes.items()):
        path = directory / name
        if not path.is_file() or file_sha256(path) != expected:
            raise StateError(
                f"The cached circuit file {path} changed since it was fetched",
                f"delete {directory} and run `zkpot circuit fetch` again",
            )
    try:
        return _open(directory, ref)
    except ZkpotError as error:
        raise StateError(f"The cached circuit in {directory} is unusable ({error.message})",
                         f"delete {directory} and run `zkpot circuit fetch` again") from error
