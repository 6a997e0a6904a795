"""The zkpot model file: named numeric arrays behind a JSON header, safe to parse.

Models travel as raw little-endian arrays behind a JSON header (no pickle, so a
received file can never run code). A file carries the model's ``state_dict`` plus,
under reserved ``zkpot.*`` names, short int64 vectors that belong with it but are not
weights (the per-round ``zkpot.blinding`` its commitment covers). Decoding is for
untrusted bytes: every size and count is bounded before it is used, and the only error
that escapes is :class:`HandoffError`, whose subclass says why a leader refuses that one
model. Sealing a file to a leader is :mod:`zkpot.handoff`'s.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np
from numpy.typing import NDArray

from zkpot import limits
from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from zkpot.models import Architecture
    from zkpot.proving.circuit import Blinding

# torch is imported inside the functions that need it: the state store imports this
# module for its key pairs, and a participant process should not pay for torch there.
StateDict: TypeAlias = "dict[str, torch.Tensor]"
"""A torch ``state_dict``: parameter and buffer names to tensors."""

MetaValue = str | int | float | bool
"""A value allowed in an array file's metadata."""

MAGIC: Final = b"ZKPOTARR"
FORMAT_VERSION: Final = 1
_PREFIX: Final = struct.Struct("<8sBI")  # magic, version, header length
_MAX_HEADER: Final = limits.ARRAY_HEADER_CAP
MAX_ARRAYS: Final = 256
"""Most arrays one file may hold (the largest architecture has 10 tensors)."""
MAX_NDIM: Final = 8
"""Most dimensions one array may have."""
MAX_DIM: Final = 2**31 - 1
"""Largest single dimension."""
MAX_ELEMENTS: Final = 1 << 28
"""Most elements all arrays of one file may hold together (the data must also be there)."""
MAX_NAME: Final = 256
"""Longest array name or metadata key."""
MAX_META: Final = 64
"""Most metadata entries."""
MAX_META_STRING: Final = 4096
"""Longest metadata string."""

EXTRA_PREFIX: Final = "zkpot."
"""Arrays whose names start with this travel beside a model's weights, not in them."""
BLINDING: Final = "zkpot.blinding"
"""The model's per-round blinding (int64 vector), part of what its commitment covers."""

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


class RejectionReason(StrEnum):
    """Why the leader refused one received model (recorded in its aggregation result)."""

    UNAVAILABLE = "unavailable"
    """Not handed off to this leader, not found on IPFS, or over its size cap."""
    UNDECRYPTABLE = "undecryptable"
    """Not a sealed box this leader's key opens."""
    MALFORMED = "malformed"
    """Decrypted, but not a well-formed zkpot model (bad header, sizes, non-finite values)."""
    WRONG_ARCHITECTURE = "wrong-architecture"
    """A well-formed model, but not of the task's architecture (names, element counts)."""
    COMMITMENT_MISMATCH = "commitment-mismatch"
    """Its weights are not the model whose commitment the chain verified."""
    NOT_VERIFIED = "not-verified"
    """No verified submission on chain for this sender."""
    NO_SLOT = "no-slot"
    """Proven aggregation only: more hand-offs than the aggregation circuit's K - 1 free
    slots; the lowest verified counts are left out."""


class HandoffError(ZkpotError):
    """A model file or hand-off ciphertext cannot be read, or does not fit the model."""

    reason: RejectionReason = RejectionReason.MALFORMED
    """What the leader records when this error stops one received model."""


class ArchitectureMismatchError(HandoffError):
    """A well-formed model of another architecture than the task's."""

    reason = RejectionReason.WRONG_ARCHITECTURE


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


