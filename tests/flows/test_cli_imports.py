"""The chain commands start without torch, EZKL, scikit-learn, matplotlib or opacus.

The suite starts the ``zkpot`` CLI about 150 times, and importing torch alone costs each
process over a second of CPU. Commands that only read or send transactions (status, join,
submit, round open/reveal/select/finalise, task list, deploy) load none of those
libraries: the modules on their path import them inside the functions that train, prove
or decode a model. The check runs in a fresh interpreter (this one has torch loaded) and
names the import chain of any heavy library that comes back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zkpot import services

HEAVY = ["torch", "ezkl", "sklearn", "matplotlib", "opacus", "onnx"]

CHAIN_MODULES = [
    "zkpot.cli",
    "zkpot.cli.session",
    "zkpot.chain",
    "zkpot.roles.common",
    "zkpot.roles.keeper",
    "zkpot.roles.publisher",
    "zkpot.roles.participant",
    "zkpot.roles.auditor",
    "zkpot.roles.artifacts",
    "zkpot.proving.backend",
    "zkpot.proving.ezkl.backend",
]
"""What the chain commands import; the EZKL backend is what ``round open`` loads."""

COMMANDS = [
    ["status", "--task", "0"],
    ["task", "list"],
    ["round", "open", "--task", "0"],
    ["round", "reveal", "--task", "0", "--round", "0"],
    ["round", "select", "--task", "0", "--round", "0"],
    ["round", "finalise", "--task", "0", "--round", "0"],
    ["join", "--task", "0", "--name", "alice", "--account", "test:1"],
    ["submit", "--task", "0", "--round", "0", "--name", "alice", "--account", "test:1"],
    ["deploy"],
]
"""Each runs until the session refuses the chain, which is not there: the command's own
imports and the session's have happened by then (what a command loads later, such as
``round open``'s circuit backend, is in :data:`CHAIN_MODULES`)."""

_PROBE = """
import importlib.abc, json, sys, traceback

heavy, modules, commands = json.loads(sys.argv[1])
asked = {}  # the latest search for each heavy library not yet loaded: the one that loads it


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in heavy and top not in sys.modules:
            asked[top] = [f"{f.filename.rpartition('/zkpot/')[2]}:{f.lineno}"
                          for f in traceback.extract_stack() if "/zkpot/" in f.filename]
        return None


sys.meta_path.insert(0, Watch())
for module in modules:
    __import__(module)

from click.testing import CliRunner

from zkpot.cli import cli
from zkpot.cli.data import _pool

_pool("digits", 0.3, 0)  # the publisher's pool, which round open and reveal read
results = [CliRunner().invoke(cli, argv) for argv in commands]
loaded = {lib: stack for lib, stack in asked.items() if lib in sys.modules}
print(json.dumps({"loaded": loaded,
                  "runs": [[r.exit_code, r.output.strip()[-300:]] for r in results]}))
"""


def test_chain_commands_import_no_heavy_library(tmp_path: Path) -> None:
    port = services.free_ports()  # nothing answers there: every command stops at the session
    env = {**os.environ, "ZKPOT_ANVIL_PORT": str(port),
           "ZKPOT_ANVIL_URL": f"http://127.0.0.1:{port}"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([HEAVY, CHAIN_MODULES, COMMANDS])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.splitlines()[-1])
    for argv, (code, output) in zip(COMMANDS, report["runs"], strict=True):
        assert code == 1 and "is not running" in output, (argv, output)
    chains = {lib: " <- ".join(reversed(stack)) for lib, stack in report["loaded"].items()}
    assert chains == {}, f"imported by the chain commands: {chains}"
