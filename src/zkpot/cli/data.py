"""The data a command reads: ``--data`` specs, the publisher's pool, private training data."""

from __future__ import annotations

from typing import Any

from zkpot.errors import ZkpotError


def _pool(data: str, holdout: float, seed: int) -> Any:
    """The publisher's held-out pool of ``data``."""
    from zkpot.data import dataset_from_spec, split_holdout

    return split_holdout(dataset_from_spec(data), holdout, seed=seed)[1]


def _private_data(data: str, part: str | None, holdout: float, seed: int) -> Any:
    """A participant's private training data, never the publisher's held-out pool.

    Without ``--part``: a file as it is (the participant's own data), or the whole
    *training split* of the bundled digits (the pool ``--holdout``/``--seed`` hold out
    is where test sets come from). With ``--part I/K``: part I of K of the training split.
    """
    from zkpot.data import (
        PartitionConfig,
        dataset_from_spec,
        is_public_dataset,
        partition,
        split_holdout,
    )

    dataset = dataset_from_spec(data)
    if part is None:
        if is_public_dataset(dataset):
            return split_holdout(dataset, holdout, seed=seed)[0]
        return dataset
    try:
        index, total = (int(x) for x in part.split("/"))
    except ValueError:
        raise ZkpotError(f"--part {part!r} is not I/K", "pass e.g. --part 1/4") from None
    if not 1 <= index <= total:
        raise ZkpotError(f"--part {part} is out of range", f"use 1/{total} to {total}/{total}")
    train, _ = split_holdout(dataset, holdout, seed=seed)
    return partition(train, PartitionConfig(participants=total, seed=seed))[index - 1]