def decode_arrays(
    data: bytes, *, max_elements: int = MAX_ELEMENTS
) -> tuple[dict[str, NDArray[np.generic]], dict[str, MetaValue]]:
    """Parse :func:`encode_arrays` output; raise :class:`HandoffError` on anything malformed.

    Nothing else ever escapes: the header is at most 64 KiB of strict JSON whose shape
    is checked field by field (so its nesting is bounded too), at most
    :data:`MAX_ARRAYS` arrays of at most :data:`MAX_NDIM` dimensions each no larger than
    :data:`MAX_DIM`, at most ``max_elements`` elements in all (counted with Python
    integers, which cannot wrap), and every length is checked against the data before it
    is used; the data must end exactly where the last array ends.
    """
    try:
        return _decode_arrays(bytes(data), max_elements)
    except HandoffError:
        raise
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: no other error may escape
        raise _bad(f"unexpected {type(exc).__name__}") from exc


def _decode_arrays(
    data: bytes, max_elements: int
) -> tuple[dict[str, NDArray[np.generic]], dict[str, MetaValue]]:
    if len(data) < _PREFIX.size:
        raise _bad("too short")
    magic, version, header_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise _bad("not a zkpot array file")
    if version != FORMAT_VERSION:
        raise _bad(f"format version {version}, expected {FORMAT_VERSION}")
    if header_len > _MAX_HEADER or _PREFIX.size + header_len > len(data):
        raise _bad("header length out of range")
    raw_header = data[_PREFIX.size : _PREFIX.size + header_len]
    try:
        header = limits.loads_bounded(raw_header, HandoffError, "array header", max_depth=4)
    except HandoffError as exc:
        raise _bad(f"unreadable header: {exc.message}") from exc
    if not isinstance(header, dict) or set(header) != {"arrays", "meta"}:
        raise _bad("unreadable header: it must hold exactly 'arrays' and 'meta'")
    entries, meta = header["arrays"], header["meta"]
    if not isinstance(entries, list) or not isinstance(meta, dict):
        raise _bad("unreadable header: arrays/meta have the wrong type")
    if len(entries) > MAX_ARRAYS:
        raise _bad(f"{len(entries)} arrays, at most {MAX_ARRAYS} allowed")
    if len(meta) > MAX_META:
        raise _bad(f"{len(meta)} metadata entries, at most {MAX_META} allowed")
    clean_meta = _parse_meta(meta)
    parsed = [_parse_entry(entry) for entry in entries]
    total = sum(math.prod(shape) for _, _, shape in parsed)
    if total > max_elements:
        raise _bad(f"{total} elements, at most {max_elements} allowed")
    offset = _PREFIX.size + header_len
    arrays: dict[str, NDArray[np.generic]] = {}
    for name, dtype, shape in parsed:
        if name in arrays:
            raise _bad(f"bad array entry {name!r} (a duplicate name)")
        count = math.prod(shape)
        length = count * dtype.itemsize
        if offset + length > len(data):
            raise _bad(f"array {name!r} runs past the end")
        array = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
        # Native byte order, writable copy: callers may hand it to torch.
        arrays[name] = array.astype(array.dtype.newbyteorder("="), copy=True)
        offset += length
    if offset != len(data):
        raise _bad(f"{len(data) - offset} trailing bytes")
    return arrays, clean_meta


def _parse_entry(entry: object) -> tuple[str, np.dtype[np.generic], tuple[int, ...]]:
    if not isinstance(entry, dict) or set(entry) != {"name", "dtype", "shape"}:
        raise _bad(f"bad array entry {_preview(entry)}")
    name, dtype_name, shape = entry["name"], entry["dtype"], entry["shape"]
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_NAME
        or not isinstance(dtype_name, str)
        or dtype_name not in _DTYPES
        or not isinstance(shape, list)
    ):
        raise _bad(f"bad array entry {_preview(entry)}")
    if len(shape) > MAX_NDIM:
        raise _bad(f"bad array entry {name!r}: {len(shape)} dimensions, at most {MAX_NDIM}")
    for dim in shape:
        # bool is an int subclass; a JSON true is not a dimension.
        if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim <= MAX_DIM:
            raise _bad(f"bad array entry {name!r}: dimension {_preview(dim)} out of range")
    return name, np.dtype(_DTYPES[dtype_name]), tuple(shape)


