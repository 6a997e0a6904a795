"""Fuzzing every decoder of untrusted bytes: it returns, or raises the project's error type.

Whatever a publisher, a participant or anyone pinning to IPFS hands over — random bytes,
a valid object with bytes flipped or cut, a crafted header or document — the decoders
raise only their :class:`~zkpot.errors.ZkpotError` subclass, never a built-in exception
that would stop a leader or an auditor. Hypothesis drives each decoder with
``EXAMPLES`` inputs per strategy (fixed seed derivation: failures reproduce).
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkpot.data import DataError, Dataset
from zkpot.errors import StateError, StorageError, ZkpotError
from zkpot.handoff import KeyPair, open_handoff, seal, seal_model
from zkpot.limits import json_depth, loads_bounded
from zkpot.model_codec import (
    BLINDING,
    MAGIC,
    HandoffError,
    conform_state,
    decode_arrays,
    decode_model,
    serialize_state_dict,
)
from zkpot.models import TINY_MLP, build_model
from zkpot.roles.common import TaskDocument
from zkpot.roles.participant import parse_proof_bundle
from zkpot.storage import check_cid, parse_json

EXAMPLES = 300
"""Examples per fuzz test and strategy."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def only(error: type[ZkpotError], decode: Callable[[Any], object], value: Any) -> None:
    """Run ``decode(value)``: returning is fine, so is ``error``; anything else fails."""
    with contextlib.suppress(error):
        decode(value)


# -- inputs --------------------------------------------------------------------------

_STATE = build_model(TINY_MLP, seed=7).state_dict()
_MODEL = serialize_state_dict(
    _STATE, architecture=TINY_MLP.name, blinding=[1, -2, 3, 4, 5, 6, 7, 8]
)
_DATASET = Dataset(
    np.random.default_rng(0).random((6, 64), dtype=np.float32),
    np.arange(6, dtype=np.int64) % 10,
    10,
    "fuzz",
).to_bytes()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
"""Arbitrary JSON values (nested lists/objects of scalars)."""


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with bytes flipped, cut, inserted or its header length rewritten."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        if kind == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        elif kind == "cut" and data:
            i = draw(st.integers(0, len(data)))
            data = data[:i] if draw(st.booleans()) else data[i:]
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "length" and len(data) >= 13:
            data[9:13] = struct.pack("<I", draw(st.integers(0, 2**32 - 1)))
    return bytes(data)


dims = st.one_of(
    st.integers(0, 16),
    st.sampled_from([2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**63 - 1, 2**63, 2**64, -1]),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
"""Array dimensions, including ones whose product wraps 64 bits and non-integers."""


@st.composite
def crafted_array_files(draw: st.DrawFn) -> bytes:
    """A well-framed array file whose header is crafted: odd shapes, dtypes, names, meta."""
    entries = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.one_of(st.text(max_size=8), st.integers(), st.none()),
                    "dtype": st.sampled_from(
                        ["float32", "float64", "int64", "bool", "uint8", "object", "<f4", "c16"]
                    ),
                    "shape": st.one_of(st.lists(dims, max_size=10), json_values),
                }
            ),
            max_size=4,
        )
    )
    meta = draw(
        st.one_of(
            st.dictionaries(st.text(max_size=10), json_values, max_size=4),
            st.fixed_dictionaries(
                {
                    "kind": st.sampled_from(["dataset", "state_dict", "x"]),
                    "num_classes": st.one_of(st.integers(-5, 2**40), st.booleans(), st.text()),
                    "architecture": st.sampled_from([TINY_MLP.name, "other"]),
                }
            ),
            json_values,
        )
    )
    header = json.dumps({"arrays": entries, "meta": meta}).encode()
    body = draw(st.binary(max_size=512))
    return struct.pack("<8sBI", MAGIC, 1, len(header)) + header + body


untrusted_bytes = st.one_of(
    st.binary(max_size=1024),
    mutated(_MODEL),
    mutated(_DATASET),
    crafted_array_files(),
)


# -- models and datasets ---------------------------------------------------------------


@FUZZ
@given(untrusted_bytes)
def test_array_decoder_raises_only_handoff_error(data: bytes) -> None:
    only(HandoffError, decode_arrays, data)


@FUZZ
@given(untrusted_bytes)
def test_model_decoder_and_conversion_raise_only_handoff_error(data: bytes) -> None:
    def decode(blob: bytes) -> None:
        payload = decode_model(blob, architecture=TINY_MLP.name)
        state = conform_state(_STATE, payload.state)
        assert all(state[k].dtype == torch.float32 for k in state)
        assert set(payload.extras) <= {BLINDING} or all(
            v.dtype == np.int64 for v in payload.extras.values()
        )

    only(HandoffError, decode, data)


@FUZZ
@given(untrusted_bytes)
def test_dataset_decoder_raises_only_data_error(data: bytes) -> None:
    only(DataError, Dataset.from_bytes, data)


