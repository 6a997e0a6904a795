"""The RPC node stops answering mid-command: one sentence, nothing lost, nothing sent twice.

Every role runs the real ``zkpot`` CLI with ``--network http://127.0.0.1:PORT``, where the
port is a loopback proxy the test controls (``tests/netproxy.py``) in front of the
session's anvil. Each command is cut at its own point: on the transaction it sends, after
the node accepted it but before the reply arrived (the case that tempts a client to send
again), or before it reached the node. The command must print one sentence naming the
node and what to do, exit non-zero and keep its local state; once the link is restored
the same command, run again, completes without sending anything twice (each account's
nonce counts what it sent; the contract holds one commitment, one submission).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netproxy import Call, NetProxy
from zkpot import services
from zkpot.data import PartitionConfig, partition
from zkpot.roles import publisher as pub
from zkpot.roles.participant import Participant, TrainingConfig, task_key
from zkpot.state import Step

from .conftest import World, advance_to, tiny_options

pytestmark = pytest.mark.slow

SEND = "eth_sendRawTransaction"
TIMINGS: dict[str, float] = {}
"""Seconds each CLI run took (printed at the end of the module with ``-s``)."""


@pytest.fixture(scope="module")
def proxy() -> Iterator[NetProxy]:
    """A proxy in front of the session's anvil, stopped at the end of the module."""
    link = NetProxy(services.ServicesConfig().anvil_port).start()
    try:
        yield link
    finally:
        link.stop()
        if TIMINGS:
            print("\nCLI runs through the proxy (s):")
            for what, seconds in TIMINGS.items():
                print(f"  {what}: {seconds:.1f}")


@dataclass
class Cli:
    """The ``zkpot`` CLI of one role, reaching the chain through the proxy."""

    world: World
    proxy: NetProxy
    zk_dir: Path

    def run(
        self, *args: str, label: str = "", network: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(Path(sys.executable).parent / "zkpot"), *args,
                "--network", network or self.proxy.url,
                "--contract", self.world.session.client.address,
                "--ipfs-url", self.world.ipfs.config.ipfs_api_url]
        env = dict(os.environ, ZKPOT_ZK_DIR=str(self.zk_dir))
        started = time.monotonic()
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        TIMINGS[label or " ".join(args[:2])] = time.monotonic() - started
        return result

    def ok(self, *args: str, label: str = "") -> str:
        result = self.run(*args, label=label)
        assert result.returncode == 0, f"zkpot {' '.join(args)}:\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def cut(self, *args: str, label: str = "") -> str:
        """Run a command the proxy cuts: one sentence naming the node, non-zero exit."""
        cuts = self.proxy.cuts
        result = self.run(*args, label=label)
        assert self.proxy.cuts > cuts, f"the proxy never cut zkpot {' '.join(args)}"
        assert result.returncode == 75, result.stdout  # EX_TEMPFAIL: try again later
        assert "Traceback" not in result.stderr, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, result.stderr
        [sentence] = errors
        assert self.proxy.url in sentence and "stopped answering" in sentence, sentence
        assert "run the same command again" in sentence, sentence
        return sentence


@pytest.fixture
def cli(world: World, proxy: NetProxy, shared_zk_dir: Path) -> Iterator[Cli]:
    proxy.restore()
    proxy.cuts = 0
    yield Cli(world, proxy, shared_zk_dir)
    proxy.restore()


def _check_of(address: str) -> Callable[[Call], bool]:
    """Matches a transaction from ``address`` being checked before it is signed.

    (ape's gas estimate, then the ``eth_call`` the client runs it as: both carry ``from``.)
    """

    def match(call: Call) -> bool:
        params = call.get("params") or [{}]
        return (call.get("method") in ("eth_call", "eth_estimateGas")
                and isinstance(params[0], dict)
                and str(params[0].get("from", "")).lower() == address.lower())

    return match


def _nonce(address: str) -> int:
    from ape import chain

    return int(chain.provider.get_nonce(address))