def _parse_meta(meta: dict[object, object]) -> dict[str, MetaValue]:
    clean: dict[str, MetaValue] = {}
    for key, value in meta.items():
        if not isinstance(key, str) or len(key) > MAX_NAME:
            raise _bad("metadata key out of range")
        if not isinstance(value, str | int | float | bool):
            raise _bad(f"metadata {key!r} is not a scalar")
        if isinstance(value, str) and len(value) > MAX_META_STRING:
            raise _bad(f"metadata {key!r} is longer than {MAX_META_STRING} characters")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise _bad(f"metadata {key!r} does not fit 64 bits")
        clean[key] = value
    return clean


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class ModelPayload:
    """A decoded model: its weights and what travels beside them (e.g. its blinding)."""

    state: StateDict
    """The ``state_dict`` (never holds an ``zkpot.*`` array)."""
    extras: Mapping[str, NDArray[np.int64]] = field(default_factory=dict)
    """Named int64 vectors sent with the weights, by their ``zkpot.*`` names; never
    converted to the architecture or averaged."""

    @property
    def blinding(self) -> NDArray[np.int64] | None:
        """The model's blinding, if the sender included one."""
        return self.extras.get(BLINDING)


def serialize_state_dict(
    state: Mapping[str, torch.Tensor],
    *,
    architecture: str = "",
    blinding: Sequence[int] | NDArray[np.integer[Any]] | None = None,
    extras: Mapping[str, Sequence[int] | NDArray[np.integer[Any]]] | None = None,
) -> bytes:
    """Encode a torch ``state_dict`` as deterministic bytes (no pickle).

    ``architecture`` is recorded in the metadata so a receiver can refuse a
    model of the wrong kind before loading it. ``blinding`` (and any other
    ``zkpot.*``-named ``extras``) travel as int64 vectors beside the weights.
    """
    arrays: dict[str, NDArray[np.generic]] = {}
    for name, tensor in state.items():
        if name.startswith(EXTRA_PREFIX):
            raise HandoffError(
                f"Tensor name {name!r} is reserved for values sent beside the weights",
                "rename the tensor",
            )
        try:
            arrays[name] = tensor.detach().cpu().contiguous().numpy()
        except TypeError as exc:  # e.g. bfloat16, which numpy cannot hold
            raise HandoffError(
                f"Tensor {name!r} has dtype {tensor.dtype}, which the model format does not store",
                "convert the model to float32",
            ) from exc
    named = dict(extras or {})
    if blinding is not None:
        named[BLINDING] = blinding
    for name, values in named.items():
        if not name.startswith(EXTRA_PREFIX):
            raise HandoffError(
                f"A value sent beside the weights must be named {EXTRA_PREFIX}*, not {name!r}",
                f"use {BLINDING!r} for the blinding",
            )
        arrays[name] = _extra(name, np.asarray(values))
    return encode_arrays(arrays, {"kind": "state_dict", "architecture": architecture})


def _extra(name: str, array: NDArray[Any]) -> NDArray[np.int64]:
    if (
        array.ndim != 1
        or array.size > limits.EXTRA_MAX_ELEMENTS
        or not (np.issubdtype(array.dtype, np.integer) or array.size == 0)
    ):
        raise _bad(
            f"{name!r} must be a vector of at most {limits.EXTRA_MAX_ELEMENTS} integers, "
            f"got {array.dtype.name} of shape {array.shape}"
        )
    return array.astype(np.int64)


