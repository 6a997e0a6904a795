"""Every role on its own: own working, state and circuit-cache folders, own IPFS node.

Four js-ipfs nodes on loopback, connected over the swarm (no shared repository); the
publisher, two participants and an auditor each run the real ``zkpot`` CLI from their own
working directory and share nothing but the anvil RPC URL and the contract address. The
participants and the auditor get the circuit from IPFS alone (the publisher's ``zk/``
folder is in the publisher's directory only); a participant whose cached artifact was
changed by one byte is refused before proving, and proves after fetching again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLES = ("publisher", "alice", "bob", "auditor")
BASE_API_PORT, BASE_SWARM_PORT = 5401, 4401
PHASE = 600


@dataclass(frozen=True)
class Role:
    name: str
    home: Path
    api_port: int
    swarm_port: int

    @property
    def ipfs_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "ZKPOT_CIRCUIT_CACHE"}
        env.update(
            ZKPOT_STATE_DIR=str(self.home / "state"),
            ZKPOT_ZK_DIR=str(self.home / "zk"),
            ZKPOT_DEPLOYMENTS_DIR=str(self.home / "deployments"),
            ZKPOT_IPFS_PORT=str(self.api_port),
            ZKPOT_IPFS_SWARM_PORT=str(self.swarm_port),
            ZKPOT_IPFS_SWARM="1",
            PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        )
        return env

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["zkpot", *args], cwd=self.home, env=self.env(),
                                capture_output=True, text=True, timeout=1800)
        if ok:
            assert result.returncode == 0, (
                f"{self.name}: zkpot {' '.join(args)} failed\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        return result


@pytest.fixture
def roles(tmp_path: Path) -> Iterator[dict[str, Role]]:
    made = {}
    for i, name in enumerate(ROLES):
        home = tmp_path / name
        home.mkdir()
        made[name] = Role(name, home, BASE_API_PORT + 10 * i, BASE_SWARM_PORT + 10 * i)
    try:
        for role in made.values():
            role.run("node", "up")  # the session's anvil answers: only IPFS starts
        yield made
    finally:
        for role in made.values():
            role.run("node", "down", ok=False)


def connect_all(roles: dict[str, Role]) -> None:
    nodes = list(roles.values())
    addresses = {r.name: r.run("node", "id").stdout.split()[0] for r in nodes}
    for i, first in enumerate(nodes):
        for second in nodes[i + 1 :]:
            second.run("node", "connect", addresses[first.name], "--ipfs-url", second.ipfs_url)


@pytest.mark.slow
def test_roles_on_separate_nodes_complete_an_audited_round(roles: dict[str, Role]) -> None:
    publisher, alice, bob, auditor = (roles[name] for name in ROLES)
    connect_all(roles)

    deployed = publisher.run("deploy", "--root", str(publisher.home)).stdout
    contract = re.search(r"0x[0-9a-fA-F]{40}", deployed)
    assert contract
    chain = ("--contract", contract.group(0))
    # EZKL on purpose (Groth16 is the default): its proving key is derived by each role from
    # the fetched circuit and SRS, the path with the most to check across machines.
    publisher.run("task", "create", *chain, "--backend", "ezkl",
                  "--architecture", "mlp-64-8-10", "--samples", "8",
                  "--commit-duration", str(PHASE), "--reveal-duration", str(PHASE),
                  "--submit-duration", str(PHASE), "--aggregate-duration", str(PHASE))
    publisher.run("round", "open", *chain, "--task", "0")
    # Alice fetches the circuit explicitly, over the swarm from the publisher's node; Bob's
    # first command that needs it (commit: the model commitment) fetches it implicitly.
    fetched = json.loads(alice.run("circuit", "fetch", *chain, "--task", "0", "--json").stdout)
    cache = Path(fetched["directory"])
    assert cache.is_relative_to(alice.home / "state" / "circuits")
    assert not fetched["from_cache"] and fetched["fetched_bytes"] > 0
    assert "circuit.pk" in fetched["sizes"]  # derived here, never downloaded
    assert (publisher.home / "zk").is_dir() and not (alice.home / "zk").exists()
    people = {alice: "test:1", bob: "test:2"}
    for person, account in people.items():
        me = ("--name", person.name, "--account", account, "--task", "0")
        person.run("join", *chain, *me)
        part = "1/4" if person is alice else "2/4"
        person.run("train", *chain, *me, "--round", "0", "--part", part, "--epochs", "8")
        person.run("commit", *chain, *me, "--round", "0")
    publisher.run("node", "warp", str(PHASE))
    publisher.run("round", "reveal", *chain, "--task", "0", "--round", "0")

    # One byte of a cached file changes: refused before any proof, in one sentence.
    settings = cache / "settings.json"
    original = settings.read_bytes()
    settings.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
    alice_round = ("--name", "alice", "--account", "test:1", "--task", "0", "--round", "0")
    refused = alice.run("prove", *chain, *alice_round, ok=False)
    assert refused.returncode != 0
    assert "changed since it was fetched" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list((alice.home / "state").rglob("*proof*.json"))
    # The hint says what to do; the participant's round resumes afterwards.
    assert str(cache) in refused.stderr
    refetch = json.loads(alice.run("circuit", "fetch", *chain, "--task", "0", "--json",
                                   ok=False).stdout or "{}")
    assert refetch == {}  # still refused while the changed file is there
    shutil.rmtree(cache)
    alice.run("prove", *chain, *alice_round)
    alice.run("submit", *chain, *alice_round)

    # Bob's first prove fetches implicitly, from whichever peer holds the blocks.
    bob_round = ("--name", "bob", "--account", "test:2", "--task", "0", "--round", "0")
    bob.run("prove", *chain, *bob_round)
    bob.run("submit", *chain, *bob_round)
    assert (bob.home / "state" / "circuits").is_dir() and not (bob.home / "zk").exists()

    publisher.run("node", "warp", str(2 * PHASE))
    selected = publisher.run("round", "select", *chain, "--task", "0", "--round", "0").stdout
    leader = selected.split("leader: ")[1].split()[0]
    for person, account in people.items():
        person.run("send-model", *chain, "--name", person.name, "--account", account,
                   "--task", "0", "--round", "0")
    for person, account in people.items():
        person.run("aggregate", *chain, "--name", person.name, "--account", account,
                   "--task", "0", "--round", "0")
    publisher.run("round", "finalise", *chain, "--task", "0", "--round", "0")

    verdict = auditor.run("audit", *chain, "--task", "0", "--json")
    findings = json.loads(verdict.stdout)
    assert findings and all(f["ok"] for f in findings), verdict.stdout
    assert (auditor.home / "state" / "circuits").is_dir()

    status = json.loads(auditor.run("status", *chain, "--task", "0", "--json").stdout)
    [round0] = status["rounds"]
    assert round0["status"] == "finalised" and round0["leader"] == leader
    assert len(round0["submissions"]) == 2
    assert all(s["verified"] and s["correct"] > 0 for s in round0["submissions"])
    assert len(round0["handoffs"]) == 1 and round0["handoffs"][0]["to"] == leader
