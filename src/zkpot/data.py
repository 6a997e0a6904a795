"""Data: datasets, per-participant partitions, and each round's test set.

Everything is deterministic given its seed: the same configuration always gives
the same partitions and the same round test sets on every machine, which is what
lets a publisher commit to a test set and an auditor recompute it.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from zkpot.errors import ZkpotError

FloatArray = NDArray[np.float32]
LabelArray = NDArray[np.int64]
IndexArray = NDArray[np.int64]

MAX_SAMPLES_PER_CHUNK: Final = 64
"""Largest test-set chunk one proof covers (circuit size grows with it)."""

MAX_CLASSES: Final = 1 << 16
"""Most classes a dataset read from bytes may name."""


class DataError(ZkpotError):
    """A data file is missing or malformed, or a data configuration cannot be met."""


@dataclass(frozen=True)
class Dataset:
    """Samples and labels, features scaled to [0, 1].

    ``X`` has shape ``(n, *feature_shape)`` (float32), ``y`` shape ``(n,)`` (int64,
    values in ``[0, num_classes)``).
    """

    X: FloatArray
    """Features, float32, one row per sample."""
    y: LabelArray
    """Labels, int64."""
    num_classes: int
    """Number of classes; labels lie in ``range(num_classes)``."""
    name: str = "dataset"
    """Human-readable origin, e.g. ``digits`` or a file name."""

    def __post_init__(self) -> None:
        if self.X.dtype != np.float32 or self.y.dtype != np.int64:
            raise DataError(
                f"Dataset {self.name} has dtypes {self.X.dtype}/{self.y.dtype}",
                "build it with float32 features and int64 labels",
            )
        if self.X.shape[0] != self.y.shape[0] or self.y.ndim != 1:
            raise DataError(
                f"Dataset {self.name} has {self.X.shape[0]} samples but {self.y.shape} labels",
                "pass one label per sample",
            )
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.num_classes):
            raise DataError(
                f"Dataset {self.name} has labels outside 0..{self.num_classes - 1}",
                "check the label column or num_classes",
            )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(64,)`` or ``(1, 28, 28)``."""
        return tuple(int(d) for d in self.X.shape[1:])

    @property
    def num_features(self) -> int:
        """Number of scalar features per sample."""
        return int(np.prod(self.feature_shape, dtype=np.int64))

    def subset(self, indices: Sequence[int] | IndexArray, name: str | None = None) -> Dataset:
        """The samples at ``indices``, in that order."""
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(self.X[idx], self.y[idx], self.num_classes, name or self.name)

    def flat(self) -> Dataset:
        """The same data with each sample flattened to a vector."""
        return Dataset(self.X.reshape(len(self), -1), self.y, self.num_classes, self.name)

    def reshaped(self, feature_shape: Sequence[int]) -> Dataset:
        """The same data with each sample reshaped, e.g. ``(64,)`` → ``(1, 8, 8)`` for a CNN."""
        shape = tuple(int(d) for d in feature_shape)
        if int(np.prod(shape, dtype=np.int64)) != self.num_features:
            raise DataError(
                f"Cannot reshape {self.feature_shape} samples to {shape}",
                "choose a shape with the same number of features",
            )
        return Dataset(self.X.reshape((len(self), *shape)), self.y, self.num_classes, self.name)

    def class_counts(self) -> NDArray[np.int64]:
        """How many samples of each class."""
        return np.bincount(self.y, minlength=self.num_classes).astype(np.int64)

    def to_bytes(self) -> bytes:
        """Deterministic binary encoding (the zkpot array format; no pickle)."""
        from zkpot.model_codec import encode_arrays

        return encode_arrays(
            {"X": self.X, "y": self.y},
            {"kind": "dataset", "num_classes": self.num_classes, "name": self.name},
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Dataset:
        """Parse :meth:`to_bytes` output; raise :class:`DataError` if it is not a dataset.

        For untrusted bytes (a test set from IPFS): nothing but :class:`DataError`
        escapes, whatever ``data`` holds; the decoder's own bounds apply, and the
        result has float32 finite features of at least one dimension per sample,
        one int64 label per sample, and 1 to :data:`MAX_CLASSES` classes.
        """
        try:
            return cls._from_bytes(data)
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - untrusted bytes: no other error may escape
            raise DataError(
                f"Not a zkpot dataset (unexpected {type(exc).__name__})", "check the CID"
            ) from exc

    @classmethod
    def _from_bytes(cls, data: bytes) -> Dataset:
        from zkpot.model_codec import HandoffError, decode_arrays

        try:
            arrays, meta = decode_arrays(data)
        except HandoffError as exc:
            raise DataError(f"Not a zkpot dataset ({exc.message})", "check the CID") from exc
        if meta.get("kind") != "dataset" or set(arrays) != {"X", "y"}:
            raise DataError("Not a zkpot dataset", "check the CID")
        X, y = arrays["X"], arrays["y"]
        if X.dtype != np.float32 or y.dtype != np.int64:
            raise DataError("A zkpot dataset must hold float32 X and int64 y", "check the CID")
        if X.ndim < 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise DataError(
                f"A zkpot dataset holds one label per sample, got X {X.shape} and y {y.shape}",
                "check the CID",
            )
        num_classes = meta.get("num_classes")
        if (
            not isinstance(num_classes, int)
            or isinstance(num_classes, bool)
            or not 1 <= num_classes <= MAX_CLASSES
        ):
            raise DataError(
                f"A zkpot dataset names 1 to {MAX_CLASSES} classes, not {num_classes!r}",
                "check the CID",
            )
        if not np.isfinite(X).all():
            raise DataError("A zkpot dataset's features must be finite", "check the CID")
        return cls(
            X.astype(np.float32),
            y.astype(np.int64),
            num_classes,
            str(meta.get("name", "dataset")),
        )


# -- sources -----------------------------------------------------------------------


def load_digits() -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 samples, 10 classes), pixels scaled to [0, 1].

    Samples are flat 64-vectors (use :meth:`Dataset.reshaped` for ``(1, 8, 8)``).
    """
    table = _digits_table()
    X = (table[:, :-1] / 16.0).astype(np.float32)
    y = table[:, -1].astype(np.int64)
    return Dataset(X, y, 10, "digits")


def _digits_table() -> NDArray[np.float64]:
    """scikit-learn's ``digits.csv.gz``: one row a sample, 64 pixels (0..16) then the label.

    Parsed as ``sklearn.datasets.load_digits`` parses it, but found without importing
    scikit-learn, whose ``sklearn.datasets`` takes ~1 s to import (every ``round open``
    and ``round reveal`` reads the pool); where the file is not there, its own loader.
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package, imports nothing
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, mode="rt", encoding="utf-8") as handle:
                table: NDArray[np.float64] = np.loadtxt(handle, delimiter=",")
            return table
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return np.column_stack([bunch.data, bunch.target]).astype(np.float64)


