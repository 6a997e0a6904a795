"""The accuracy circuit: a model's forward pass over a test batch, reduced to one count.

The ONNX graph takes the batch's features ``x`` (``samples x input_size``) and labels,
and outputs a single number: how many samples the model classifies correctly. A sample
is correct only when its true class's logit is *strictly* greater than every other
logit, in the circuit's fixed-point arithmetic: a tie is never a hit, so a model with
constant outputs scores 0, not N. Two forms compute that same count:

- ``maxcmp`` (default): ``ReduceSum(Greater(true, ReduceMax(logits - MASK * onehot)))``
  with ``true = sum(logits * onehot)``. Masking lowers the true class's own logit by
  ``MASK``, so the maximum is the best *other* logit or ``true - MASK``; either way
  ``true`` exceeds it exactly when it beats every other class (sound for any logits).
- ``argmax``: ``Equal(ArgMax(logits), ArgMax(onehot))`` and the same strict margin
  (ArgMax alone resolves a tie to the first index, which would count a tie as a hit
  for samples of class 0).

The model commitment is *hiding*: the circuit holds ``BLINDING_SIZE`` extra committed
parameters (the blinding, fresh and secret per model and round) that enter the graph
multiplied by zero, so they change no count but enter the same KZG commitment as the
weights. Without them the commitment would be a public function of the weights, and
whoever has seen a model (a global model, an earlier submission) could pre-commit to it
and steal its proofs from the mempool.

Labels enter as one-hot rows in both forms: a label given as a number would carry the
input's fixed-point scale while ArgMax's index has scale 0, and Equal would compare
``3`` with ``3 * 2**input_scale``.

The graph itself, a torch module, and its ONNX export are in :mod:`zkpot.proving.ezkl.graph`,
so that this spec, the blinding and the test batches are read without importing torch.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from zkpot.errors import ProvingError
from zkpot.models import Architecture, architecture_id

if TYPE_CHECKING:
    from torch import nn

BackendName = Literal["ezkl", "groth16"]
"""The proving systems a task can name (see :mod:`zkpot.proving.backend`)."""
CircuitForm = Literal["argmax", "maxcmp"]
ModelBinding = Literal["polycommit", "hashed"]
TestSetBinding = Literal["polycommit", "fixed"]

MAX_SAMPLES_PER_PROOF: dict[str, int] = {"ezkl": 64, "groth16": 256}
"""Largest chunk one proof covers, per backend; larger test sets are split (see ``chunks``)."""

EZKL_ONLY_FIELDS = ("form", "model_binding", "test_set_binding", "num_inner_cols",
                    "decomp_base", "decomp_legs")
"""Spec fields that shape an EZKL circuit only; a Groth16 circuit's id leaves them out."""

EZKL_VERSION = "23.0.5"
CIRCOM_VERSION = "2.2.3"
"""The circom compiler (npm ``circom2`` 0.2.23) a Groth16 circuit's id promises."""

STATEMENT_VERSION = "strict-win+blinding-v2"
"""Names the statement the graph proves; part of the circuit id, so a circuit of an
older statement (ties counted as hits, unblinded commitment) never matches."""

MASK = 1024.0
"""Subtracted from the true class's logit before the maximum (any positive value is sound)."""

BLINDING_SIZE = 8
"""Committed blinding parameters per model."""
BLINDING_BITS = 22
"""Each blinding value is a uniform signed ``BLINDING_BITS``-bit fixed-point integer:
8 x 22 = 176 bits of entropy, exact in float32 at any ``param_scale`` up to 8."""

Blinding = tuple[int, ...]
"""A model's blinding: ``BLINDING_SIZE`` fixed-point integers (at the circuit's param scale)."""


def new_blinding() -> Blinding:
    """A fresh, secret blinding from the operating system's CSPRNG."""
    half = 1 << (BLINDING_BITS - 1)
    return tuple(secrets.randbelow(2 * half) - half for _ in range(BLINDING_SIZE))


def check_blinding(blinding: object) -> Blinding:
    """Return ``blinding`` as a :data:`Blinding`, or raise a :class:`ProvingError`.

    Takes a sequence of ints or a decoded one-dimensional integer array.
    """
    half = 1 << (BLINDING_BITS - 1)
    if isinstance(blinding, np.ndarray) and blinding.dtype.kind == "i" and blinding.ndim == 1:
        blinding = [int(v) for v in blinding.tolist()]
    if (
        not isinstance(blinding, list | tuple)
        or len(blinding) != BLINDING_SIZE
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in blinding)
        or not all(-half <= v < half for v in blinding)
    ):
        raise ProvingError(
            f"A model blinding is {BLINDING_SIZE} integers in [-2^{BLINDING_BITS - 1}, "
            f"2^{BLINDING_BITS - 1})",
            "use zkpot.proving.circuit.new_blinding() or the blinding published with the model",
        )
    return tuple(int(v) for v in blinding)


