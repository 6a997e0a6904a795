"""The README's "A round by hand", run verbatim against the real local chain and IPFS.

The commands are read from the README's ```sh block under that heading, so the walk a
newcomer follows is the one this test runs: if a command, an option or a duration
changes, the README must change with it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from zkpot.toolchain import repo_root

README = repo_root() / "README.md"
HEADING = "### A round by hand"


def walk_commands(text: str) -> list[str]:
    """The command lines of the first ```sh block after the walk's heading."""
    after = text[text.index(HEADING) :]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match, f"no ```sh block under {HEADING!r}"
    lines = [line.strip() for line in match.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _option(argv: list[str], name: str) -> int:
    return int(argv[argv.index(name) + 1])


@dataclass
class Ran:
    command: str
    stdout: str
    stderr: str


def test_walk_sets_every_duration_it_waits_on_and_warps_past_each_deadline() -> None:
    commands = [shlex.split(c, comments=True) for c in walk_commands(README.read_text())]
    assert all(argv[0] == "zkpot" for argv in commands)
    [create] = [argv for argv in commands if argv[1:3] == ["task", "create"]]
    commit, reveal, submit = (
        _option(create, f"--{phase}-duration") for phase in ("commit", "reveal", "submit")
    )
    assert "--aggregate-duration" in create
    warps = [(i, int(argv[3])) for i, argv in enumerate(commands) if argv[1:3] == ["node", "warp"]]
    steps = [argv[1] if argv[1] != "round" else f"round {argv[2]}" for argv in commands]
    (first_at, first), (second_at, second) = warps
    # The first warp follows the commits and precedes the reveal: it crosses the commit
    # deadline. The second follows the submissions: from past the commit deadline it
    # must cover the reveal and submit phases to cross the submit deadline.
    assert steps.index("commit") < first_at < steps.index("round reveal")
    assert first >= commit
    assert max(i for i, s in enumerate(steps) if s == "submit") < second_at
    assert second_at < steps.index("round select")
    assert second >= reveal + submit


@pytest.mark.slow
def test_readme_walk_runs_verbatim_to_an_audited_block(
    tmp_path: Path, shared_zk_dir: Path
) -> None:
    env = dict(os.environ)
    # Circuits go to the run's shared folder, not the checkout's zk/ (which stays clean).
    env["ZKPOT_ZK_DIR"] = str(shared_zk_dir)
    # Own state and deployment record; the session's anvil and IPFS (already up) are reused.
    env["ZKPOT_STATE_DIR"] = str(tmp_path / "state")
    env["ZKPOT_DEPLOYMENTS_DIR"] = str(tmp_path / "deployments")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    ran: list[Ran] = []
    for command in walk_commands(README.read_text()):
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=repo_root(),
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert result.returncode == 0, (
            f"README command failed: {command}\nstdout:\n{result.stdout}\n"
            f"stderr:\n{result.stderr}"
        )
        ran.append(Ran(command, result.stdout, result.stderr))

    def output(prefix: str) -> list[str]:
        return [r.stdout for r in ran if r.command.startswith(prefix)]

    [selected] = output("zkpot round select")
    leader = selected.split("leader: ")[1].split()[0]
    # Exactly one of the two did nothing at each of the two leader-dependent steps.
    assert sum("nothing to send" in out for out in output("zkpot send-model")) == 1
    assert sum("nothing to aggregate" in out for out in output("zkpot aggregate")) == 1
    [opened] = output("zkpot round open")
    assert "open: commit by " in opened and " UTC, submit by " in opened, opened
    # Each step says what it did: the proofs, the verified count, the transaction and gas.
    assert all(" proof(s), bundle " in out for out in output("zkpot prove"))
    for out in output("zkpot submit"):
        assert "correct verified on chain (transaction 0x" in out and " gas)" in out, out
    [status_text] = output("zkpot status")
    assert "block 0x" in status_text and leader in status_text
    [audited] = output("zkpot audit")
    assert "FAIL" not in audited and "PASS" in audited

    status = subprocess.run(
        ["zkpot", "status", "--task", "0", "--json"],
        cwd=repo_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    [round0] = json.loads(status.stdout)["rounds"]
    assert round0["status"] == "finalised" and round0["block_hash"]
    assert round0["leader"] == leader
    assert len(round0["submissions"]) == 2
    assert all(s["correct"] > 0 and s["verified"] for s in round0["submissions"])
    [handoff] = round0["handoffs"]
    assert handoff["to"] == leader and handoff["from"] != leader
    assert round0["included"] == [handoff["from"]]