_IDX_TYPES: Final[dict[int, str]] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: Path | str) -> NDArray[np.generic]:
    """Read an IDX file (the MNIST format), gzip-compressed or raw; return its array."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read IDX file {path} ({exc.strerror})", "check the path") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path} is a corrupt gzip file", "download it again") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)", "check the path")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path} has a truncated IDX header", "download it again")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} data bytes but its header promises {expected}",
            "download it again",
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def load_idx(
    images: Path | str,
    labels: Path | str,
    *,
    num_classes: int = 10,
    name: str | None = None,
) -> Dataset:
    """Load MNIST / Fashion-MNIST from IDX image and label files (``.gz`` or raw).

    Images become float32 in [0, 1] (divided by 255 for unsigned bytes) with
    shape ``(n, 1, H, W)``; labels int64.
    """
    X_raw = read_idx(images)
    y_raw = read_idx(labels)
    if X_raw.ndim != 3 or y_raw.ndim != 1:
        raise DataError(
            f"Expected (n, H, W) images and (n,) labels, got {X_raw.shape} and {y_raw.shape}",
            "pass the images file first, then the labels file",
        )
    if X_raw.shape[0] != y_raw.shape[0]:
        raise DataError(
            f"{images} has {X_raw.shape[0]} images but {labels} has {y_raw.shape[0]} labels",
            "pass files from the same split",
        )
    scale = 255.0 if X_raw.dtype == np.uint8 else max(float(np.abs(X_raw).max()), 1.0)
    X = (X_raw.astype(np.float64) / scale).astype(np.float32)[:, None, :, :]
    return Dataset(X, y_raw.astype(np.int64), num_classes, name or Path(images).name)


@dataclass(frozen=True)
class CsvConfig:
    """How to read a CSV file of one sample per row."""

    label_column: int | str = 0
    """Label column: an index, or a header name (then the file must have a header)."""
    header: bool | None = None
    """Whether the first row is a header; ``None`` detects it (non-numeric first row)."""
    value_range: tuple[float, float] | None = None
    """Feature range mapped to [0, 1], e.g. ``(0, 255)``; ``None`` uses the data's min and max."""
    num_classes: int | None = None
    """Number of classes; ``None`` means max label + 1."""
    feature_shape: tuple[int, ...] | None = None
    """Reshape each row's features, e.g. ``(1, 28, 28)``; ``None`` keeps a flat vector."""


