"""Data loading, partitions, round test sets and label flipping (real files, real data)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from zkpot.data import (
    CsvConfig,
    DataConfig,
    DataError,
    Dataset,
    LabelFlipConfig,
    PartitionConfig,
    TestSetConfig,
    flip_labels,
    load_csv,
    load_dataset,
    load_digits,
    load_idx,
    partition,
    partition_indices,
    round_test_set,
    split_holdout,
)


def write_idx(path: Path, array: np.ndarray, *, compress: bool) -> Path:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    body = struct.pack(">BBBB", 0, 0, codes[np.dtype(dtype)], array.ndim)
    body += struct.pack(f">{array.ndim}I", *array.shape)
    body += array.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(body) if compress else body)
    return path


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits()


def test_digits_is_scaled_typed_and_complete(digits: Dataset) -> None:
    assert len(digits) == 1797
    assert digits.feature_shape == (64,)
    assert digits.X.dtype == np.float32 and digits.y.dtype == np.int64
    assert digits.X.min() == 0.0 and digits.X.max() == 1.0
    assert digits.num_classes == 10 and set(digits.y.tolist()) == set(range(10))
    assert digits.reshaped((1, 8, 8)).feature_shape == (1, 8, 8)
    assert load_dataset(DataConfig()).y.tolist() == digits.y.tolist()


def test_digits_read_without_sklearn_equal_sklearns_loader(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file is read directly (importing sklearn.datasets takes ~1 s); both must agree.
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    assert np.array_equal(digits.X, (bunch.data / 16.0).astype(np.float32))
    assert np.array_equal(digits.y, bunch.target.astype(np.int64))
    # Where scikit-learn's file is not found, its own loader gives the same dataset.
    monkeypatch.setattr("importlib.util.find_spec", lambda _name: None)
    fallback = load_digits()
    assert np.array_equal(fallback.X, digits.X) and np.array_equal(fallback.y, digits.y)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_loader_reads_mnist_format_files(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(12, 5, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    suffix = ".gz" if compress else ""
    img = write_idx(tmp_path / f"imgs-idx3-ubyte{suffix}", images, compress=compress)
    lab = write_idx(tmp_path / f"labels-idx1-ubyte{suffix}", labels, compress=compress)
    ds = load_dataset(DataConfig(source="idx", images=img, labels=lab))
    assert ds.feature_shape == (1, 5, 4)
    np.testing.assert_allclose(ds.X[:, 0], images / 255.0, rtol=1e-6)
    assert ds.y.tolist() == labels.tolist()
    assert ds.flat().feature_shape == (20,)


def test_idx_loader_rejects_truncated_and_mismatched_files(tmp_path: Path) -> None:
    images = np.zeros((4, 2, 2), dtype=np.uint8)
    img = write_idx(tmp_path / "i", images, compress=False)
    lab = write_idx(tmp_path / "l", np.zeros(3, dtype=np.uint8), compress=False)
    with pytest.raises(DataError, match="3 labels"):
        load_idx(img, lab)
    (tmp_path / "t").write_bytes(img.read_bytes()[:-1])
    with pytest.raises(DataError, match="header promises"):
        load_idx(tmp_path / "t", lab)
    (tmp_path / "x").write_bytes(b"not an idx file")
    with pytest.raises(DataError, match="bad magic"):
        load_idx(tmp_path / "x", lab)
    with pytest.raises(DataError, match="Cannot read"):
        load_idx(tmp_path / "missing", lab)


def test_csv_loader_with_header_named_label_column(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("p0,p1,digit,p2\n0,255,3,128\n255,0,1,0\n51,102,0,204\n")
    ds = load_csv(path, CsvConfig(label_column="digit", value_range=(0, 255), num_classes=4))
    assert ds.y.tolist() == [3, 1, 0]
    np.testing.assert_allclose(ds.X[0], [0.0, 1.0, 128 / 255], rtol=1e-6)
    assert ds.num_classes == 4


def test_csv_loader_without_header_infers_range_and_classes(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("1,0,2,4\n2,4,4,0\n")
    ds = load_csv(path, CsvConfig(label_column=-1, feature_shape=(3, 1)))
    assert ds.y.tolist() == [4, 0] and ds.num_classes == 5
    assert ds.feature_shape == (3, 1)
    np.testing.assert_allclose(ds.X[:, :, 0], [[0.25, 0.0, 0.5], [0.5, 1.0, 1.0]])


def test_csv_loader_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,label\n1,x\n")
    with pytest.raises(DataError, match="non-numeric"):
        load_csv(path, CsvConfig(label_column="label"))
    with pytest.raises(DataError, match="no column named"):
        load_csv(path, CsvConfig(label_column="target"))
    path.write_text("1,0.5\n2,0.25\n")
    with pytest.raises(DataError, match="not non-negative integers"):
        load_csv(path, CsvConfig(label_column=1))


def test_holdout_split_is_disjoint_stratified_and_seeded(digits: Dataset) -> None:
    train, pool = split_holdout(digits, 0.25, seed=3)
    assert len(train) + len(pool) == len(digits)
    # Every class is represented in the pool in proportion.
    assert np.all(np.abs(pool.class_counts() - digits.class_counts() * 0.25) <= 1)
    train2, pool2 = split_holdout(digits, 0.25, seed=3)
    assert np.array_equal(pool.X, pool2.X) and np.array_equal(train.y, train2.y)
    _, pool3 = split_holdout(digits, 0.25, seed=4)
    assert not np.array_equal(pool.X, pool3.X)
    # No pool row appears in the training part.
    train_rows = {row.tobytes() + bytes([lab]) for row, lab in zip(train.X, train.y, strict=True)}
    pool_rows = {row.tobytes() + bytes([lab]) for row, lab in zip(pool.X, pool.y, strict=True)}
    dupes_in_source = len(digits) - len(
        {r.tobytes() + bytes([lab]) for r, lab in zip(digits.X, digits.y, strict=True)}
    )
    assert len(train_rows & pool_rows) <= dupes_in_source


@pytest.mark.parametrize("scheme", ["iid", "dirichlet"])
def test_partitions_cover_every_sample_once_and_repeat_by_seed(
    digits: Dataset, scheme: str
) -> None:
    config = PartitionConfig(participants=5, scheme=scheme, alpha=0.3, seed=11)  # type: ignore[arg-type]
    parts = partition_indices(digits.y, config)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(digits)))
    assert all(len(p) >= config.min_samples for p in parts)
    again = partition_indices(digits.y, config)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    other = partition_indices(digits.y, PartitionConfig(5, scheme, 0.3, seed=12))  # type: ignore[arg-type]
    assert any(not np.array_equal(a, b) for a, b in zip(parts, other, strict=True))


def test_dirichlet_small_alpha_is_more_skewed_than_iid(digits: Dataset) -> None:
    def skew(config: PartitionConfig) -> float:
        # Mean over participants of the largest class share: 0.1 is perfectly balanced.
        return float(np.mean([p.class_counts().max() / len(p) for p in partition(digits, config)]))

    iid = skew(PartitionConfig(participants=4, scheme="iid", seed=0))
    non_iid = skew(PartitionConfig(participants=4, scheme="dirichlet", alpha=0.1, seed=0))
    assert iid < 0.15
    assert non_iid > 0.3


def test_partition_refuses_impossible_requests(digits: Dataset) -> None:
    with pytest.raises(DataError, match="cannot give"):
        partition_indices(digits.y[:20], PartitionConfig(participants=3, min_samples=10))
    with pytest.raises(DataError, match="alpha must be positive"):
        partition_indices(digits.y, PartitionConfig(participants=2, scheme="dirichlet", alpha=0))


def test_round_test_set_is_a_pure_function_of_seed_and_round(digits: Dataset) -> None:
    _, pool = split_holdout(digits, 0.3, seed=0)
    config = TestSetConfig(samples_per_chunk=16, chunks=3, seed=5)
    r1 = round_test_set(pool, 1, config)
    assert len(r1.chunks) == 3 and all(len(c) == 16 for c in r1.chunks)
    assert len(set(r1.indices.tolist())) == 48  # distinct within a round
    again = round_test_set(pool, 1, config)
    assert np.array_equal(r1.indices, again.indices)
    assert all(c.to_bytes() == d.to_bytes() for c, d in zip(r1.chunks, again.chunks, strict=True))
    r2 = round_test_set(pool, 2, config)
    assert not np.array_equal(r1.indices, r2.indices)
    other_task = round_test_set(pool, 1, TestSetConfig(16, 3, seed=6))
    assert not np.array_equal(r1.indices, other_task.indices)
    combined = r1.combined()
    assert len(combined) == 48 and np.array_equal(combined.y[16:32], r1.chunks[1].y)


def test_round_test_set_limits(digits: Dataset) -> None:
    with pytest.raises(DataError, match="1..64"):
        TestSetConfig(samples_per_chunk=65)
    small = digits.subset(range(10))
    with pytest.raises(DataError, match="fewer than"):
        round_test_set(small, 0, TestSetConfig(samples_per_chunk=8, chunks=2))


def test_dataset_bytes_round_trip(digits: Dataset) -> None:
    chunk = digits.subset(range(7), "c")
    back = Dataset.from_bytes(chunk.to_bytes())
    assert np.array_equal(back.X, chunk.X) and np.array_equal(back.y, chunk.y)
    assert back.num_classes == 10 and back.name == "c"
    with pytest.raises(DataError, match="Not a zkpot dataset"):
        Dataset.from_bytes(b"garbage")


def test_label_flip_changes_exactly_the_chosen_labels(digits: Dataset) -> None:
    flipped = flip_labels(digits)
    assert np.all(flipped.y != digits.y)
    assert np.array_equal(flipped.y, (digits.y + 1) % 10)
    assert np.array_equal(flipped.X, digits.X)
    half = flip_labels(digits, LabelFlipConfig(fraction=0.5, shift=3, seed=2))
    changed = half.y != digits.y
    assert changed.sum() == round(len(digits) * 0.5)
    assert np.array_equal(half.y[changed], (digits.y[changed] + 3) % 10)
    assert np.array_equal(flip_labels(digits, LabelFlipConfig(0.5, 3, 2)).y, half.y)
    with pytest.raises(DataError, match="unchanged"):
        flip_labels(digits, LabelFlipConfig(shift=10))


def test_dataset_rejects_wrong_dtypes_and_labels() -> None:
    with pytest.raises(DataError, match="dtypes"):
        Dataset(np.zeros((2, 3)), np.zeros(2, dtype=np.int64), 2)
    with pytest.raises(DataError, match="outside"):
        Dataset(np.zeros((2, 3), np.float32), np.array([0, 2], dtype=np.int64), 2)