def test_a_lost_node_is_one_sentence_for_reads_and_sends_and_a_blip_is_ridden_over(
    world: World, proxy: NetProxy,
) -> None:
    from ape import accounts, chain

    from zkpot.chain import ZKPoTClient, connect
    from zkpot.chain.rpc import RpcUnavailable

    proxy.restore()
    sender, receiver = accounts.test_accounts[8], accounts.test_accounts[9]
    with connect(proxy.url) as provider:
        # A read cut and back a few seconds later (past web3's own retries) succeeds.
        cuts = proxy.cuts
        proxy.cut_on("eth_getBalance", restore_after=3.0)
        assert provider.get_balance(receiver.address) > 0
        assert proxy.cuts == cuts + 1
        # A read whose node stays away: the sentence names the node and says what to do.
        proxy.cut_on("eth_getBalance")
        with pytest.raises(RpcUnavailable) as lost:
            provider.get_balance(receiver.address)
        assert lost.value.method == "eth_getBalance"
        sentence = lost.value.sentence()
        assert proxy.url in sentence and "run the same command again" in sentence
        proxy.restore()
        # Cut after the next request, whatever it is: its reply never comes.
        proxy.cut_after(1)
        with pytest.raises(RpcUnavailable):
            provider.get_balance(receiver.address)
        proxy.restore()
        # A transaction the node took whose reply was lost: reported, sent once.
        nonce = provider.get_nonce(sender.address)
        proxy.cut_on(SEND, after_reply=True)
        with pytest.raises(RpcUnavailable) as lost:
            sender.transfer(receiver, 1)
        assert "while a transaction was being sent" in lost.value.sentence()
        proxy.restore()
        # The node took it; under load its block can come a moment after the reply.
        give_up = time.monotonic() + 10
        while provider.get_nonce(sender.address) == nonce and time.monotonic() < give_up:
            time.sleep(0.1)
        assert provider.get_nonce(sender.address) == nonce + 1
        # Lost while a contract transaction is checked (gas estimate or the call before
        # signing): ape wraps the fault in its own error; the client hands on the sentence.
        client = ZKPoTClient.at(world.session.client.address)
        proxy.cut_on(_check_of(sender.address))
        with pytest.raises(RpcUnavailable):
            client.finalise(0, 0, sender=sender)
        proxy.restore()
    assert chain.provider.get_nonce(sender.address) == nonce + 1


