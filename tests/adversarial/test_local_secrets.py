"""Attack: another local user reads a role's secrets from its state folder.

The publisher's test seed (every future test set follows from it) and round salts (they
open a test-set commitment early), a participant's X25519 key, salts and trained models
all live under ``$ZKPOT_STATE_DIR``. Before the fix the publisher's files were written
with the default umask (0644 in 0755 folders): readable by every user of the machine.
Now every such file is 0600 in 0700 folders, whatever the umask, and files written by
older versions are tightened when they are next read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.conftest import World, tiny_options
from zkpot.roles import publisher as pub
from zkpot.roles.participant import Participant, TrainingConfig
from zkpot.state import ParticipantState, private_dir, write_private, write_private_json


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The worst case: a umask that would make every new file world-readable and writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_private_files_are_0600_in_0700_folders_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    target = tmp_path / "a" / "b" / "secret.json"
    write_private_json(target, {"seed": 1})
    assert mode(target) == 0o600
    assert mode(tmp_path / "a" / "b") == 0o700
    assert mode(tmp_path / "a") == 0o700
    write_private(target, b"again")  # replacing keeps the mode
    assert mode(target) == 0o600 and target.read_bytes() == b"again"
    assert [p.name for p in target.parent.iterdir()] == ["secret.json"]  # no temp file left


def test_an_existing_open_folder_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    private_dir(folder)
    assert mode(folder) == 0o700


def test_participant_store_is_owner_only(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "participants" / "alice"
    home.mkdir(parents=True)
    os.chmod(home, 0o777)  # as an older version (or a careless user) left it
    with ParticipantState(home / "state.db") as store:
        store.ensure_identity(name="alice", eth_alias="a", eth_address="0x" + "11" * 20)
        store.start_round("t", 0)
    assert mode(home) == 0o700
    assert mode(home / "state.db") == 0o600
    for sidecar in home.glob("state.db-*"):  # SQLite's WAL files
        assert mode(sidecar) & 0o077 == 0, sidecar


def test_publisher_secrets_are_owner_only(world: World, open_umask: None) -> None:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(world.session, publisher, tiny_options(), world.pool)
    assert pub.open_round(world.session, publisher, task_id, world.pool) == 0
    task_dir = pub._task_dir(world.session, publisher.address, task_id)
    for name in ("task.json", "round-0.json"):
        assert mode(task_dir / name) == 0o600, name
    for folder in (task_dir, task_dir.parent, task_dir.parent.parent):
        assert mode(folder) == 0o700, folder


def test_publisher_files_of_an_older_version_are_tightened(world: World) -> None:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(world.session, publisher, tiny_options(), world.pool)
    task_file = pub._task_dir(world.session, publisher.address, task_id) / "task.json"
    os.chmod(task_file, 0o644)
    pub._load_secrets(world.session, publisher.address, task_id)
    assert mode(task_file) == 0o600


def test_participant_model_is_owner_only(world: World, open_umask: None) -> None:
    from ape import accounts

    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(world.session, publisher, tiny_options(), world.pool)
    round_ = pub.open_round(world.session, publisher, task_id, world.pool)
    me = Participant(world.session, accounts.test_accounts[5], "secrets-p")
    record = me.train(task_id, round_, world.train.subset(range(200)), TrainingConfig(epochs=1))
    assert record.model_path is not None
    assert mode(record.model_path) == 0o600
    assert mode(me.home) == 0o700
    assert mode(me.state.path) == 0o600
