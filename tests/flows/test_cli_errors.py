"""`zkpot node warp`, and the CLI's one-sentence errors for networks, providers and reverts.

Real parts: the session's anvil, the world's IPFS node, a tiny-circuit task. No test
reaches past loopback: an unconfigured live network is refused before ape would look up
a public RPC (the look-up is made to fail the test if it is ever attempted), and a node
that cannot connect is a loopback port nothing listens on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from zkpot import services
from zkpot.chain import Phase
from zkpot.roles import publisher as pub

from .conftest import World, free_port, tiny_options
from .test_cli import assert_one_sentence, invoke


@pytest.fixture(scope="module")
def open_round(world: World) -> tuple[int, int]:
    """A tiny task with round 0 open (commit phase), for warp and revert tests."""
    from ape import accounts

    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(world.session, publisher, tiny_options(), world.pool)
    return task_id, pub.open_round(world.session, publisher, task_id, world.pool)


def _no_public_rpc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if ape ever tries to pick a public RPC endpoint."""
    from ape_ethereum import provider

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("ape tried to look up a public RPC")

    monkeypatch.setattr(provider, "get_random_rpc", refuse)
    monkeypatch.delenv("WEB3_PROVIDER_URI", raising=False)


def assert_no_call_trace(result: Result) -> None:
    assert "Call trace" not in result.stdout and "Traceback" not in result.stderr


# -- node warp ---------------------------------------------------------------------------


def test_warp_moves_the_local_clock_and_crosses_a_phase_deadline(
    world: World, open_round: tuple[int, int]
) -> None:
    task_id, round_no = open_round
    client = world.session.client
    anvil = services.Anvil(services.ServicesConfig())
    before = anvil.clock()
    assert client.phase(task_id, round_no) == Phase.COMMIT
    commit_left = client.round(task_id, round_no).commit_deadline - before.timestamp
    result = invoke("node", "warp", str(commit_left + 1))
    assert result.exit_code == 0, result.stderr
    after = anvil.clock()
    assert after.block == before.block + 1
    assert after.timestamp >= before.timestamp + commit_left + 1
    assert f"block {after.block}" in result.stdout
    assert client.phase(task_id, round_no) == Phase.REVEAL


def test_warp_json_reports_the_new_block() -> None:
    before = services.Anvil(services.ServicesConfig()).clock()
    result = invoke("node", "warp", "5", "--json")
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["seconds"] == 5 and report["block"] == before.block + 1
    assert report["timestamp"] >= before.timestamp + 5


@pytest.mark.parametrize(
    "network", ["ethereum:sepolia:node", "ethereum:mainnet-fork:foundry", "http://127.0.0.1:9"]
)
def test_warp_refuses_any_other_network(network: str) -> None:
    before = services.Anvil(services.ServicesConfig()).clock()
    result = invoke("node", "warp", "60", "--network", network)
    assert_one_sentence(result, "only the local anvil", network)
    assert services.Anvil(services.ServicesConfig()).clock().block == before.block


def test_warp_with_the_local_chain_down_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKPOT_ANVIL_PORT", str(free_port()))
    assert_one_sentence(invoke("node", "warp", "60"), "is not running", "zkpot node up")


def test_warp_refuses_a_node_that_is_not_anvil(monkeypatch: pytest.MonkeyPatch) -> None:
    # The world's IPFS API answers HTTP on its port but is no anvil: nothing is moved.
    monkeypatch.setenv("ZKPOT_ANVIL_PORT", str(services.ServicesConfig().ipfs_api_port))
    assert_one_sentence(invoke("node", "warp", "60"), "zkpot node up")