def test_every_phase_cut_mid_command_resumes_without_sending_twice(
    world: World, proxy: NetProxy, cli: Cli
) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    task = ("--task", str(task_id))
    names = ("faults-a", "faults-b")
    people = [Participant(session, accounts.test_accounts[7 + i], name)
              for i, name in enumerate(names)]
    for person in people:
        person.join(task_id)
    joined = {p.address: _nonce(p.address) for p in people}

    # Publisher: round open. The node opens the round; its reply is lost.
    sent = _nonce(publisher.address)
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("round", "open", *task, label="round open (cut)"))
    proxy.restore()
    print(cli.ok("round", "open", *task, label="round open (again)"))
    assert _nonce(publisher.address) == sent + 1
    assert session.client.task_state(task_id).round_count == 1
    round_ = ("--round", "0")

    parts = partition(world.train, PartitionConfig(participants=2, seed=5))
    for person, data in zip(people, parts, strict=True):
        person.train(task_id, 0, data, TrainingConfig(epochs=10, seed=0))

    # Participant commit: one reply lost after the node took it, one cut before it was sent.
    key = task_key(session, task_id)
    for person, accepted in zip(people, (True, False), strict=True):
        me = ("--name", person.name, "--account", f"test:{7 + people.index(person)}")
        before = person.state.get_round(key, 0)
        assert before is not None and before.step == Step.TRAINED
        sent = _nonce(person.address)
        proxy.cut_on(SEND, after_reply=accepted)
        print(cli.cut("commit", *me, *task, *round_, label=f"commit {accepted} (cut)"))
        after = person.state.get_round(key, 0)
        assert after is not None and after.step == Step.TRAINED
        assert (after.salt, after.model_path) == (before.salt, before.model_path)
        assert _nonce(person.address) == sent + (1 if accepted else 0)
        proxy.restore()
        print(cli.ok("commit", *me, *task, *round_, label=f"commit {accepted} (again)"))
        assert _nonce(person.address) == sent + 1
        record = person.state.get_round(key, 0)
        assert record is not None and record.step == Step.COMMITTED
        on_chain = session.client.submission(task_id, 0, person.address).commitment
        assert "0x" + on_chain.hex() == record.commitment

    advance_to(session.client.round(task_id, 0).commit_deadline)

    # Publisher: reveal. The node takes the reveal; its reply is lost.
    sent = _nonce(publisher.address)
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("round", "reveal", *task, *round_, label="round reveal (cut)"))
    proxy.restore()
    print(cli.ok("round", "reveal", *task, *round_, label="round reveal (again)"))
    assert _nonce(publisher.address) == sent + 1

    # Participant submit (the first cut after the node took it, the second before).
    for person, accepted in zip(people, (True, False), strict=True):
        me = ("--name", person.name, "--account", f"test:{7 + people.index(person)}")
        person.prove(task_id, 0)
        before = person.state.get_round(key, 0)
        assert before is not None and before.step == Step.PROVED
        sent = _nonce(person.address)
        proxy.cut_on(SEND, after_reply=accepted)
        print(cli.cut("submit", *me, *task, *round_, label=f"submit {accepted} (cut)"))
        after = person.state.get_round(key, 0)
        assert after is not None and after.step == Step.PROVED
        assert after.proof_paths == before.proof_paths and after.salt == before.salt
        proxy.restore()
        print(cli.ok("submit", *me, *task, *round_, label=f"submit {accepted} (again)"))
        assert _nonce(person.address) == sent + 1
        assert session.client.submission(task_id, 0, person.address).verified

    advance_to(session.client.round(task_id, 0).submit_deadline)

    # Keeper: select the leader (anyone may send it; here test:3).
    keeper = accounts.test_accounts[3]
    keeper_flags = ("--account", "test:3")
    sent = _nonce(keeper.address)
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("round", "select", *keeper_flags, *task, *round_, label="round select (cut)"))
    proxy.restore()
    print(cli.ok("round", "select", *keeper_flags, *task, *round_,
                 label="round select (again)"))
    assert _nonce(keeper.address) == sent + 1
    leader_address = session.client.round(task_id, 0).leader
    leader = next(p for p in people if p.address == leader_address)
    [other] = [p for p in people if p is not leader]

    # The other participant hands its model off; the node takes it, the reply is lost.
    me = ("--name", other.name, "--account", f"test:{7 + people.index(other)}")
    sent = _nonce(other.address)
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("send-model", *me, *task, *round_, label="send-model (cut)"))
    proxy.restore()
    print(cli.ok("send-model", *me, *task, *round_, label="send-model (again)"))
    assert _nonce(other.address) == sent + 1
    assert session.client.submission(task_id, 0, other.address).handoff_leader == leader.address

    # The leader aggregates and publishes; cut after its first transaction was taken.
    me = ("--name", leader.name, "--account", f"test:{7 + people.index(leader)}")
    sent = _nonce(leader.address)
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("aggregate", *me, *task, *round_, label="aggregate (cut)"))
    proxy.restore()
    print(cli.ok("aggregate", *me, *task, *round_, label="aggregate (again)"))
    published = _nonce(leader.address) - sent
    assert session.client.round(task_id, 0).new_model_cid

    # Keeper: finalise, cut first while its transaction is checked (the eth_call before
    # signing: nothing sent), then once the node took it.
    sent = _nonce(keeper.address)
    proxy.cut_on(_check_of(keeper.address))
    print(cli.cut("round", "finalise", *keeper_flags, *task, *round_,
                  label="round finalise (cut at its check)"))
    assert _nonce(keeper.address) == sent
    proxy.restore()
    proxy.cut_on(SEND, after_reply=True)
    print(cli.cut("round", "finalise", *keeper_flags, *task, *round_,
                  label="round finalise (cut)"))
    proxy.restore()
    print(cli.ok("round", "finalise", *keeper_flags, *task, *round_,
                 label="round finalise (again)"))
    assert _nonce(keeper.address) == sent + 1
    [header] = session.client.blocks(task_id)
    assert header.leader == leader.address

    # Nothing was sent twice over the whole round: join, commit, submit each; the other
    # also handed off; the leader published (each transaction of aggregate once).
    assert _nonce(other.address) == joined[other.address] + 3
    assert _nonce(leader.address) == joined[leader.address] + 2 + published
    assert 1 <= published <= 3

    # A bounded log read (windows of one block here): the link cut at the second window and
    # back a few seconds later (longer than web3's own retries) is ridden over; a cut that
    # lasts is one sentence naming the node.
    from zkpot.chain import ZKPoTClient, connect
    from zkpot.chain.rpc import RpcUnavailable

    opened = session.client.round_opened_block(task_id, 0)
    topics = {"taskId": task_id, "round": 0}
    direct = session.client.logs(session.client.contract.SubmissionVerified, opened, topics,
                                 span=1)
    assert len(direct) == 2
    cuts = proxy.cuts
    with connect(proxy.url):
        through = ZKPoTClient.at(session.client.address)
        event = through.contract.SubmissionVerified
        proxy.cut_on("eth_getLogs", count=2, restore_after=3.0)
        read = through.logs(event, opened, topics, span=1)
        assert proxy.cuts == cuts + 1
        assert [(str(e.transaction_hash), e.log_index) for e in read] == [
            (str(e.transaction_hash), e.log_index) for e in direct]
        proxy.cut_on("eth_getLogs", count=2)
        with pytest.raises(RpcUnavailable) as lost:
            through.logs(event, opened, topics, span=1)
        assert proxy.url in lost.value.sentence()
        proxy.restore()
    proxy.cut_on("eth_getLogs")
    print(cli.cut("status", *task, "--json", label="status (cut on eth_getLogs)"))
    proxy.restore()
    through_proxy = cli.ok("status", *task, "--json", label="status (through the proxy)")
    direct_url = services.ServicesConfig().rpc_url
    plain = cli.run("status", *task, "--json", label="status (direct)", network=direct_url)
    assert plain.returncode == 0 and plain.stdout == through_proxy
