"""Ctrl-C during ``zkpot prove``: one sentence, exit 130, local state kept, the step resumes.

A real ``zkpot prove`` process (real anvil, IPFS, Groth16 prover) is interrupted the way a
terminal does it: SIGINT to its whole process group, sent while its prover child runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zkpot.roles import publisher as pub
from zkpot.roles.participant import Participant, TrainingConfig, task_key
from zkpot.state import Step

from .conftest import World, advance_to, tiny_options

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _prove_command(world: World, shared_zk_dir: Path, task_id: int) -> tuple[list[str], dict]:
    env = dict(os.environ, ZKPOT_ZK_DIR=str(shared_zk_dir))
    argv = [str(Path(sys.executable).parent / "zkpot"), "prove", "--name", "ctrl-c", "--account",
            "test:6", "--task", str(task_id), "--round", "0",
            "--contract", world.session.client.address,
            "--ipfs-url", world.ipfs.config.ipfs_api_url]
    return argv, env


def test_ctrl_c_during_prove_is_one_sentence_and_the_step_resumes(
    world: World, shared_zk_dir: Path
) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    me = Participant(session, accounts.test_accounts[6], "ctrl-c")
    me.join(task_id)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    assert round_ == 0
    me.train(task_id, round_, world.train, TrainingConfig(epochs=8, seed=1))
    me.commit(task_id, round_)
    advance_to(session.client.round(task_id, round_).commit_deadline)
    pub.reveal(session, publisher, task_id, round_, world.pool)
    key = task_key(session, task_id)
    before = me.state.get_round(key, round_)
    assert before is not None and before.step == Step.COMMITTED

    argv, env = _prove_command(world, shared_zk_dir, task_id)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    # Wait until the command has a child (the witness generator or the prover), then press
    # Ctrl-C: the terminal signals the whole foreground process group.
    deadline = time.monotonic() + 300
    while not _children(process.pid):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "prove never started a prover"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert process.returncode == 130, stderr
    assert errors == ["error: Interrupted; run the same command again to resume."], stderr
    assert "Traceback" not in stderr and not stdout.strip()

    # Nothing was lost: the commitment, salt and model are as before; prove runs again.
    after = me.state.get_round(key, round_)
    assert after is not None and after.step == Step.COMMITTED
    assert (after.salt, after.commitment, after.model_path) == (
        before.salt, before.commitment, before.model_path)
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert " proof(s), bundle " in again.stdout
    proven = me.state.get_round(key, round_)
    assert proven is not None and proven.step == Step.PROVED
