"""A task's circuit from its CIDs alone: fetched, derived, checked; forgeries refused.

Real IPFS (the session's node), real tiny circuits of both backends, real proofs from the
fetched folders. Every attack here is on the files a participant downloads: a forged CID
in the task document, a flipped byte in the cache, a path that climbs out of the cache,
an oversized object, a public SRS swapped for another.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from zkpot import models
from zkpot.errors import ProvingError, StateError, StorageError
from zkpot.proving import circuit
from zkpot.proving.backend import DESCRIPTOR, file_sha256, setup_circuit
from zkpot.proving.ezkl import EzklCircuit, pipeline
from zkpot.roles.artifacts import MANIFEST, fetch_circuit, publish_circuit
from zkpot.roles.common import CircuitRef
from zkpot.services import ServicesConfig
from zkpot.storage import IpfsConfig, IpfsStorage

from .conftest import TinySetup, digits_batch, trained

if TYPE_CHECKING:
    from circuit_cache import CircuitCache


@pytest.fixture(scope="module")
def storage(local_services: ServicesConfig) -> Iterator[IpfsStorage]:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as node:
        yield node


@pytest.fixture(scope="module")
def ezkl_ref(tiny: TinySetup, storage: IpfsStorage) -> CircuitRef:
    return publish_circuit(storage, EzklCircuit(tiny.artifacts))


def forged(ref: CircuitRef, **files: str) -> CircuitRef:
    return dataclasses.replace(ref, files={**ref.files, **files})


def test_fetched_ezkl_circuit_derives_the_same_keys_and_proves(
    tiny: TinySetup, ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    fetched = fetch_circuit(storage, ezkl_ref, cache=tmp_path)
    assert not fetched.from_cache
    assert fetched.directory == tmp_path / tiny.artifacts.circuit_id
    assert set(fetched.sizes) >= set(ezkl_ref.files) | {"circuit.pk"}
    assert fetched.fetched_bytes == sum(
        fetched.sizes[name] for name in ezkl_ref.files
    )
    assert isinstance(fetched.circuit, EzklCircuit)
    derived = fetched.circuit.artifacts
    # Keys depend only on the compiled circuit and the SRS: the same bytes as the publisher's.
    assert file_sha256(derived.pk) == file_sha256(tiny.artifacts.pk)
    assert fetched.circuit.vk_digest() == EzklCircuit(tiny.artifacts).vk_digest()
    proof = fetched.circuit.prove(tiny.model_a, tiny.batch, tmp_path / "work", "fetched",
                                  blinding=tiny.blinding_a, submitter="0x" + "11" * 20)
    assert EzklCircuit(tiny.artifacts).verify(proof)
    assert proof.statement.correct == tiny.proof_a.statement.correct

    again = fetch_circuit(storage, ezkl_ref, cache=tmp_path)
    assert again.from_cache and again.fetched_bytes == 0


@pytest.mark.parametrize("name", ["settings.json", "circuit.pk", "reference.compiled"])
def test_one_flipped_byte_in_the_cache_is_refused(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path, name: str
) -> None:
    fetched = fetch_circuit(storage, ezkl_ref, cache=tmp_path)
    target = fetched.directory / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(StateError, match="changed since it was fetched"):
        fetch_circuit(storage, ezkl_ref, cache=tmp_path)


def test_deleted_cached_file_is_refused(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    fetched = fetch_circuit(storage, ezkl_ref, cache=tmp_path)
    (fetched.directory / "circuit.vk").unlink()
    with pytest.raises(StateError, match="changed since it was fetched"):
        fetch_circuit(storage, ezkl_ref, cache=tmp_path)


def test_forged_verifying_key_cid_is_refused_and_leaves_no_key(
    tiny: TinySetup, ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    vk = bytearray(tiny.artifacts.vk.read_bytes())
    vk[-40] ^= 0x01
    forged_ref = forged(ezkl_ref, **{"circuit.vk": storage.add(bytes(vk))})
    with pytest.raises(ProvingError, match="derived from the task's compiled circuit"):
        fetch_circuit(storage, forged_ref, cache=tmp_path)
    directory = tmp_path / tiny.artifacts.circuit_id
    assert not (directory / "circuit.pk").exists()
    assert not (directory / MANIFEST).exists()  # the next fetch starts again


def test_forged_compiled_circuit_cid_is_refused(
    tiny: TinySetup, ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    # A compiled circuit of another shape (8 samples): keys that do not match the vk.
    other_spec = circuit.CircuitSpec(models.TINY_MLP, samples=8)
    other = pipeline.setup_circuit(other_spec, trained(0, 1), digits_batch(1000, 8),
                                   zk_dir=tmp_path / "other")
    forged_ref = forged(ezkl_ref, **{"reference.compiled": storage.add_file(other.compiled)})
    with pytest.raises(ProvingError):
        fetch_circuit(storage, forged_ref, cache=tmp_path / "cache")


def test_descriptor_of_another_circuit_is_refused(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    forged_ref = dataclasses.replace(ezkl_ref, circuit_id="ab" * 32)
    with pytest.raises(ProvingError, match="circuit id"):
        fetch_circuit(storage, forged_ref, cache=tmp_path)


def test_descriptor_with_a_forged_spec_is_refused(
    tiny: TinySetup, ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    descriptor = json.loads((tiny.artifacts.directory / DESCRIPTOR).read_text())
    descriptor["spec"]["samples"] = 64  # keeps the old id: the descriptor contradicts itself
    cid = storage.add(json.dumps(descriptor).encode())
    with pytest.raises(ProvingError, match="descriptor is unusable"):
        fetch_circuit(storage, forged(ezkl_ref, **{DESCRIPTOR: cid}), cache=tmp_path)


@pytest.mark.parametrize("name", ["../escape.json", "/etc/x", "keys/../../x", "a b", MANIFEST])
def test_file_names_that_leave_the_cache_are_refused(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path, name: str
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ProvingError, match="not a plain relative path"):
        fetch_circuit(storage, forged(ezkl_ref, **{name: ezkl_ref.files["settings.json"]}),
                      cache=cache)
    assert not (tmp_path / "escape.json").exists()
    assert not cache.exists()


def test_an_extra_file_in_the_document_is_refused(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    with pytest.raises(ProvingError, match="file list"):
        fetch_circuit(storage, forged(ezkl_ref, extra=ezkl_ref.files["settings.json"]),
                      cache=tmp_path)


def test_an_artifact_over_the_cap_is_refused_before_it_is_read(
    ezkl_ref: CircuitRef, storage: IpfsStorage, tmp_path: Path
) -> None:
    with pytest.raises(StorageError, match="larger than"):
        fetch_circuit(storage, ezkl_ref, cache=tmp_path, max_bytes=64 * 1024)
    assert not list(tmp_path.rglob("*.part"))


def test_a_public_srs_is_not_published_and_must_be_the_named_one(
    tiny: TinySetup, storage: IpfsStorage, tmp_path: Path
) -> None:
    # The development SRS file passed as if it were a ceremony's: the keys are marked
    # secure, so the task publishes only its hash and each participant brings the file.
    srs = tiny.artifacts.srs
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=4)
    public = setup_circuit(spec, trained(0, 1), digits_batch(1000), zk_dir=tmp_path / "pub",
                           srs_path=srs.path, srs_sha256=srs.sha256)
    assert not public.insecure
    ref = publish_circuit(storage, public)
    assert srs.path.name not in ref.files and ref.srs_hash == srs.sha256
    with pytest.raises(ProvingError, match="which the task does not publish"):
        fetch_circuit(storage, ref, cache=tmp_path / "a")
    with pytest.raises(ProvingError, match="is not the task's"):
        fetch_circuit(storage, ref, cache=tmp_path / "b", srs=tiny.artifacts.settings)
    fetched = fetch_circuit(storage, ref, cache=tmp_path / "c", srs=srs.path)
    assert fetched.circuit.vk_digest() == public.vk_digest()


@pytest.mark.slow
def test_groth16_circuit_fetched_checks_its_key_and_proves(
    tiny: TinySetup, storage: IpfsStorage, tmp_path: Path, circuits: CircuitCache
) -> None:
    spec = circuit.CircuitSpec(models.TINY_MLP, samples=1, backend="groth16")
    batch = circuit.TestBatch(tiny.batch.X[:1], tiny.batch.y[:1])
    # The publisher's folder: a copy of the run's build of this circuit (keys as
    # setup_circuit makes them without --srs).
    published = circuits.copy(spec, tmp_path / "pub")
    ref = publish_circuit(storage, published)
    assert {"keys/transcript.json", "keys/verification_key.json"} <= set(ref.files)
    assert not any(name.startswith("build/") for name in ref.files)  # compiled locally

    other_key = bytearray((published.keys_dir / "circuit_final.zkey").read_bytes())
    other_key[-100] ^= 0x01
    forged_ref = forged(ref, **{"keys/circuit_final.zkey": storage.add(bytes(other_key))})
    with pytest.raises(ProvingError, match="not the one its transcript names"):
        fetch_circuit(storage, forged_ref, cache=tmp_path / "forged")

    fetched = fetch_circuit(storage, ref, cache=tmp_path / "cache")
    assert fetched.circuit.vk_digest() == published.vk_digest()
    submitter = "0x" + "22" * 20
    proof = fetched.circuit.prove(tiny.model_a, batch, tmp_path / "work", "g16",
                                  blinding=tiny.blinding_a, submitter=submitter)
    assert published.verify(proof)


@pytest.mark.slow
def test_an_aggregation_circuit_travels_with_its_groth16_circuit_and_is_checked(
    tiny: TinySetup, storage: IpfsStorage, tmp_path: Path, circuits: CircuitCache
) -> None:
    from zkpot.errors import AggregationProofError
    from zkpot.proving.groth16 import aggregation, circom

    spec = circuit.CircuitSpec(models.TINY_MLP, samples=1, backend="groth16")
    # A copy of the run's build, its 2-slot aggregation circuit included.
    published = circuits.copy(spec, tmp_path / "pub", slots=[2])
    agg = published.setup_aggregation(2)  # already there: kept
    ref = publish_circuit(storage, published)
    names = {f"aggregate-k2/{name}" for name in (
        "aggregate.circom", "aggregation.json", "keys/verification_key.json",
        "keys/transcript.json")}
    assert names <= set(ref.files)
    assert not any(name.startswith("aggregate-k2/build/") for name in ref.files)
    key_name = next(n for n in ref.files if n.startswith("aggregate-k2/keys/circuit"))

    # A proving key other than the transcript's, or a source other than the spec's.
    other_key = bytearray(Path(published.directory / key_name).read_bytes())
    other_key[-100] ^= 0x01
    forged_key = forged(ref, **{key_name: storage.add(bytes(other_key))})
    with pytest.raises(AggregationProofError, match="not the one its transcript names"):
        fetch_circuit(storage, forged_key, cache=tmp_path / "forged-key")
    source = agg.source.read_text().replace("Num2Bits(16)", "Num2Bits(17)", 1)
    forged_source = forged(ref, **{"aggregate-k2/aggregate.circom": storage.add(source.encode())})
    with pytest.raises(AggregationProofError, match="not the spec's"):
        fetch_circuit(storage, forged_source, cache=tmp_path / "forged-source")

    # The fetched aggregation circuit proves what the publisher's key verifies.
    fetched = fetch_circuit(storage, ref, cache=tmp_path / "cache")
    mine = fetched.circuit.aggregation(2)
    models_ = [tiny.model_a, tiny.model_b]
    blindings = [tiny.blinding_a, tiny.blinding_b]
    commitments = [circom.model_commitment(spec, m, b) for m, b in zip(models_, blindings,
                                                                      strict=True)]
    params = aggregation.fixed_point_aggregate(spec, models_, [3, 1])
    proof = aggregation.prove_aggregate(mine, models_, blindings, commitments, [3, 1], params,
                                        circuit.new_blinding(), tmp_path / "work")
    assert aggregation.verify_aggregation(agg, proof.proof, proof.public.public_signals())