def load_csv(path: Path | str, config: CsvConfig | None = None) -> Dataset:
    """Load a CSV file with one numeric sample per row and an integer label column."""
    config = config or CsvConfig()
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except OSError as exc:
        raise DataError(f"Cannot read CSV file {path} ({exc.strerror})", "check the path") from exc
    if not rows:
        raise DataError(f"CSV file {path} is empty", "check the path")
    header = config.header
    if header is None:
        header = not _numeric(rows[0])
    names = rows[0] if header else None
    body = rows[1:] if header else rows
    if isinstance(config.label_column, str):
        if names is None or config.label_column not in names:
            raise DataError(
                f"CSV file {path} has no column named {config.label_column!r}",
                "give the label column by index or check the header",
            )
        label_col = names.index(config.label_column)
    else:
        label_col = config.label_column
    width = len(body[0]) if body else 0
    if not -width <= label_col < width:
        raise DataError(
            f"Label column {label_col} is outside the {width} columns of {path}",
            "choose an existing label column",
        )
    try:
        table = np.array(body, dtype=np.float64)
    except ValueError as exc:
        raise DataError(
            f"CSV file {path} has a non-numeric value or rows of different lengths",
            "keep only numeric columns, one sample per row",
        ) from exc
    labels = table[:, label_col]
    if not np.all(labels == np.round(labels)) or labels.min() < 0:
        raise DataError(f"Labels in {path} are not non-negative integers", "check the label column")
    features = np.delete(table, label_col % width, axis=1)
    lo, hi = config.value_range or (float(features.min()), float(features.max()))
    span = hi - lo if hi > lo else 1.0
    X = np.clip((features - lo) / span, 0.0, 1.0).astype(np.float32)
    if config.feature_shape is not None:
        X = X.reshape((X.shape[0], *config.feature_shape))
    y = labels.astype(np.int64)
    num_classes = config.num_classes or int(y.max()) + 1
    return Dataset(X, y, num_classes, path.name)


