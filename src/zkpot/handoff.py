"""Private model hand-off: a safe model format and sealed boxes to the leader's key.

Models travel as raw little-endian arrays behind a JSON header (no pickle, so a
received file can never run code), encrypted with a libsodium sealed box
(X25519 + XSalsa20-Poly1305) to the leader's published public key. Only the
leader can open it; the sender stays anonymous to anyone reading IPFS.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias

import numpy as np
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from numpy.typing import NDArray

from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    import torch

    from zkpot.storage import Storage

# torch is imported inside the functions that need it: the state store imports this
# module for its key pairs, and a participant process should not pay for torch there.
StateDict: TypeAlias = "dict[str, torch.Tensor]"
"""A torch ``state_dict``: parameter and buffer names to tensors."""

MetaValue = str | int | float | bool
"""A value allowed in an array file's metadata."""

MAGIC: Final = b"ZKPOTARR"
FORMAT_VERSION: Final = 1
_PREFIX: Final = struct.Struct("<8sBI")  # magic, version, header length
_MAX_HEADER: Final = 1 << 20

# Only plain numeric types: no object arrays, so parsing can never call code.
_DTYPES: Final[dict[str, str]] = {
    "float64": "<f8",
    "float32": "<f4",
    "float16": "<f2",
    "int64": "<i8",
    "int32": "<i4",
    "int16": "<i2",
    "int8": "|i1",
    "uint8": "|u1",
    "bool": "|b1",
}


class HandoffError(ZkpotError):
    """A model file or hand-off ciphertext cannot be read, or does not fit the model."""


def _bad(reason: str) -> HandoffError:
    return HandoffError(
        f"The model data is malformed ({reason})",
        "ask the sender to re-export it with zkpot",
    )


