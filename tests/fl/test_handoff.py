"""Model serialization and sealed-box hand-off (real crypto, real IPFS)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from zkpot.handoff import (
    MAGIC,
    HandoffError,
    KeyPair,
    check_compatible,
    decode_arrays,
    deserialize_state_dict,
    encode_arrays,
    load_into,
    model_digest,
    open_model,
    parse_public_key,
    receive_model,
    seal,
    seal_model,
    send_model,
    serialize_state_dict,
)
from zkpot.models import MLP_DIGITS, TINY_MLP, build_model
from zkpot.services import ServicesConfig
from zkpot.storage import IpfsConfig, IpfsStorage


def test_serialization_is_deterministic_and_exact() -> None:
    state = build_model(TINY_MLP, seed=3).state_dict()
    blob = serialize_state_dict(state, architecture=TINY_MLP.name)
    reordered = dict(reversed(list(state.items())))
    assert serialize_state_dict(reordered, architecture=TINY_MLP.name) == blob
    assert model_digest(blob) == model_digest(
        serialize_state_dict(state, architecture=TINY_MLP.name)
    )
    back = deserialize_state_dict(blob, architecture=TINY_MLP.name)
    assert back.keys() == state.keys()
    assert all(torch.equal(back[k], state[k]) and back[k].dtype == state[k].dtype for k in state)
    other = serialize_state_dict(build_model(TINY_MLP, seed=4).state_dict())
    assert other != blob


def test_all_supported_dtypes_round_trip() -> None:
    arrays = {
        "f64": np.linspace(0, 1, 5),
        "f16": np.ones((2, 2), np.float16),
        "i64": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
        "u8": np.arange(7, dtype=np.uint8),
        "b": np.array([True, False]),
        "empty": np.zeros((0, 4), np.float32),
        "scalar": np.array(2.5, np.float32),
    }
    back, meta = decode_arrays(encode_arrays(arrays, {"kind": "x", "n": 3}))
    assert meta == {"kind": "x", "n": 3}
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and np.array_equal(back[name], array)


def test_object_arrays_are_refused() -> None:
    with pytest.raises(HandoffError, match="dtype object"):
        encode_arrays({"o": np.array([{"a": 1}], dtype=object)})


def _with_header(header: dict[str, object], body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<8sBI", MAGIC, 1, len(raw)) + raw + body


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (b"NOTZKPOT" + b"\x01" + b"\x00" * 8, "not a zkpot array file"),
        (struct.pack("<8sBI", MAGIC, 9, 0), "format version 9"),
        (struct.pack("<8sBI", MAGIC, 1, 1000) + b"{}", "header length"),
        (_with_header({"arrays": [], "meta": {}}, b"x"), "1 trailing bytes"),
        (
            _with_header(
                {"arrays": [{"name": "a", "dtype": "float32", "shape": [4]}], "meta": {}}, b"1234"
            ),
            "runs past the end",
        ),
        (
            _with_header(
                {"arrays": [{"name": "a", "dtype": "object", "shape": [1]}], "meta": {}}, b""
            ),
            "bad array entry",
        ),
        (_with_header({"arrays": {}, "meta": {}}, b""), "unreadable header"),
        (_with_header({"arrays": [], "meta": {"k": [1]}}, b""), "not a scalar"),
    ],
)
def test_malformed_model_data_is_one_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(HandoffError, match=reason) as info:
        decode_arrays(data)
    assert info.value.sentence().startswith("The model data is malformed")


def test_wrong_architecture_is_refused_before_and_after_loading() -> None:
    small = build_model(TINY_MLP).state_dict()
    with pytest.raises(HandoffError, match="not the task's 'mlp-64-32-10'"):
        deserialize_state_dict(
            serialize_state_dict(small, architecture=TINY_MLP.name), architecture=MLP_DIGITS.name
        )
    with pytest.raises(HandoffError, match="does not match the task's architecture"):
        load_into(build_model(MLP_DIGITS), small)
    with pytest.raises(HandoffError, match="missing"):
        check_compatible(build_model(TINY_MLP), {k: v for k, v in small.items() if k != "0.bias"})
    target = build_model(TINY_MLP, seed=9)
    load_into(target, small)
    assert all(torch.equal(target.state_dict()[k], small[k]) for k in small)


def test_keypair_is_reproducible_from_its_secret() -> None:
    pair = KeyPair.generate()
    assert KeyPair.from_secret(pair.secret) == pair
    assert parse_public_key(pair.public_hex) == pair.public
    assert KeyPair.generate().public != pair.public
    with pytest.raises(HandoffError, match="32 bytes"):
        KeyPair.from_secret(b"short")
    with pytest.raises(HandoffError, match="not a hex public key"):
        parse_public_key("0xzz")


def test_only_the_leader_can_open_a_sealed_model() -> None:
    leader, eve = KeyPair.generate(), KeyPair.generate()
    state = build_model(TINY_MLP, seed=5).state_dict()
    box = seal_model(state, leader.public_hex, architecture=TINY_MLP.name)
    assert seal_model(state, leader.public) != box  # fresh ephemeral key every time
    opened = open_model(box, leader, architecture=TINY_MLP.name)
    assert all(torch.equal(opened[k], state[k]) for k in state)
    with pytest.raises(HandoffError, match="could not be decrypted with this leader's key"):
        open_model(box, eve)
    tampered = bytearray(box)
    tampered[-1] ^= 1
    with pytest.raises(HandoffError, match="could not be decrypted"):
        open_model(bytes(tampered), leader)
    with pytest.raises(HandoffError, match="malformed"):
        open_model(seal(b"just some bytes", leader.public), leader)


def test_send_and_receive_through_ipfs(local_services: ServicesConfig) -> None:
    leader, eve = KeyPair.generate(), KeyPair.generate()
    state = build_model(MLP_DIGITS, seed=1).state_dict()
    with IpfsStorage(IpfsConfig(api_url=local_services.ipfs_api_url)) as store:
        cid = send_model(store, state, leader.public, architecture=MLP_DIGITS.name)
        # What is public on IPFS is ciphertext only: no weight bytes appear in it.
        public = store.cat(cid)
        assert state["0.weight"].numpy().tobytes()[:64] not in public
        received = receive_model(store, cid, leader, architecture=MLP_DIGITS.name)
        assert all(torch.equal(received[k], state[k]) for k in state)
        with pytest.raises(HandoffError, match="could not be decrypted"):
            receive_model(store, cid, eve)