# -- networks and providers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "fragment"),
    [
        ("ethereum:nonesuch:node", "No network in 'ethereum' named 'nonesuch'"),
        ("nochain:local:foundry", "Unknown network 'nochain:local:foundry'"),
        ("ethereum:sepolia:nonesuch", "No provider named 'nonesuch'"),
    ],
)
def test_unknown_network_is_one_sentence(
    network: str, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_public_rpc(monkeypatch)
    result = invoke("status", "--task", "0", "--network", network, "--ipfs-url", "http://x")
    assert_one_sentence(result, fragment, "ape networks list")
    assert_no_call_trace(result)


def test_live_network_without_an_rpc_url_is_refused_before_any_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_public_rpc(monkeypatch)
    result = invoke("status", "--task", "0", "--network", "ethereum:sepolia:node")
    assert_one_sentence(
        result, "ethereum:sepolia:node has no RPC URL configured", "ape-config.yaml"
    )
    assert_no_call_trace(result)


@pytest.mark.parametrize("form", ["ethereum:sepolia:{url}", "{url}"])
def test_node_that_does_not_answer_is_one_sentence(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_public_rpc(monkeypatch)
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("status", "--task", "0", "--network", form.format(url=url))
    assert_one_sentence(result, "Cannot connect to network", url, "node is running")
    assert_no_call_trace(result)


def test_a_local_network_named_by_url_sends_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--network ethereum:local:<URL>`` to the session's anvil: ape's node provider used to
    sign with its configured chain id (1337) and anvil (31337) refused every transaction
    ("invalid chain id for signer"); the chain id is now the node's own."""
    import json
    import os

    from ape import chain

    _no_public_rpc(monkeypatch)
    monkeypatch.setenv("ZKPOT_DEPLOYMENTS_DIR", str(tmp_path))
    network = f"ethereum:local:{os.environ['ZKPOT_ANVIL_URL']}"
    result = invoke("deploy", "--network", network)
    assert result.exit_code == 0, result.stderr
    address = json.loads((tmp_path / "local.json").read_text())["zkpot"]
    assert len(bytes(chain.provider.get_code(address))) > 0
    listed = invoke("task", "list", "--network", network, "--json")
    assert listed.exit_code == 0, listed.stderr
    # In process, ape's "Connecting to a 'anvil' node." INFO line precedes the JSON (the
    # console entry point sets ape's logger to WARNING; CliRunner does not pass there).
    assert listed.stdout.strip().splitlines()[-1] == "[]", listed.stdout


def test_a_public_test_key_is_refused_off_a_local_devnet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An anvil posing as Sepolia (chain id 11155111) on loopback: `deploy` with its default
    signer test:0, or an explicit test:N, is refused in one sentence before anything is
    signed; nothing is deployed."""
    import shutil
    import time

    import httpx

    _no_public_rpc(monkeypatch)
    monkeypatch.setenv("ZKPOT_DEPLOYMENTS_DIR", str(tmp_path))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    anvil = shutil.which("anvil")
    assert anvil is not None
    node = subprocess.Popen([anvil, "--host", "127.0.0.1", "--port", str(port),
                             "--chain-id", "11155111"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                      "params": []}, timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        for extra in ([], ["--account", "test:3"]):
            result = invoke("deploy", "--network", url, *extra)
            assert_one_sentence(result, "public test key", "refused on chain 11155111",
                                "--account")
        assert not list(tmp_path.iterdir())
        nonce = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",
                                      "params": []}, timeout=5.0).json()["result"]
        assert int(nonce, 16) == 0  # not a single transaction was mined
    finally:
        node.terminate()
        node.wait(timeout=10)


def test_deploy_to_a_node_that_does_not_answer_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_public_rpc(monkeypatch)
    url = f"http://127.0.0.1:{free_port()}"
    assert_one_sentence(invoke("deploy", "--network", url), "Cannot connect", url)


# -- reverted transactions --------------------------------------------------------------------


def _select_too_early(world: World, task_id: int, *flags: str) -> subprocess.CompletedProcess[str]:
    """`round select` before the round's deadlines (the contract reverts SubmitPhaseNotOver).

    Run as its own process: ape prints call traces to the process's stdout, which an
    in-process runner does not capture.
    """
    zkpot = str(Path(sys.executable).parent / "zkpot")
    return subprocess.run(
        [zkpot, *flags, "round", "select", "--task", str(task_id), "--round", "0"]
        + ["--contract", world.session.client.address]
        + ["--ipfs-url", world.ipfs.config.ipfs_api_url],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_reverted_transaction_is_one_sentence_without_a_call_trace(
    world: World, open_round: tuple[int, int]
) -> None:
    task_id, _ = open_round
    result = _select_too_early(world, task_id)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: The contract rejected selectLeader: SubmitPhaseNotOver; wait for the submit "
        "(or unrevealed: reveal) deadline."
    ]


def test_verbose_adds_the_call_trace_and_the_traceback(
    world: World, open_round: tuple[int, int]
) -> None:
    task_id, _ = open_round
    result = _select_too_early(world, task_id, "--verbose")
    assert result.returncode == 1
    assert "Call trace" in result.stdout and "ZKPoT.selectLeader" in result.stdout
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: The contract rejected")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--backend", "ezkl", "--aggregation-slots", "4"], "needs the groth16 backend"),
        (["--backend", "groth16", "--policy", "leader-model", "--aggregation-slots", "2"],
         "needs the groth16 backend and the fedavg policy"),
        (["--backend", "groth16", "--aggregation-slots", "99"], "out of range"),
    ],
)
def test_an_aggregation_the_task_cannot_prove_is_refused_before_any_work(
    args: list[str], fragment: str, world: World
) -> None:
    result = invoke("task", "create", *args, world=world)
    assert_one_sentence(result, fragment)
    assert_no_call_trace(result)


# -- unknown tasks and rounds: one sentence naming them, never raw revert bytes -------------


@pytest.mark.parametrize(
    ("command", "where"),
    [
        (["join"], "task"),
        (["commit", "--round", "0"], "task"),
        (["train", "--round", "0"], "task"),
        (["train", "--round", "5"], "round"),
        (["commit", "--round", "5"], "round"),
        (["prove", "--round", "5"], "round"),
        (["status"], "task"),
    ],
)
def test_an_unknown_task_or_round_is_named_in_one_sentence(
    command: list[str], where: str, world: World, open_round: tuple[int, int]
) -> None:
    task_id, _ = open_round
    missing = 9 if where == "task" else task_id
    args = [*command, "--task", str(missing)]
    if command[0] != "status":
        args += ["--name", "stranger", "--account", "test:7"]
    result = invoke(*args, world=world)
    assert_one_sentence(result)
    line = result.stderr.strip()
    assert "0x" not in line and "run train first" not in line, line
    if where == "task":
        assert "Task 9 does not exist" in line, line
    else:
        assert "Round 5" in line and "does not exist" in line, line


def test_status_shows_the_deadline_of_the_current_phase(
    world: World, open_round: tuple[int, int]
) -> None:
    """The round is open (nobody reveals in this module): its line names the commit deadline;
    the JSON carries every deadline, the hand-off one zero until a leader is selected."""
    import json

    task_id, round_no = open_round
    info = world.session.client.round(task_id, round_no)
    result = invoke("status", "--task", str(task_id), world=world)
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith(f"round {round_no}:"))
    assert line.strip().startswith(f"round {round_no}: open / "), line
    assert "; commit until " in line and line.endswith(" UTC"), line
    payload = invoke("status", "--task", str(task_id), "--json", world=world)
    assert payload.exit_code == 0, payload.stderr
    [shown] = [r for r in json.loads(payload.stdout)["rounds"] if r["round"] == round_no]
    assert shown["deadlines"]["commit"] == info.commit_deadline
    assert shown["deadlines"]["hand_off"] == 0
