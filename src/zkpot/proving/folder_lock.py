"""One builder at a time for a circuit folder.

Two processes that build (or re-key, or add an aggregation circuit to) the same
``zk/<short id>/`` folder at once would interleave their files: a publisher's
``task create`` beside another's, or two test workers sharing one run's circuits. The
lock is an advisory ``flock`` on a file beside the folder (the folder itself may be
replaced by a build), held for the whole check-then-build, and released when its holder
exits however it exits.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(directory: Path) -> Path:
    """The lock file of circuit folder ``directory``: ``.<name>.lock`` beside it."""
    return directory.parent / f".{directory.name}.lock"


@contextmanager
def circuit_lock(directory: Path) -> Iterator[None]:
    """Hold the exclusive build lock of ``directory`` (waiting for another holder)."""
    path = lock_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
