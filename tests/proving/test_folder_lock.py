"""A circuit folder is built by one process at a time: a second builder waits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from zkpot.proving.folder_lock import circuit_lock, lock_path

HOLDER = """
import sys, time
from pathlib import Path
from zkpot.proving.folder_lock import circuit_lock
folder, log = Path(sys.argv[1]), Path(sys.argv[2])
with circuit_lock(folder):
    with log.open("a") as out:
        out.write("holder in\\n")
    time.sleep(1.5)
    with log.open("a") as out:
        out.write("holder out\\n")
"""


def test_a_second_builder_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    folder, log = tmp_path / "zk" / "abc123", tmp_path / "log"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), str(log)])
    try:
        deadline = time.monotonic() + 60
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.exists(), "the holder never took the lock"
        with circuit_lock(folder), log.open("a") as out:
            out.write("second in\n")
    finally:
        holder.wait(timeout=60)
    assert log.read_text().splitlines() == ["holder in", "holder out", "second in"]
    assert holder.returncode == 0


def test_the_lock_file_lies_beside_the_folder_and_a_crashed_holder_releases_it(
    tmp_path: Path
) -> None:
    folder = tmp_path / "zk" / "abc123"
    assert lock_path(folder) == tmp_path / "zk" / ".abc123.lock"
    # A holder killed mid-build: the kernel drops its lock with the process.
    crashed = subprocess.run(
        [sys.executable, "-c",
         "import os, sys; from pathlib import Path; "
         "from zkpot.proving.folder_lock import circuit_lock\n"
         "with circuit_lock(Path(sys.argv[1])):\n    os._exit(3)", str(folder)],
        timeout=60, check=False)
    assert crashed.returncode == 3
    with circuit_lock(folder):
        assert lock_path(folder).exists() and not folder.exists()
