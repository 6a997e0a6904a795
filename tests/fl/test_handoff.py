"""Model serialization and sealed-box hand-off (real crypto, real IPFS)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from zkpot.handoff import (
    KeyPair,
    open_model,
    parse_public_key,
    receive_model,
    seal,
    seal_model,
    send_model,
)
from zkpot.model_codec import (
    MAGIC,
    HandoffError,
    check_compatible,
    decode_arrays,
    deserialize_state_dict,
    encode_arrays,
    load_into,
    model_digest,
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


# -- bounds, conversion and extras ----------------------------------------------------------


def _entry(name: str = "a", dtype: str = "float32", shape: object = (1,)) -> dict[str, object]:
    return {"name": name, "dtype": dtype, "shape": list(shape)}  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"arrays": [_entry(f"a{i}", shape=(0,)) for i in range(257)], "meta": {}}, "257 arrays"),
        ({"arrays": [_entry(shape=(1,) * 9)], "meta": {}}, "9 dimensions"),
        ({"arrays": [_entry(shape=(2**31,))], "meta": {}}, "out of range"),
        ({"arrays": [_entry(shape=(True,))], "meta": {}}, "out of range"),
        ({"arrays": [_entry(shape=(1.0,))], "meta": {}}, "out of range"),
        ({"arrays": [_entry(shape=(2**32, 2**32))], "meta": {}}, "out of range"),
        ({"arrays": [_entry(shape=(2**20, 2**10))], "meta": {}}, "elements, at most"),
        ({"arrays": [_entry(), _entry()], "meta": {}}, "duplicate"),
        ({"arrays": [], "meta": {f"k{i}": 1 for i in range(65)}}, "65 metadata"),
        ({"arrays": [], "meta": {"k": "x" * 5000}}, "longer than"),
        ({"arrays": [], "meta": {"k": 2**64}}, "64 bits"),
        ({"arrays": [], "meta": {}, "extra": 1}, "exactly 'arrays' and 'meta'"),
        ({"arrays": [[[[[[]]]]]], "meta": {}}, "nests"),
    ],
)
def test_decoder_bounds_every_size_and_count(header: dict[str, object], reason: str) -> None:
    body = b"\x00" * 4
    with pytest.raises(HandoffError, match=reason):
        decode_arrays(_with_header(header, body), max_elements=1 << 20)


def test_header_of_wrapping_shape_is_refused_not_reshaped() -> None:
    # 2**32 * 2**32 = 2**64 wraps to 0 in int64: the old decoder "needed" no data.
    header = {"arrays": [_entry(dtype="float64", shape=(2**31 - 1, 2**31 - 1))], "meta": {}}
    with pytest.raises(HandoffError, match="elements, at most"):
        decode_arrays(_with_header(header, b""))


def test_received_model_is_converted_to_the_architectures_dtypes_and_shapes() -> None:
    from zkpot.model_codec import ArchitectureMismatchError, conform_state

    template = build_model(TINY_MLP).state_dict()
    state = build_model(TINY_MLP, seed=4).state_dict()
    double = {k: v.double() for k, v in state.items()}
    double["0.weight"] = double["0.weight"].flatten()
    out = conform_state(template, double)
    for name, tensor in out.items():
        assert tensor.dtype == torch.float32 and tensor.shape == template[name].shape
        assert torch.equal(tensor, state[name])
    nan = dict(state, **{"2.bias": torch.full((10,), float("nan"))})
    with pytest.raises(HandoffError, match="non-finite") as info:
        conform_state(template, nan)
    assert info.value.reason == "malformed"
    huge = dict(double, **{"2.bias": torch.full((10,), 1e300, dtype=torch.float64)})
    with pytest.raises(HandoffError, match="overflows"):
        conform_state(template, huge)
    with pytest.raises(ArchitectureMismatchError, match="missing") as wrong:
        conform_state(template, {k: v for k, v in state.items() if k != "0.bias"})
    assert wrong.value.reason == "wrong-architecture"
    with pytest.raises(ArchitectureMismatchError, match="wrong size"):
        conform_state(template, dict(state, **{"0.bias": torch.zeros(9)}))


def test_blinding_travels_as_an_int64_extra_beside_the_weights() -> None:
    from zkpot.handoff import open_handoff
    from zkpot.model_codec import BLINDING, decode_model

    leader = KeyPair.generate()
    state = build_model(TINY_MLP, seed=5).state_dict()
    blob = serialize_state_dict(state, architecture=TINY_MLP.name, blinding=[-1, 2, -3, 4])
    payload = decode_model(blob, architecture=TINY_MLP.name)
    assert set(payload.state) == set(state) and BLINDING not in payload.state
    assert payload.blinding is not None and payload.blinding.tolist() == [-1, 2, -3, 4]
    assert payload.blinding.dtype == np.int64
    assert deserialize_state_dict(blob).keys() == state.keys()
    box = seal_model(state, leader.public, architecture=TINY_MLP.name, blinding=[7] * 8)
    opened = open_handoff(box, leader, architecture=TINY_MLP.name)
    assert opened.blinding is not None and opened.blinding.tolist() == [7] * 8
    assert decode_model(serialize_state_dict(state)).blinding is None
    with pytest.raises(HandoffError, match="named zkpot"):
        serialize_state_dict(state, extras={"salt": [1]})


def test_undecryptable_and_wrong_architecture_errors_name_their_reason() -> None:
    from zkpot.handoff import open_handoff
    from zkpot.model_codec import RejectionReason

    leader = KeyPair.generate()
    with pytest.raises(HandoffError) as undecryptable:
        open_handoff(b"\x00" * 100, leader)
    assert undecryptable.value.reason == RejectionReason.UNDECRYPTABLE
    box = seal_model(build_model(TINY_MLP).state_dict(), leader.public, architecture="x")
    with pytest.raises(HandoffError) as wrong:
        open_handoff(box, leader, architecture=TINY_MLP.name)
    assert wrong.value.reason == RejectionReason.WRONG_ARCHITECTURE
