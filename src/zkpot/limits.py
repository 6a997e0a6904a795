"""Bounds on untrusted input: how large each kind of IPFS object may be, and bounded JSON.

Everything a role reads from IPFS was written by someone else (the publisher, another
participant, whoever pinned it). Each read therefore carries a size cap derived from what
the task says the object is: a model of the task's architecture, a test set of N samples,
a proof bundle of k chunks, a task document. An object over its cap is refused while it
streams in, never read whole. JSON is parsed strictly and its nesting depth bounded, so
a deeply nested document is one clear error, not a ``RecursionError`` somewhere later.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from zkpot.errors import ZkpotError

if TYPE_CHECKING:
    from zkpot.models import Architecture

KIB: Final = 1024
MIB: Final = 1024 * KIB

DEFAULT_READ_CAP: Final = 64 * MIB
"""Cap of an IPFS read whose caller names no smaller one (every project call names one)."""

TASK_DOCUMENT_CAP: Final = 64 * KIB
"""A task document is a few hundred bytes of JSON; 64 KiB leaves room for long names."""

ARRAY_HEADER_CAP: Final = 64 * KIB
"""Largest JSON header of a zkpot array file (models, test sets); real ones are < 2 KiB."""

ARRAY_HEADER_SLACK: Final = 8 * KIB
"""Header room a capped model or test set may use (honest headers take < 1 KiB)."""

ARRAY_PREFIX_SIZE: Final = 13
"""Magic (8) + version (1) + header length (4) before an array file's header."""

SEALED_BOX_OVERHEAD: Final = 48
"""A libsodium sealed box adds an ephemeral public key (32) and a MAC (16)."""

EXTRA_MAX_ELEMENTS: Final = 256
"""Most int64 values a hand-off may carry beside the weights (e.g. the model's blinding)."""

PROOF_CAP_PER_CHUNK: Final = 1 * MIB
"""One EZKL proof file; the tiny and default circuits' are ~64 KiB (logrows 15, 4 columns)."""

BUNDLE_OVERHEAD: Final = 64 * KIB
"""The proof bundle's own JSON around its proof files."""

ARTIFACT_CAP: Final = 2048 * MIB
"""One circuit artifact fetched by CID (``zkpot circuit fetch --max-mb`` overrides it).

The largest measured is the Groth16 proving key of the 256-sample MLP, 519 MB; EZKL's
proving key (up to 795 MB) is never fetched but derived."""

MAX_JSON_DEPTH: Final = 32
"""Deepest nesting of any JSON the project reads (its own documents nest at most 6 deep)."""

_FLOAT64_BYTES: Final = 8
_INT64_BYTES: Final = 8
_FLOAT32_BYTES: Final = 4


def model_elements(arch: Architecture) -> int:
    """Number of scalars in a ``state_dict`` of ``arch`` (weights, biases and buffers)."""
    from zkpot.models import build_model

    return sum(int(t.numel()) for t in build_model(arch).state_dict().values())


def model_cap(arch: Architecture) -> int:
    """Largest encoded model of ``arch`` accepted: every weight as float64 plus extras.

    A model re-encoded at float64 is still the committed model (it is converted back
    to the architecture's own dtypes before any check), so the cap allows it.
    """
    return (
        ARRAY_PREFIX_SIZE
        + ARRAY_HEADER_SLACK
        + _FLOAT64_BYTES * model_elements(arch)
        + _INT64_BYTES * EXTRA_MAX_ELEMENTS
    )


def sealed_model_cap(arch: Architecture) -> int:
    """Largest sealed hand-off of a model of ``arch``."""
    return model_cap(arch) + SEALED_BOX_OVERHEAD


def test_set_cap(samples: int, input_size: int) -> int:
    """Largest encoded test set of ``samples`` samples of ``input_size`` float32 features."""
    return (
        ARRAY_PREFIX_SIZE
        + ARRAY_HEADER_SLACK
        + samples * (_FLOAT32_BYTES * input_size + _INT64_BYTES)
    )


def proof_bundle_cap(chunks: int) -> int:
    """Largest proof bundle of a submission that proves ``chunks`` chunks."""
    return BUNDLE_OVERHEAD + max(chunks, 1) * PROOF_CAP_PER_CHUNK


@dataclass(frozen=True)
class ObjectCaps:
    """The size cap (bytes) of each kind of IPFS object one task reads."""

    model: int
    """A plain model of the task's architecture (global models)."""
    sealed_model: int
    """A sealed hand-off to the leader."""
    test_set: int
    """A round's revealed test set (``samples_per_proof * chunks_per_round`` samples)."""
    proof_bundle: int
    """A submission's proof bundle (``chunks_per_round`` proof files)."""
    task_document: int = TASK_DOCUMENT_CAP
    """The task's JSON document."""

    @classmethod
    def for_task(cls, arch: Architecture, samples_per_proof: int, chunks: int) -> ObjectCaps:
        """The caps of a task over ``arch`` proving ``chunks`` chunks of ``samples_per_proof``."""
        return cls(
            model=model_cap(arch),
            sealed_model=sealed_model_cap(arch),
            test_set=test_set_cap(samples_per_proof * chunks, arch.input_size),
            proof_bundle=proof_bundle_cap(chunks),
        )