@dataclass(frozen=True)
class CircuitSpec:
    """Everything that fixes a circuit, hence its keys: architecture, batch shape, bindings."""

    architecture: Architecture
    """The model architecture proven."""
    samples: int = 64
    """Test samples per proof (one chunk), at most ``MAX_SAMPLES_PER_PROOF[backend]``."""
    form: CircuitForm = "maxcmp"
    """How the count is computed (see the module docstring)."""
    model_binding: ModelBinding = "polycommit"
    """How the weights are committed: a KZG commitment in the proof, or a Poseidon hash."""
    test_set_binding: TestSetBinding = "polycommit"
    """How the test chunk is bound: a KZG commitment in the proof, or baked into the keys."""
    input_scale: int = 7
    """Fixed-point bits of the features (digits pixels are multiples of 1/16: exact)."""
    param_scale: int = 7
    """Fixed-point bits of the weights."""
    num_inner_cols: int = 4
    """EZKL ``num_inner_cols``: more columns, fewer rows. 4 halves the rows of 2 (the MLP
    at 32 samples: 2^15 instead of 2^16); 8 reaches 2^14 but proves slower, with a larger
    key and proof (measured in zk/README.md)."""
    decomp_base: int = 1024
    """EZKL range-check base; with ``decomp_legs`` it bounds the values the circuit holds."""
    decomp_legs: int = 4
    """EZKL range-check legs: values must fit ``base ** legs``. 1024 x 3 (2^30) failed
    the witness of a model trained 10 epochs (N=64), 16384 x 2 (2^28) that of one
    trained 5; 1024 x 4 (2^40) held every model tried (5 to 40 epochs, logits up to
    27) for ~11 % more rows."""
    backend: BackendName = "ezkl"
    """The proving system. Scales and samples mean the same in both; the fields marked
    EZKL-only (``EZKL_ONLY_FIELDS``) are ignored by Groth16 (its form is always the
    strict-win comparison, its bindings Poseidon hashes)."""

    def __post_init__(self) -> None:
        if self.backend not in MAX_SAMPLES_PER_PROOF:
            raise ProvingError(
                f"Unknown proving backend {self.backend!r}",
                f"use one of {', '.join(sorted(MAX_SAMPLES_PER_PROOF))}",
            )
        most = MAX_SAMPLES_PER_PROOF[self.backend]
        if not 1 <= self.samples <= most:
            raise ProvingError(
                f"A {self.backend} proof covers 1 to {most} samples, not {self.samples}",
                f"split larger test sets into chunks of at most {most} samples",
            )

    @property
    def circuit_id(self) -> str:
        """A stable 64-hex-digit id of the circuit: sha256 over this spec and EZKL's version."""
        fields = asdict(self)
        fields["architecture"] = architecture_id(self.architecture)
        if self.backend == "ezkl":
            # EZKL ids predate the backend field: leaving it out keeps them unchanged.
            del fields["backend"]
            fields["ezkl"] = EZKL_VERSION
        else:
            for name in EZKL_ONLY_FIELDS:
                del fields[name]
            fields["circom"] = CIRCOM_VERSION
        fields["statement"] = STATEMENT_VERSION
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def short_id(self) -> str:
        """The first 16 hex digits of :attr:`circuit_id`: the artifact folder's name."""
        return self.circuit_id[:16]


@dataclass(frozen=True)
class TestBatch:
    """One chunk of a test set: flat float32 features and int64 labels."""

    X: NDArray[np.float32]
    """Shape ``(samples, input_size)``."""
    y: NDArray[np.int64]
    """Shape ``(samples,)``."""

    def __len__(self) -> int:
        return int(self.y.shape[0])


def check_batch(spec: CircuitSpec, batch: TestBatch) -> None:
    """Raise a :class:`ProvingError` unless ``batch`` has exactly the circuit's shape."""
    expected = (spec.samples, spec.architecture.input_size)
    if tuple(batch.X.shape) != expected or tuple(batch.y.shape) != (spec.samples,):
        raise ProvingError(
            f"The test batch has shape {tuple(batch.X.shape)} with {batch.y.shape[0]} labels, "
            f"but the circuit takes {expected}",
            f"pass exactly {spec.samples} samples of {spec.architecture.input_size} features",
        )
    if batch.y.min() < 0 or batch.y.max() >= spec.architecture.num_classes:
        raise ProvingError(
            "The test batch has labels outside the model's classes",
            f"use labels in 0..{spec.architecture.num_classes - 1}",
        )


def chunks(X: NDArray[np.float32], y: NDArray[np.int64], samples: int) -> list[TestBatch]:
    """Split a test set into consecutive chunks of exactly ``samples`` samples.

    Each chunk is proven separately against the same model commitment; the counts add.
    """
    if len(y) == 0 or len(y) % samples != 0:
        raise ProvingError(
            f"A test set of {len(y)} samples does not split into chunks of {samples}",
            f"use a test set whose size is a positive multiple of {samples}",
        )
    return [
        TestBatch(X[i : i + samples], y[i : i + samples]) for i in range(0, len(y), samples)
    ]


def label_input(spec: CircuitSpec, y: NDArray[np.int64]) -> NDArray[np.float32]:
    """The labels as the circuit takes them: one-hot rows."""
    onehot = np.zeros((len(y), spec.architecture.num_classes), dtype=np.float32)
    onehot[np.arange(len(y)), y] = 1.0
    return onehot


def ezkl_input(spec: CircuitSpec, batch: TestBatch) -> dict[str, list[list[float]]]:
    """The EZKL input file's content for ``batch``."""
    check_batch(spec, batch)
    return {
        "input_data": [
            batch.X.astype(np.float64).flatten().tolist(),
            label_input(spec, batch.y).astype(np.float64).flatten().tolist(),
        ]
    }


def quantized_count(spec: CircuitSpec, model: nn.Module, batch: TestBatch) -> int:
    """The count the circuit computes, in its exact integer arithmetic (no proof, no EZKL).

    The reference both backends are tested against: :func:`zkpot.proving.fixedpoint.count`
    (EZKL 23.0.5's fixed-point rules, pinned down integer for integer; the Groth16
    circuit implements the same).
    """
    from zkpot.proving import fixedpoint

    return fixedpoint.count(spec, model, batch)