_LEADER = KeyPair.generate()


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=256),
        mutated(seal_model(_STATE, _LEADER.public, architecture=TINY_MLP.name)),
        untrusted_bytes.map(lambda plain: seal(plain, _LEADER.public)),
    )
)
def test_sealed_handoff_opener_raises_only_handoff_error(ciphertext: bytes) -> None:
    only(HandoffError, lambda c: open_handoff(c, _LEADER, architecture=TINY_MLP.name), ciphertext)


_FILL: dict[torch.dtype, list[float]] = {
    torch.float64: [0.0, 2.5, 1e300, float("inf"), float("nan")],
    torch.float16: [0.0, -3.0, float("inf")],
    torch.int64: [0, 3, 2**40],
    torch.bool: [0, 1],
    torch.uint8: [0, 255],
}

tensors = st.sampled_from(sorted(_FILL, key=str)).flatmap(
    lambda dtype: st.tuples(
        st.lists(st.integers(0, 70), max_size=3), st.sampled_from(_FILL[dtype])
    ).map(lambda spec: torch.full(spec[0], spec[1], dtype=dtype))
)
"""Tensors of assorted dtypes, small shapes (some of the architecture's sizes) and values
(overflowing and non-finite ones included)."""


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(sorted(_STATE)) | st.text(max_size=6),
        tensors,
        max_size=6,
    )
)
def test_state_conversion_raises_only_handoff_error(state: dict[str, torch.Tensor]) -> None:
    only(HandoffError, lambda s: conform_state(_STATE, s), state)


def test_fuzz_inputs_include_the_valid_objects() -> None:
    """The mutation strategies start from objects the decoders accept."""
    payload = decode_model(_MODEL, architecture=TINY_MLP.name)
    assert payload.blinding is not None and payload.blinding.tolist() == [1, -2, 3, 4, 5, 6, 7, 8]
    assert len(Dataset.from_bytes(_DATASET)) == 6


# -- JSON documents: proof bundles, task documents, any JSON from IPFS ----------------------

_TASK = {
    "name": "t",
    "architecture": TINY_MLP.name,
    "architecture_id": "00" * 32,
    "circuit": {
        "circuit_id": "00" * 32,
        "short_id": "0000000000000000",
        "files": {"circuit.json": "bafy", "circuit.vk": "bafy"},
        "srs_hash": "00" * 32,
        "insecure_srs": True,
    },
    "samples_per_proof": 8,
    "chunks_per_round": 2,
    "policy": "fedavg",
    "format": "zkpot-task/2",
}


@st.composite
def task_documents(draw: st.DrawFn) -> Any:
    """The valid task document with fields replaced, dropped or added."""
    doc: dict[str, Any] = json.loads(json.dumps(_TASK))
    target = doc["circuit"] if draw(st.booleans()) else doc
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(target)) | st.text(max_size=5))
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    return doc


_PROOF = {"hex_proof": "0x" + "ab" * 64, "instances": [["01" * 32, "02" * 32]], "version": "x"}


@st.composite
def proof_bundles(draw: st.DrawFn) -> Any:
    """A bundle of valid-looking proof files with parts replaced by arbitrary JSON."""
    proofs: list[Any] = [dict(_PROOF) for _ in range(draw(st.integers(0, 3)))]
    for proof in proofs:
        if draw(st.booleans()):
            proof[draw(st.sampled_from(["hex_proof", "instances"]))] = draw(json_values)
    if draw(st.booleans()):
        proofs.append(draw(json_values))
    return {"format": "zkpot-proofs/1", "proofs": proofs}


def test_the_valid_json_documents_parse() -> None:
    assert TaskDocument.from_json(_TASK).samples_per_proof == 8
    assert parse_proof_bundle({"format": "zkpot-proofs/1", "proofs": [_PROOF]}) == [_PROOF]


@FUZZ
@given(st.one_of(json_values, task_documents()))
def test_task_document_parser_raises_only_zkpot_error(data: Any) -> None:
    only(ZkpotError, TaskDocument.from_json, data)


@FUZZ
@given(st.one_of(json_values, proof_bundles()))
def test_proof_bundle_parser_raises_only_state_error(data: Any) -> None:
    only(StateError, parse_proof_bundle, data)


deep_json = st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n) | st.integers(
    1, 100_000
).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=512),
        json_values.map(lambda v: json.dumps(v).encode()),
        deep_json,
        st.integers(4000, 6000).map(lambda n: b"1" * n),  # past int-conversion limits
        st.just(b"1e999"),
        st.just(b"NaN"),
    )
)
def test_json_from_ipfs_raises_only_storage_error(data: bytes) -> None:
    def parse(raw: bytes) -> None:
        value = parse_json(raw, "bafyfuzz")
        assert json_depth(value) <= 32

    only(StorageError, parse, data)


@pytest.mark.parametrize("depth", [33, 1000, 200_000])
def test_deep_json_is_one_clear_error(depth: int) -> None:
    with pytest.raises(StorageError, match="nests"):
        parse_json(b"[" * depth + b"]" * depth, "bafydeep")
    with pytest.raises(HandoffError, match="nests"):
        loads_bounded(b"[" * depth + b"]" * depth, HandoffError, "header")


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=40), st.integers(), st.none()))
def test_cid_strings_from_chain_raise_only_storage_error(value: Any) -> None:
    only(StorageError, check_cid, value)