def encode_arrays(
    arrays: Mapping[str, NDArray[np.generic]],
    meta: Mapping[str, MetaValue] | None = None,
) -> bytes:
    """Encode named arrays and metadata into one byte string, deterministically.

    Arrays are ordered by name and stored little-endian, so equal inputs always
    give equal bytes (and equal IPFS CIDs).
    """
    entries: list[dict[str, object]] = []
    blobs: list[bytes] = []
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        dtype = array.dtype.name
        if dtype not in _DTYPES:
            raise HandoffError(
                f"Array {name!r} has dtype {dtype}, which the model format does not store",
                f"convert it to one of {', '.join(_DTYPES)}",
            )
        blob = np.ascontiguousarray(array, dtype=np.dtype(_DTYPES[dtype])).tobytes()
        entries.append({"name": name, "dtype": dtype, "shape": list(array.shape)})
        blobs.append(blob)
    header = json.dumps(
        {"arrays": entries, "meta": dict(sorted((meta or {}).items()))},
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + header + b"".join(blobs)


def decode_arrays(data: bytes) -> tuple[dict[str, NDArray[np.generic]], dict[str, MetaValue]]:
    """Parse :func:`encode_arrays` output; raise :class:`HandoffError` on anything malformed.

    Every length is checked against the header before it is used, and the data
    must end exactly where the last array ends.
    """
    if len(data) < _PREFIX.size:
        raise _bad("too short")
    magic, version, header_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise _bad("not a zkpot array file")
    if version != FORMAT_VERSION:
        raise _bad(f"format version {version}, expected {FORMAT_VERSION}")
    if header_len > _MAX_HEADER or _PREFIX.size + header_len > len(data):
        raise _bad("header length out of range")
    try:
        header = json.loads(data[_PREFIX.size : _PREFIX.size + header_len])
        entries = header["arrays"]
        meta = header["meta"]
        if not isinstance(entries, list) or not isinstance(meta, dict):
            raise TypeError("arrays/meta have the wrong type")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise _bad(f"unreadable header: {exc}") from exc
    offset = _PREFIX.size + header_len
    arrays: dict[str, NDArray[np.generic]] = {}
    for entry in entries:
        try:
            name = str(entry["name"])
            dtype = _DTYPES[str(entry["dtype"])]
            shape = tuple(int(d) for d in entry["shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(f"bad array entry {entry!r}") from exc
        if any(d < 0 for d in shape) or name in arrays:
            raise _bad(f"bad array entry {name!r}")
        length = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if offset + length > len(data):
            raise _bad(f"array {name!r} runs past the end")
        array = np.frombuffer(
            data, dtype=np.dtype(dtype), count=length // np.dtype(dtype).itemsize, offset=offset
        ).reshape(shape)
        # Native byte order, writable copy: callers may hand it to torch.
        arrays[name] = array.astype(array.dtype.newbyteorder("="), copy=True)
        offset += length
    if offset != len(data):
        raise _bad(f"{len(data) - offset} trailing bytes")
    clean_meta: dict[str, MetaValue] = {}
    for key, value in meta.items():
        if not isinstance(value, str | int | float | bool):
            raise _bad(f"metadata {key!r} is not a scalar")
        clean_meta[str(key)] = value
    return arrays, clean_meta


def serialize_state_dict(state: Mapping[str, torch.Tensor], *, architecture: str = "") -> bytes:
    """Encode a torch ``state_dict`` as deterministic bytes (no pickle).

    ``architecture`` is recorded in the metadata so a receiver can refuse a
    model of the wrong kind before loading it.
    """
    arrays: dict[str, NDArray[np.generic]] = {}
    for name, tensor in state.items():
        try:
            arrays[name] = tensor.detach().cpu().contiguous().numpy()
        except TypeError as exc:  # e.g. bfloat16, which numpy cannot hold
            raise HandoffError(
                f"Tensor {name!r} has dtype {tensor.dtype}, which the model format does not store",
                "convert the model to float32",
            ) from exc
    return encode_arrays(arrays, {"kind": "state_dict", "architecture": architecture})


def deserialize_state_dict(data: bytes, *, architecture: str | None = None) -> StateDict:
    """Decode :func:`serialize_state_dict` bytes into CPU tensors.

    When ``architecture`` is given, a model recorded under another architecture
    is refused with :class:`HandoffError`.
    """
    import torch

    arrays, meta = decode_arrays(data)
    if meta.get("kind") != "state_dict":
        raise _bad("not a model state")
    if architecture is not None and meta.get("architecture") != architecture:
        raise HandoffError(
            f"The model is for architecture {meta.get('architecture')!r}, "
            f"not the task's {architecture!r}",
            "train a model of the task's architecture",
        )
    return {name: torch.from_numpy(array) for name, array in arrays.items()}


def model_digest(data: bytes) -> str:
    """SHA-256 (hex) of serialized model bytes: identifies a model file locally."""
    return hashlib.sha256(data).hexdigest()


def check_compatible(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Raise :class:`HandoffError` unless ``state`` has exactly ``model``'s names and shapes."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    actual = {name: tuple(t.shape) for name, t in state.items()}
    if expected != actual:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        wrong = sorted(n for n in set(expected) & set(actual) if expected[n] != actual[n])
        raise HandoffError(
            "The model does not match the task's architecture "
            f"(missing {missing}, unexpected {extra}, wrong shape {wrong})",
            "train a model of the task's architecture",
        )


def load_into(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """Copy ``state`` into ``model`` after checking names and shapes; return ``model``."""
    check_compatible(model, state)
    model.load_state_dict(dict(state), strict=True)
    return model


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair for receiving models (the leader publishes ``public``)."""

    secret: bytes
    """32-byte X25519 secret key; never leaves the participant's state store."""
    public: bytes
    """32-byte X25519 public key, derived from ``secret``."""

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh random key pair (from the OS's CSPRNG)."""
        return cls.from_secret(bytes(PrivateKey.generate()))

    @classmethod
    def from_secret(cls, secret: bytes) -> KeyPair:
        """Rebuild the key pair from its 32-byte secret."""
        if len(secret) != 32:
            raise HandoffError(
                f"An X25519 secret key is 32 bytes, got {len(secret)}",
                "restore the key from the participant's state store",
            )
        return cls(secret=secret, public=bytes(PrivateKey(secret).public_key))

    @property
    def public_hex(self) -> str:
        """The public key as 0x-prefixed hex, the form published in a task or on chain."""
        return "0x" + self.public.hex()


def parse_public_key(value: str | bytes) -> bytes:
    """Accept a 32-byte key as bytes or (0x-)hex; raise :class:`HandoffError` otherwise."""
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value.removeprefix("0x"))
        except ValueError as exc:
            raise HandoffError(
                f"{value!r} is not a hex public key", "copy the leader's published key"
            ) from exc
    if len(value) != 32:
        raise HandoffError(
            f"An X25519 public key is 32 bytes, got {len(value)}",
            "copy the leader's published key",
        )
    return value


def seal(plaintext: bytes, recipient_public: bytes | str) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of the matching secret key can read it."""
    return SealedBox(PublicKey(parse_public_key(recipient_public))).encrypt(plaintext)


def unseal(ciphertext: bytes, keypair: KeyPair) -> bytes:
    """Decrypt a sealed box; raise :class:`HandoffError` if it was not sealed to ``keypair``."""
    try:
        return SealedBox(PrivateKey(keypair.secret)).decrypt(ciphertext)
    except CryptoError as exc:
        raise HandoffError(
            "The received model could not be decrypted with this leader's key",
            "the sender must encrypt to the key published for this task and round",
        ) from exc


def seal_model(
    state: Mapping[str, torch.Tensor], recipient_public: bytes | str, *, architecture: str = ""
) -> bytes:
    """Serialize ``state`` and seal it to the leader's public key."""
    return seal(serialize_state_dict(state, architecture=architecture), recipient_public)


def open_model(
    ciphertext: bytes, keypair: KeyPair, *, architecture: str | None = None
) -> StateDict:
    """Decrypt and parse a sealed model; one :class:`HandoffError` sentence on any failure."""
    return deserialize_state_dict(unseal(ciphertext, keypair), architecture=architecture)


def send_model(
    storage: Storage,
    state: Mapping[str, torch.Tensor],
    recipient_public: bytes | str,
    *,
    architecture: str = "",
) -> str:
    """Seal ``state`` to the leader and add the ciphertext to ``storage``; return its CID."""
    return storage.add(
        seal_model(state, recipient_public, architecture=architecture), name="model.sealed"
    )


def receive_model(
    storage: Storage, cid: str, keypair: KeyPair, *, architecture: str | None = None
) -> StateDict:
    """Fetch (CID-verified), decrypt and parse a model sent with :func:`send_model`."""
    return open_model(storage.cat(cid), keypair, architecture=architecture)
