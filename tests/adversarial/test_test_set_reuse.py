"""Attack: learn the test set from earlier rounds (or from the training data) and ace it.

Before the fix each round drew its test set independently from the publisher's pool,
so revealed samples came back in later rounds (with 256-sample rounds the whole set had
been revealed before by round 7): a participant that memorised every revealed sample
scored ever higher without learning anything. ``zkpot train`` without ``--part`` also
trained on the full digits data, pool included. Now rounds use the pool up without
replacement in an order fixed by a secret per-task seed, a round the pool cannot fill
is refused, training data never includes a pool sample, and a task whose pool is the
public bundled digits says loudly that it is a demo-only setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from flows.conftest import World, advance_to, tiny_options
from zkpot.cli import cli
from zkpot.cli import participant as cli_module
from zkpot.cli.data import _pool, _private_data
from zkpot.data import (
    PUBLIC_POOL_WARNING,
    DataError,
    Dataset,
    TestSetConfig,
    load_digits,
    round_test_set,
    rounds_in_pool,
    split_holdout,
)
from zkpot.roles import publisher as pub


def _rows(dataset: Dataset) -> set[bytes]:
    """Each sample as bytes (features and label), to compare datasets by content."""
    flat = dataset.flat()
    return {x.tobytes() + int(y).to_bytes(1, "big") for x, y in zip(flat.X, flat.y, strict=True)}


@pytest.fixture(scope="module")
def pool() -> Dataset:
    return split_holdout(load_digits(), 0.3, seed=0)[1]


def test_rounds_never_reuse_a_pool_sample(pool: Dataset) -> None:
    config = TestSetConfig(samples_per_chunk=16, chunks=2, seed=12345)
    rounds = rounds_in_pool(len(pool), config)
    assert rounds == len(pool) // 32 >= 10
    seen: set[int] = set()
    for r in range(rounds):
        drawn = round_test_set(pool, r, config)
        indices = set(drawn.indices.tolist())
        assert len(indices) == 32
        assert not indices & seen, f"round {r} reuses a sample revealed earlier"
        seen |= indices
        # The samples themselves, not just their positions, are new (the pool has none twice).
        assert len(_rows(drawn.combined())) == 32
    assert len(seen) == rounds * 32


def test_a_crashed_publisher_redraws_the_same_round(pool: Dataset) -> None:
    config = TestSetConfig(samples_per_chunk=8, chunks=3, seed=2**127 + 5)
    first = round_test_set(pool, 4, config)
    again = round_test_set(pool, 4, config)
    assert np.array_equal(first.indices, again.indices)
    assert first.combined().to_bytes() == again.combined().to_bytes()
    other = round_test_set(pool, 4, TestSetConfig(samples_per_chunk=8, chunks=3, seed=6))
    assert not np.array_equal(first.indices, other.indices)


def test_a_round_the_pool_cannot_fill_is_refused(pool: Dataset) -> None:
    config = TestSetConfig(samples_per_chunk=64, chunks=2, seed=1)
    last = rounds_in_pool(len(pool), config) - 1
    round_test_set(pool, last, config)
    with pytest.raises(DataError, match=f"round {last + 1} cannot be opened") as refused:
        round_test_set(pool, last + 1, config)
    sentence = refused.value.sentence()
    assert sentence.count(". ") == 0 and sentence.endswith(".")


def test_no_draw_without_the_publishers_secret_seed(pool: Dataset) -> None:
    with pytest.raises(DataError, match="secret seed"):
        round_test_set(pool, 0, TestSetConfig(samples_per_chunk=8))


@pytest.mark.parametrize("part", [None, "1/4", "4/4"])
def test_train_data_never_holds_a_pool_sample(part: str | None) -> None:
    pool_rows = _rows(_pool("digits", 0.3, 0))
    private = _private_data("digits", part, 0.3, 0)
    assert len(private) > 0
    assert not _rows(private) & pool_rows


def test_zkpot_train_without_part_trains_on_the_training_split_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Dataset] = []

    class Recorder:
        def train(self, task_id: int, round_: int, data: Dataset, config: Any) -> Any:
            seen.append(data)

            class Record:
                model_path = "recorded"

            return Record()

    @contextmanager
    def fake_participant(*_: Any) -> Iterator[Recorder]:
        yield Recorder()

    monkeypatch.setattr(cli_module, "_participant", fake_participant)
    args = ["train", "--name", "p", "--account", "test:1", "--task", "0", "--round", "0"]
    result = CliRunner(mix_stderr=False).invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    [data] = seen
    digits = load_digits()
    assert len(data) < len(digits)
    assert not _rows(data) & _rows(_pool("digits", 0.3, 0))


# -- the publisher, on the real chain -----------------------------------------------------


def _task_dir(world: World, task_id: int) -> Any:
    from ape import accounts

    return pub._task_dir(world.session, accounts.test_accounts[0].address, task_id)


def test_publisher_refuses_to_open_a_round_its_pool_cannot_fill(world: World) -> None:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    small = world.pool.subset(range(20))  # 8 x 2 per round: one round, 4 samples left
    task_id = pub.create_task(world.session, publisher, tiny_options(), small)
    assert pub.open_round(world.session, publisher, task_id, small) == 0
    # Run again while round 0 is open: taken for a rerun after a lost reply, it returns
    # round 0 and opens nothing. Once round 0 is revealed, the next open draws round 1.
    assert pub.open_round(world.session, publisher, task_id, small) == 0
    advance_to(world.session.client.round(task_id, 0).commit_deadline)
    pub.reveal(world.session, publisher, task_id, 0, small)
    with pytest.raises(DataError, match="round 1 cannot be opened"):
        pub.open_round(world.session, publisher, task_id, small)
    assert world.session.client.task_state(task_id).round_count == 1
    assert not (_task_dir(world, task_id) / "round-1.json").exists()


def test_publisher_seed_is_secret_per_task_and_rounds_stay_disjoint(world: World) -> None:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    tasks = [
        pub.create_task(world.session, publisher, tiny_options(), world.pool) for _ in range(2)
    ]
    seeds = [json.loads((_task_dir(world, t) / "task.json").read_text()) for t in tasks]
    test_seeds = [s["test_seed"] for s in seeds]
    assert test_seeds[0] != test_seeds[1]
    assert all(s != 0 and s.bit_length() > 64 for s in test_seeds)
    secrets_ = pub._load_secrets(world.session, publisher.address, tasks[0])
    drawn = [set(pub._test_set(secrets_, world.pool, r).indices.tolist()) for r in range(5)]
    for i in range(5):
        for j in range(i):
            assert not drawn[i] & drawn[j]
    # What the round commits to is the secret-seeded draw.
    assert pub.open_round(world.session, publisher, tasks[0], world.pool) == 0
    kept = json.loads((_task_dir(world, tasks[0]) / "round-0.json").read_text())
    expected = pub._test_set(secrets_, world.pool, 0).combined().to_bytes()
    assert kept["test_set_cid"] == world.session.storage.cid_of(expected)


def test_a_task_on_public_digits_is_flagged_demo_only(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from ape import accounts

    task_id = pub.create_task(world.session, accounts.test_accounts[0], tiny_options(), world.pool)
    _, document = world.session.task(task_id)
    assert document.public_pool is True
    warning = capsys.readouterr().err
    assert PUBLIC_POOL_WARNING.format(name="digits") in warning
    assert "DEMO-ONLY" in warning


def test_a_task_on_a_private_pool_is_not_flagged(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from ape import accounts

    private = Dataset(world.pool.X, world.pool.y, 10, "hospital-scans:pool")
    task_id = pub.create_task(world.session, accounts.test_accounts[0], tiny_options(), private)
    _, document = world.session.task(task_id)
    assert document.public_pool is False
    assert "DEMO-ONLY" not in capsys.readouterr().err


def test_publisher_refuses_to_draw_from_another_pool(world: World) -> None:
    # Rounds use the pool up in a fixed order; a different pool (another --holdout or
    # --seed) would put revealed samples back into play.
    from ape import accounts

    from zkpot.errors import StateError

    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(world.session, publisher, tiny_options(), world.pool)
    other = split_holdout(load_digits(), 0.3, seed=1)[1]
    with pytest.raises(StateError, match="not the one task"):
        pub.open_round(world.session, publisher, task_id, other)
    assert world.session.client.task_state(task_id).round_count == 0


def test_a_task_whose_pool_cannot_fill_one_round_is_refused(world: World) -> None:
    from ape import accounts

    tasks_before = world.session.client.task_count()
    with pytest.raises(DataError, match="no round of this task could ever be opened"):
        pub.create_task(
            world.session, accounts.test_accounts[0], tiny_options(), world.pool.subset(range(15))
        )
    assert world.session.client.task_count() == tasks_before