def decode_model(
    data: bytes, *, architecture: str | None = None, max_elements: int = MAX_ELEMENTS
) -> ModelPayload:
    """Decode :func:`serialize_state_dict` bytes into CPU tensors plus their extras.

    When ``architecture`` is given, a model recorded under another architecture is
    refused with :class:`ArchitectureMismatchError`. Only :class:`HandoffError` is raised.
    """
    import torch

    arrays, meta = decode_arrays(data, max_elements=max_elements)
    if meta.get("kind") != "state_dict":
        raise _bad("not a model state")
    if architecture is not None and meta.get("architecture") != architecture:
        raise ArchitectureMismatchError(
            f"The model is for architecture {_preview(meta.get('architecture'))}, "
            f"not the task's {architecture!r}",
            "train a model of the task's architecture",
        )
    state: StateDict = {}
    extras: dict[str, NDArray[np.int64]] = {}
    for name, array in arrays.items():
        if name.startswith(EXTRA_PREFIX):
            extras[name] = _extra(name, array)
        else:
            state[name] = torch.from_numpy(array)
    return ModelPayload(state, extras)


def deserialize_state_dict(data: bytes, *, architecture: str | None = None) -> StateDict:
    """Decode :func:`serialize_state_dict` bytes into CPU tensors (extras dropped).

    When ``architecture`` is given, a model recorded under another architecture
    is refused with :class:`HandoffError`.
    """
    return decode_model(data, architecture=architecture).state


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
        raise ArchitectureMismatchError(
            "The model does not match the task's architecture "
            f"(missing {missing}, unexpected {_preview(extra)}, wrong shape {wrong})",
            "train a model of the task's architecture",
        )


def conform_state(
    template: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
) -> StateDict:
    """``state`` converted to ``template``'s dtypes and shapes (the architecture's own).

    A received model may arrive at another precision (a float32 model re-encoded as
    float64 is still the committed model) or with a tensor flattened; it is converted
    exactly before its commitment is checked or it is averaged, so every model that
    reaches a strategy has the architecture's tensors. Raises
    :class:`ArchitectureMismatchError` when names or element counts differ, and
    :class:`HandoffError` when a value is not finite or does not survive the conversion.
    """
    import torch

    missing = sorted(set(template) - set(state))
    extra = sorted(set(state) - set(template))
    wrong = sorted(n for n in set(template) & set(state) if template[n].numel() != state[n].numel())
    if missing or extra or wrong:
        raise ArchitectureMismatchError(
            "The model does not match the task's architecture "
            f"(missing {_preview(missing)}, unexpected {_preview(extra)}, "
            f"wrong size {_preview(wrong)})",
            "train a model of the task's architecture",
        )
    out: StateDict = {}
    for name, reference in template.items():
        tensor = state[name].detach().cpu().reshape(reference.shape)
        if tensor.dtype.is_complex:
            raise _bad(f"tensor {name!r} is complex")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _bad(f"tensor {name!r} holds non-finite values")
        converted = tensor.to(reference.dtype)
        if reference.is_floating_point():
            if not bool(torch.isfinite(converted).all()):
                raise _bad(f"tensor {name!r} overflows {reference.dtype}")
        elif not torch.equal(converted.to(torch.float64), tensor.to(torch.float64)):
            raise _bad(f"tensor {name!r} does not convert exactly to {reference.dtype}")
        out[name] = converted.contiguous()
    return out


def load_into(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """Copy ``state`` into ``model`` after checking names and shapes; return ``model``."""
    check_compatible(model, state)
    model.load_state_dict(dict(state), strict=True)
    return model


def model_bytes(
    model: nn.Module, arch: Architecture, blinding: Blinding | None = None
) -> bytes:
    """Deterministic, pickle-free encoding of a model's weights (and its blinding, if given)."""
    return serialize_state_dict(model.state_dict(), architecture=arch.name, blinding=blinding)


def model_from_bytes(data: bytes, arch: Architecture) -> nn.Module:
    """A model of ``arch`` holding the weights encoded in ``data``."""
    from zkpot.models import build_model

    state = deserialize_state_dict(data, architecture=arch.name)
    return load_into(build_model(arch), state)
