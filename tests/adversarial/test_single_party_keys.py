"""A publisher hands out INSECURE keys it can forge proofs with, and nobody is told.

Before: every circuit above the 2^14 development powers of tau got single-party keys; the
warning showed once, on the publisher's console; participants' commands, ``circuit fetch``
and ``status`` said nothing; ``audit --keys`` reported PASS for them and never looked at
the aggregation keys; ``task create --srs FILE`` without ``--srs-hash`` reused earlier
single-party keys (and took a file that was no phase-1 file at all); and a task with
such keys ran on any network.

Now (:mod:`zkpot.roles.keytrust`): off a local devnet (decided by the node's chain id)
INSECURE keys are refused by every role unless ``--allow-insecure-single-party-keys`` is
given; every role that reads the task prints the warning; ``audit --keys`` FAILs them,
aggregation keys included; a task document cannot hide INSECURE aggregation keys; and
``--srs`` is checked by hash and never reuses keys made from another phase-1 file.

Real anvil nodes (the session's, chain id 31337, and a second one started here with
Sepolia's chain id 11155111), real IPFS, real single-party keys, real proofs, the real CLI
in child processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flows.conftest import World, tiny_options
from zkpot import services, toolchain
from zkpot.errors import ProvingError
from zkpot.proving.backend import load_circuit
from zkpot.proving.groth16 import ceremony
from zkpot.proving.groth16.backend import Groth16Circuit
from zkpot.roles import keytrust
from zkpot.roles import publisher as pub
from zkpot.roles.artifacts import fetch_circuit, publish_circuit
from zkpot.roles.auditor import audit_task

pytestmark = pytest.mark.slow

FOREIGN_CHAIN_ID = 11155111
"""Sepolia's chain id: a chain that is not a local devnet."""
FLAG = "--allow-insecure-single-party-keys"
WARNING = "WARNING: INSECURE SINGLE-PARTY KEYS"


class ForeignAnvil(services.Anvil):
    """An anvil that says it is Sepolia and mines two blocks a second (ape waits for two
    confirmations on a network that is not a development one; block timestamps still
    follow the wall clock)."""

    def command(self) -> list[str]:
        command = super().command()
        command[command.index("--chain-id") + 1] = str(FOREIGN_CHAIN_ID)
        return [*command, "--block-time", "0.5"]


@dataclass
class Cli:
    """The real ``zkpot`` in a child process, against one node, IPFS and state folder."""

    url: str
    ipfs_url: str
    env: dict[str, str]
    contract: str = ""

    def __call__(self, *args: str, allow: bool = False, chain: bool = True,
                 ) -> subprocess.CompletedProcess[str]:
        extra = ["--network", self.url, "--ipfs-url", self.ipfs_url] if chain else []
        if chain and self.contract:
            extra += ["--contract", self.contract]
        command = [str(Path(sys.executable).with_name("zkpot")), *args, *extra,
                   *([FLAG] if allow else [])]
        # A keystore account asks "Sign:" before a transaction, then (not always) its
        # passphrase: the user says yes and types it (a "Sign:" given the passphrase asks
        # again).
        return subprocess.run(command, capture_output=True, text=True, env=self.env,
                              input=f"y\n{PASSPHRASE}\n" * 100, timeout=900, check=False,
                              cwd=toolchain.repo_root())


KEYS = {
    "publisher": "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "alice": "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
}
"""anvil's first two funded keys, imported as ape keystore accounts: off a local devnet
zkpot refuses the public ``test:N`` signers."""
PASSPHRASE = "not-a-secret"

APE_CONFIG = "ethereum:\n  sepolia:\n    block_time: 2\n"
"""The CLI children's ape configuration (global, in their data folder): ape waits for a
transaction's two confirmations sleeping half the network's block time between looks
(whole seconds), so Sepolia's 15 s made each of the deploy's ~27 transactions wait 7 s or
more. It now looks every second; the two confirmations asked for are unchanged."""


def _keystore(root: Path, env: dict[str, str]) -> None:
    """``ape accounts import`` of :data:`KEYS` into a data folder of the test's own."""
    from eth_account import Account

    accounts_dir = root / "ape" / "accounts"
    accounts_dir.mkdir(parents=True)
    for alias, key in KEYS.items():
        keyfile = Account.encrypt(key, PASSPHRASE)
        (accounts_dir / f"{alias}.json").write_text(json.dumps(keyfile))
        env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = PASSPHRASE
    (root / "ape" / "ape-config.yaml").write_text(APE_CONFIG)
    env["APE_DATA_FOLDER"] = str(root / "ape")