def _numeric(row: Sequence[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class DataConfig:
    """Which dataset a task uses."""

    source: Literal["digits", "idx", "csv"] = "digits"
    """``digits`` (bundled, the default), ``idx`` (MNIST-style files) or ``csv``."""
    images: Path | None = None
    """IDX images file, or the CSV file, for ``idx`` / ``csv``."""
    labels: Path | None = None
    """IDX labels file for ``idx``."""
    csv: CsvConfig = field(default_factory=CsvConfig)
    """CSV reading options for ``csv``."""


def load_dataset(config: DataConfig | None = None) -> Dataset:
    """Load the dataset named by ``config`` (the bundled digits by default)."""
    config = config or DataConfig()
    if config.source == "digits":
        return load_digits()
    if config.images is None:
        raise DataError(f"Data source {config.source} needs a file path", "pass the data file")
    if config.source == "idx":
        if config.labels is None:
            raise DataError("IDX data needs a labels file", "pass the labels file")
        return load_idx(config.images, config.labels)
    return load_csv(config.images, config.csv)


# -- splits and partitions -----------------------------------------------------------


def split_holdout(dataset: Dataset, fraction: float, *, seed: int) -> tuple[Dataset, Dataset]:
    """Split into (training data, held-out pool), stratified by class and fixed by ``seed``.

    The pool is where every round's test set comes from; participants never see
    it during training.
    """
    if not 0.0 < fraction < 1.0:
        raise DataError(f"Hold-out fraction {fraction} is not in (0, 1)", "use e.g. 0.25")
    rng = np.random.default_rng([seed, 0x401D])
    pool: list[IndexArray] = []
    train: list[IndexArray] = []
    for label in range(dataset.num_classes):
        idx = np.flatnonzero(dataset.y == label).astype(np.int64)
        rng.shuffle(idx)
        k = int(round(len(idx) * fraction))
        pool.append(idx[:k])
        train.append(idx[k:])
    train_idx = np.sort(np.concatenate(train))
    pool_idx = np.sort(np.concatenate(pool))
    return (
        dataset.subset(train_idx, f"{dataset.name}:train"),
        dataset.subset(pool_idx, f"{dataset.name}:pool"),
    )


@dataclass(frozen=True)
class PartitionConfig:
    """How training data is divided among participants."""

    participants: int
    """Number of participants (each gets one disjoint part)."""
    scheme: Literal["iid", "dirichlet"] = "iid"
    """``iid``: uniform random split; ``dirichlet``: per-class shares ~ Dirichlet(alpha)."""
    alpha: float = 0.5
    """Dirichlet concentration; smaller is more skewed (non-IID). Ignored for ``iid``."""
    seed: int = 0
    """Seed for the split; the same seed gives the same parts."""
    min_samples: int = 10
    """Each part has at least this many samples (Dirichlet splits are redrawn until so)."""


_DIRICHLET_TRIES: Final = 100


def partition_indices(labels: LabelArray, config: PartitionConfig) -> list[IndexArray]:
    """Disjoint, sorted index arrays, one per participant, covering every sample."""
    n = int(labels.shape[0])
    if config.participants < 1:
        raise DataError("A partition needs at least one participant", "raise --participants")
    if n < config.participants * config.min_samples:
        raise DataError(
            f"{n} samples cannot give {config.participants} participants "
            f"{config.min_samples} samples each",
            "use fewer participants or a smaller min_samples",
        )
    rng = np.random.default_rng([config.seed, 0x9A27])
    if config.scheme == "iid":
        order = rng.permutation(n).astype(np.int64)
        return [np.sort(part) for part in np.array_split(order, config.participants)]
    if config.alpha <= 0:
        raise DataError(f"Dirichlet alpha must be positive, got {config.alpha}", "use e.g. 0.5")
    classes = np.unique(labels)
    for _ in range(_DIRICHLET_TRIES):
        parts: list[list[IndexArray]] = [[] for _ in range(config.participants)]
        for label in classes:
            idx = np.flatnonzero(labels == label).astype(np.int64)
            rng.shuffle(idx)
            shares = rng.dirichlet(np.full(config.participants, config.alpha))
            cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(np.int64)
            for p, piece in enumerate(np.split(idx, cuts)):
                parts[p].append(piece)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in result) >= config.min_samples:
            return result
    raise DataError(
        f"No Dirichlet(alpha={config.alpha}) split gave every participant "
        f"{config.min_samples} samples in {_DIRICHLET_TRIES} draws",
        "raise alpha or lower min_samples",
    )


def partition(dataset: Dataset, config: PartitionConfig) -> list[Dataset]:
    """One private dataset per participant (see :func:`partition_indices`)."""
    return [
        dataset.subset(idx, f"{dataset.name}:part{i}")
        for i, idx in enumerate(partition_indices(dataset.y, config))
    ]


@dataclass(frozen=True)
class TestSetConfig:
    """How each round's test set is drawn from the held-out pool."""

    __test__ = False  # not a pytest test class, despite the name

    samples_per_chunk: int = 16
    """Samples per proof (at most 64; must equal the circuit's batch size)."""
    chunks: int = 1
    """Chunks per round; the round's test set has ``samples_per_chunk * chunks`` samples."""
    seed: int | None = None
    """The publisher's secret seed; it fixes the order in which rounds use up the pool.

    There is no usable default: a public seed would let anyone compute every future
    round's test set from a public pool. :func:`round_test_set` refuses ``None``.
    """

    def __post_init__(self) -> None:
        if not 1 <= self.samples_per_chunk <= MAX_SAMPLES_PER_CHUNK:
            raise DataError(
                f"samples_per_chunk is {self.samples_per_chunk}, "
                f"but it must lie in 1..{MAX_SAMPLES_PER_CHUNK}",
                "prove larger test sets as several chunks",
            )
        if self.chunks < 1:
            raise DataError("A round's test set needs at least one chunk", "set chunks >= 1")

    @property
    def size(self) -> int:
        """Total samples per round."""
        return self.samples_per_chunk * self.chunks


@dataclass(frozen=True)
class RoundTestSet:
    """A round's test set, split into equal chunks (one proof each)."""

    __test__ = False

    round: int
    """The round it was drawn for."""
    indices: IndexArray
    """Positions in the held-out pool, in chunk order."""
    chunks: tuple[Dataset, ...]
    """The chunks, each ``samples_per_chunk`` samples."""

    def combined(self) -> Dataset:
        """All chunks as one dataset (for accuracy evaluation without proofs)."""
        first = self.chunks[0]
        return Dataset(
            np.concatenate([c.X for c in self.chunks]),
            np.concatenate([c.y for c in self.chunks]),
            first.num_classes,
            f"round{self.round}:test",
        )


def rounds_in_pool(pool_size: int, config: TestSetConfig) -> int:
    """How many rounds a pool of ``pool_size`` samples can fill without reusing a sample."""
    return pool_size // config.size


def pool_order(pool_size: int, seed: int) -> IndexArray:
    """The order in which rounds use up the pool: a permutation fixed by the secret ``seed``."""
    return np.random.default_rng([seed, 0x7E57, 0x9001]).permutation(pool_size).astype(np.int64)


def round_test_set(pool: Dataset, round_number: int, config: TestSetConfig) -> RoundTestSet:
    """Draw round ``round_number``'s test set from ``pool``, a pure function of (seed, round).

    Rounds draw *without replacement*: round ``r`` takes the ``r``-th block of
    ``config.size`` samples of :func:`pool_order`, so its samples are disjoint from
    every earlier round's (a revealed sample is never tested again), and a publisher
    that crashed can redraw any round from its seed. A round the pool cannot fill
    raises :class:`DataError`.
    """
    if round_number < 0:
        raise DataError(f"Round {round_number} is negative", "rounds count from 0")
    needed = (round_number + 1) * config.size
    if len(pool) < needed:
        raise DataError(
            f"The held-out pool has {len(pool)} samples, fewer than the {needed} that rounds "
            f"0 to {round_number} need at {config.size} each without reusing a sample, so "
            f"round {round_number} cannot be opened",
            "create a new task with a larger held-out pool (more data or a larger "
            "hold-out fraction) or fewer/smaller chunks",
        )
    if config.seed is None:
        raise DataError(
            "A round's test set needs the publisher's secret seed, and none was given",
            "draw test sets through the publisher, which keeps a secret seed per task",
        )
    start = round_number * config.size
    indices = pool_order(len(pool), config.seed)[start : start + config.size]
    chunks = tuple(
        pool.subset(part, f"round{round_number}:chunk{i}")
        for i, part in enumerate(np.split(indices, config.chunks))
    )
    return RoundTestSet(round_number, indices, chunks)


PUBLIC_DATASETS: Final = frozenset({"digits"})
"""Bundled datasets anyone can load: a pool held out from them is not secret."""

PUBLIC_POOL_WARNING: Final = (
    "WARNING: DEMO-ONLY TASK. Its held-out pool comes from the public bundled {name} data, "
    "which anyone can load: the test sets are hidden from participants only by convention, "
    "not by secrecy. Use a private held-out pool for anything real."
)


def is_public_dataset(dataset: Dataset) -> bool:
    """Whether ``dataset`` (or a split of it, e.g. ``digits:pool``) is public bundled data."""
    return dataset.name.split(":")[0] in PUBLIC_DATASETS


# -- poisoning -----------------------------------------------------------------------


@dataclass(frozen=True)
class LabelFlipConfig:
    """A poisoned participant's label corruption."""

    fraction: float = 1.0
    """Share of samples whose label is flipped, in (0, 1]."""
    shift: int = 1
    """A flipped label ``y`` becomes ``(y + shift) % num_classes`` (never ``y`` itself)."""
    seed: int = 0
    """Which samples are flipped when ``fraction < 1``."""


def flip_labels(dataset: Dataset, config: LabelFlipConfig | None = None) -> Dataset:
    """A copy of ``dataset`` with labels flipped: what a poisoning participant trains on."""
    config = config or LabelFlipConfig()
    if not 0.0 < config.fraction <= 1.0:
        raise DataError(f"Flip fraction {config.fraction} is not in (0, 1]", "use e.g. 1.0")
    if config.shift % dataset.num_classes == 0:
        raise DataError(
            f"A shift of {config.shift} leaves every label unchanged",
            f"use a shift that is not a multiple of {dataset.num_classes}",
        )
    y = dataset.y.copy()
    n = len(dataset)
    count = int(round(n * config.fraction))
    chosen = np.random.default_rng([config.seed, 0xF11B]).choice(n, size=count, replace=False)
    y[chosen] = (y[chosen] + config.shift) % dataset.num_classes
    return Dataset(dataset.X.copy(), y, dataset.num_classes, f"{dataset.name}:flipped")


def dataset_from_spec(spec: str) -> Dataset:
    """``digits``, ``csv:PATH`` or ``idx:IMAGES:LABELS`` (a command's ``--data``) → a Dataset."""
    kind, _, rest = spec.partition(":")
    if kind == "digits" and not rest:
        return load_dataset(DataConfig())
    if kind == "csv" and rest:
        return load_dataset(DataConfig(source="csv", images=Path(rest)))
    if kind == "idx" and rest.count(":") == 1:
        images, labels = rest.split(":")
        return load_dataset(DataConfig(source="idx", images=Path(images), labels=Path(labels)))
    raise DataError(
        f"Cannot read the data spec {spec!r}", "use digits, csv:PATH or idx:IMAGES:LABELS"
    )