# -- bounded JSON ---------------------------------------------------------------------


def json_depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON) nests lists and objects; a scalar is depth 0.

    Iterative, so it cannot itself run out of stack on whatever it is given.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} overflows a float")
    return value


_SCAN_CHUNK: Final = 1 << 20
_BACKSLASH: Final = ord("\\")
_QUOTE: Final = ord('"')


def json_nesting(data: bytes, *, stop_above: int | None = None) -> int:
    """The deepest ``[``/``{`` nesting of ``data`` read as JSON text, before any parsing.

    Brackets inside string literals (escapes included) do not count. Linear time and
    constant memory (vectorised over 1 MiB chunks), so it is safe on any input; once the
    depth passes ``stop_above`` it returns without reading further. Only meaningful for
    valid JSON, which is all it guards: the parser rejects the rest.
    """
    deepest = depth = 0
    in_string = 0
    run = 0  # backslashes at the end of the previous chunk
    for start in range(0, len(data), _SCAN_CHUNK):
        chunk = np.frombuffer(
            data, dtype=np.uint8, count=min(_SCAN_CHUNK, len(data) - start), offset=start
        )
        index = np.arange(chunk.size, dtype=np.int64)
        backslash = chunk == _BACKSLASH
        # Position of the last non-backslash at or before each index (virtual ones before
        # the chunk stand for the previous chunk's trailing backslashes).
        last_plain = np.maximum.accumulate(np.where(backslash, -(run + 1), index))
        before = np.concatenate(([-(run + 1)], last_plain[:-1]))
        escaped = ((index - 1 - before) & 1).astype(bool)
        toggles = (chunk == _QUOTE) & ~escaped
        inside = (in_string + np.cumsum(toggles, dtype=np.int64)) & 1
        opens = ((chunk == ord("[")) | (chunk == ord("{"))) & (inside == 0)
        closes = ((chunk == ord("]")) | (chunk == ord("}"))) & (inside == 0)
        levels = depth + np.cumsum(opens.astype(np.int64) - closes.astype(np.int64))
        if levels.size:
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        in_string = int(inside[-1]) if inside.size else in_string
        run = run + chunk.size if last_plain[-1] < 0 else int(chunk.size - 1 - last_plain[-1])
        if stop_above is not None and deepest > stop_above:
            break
    return deepest


def loads_bounded(
    data: bytes,
    error: type[ZkpotError],
    what: str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    hint: str = "check the CID",
) -> Any:
    """Parse ``data`` as strict JSON (no NaN/Infinity) nested at most ``max_depth`` deep.

    The nesting is measured on the text before parsing (:func:`json_nesting`), so the
    parser never recurses deeper than ``max_depth``. Any problem — not UTF-8, not JSON,
    too deep, an integer too long to convert, a float that overflows — is raised as
    ``error`` with a sentence naming ``what`` was being read.
    """
    depth = json_nesting(data, stop_above=max_depth)
    if depth > max_depth:
        raise error(
            f"The {what} nests more than {max_depth} levels deep (at most {max_depth} allowed)",
            hint,
        )
    try:
        value = json.loads(
            data.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite_float
        )
    except RecursionError as exc:  # not reachable after the depth check; kept as a guard
        raise error(f"The {what} nests too deeply (at most {max_depth} levels)", hint) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"The {what} is not valid JSON ({_short(exc)})", hint) from exc
    return value


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


MAX_CHUNKS_PER_ROUND: Final = 12
"""Most proofs per round a task document may ask for: the contract's
``MAX_CHUNKS_PER_ROUND`` (a submission must fit a block); bounds the proof-bundle cap."""

_JSON_FIELD_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (int, float),
    "dict[str, float]": (dict,),
}


def check_json_fields(cls: type, values: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` unless ``values`` fits dataclass ``cls``'s simple fields.

    Every key must be a field of ``cls``; a field annotated ``str``, ``int``, ``bool``,
    ``float`` or ``dict[str, float]`` must hold a JSON value of that type (``true`` is
    not an int, an int is a float). Fields of other types are the caller's to check;
    missing fields are left to the dataclass constructor.
    """
    known = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise TypeError(f"unknown field(s) {', '.join(map(str, unknown))[:120]}")
    for name, value in values.items():
        expected = _JSON_FIELD_TYPES.get(known[name])
        if expected is None:
            continue
        if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
            raise TypeError(f"field {name} must be {known[name]}, not {type(value).__name__}")
        if isinstance(value, dict) and not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
            for k, v in value.items()
        ):
            raise TypeError(f"field {name} must map names to numbers")