def _env(root: Path, zk_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ZKPOT_STATE_DIR=str(root / "state"), ZKPOT_ZK_DIR=str(zk_dir),
               ZKPOT_CIRCUIT_CACHE=str(root / "cache"))
    return env


def _refused(result: subprocess.CompletedProcess[str], chain_id: int) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error, result.stderr
    assert "INSECURE single-party proving keys" in error[0]
    assert f"chain id {chain_id} is not a local devnet" in error[0]
    assert FLAG in error[0]


def _warned(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert WARNING in result.stderr, (result.stdout, result.stderr)
    assert why in result.stderr


@pytest.fixture(scope="module")
def foreign(world: World, shared_zk_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("foreign")
    config = services.ServicesConfig(anvil_port=services.free_ports(), run_dir=root / "run")
    anvil = ForeignAnvil(config)
    anvil.start()
    try:
        env = _env(root, shared_zk_dir)
        _keystore(root, env)
        cli = Cli(config.rpc_url, world.ipfs.config.ipfs_api_url, env)
        deployed = cli("deploy", "--network", config.rpc_url, "--root", str(root),
                       "--account", "publisher", chain=False)
        assert deployed.returncode == 0, deployed.stderr
        [record] = (root / "deployments").glob("*.json")
        data = json.loads(record.read_text())
        assert data["chain_id"] == FOREIGN_CHAIN_ID
        cli.contract = data["zkpot"]
        yield cli
    finally:
        anvil.stop()


def _warp(url: str, seconds: int) -> None:
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                   timeout=10).raise_for_status()


CREATE = ("task", "create", "--account", "publisher", "--architecture", "mlp-64-8-10",
          "--samples", "8", "--backend", "groth16", "--policy", "leader-model",
          "--commit-duration", "60")


def test_off_the_local_devnet_every_role_refuses_single_party_keys_without_the_flag(
    foreign: Cli,
) -> None:
    # The publisher: refused before anything is built or deployed.
    _refused(foreign(*CREATE), FOREIGN_CHAIN_ID)
    assert "Task 0 does not exist" in foreign("status", "--task", "0").stderr
    created = foreign(*CREATE, allow=True)
    assert created.returncode == 0, created.stderr
    _warned(created, f"{FLAG} was given")

    # Anyone: status, circuit fetch, audit.
    for command in (("status", "--task", "0"), ("circuit", "fetch", "--task", "0"),
                    ("audit", "--task", "0", "--keys")):
        _refused(foreign(*command), FOREIGN_CHAIN_ID)
    status = foreign("status", "--task", "0", allow=True)
    assert status.returncode == 0, status.stderr
    _warned(status, f"on chain id {FOREIGN_CHAIN_ID} only because {FLAG} was given")
    fetched = foreign("circuit", "fetch", "--task", "0", allow=True)
    assert fetched.returncode == 0, fetched.stderr
    _warned(fetched, FLAG)
    audited = foreign("audit", "--task", "0", "--keys", allow=True)
    assert audited.returncode == 1
    _warned(audited, FLAG)
    assert "FAIL  task     proving keys: Groth16 keys: INSECURE single-party setup" \
        in audited.stdout

    # The publisher's rounds and a participant's steps up to the proof.
    publisher = ("--account", "publisher")
    _refused(foreign("round", "open", *publisher, "--task", "0"), FOREIGN_CHAIN_ID)
    opened = foreign("round", "open", *publisher, "--task", "0", allow=True)
    assert opened.returncode == 0, opened.stderr
    me = ("--name", "alice", "--account", "alice", "--task", "0")
    assert foreign("join", *me).returncode == 0  # joining proves nothing
    _refused(foreign("train", *me, "--round", "0", "--epochs", "1"), FOREIGN_CHAIN_ID)
    trained = foreign("train", *me, "--round", "0", "--epochs", "1", allow=True)
    assert trained.returncode == 0, trained.stderr
    _refused(foreign("commit", *me, "--round", "0"), FOREIGN_CHAIN_ID)
    assert foreign("commit", *me, "--round", "0", allow=True).returncode == 0
    _warp(foreign.url, 61)
    revealed = foreign("round", "reveal", *publisher, "--task", "0", "--round", "0",
                       allow=True)
    assert revealed.returncode == 0, revealed.stderr

    # prove and aggregate: refused without the flag; a real proof with it, and the warning.
    _refused(foreign("prove", *me, "--round", "0"), FOREIGN_CHAIN_ID)
    proved = foreign("prove", *me, "--round", "0", allow=True)
    assert proved.returncode == 0, proved.stderr
    _warned(proved, FLAG)
    _refused(foreign("aggregate", *me, "--round", "0"), FOREIGN_CHAIN_ID)


def test_the_local_devnet_is_decided_by_chain_id_and_still_warns(
    world: World, foreign: Cli, tmp_path: Path, shared_zk_dir: Path
) -> None:
    from ape import accounts

    task_id = pub.create_task(world.session, accounts.test_accounts[0],
                              tiny_options(backend="groth16", policy="leader-model",
                                           chunks_per_round=1), world.pool)
    anvil = services.Anvil(services.ServicesConfig())
    local = Cli(anvil.url, world.ipfs.config.ipfs_api_url, _env(tmp_path, shared_zk_dir),
                world.session.client.address)
    # A URL, not ape's local network name: anvil's chain id makes it a local devnet.
    result = local("status", "--task", str(task_id))
    assert result.returncode == 0, result.stderr
    _warned(result, "only because chain id 31337 is a local devnet")
    assert result.stderr.count(WARNING) == 1


AGGREGATED = {"backend": "groth16", "chunks_per_round": 1, "aggregation_slots": 2}
"""A proven-aggregation task of the tiny MLP: single-party accuracy and 2-slot keys."""


@pytest.fixture(scope="module")
def aggregated(world: World) -> int:
    from ape import accounts

    return pub.create_task(world.session, accounts.test_accounts[0],
                           tiny_options(**AGGREGATED), world.pool)


def test_audit_keys_fails_single_party_keys_and_checks_the_aggregation_keys(
    world: World, aggregated: int
) -> None:
    task_id = aggregated
    findings = {f.item: f for f in audit_task(world.session, task_id, check_keys=True)}
    keys = findings["proving keys"]
    assert not keys.ok and "INSECURE single-party setup" in keys.detail
    aggregation = findings["aggregation keys"]
    assert not aggregation.ok
    assert "2-slot aggregation keys: INSECURE single-party setup" in aggregation.detail
    _, document = world.session.task(task_id)
    assert document.circuit.insecure_srs and document.circuit.aggregation_insecure


def test_a_document_cannot_hide_insecure_aggregation_keys(
    world: World, aggregated: int, tmp_path: Path
) -> None:
    _, document = world.session.task(aggregated)
    circuit = world.session.circuit(document)
    # The run's circuit folder is shared: other modules may have set up more slot counts.
    parts = keytrust.insecure_parts(circuit)
    assert parts[0] == keytrust.ACCURACY and "2-slot aggregation circuit" in parts
    ref = publish_circuit(world.session.storage, circuit)
    assert ref.aggregation_insecure is True
    hiding = dataclasses.replace(ref, aggregation_insecure=False)
    with pytest.raises(ProvingError, match="aggregation keys' security"):
        fetch_circuit(world.session.storage, hiding, cache=tmp_path)


def test_srs_is_checked_by_hash_and_never_reuses_keys_from_another_phase1_file(
    world: World, aggregated: int, tmp_path: Path, shared_zk_dir: Path
) -> None:
    options = tiny_options(**AGGREGATED)
    built = pub.build_circuit(options, world.pool, shared_zk_dir)
    assert isinstance(built, Groth16Circuit) and built.data["single_party"]
    zk_dir = tmp_path / "zk"
    shutil.copytree(built.directory, zk_dir / built.short_id)
    mine = load_circuit(zk_dir / built.short_id)
    assert isinstance(mine, Groth16Circuit)

    # A file that is no phase-1 file at all: refused, not a reason to reuse the keys.
    junk = tmp_path / "powersOfTau28_hez_final_16.ptau"
    junk.write_bytes(b"not a powers-of-tau file")
    with pytest.raises(ProvingError, match="is not a ptau file"):
        pub.build_circuit(dataclasses.replace(options, srs_path=junk), world.pool, zk_dir)
    with pytest.raises(ProvingError, match="is not a ptau file"):
        mine.setup_aggregation(2, junk)

    # A real phase-1 file without --srs-hash (the development one, recognised by its
    # hash): the single-party keys were not made from it, so they are not reused; it is
    # too small for these circuits (2^15 and 2^16), which says so.
    dev = ceremony.dev_ptau()
    with pytest.raises(ProvingError, match=r"needs a 2\^15 powers-of-tau file"):
        pub.build_circuit(dataclasses.replace(options, srs_path=dev), world.pool, zk_dir)
    with pytest.raises(ProvingError, match=r"needs a 2\^16 powers-of-tau file"):
        mine.setup_aggregation(2, dev)

    # Without --srs, the development keys already there are the ones asked for.
    assert pub.build_circuit(options, world.pool, zk_dir).directory == mine.directory
