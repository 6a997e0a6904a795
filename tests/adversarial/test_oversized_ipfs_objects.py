"""Oversized IPFS objects: a read over its cap is refused before the object is read whole.

Against the real IPFS node. Every read carries a cap derived from what the task says
the object is; an object over it is refused by the node's reported size without
downloading it, and — when a node misreports the size — by cutting the download as
soon as the cap is passed. A meter on the HTTP transport counts the body bytes the
client actually took from the node.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from zkpot.data import Dataset
from zkpot.handoff import KeyPair, seal_model
from zkpot.limits import (
    MAX_JSON_DEPTH,
    PROOF_CAP_PER_CHUNK,
    TASK_DOCUMENT_CAP,
    ObjectCaps,
    model_cap,
)
from zkpot.model_codec import serialize_state_dict
from zkpot.models import MLP_DIGITS, TINY_MLP, build_model
from zkpot.services import ServicesConfig
from zkpot.storage import IpfsConfig, IpfsStorage, StorageError

BIG = 4 * 1024 * 1024
"""The oversized object: 4 MiB (a dag-pb file of 16 leaves)."""
CAP = 256 * 1024
"""The cap the reads ask for."""


class Meter(httpx.BaseTransport):
    """A real HTTP transport that counts the body bytes read per RPC command.

    With ``lie=True`` it plays a node that misreports sizes: ``files/stat`` answers a
    size of 1 byte and ``cat`` ignores any ``length`` the client asks for.
    """

    def __init__(self, *, lie: bool = False) -> None:
        self.inner = httpx.HTTPTransport()
        self.lie = lie
        self.read: dict[str, int] = defaultdict(int)
        self.calls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        command = request.url.path.split("/api/v0/", 1)[-1]
        self.calls.append(command)
        if self.lie and command == "cat":
            request.url = request.url.copy_remove_param("length")
        response = self.inner.handle_request(request)
        if self.lie and command == "files/stat" and response.status_code == 200:
            body = json.loads(response.read())
            body["Size"] = 1
            return httpx.Response(200, json=body)
        meter, upstream = self, response.stream
        assert isinstance(upstream, httpx.SyncByteStream)

        class Counting(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                for part in upstream:
                    meter.read[command] += len(part)
                    yield part

            def close(self) -> None:
                upstream.close()

        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=Counting(),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def big(local_services: ServicesConfig) -> str:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as store:
        return store.add(os.urandom(BIG), name="big.bin")


def _store(local_services: ServicesConfig, meter: Meter) -> IpfsStorage:
    return IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url), transport=meter)


def test_object_over_its_cap_is_refused_by_its_reported_size_without_downloading(
    local_services: ServicesConfig, big: str
) -> None:
    meter = Meter()
    with _store(local_services, meter) as store:
        assert store.size(big) == BIG
        with pytest.raises(StorageError, match="larger than the 262,144 bytes a test set may take"):
            store.cat(big, max_bytes=CAP, what="test set")
    assert "cat" not in meter.calls  # refused before any of its content was asked for


def test_node_that_misreports_the_size_is_cut_off_just_past_the_cap(
    local_services: ServicesConfig, big: str
) -> None:
    meter = Meter(lie=True)
    with (
        _store(local_services, meter) as store,
        pytest.raises(StorageError, match="larger than the 262,144 bytes a model may take"),
    ):
        store.cat(big, max_bytes=CAP, what="model")
    assert "cat" in meter.calls
    # The download stopped once the cap was passed: far less than the object was read.
    assert CAP < meter.read["cat"] <= CAP + 128 * 1024 < BIG


def test_node_honours_the_length_asked_for(local_services: ServicesConfig) -> None:
    """Even with the size check skipped, an honest node sends at most cap + 1 bytes."""
    meter = Meter()
    with _store(local_services, meter) as store:
        cid = store.add(os.urandom(100_000))
        store._reported_size = lambda _cid: None  # type: ignore[method-assign]
        with pytest.raises(StorageError, match="larger than the 1,000 bytes"):
            store.cat(cid, max_bytes=1_000)
    assert meter.read["cat"] == 1_001


def test_objects_within_their_cap_are_returned_whole_and_verified(
    local_services: ServicesConfig, big: str
) -> None:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as store:
        small = os.urandom(1000)
        cid = store.add(small)
        assert store.cat(cid, max_bytes=1000) == small  # exactly at the cap
        with pytest.raises(StorageError, match="larger than the 999 bytes"):
            store.cat(cid, max_bytes=999)
        assert len(store.cat(big, max_bytes=BIG)) == BIG


def test_task_document_and_json_reads_are_capped_and_depth_bounded(
    local_services: ServicesConfig,
) -> None:
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as store:
        padded = store.add_json({"format": "zkpot-task/1", "pad": "x" * TASK_DOCUMENT_CAP})
        with pytest.raises(StorageError, match="larger than the 65,536 bytes"):
            store.cat_json(padded)  # the default cap is a task document's
        deep = store.add(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
        with pytest.raises(StorageError, match="nests more than 32 levels"):
            store.cat_json(deep)


def test_caps_derive_from_the_task_and_admit_every_honest_object() -> None:
    caps = ObjectCaps.for_task(TINY_MLP, samples_per_proof=8, chunks=2)
    state = build_model(TINY_MLP).state_dict()
    honest = serialize_state_dict(state, architecture=TINY_MLP.name, blinding=list(range(8)))
    as_float64 = serialize_state_dict(
        {k: v.double() for k, v in state.items()},
        architecture=TINY_MLP.name,
        blinding=list(range(8)),
    )
    assert len(honest) < len(as_float64) <= caps.model
    sealed = seal_model(state, KeyPair.generate().public, architecture=TINY_MLP.name)
    assert len(sealed) <= caps.sealed_model
    test_set = Dataset(
        np.zeros((16, 64), np.float32), np.zeros(16, np.int64), 10, "round0"
    ).to_bytes()
    assert len(test_set) <= caps.test_set
    assert caps.proof_bundle >= 2 * PROOF_CAP_PER_CHUNK
    assert caps.model == model_cap(TINY_MLP) < 16 * 1024  # 786 weights: a 16 KiB cap at most
    # Caps grow with the task: more samples, more chunks, larger architectures.
    bigger = ObjectCaps.for_task(MLP_DIGITS, samples_per_proof=64, chunks=4)
    assert bigger.model > caps.model and bigger.test_set > caps.test_set
    assert bigger.proof_bundle > caps.proof_bundle


def test_an_oversized_test_set_is_refused_at_the_tasks_cap(
    local_services: ServicesConfig,
) -> None:
    caps = ObjectCaps.for_task(TINY_MLP, samples_per_proof=8, chunks=2)
    # 16 samples as the task says, padded with a 1 MiB array: over the cap.
    bloated = Dataset(
        np.zeros((16 + 8192, 64), np.float32), np.zeros(16 + 8192, np.int64), 10, "x"
    ).to_bytes()
    meter = Meter()
    with _store(local_services, meter) as store:
        cid = store.add(bloated)
        with pytest.raises(StorageError, match="a test set may take"):
            store.cat(cid, max_bytes=caps.test_set, what="test set")
    assert "cat" not in meter.calls
