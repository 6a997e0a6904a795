"""A round on a rehearsal chain: anvil mines on an interval, and nobody moves its clock.

Every other flow test runs on an automining anvil whose clock the test moves, so a
transaction is mined the instant it is sent and a deadline passes when the test says.
A real network does neither. Here a second anvil mines one block a second
(``ZKPOT_ANVIL_BLOCK_TIME``), it is reached the way a testnet is
(``http://127.0.0.1:PORT``: ape's generic node provider, which waits for receipts; its
``local`` network assumes a chain that mines on demand and hands back a receipt for a
transaction still in the pool), phases last tens of seconds of wall-clock time, and the
roles run exactly as they do elsewhere. The round must finalise with every transaction
sent exactly once (each account's nonce counts what it sent).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zkpot import services
from zkpot.chain import ZKPoTClient
from zkpot.chain.transactions import TxPolicy
from zkpot.data import PartitionConfig, partition
from zkpot.roles import publisher as pub
from zkpot.roles.common import Session
from zkpot.roles.leader import aggregate_and_publish
from zkpot.roles.participant import Participant, TrainingConfig, task_key

from .conftest import World, tiny_options

pytestmark = pytest.mark.slow

BLOCK_TIME = 1
"""Seconds between the rehearsal chain's blocks."""


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Session]:
    """An interval-mining anvil of this module's own, connected as a real network is."""
    from ape import accounts, networks

    config = services.ServicesConfig(
        anvil_port=services.free_ports(),
        anvil_block_time=BLOCK_TIME,
        run_dir=Path(tmp_path_factory.mktemp("rehearsal-run")),
    )
    anvil = services.Anvil(config)
    anvil.start()
    try:
        with networks.parse_network_choice(config.rpc_url):
            # Set-up only: the contracts (some 27 transactions, a block each) go in with
            # automining, then the chain mines on its interval again before the round.
            anvil.rpc("evm_setAutomine", True)
            client = ZKPoTClient.deploy(accounts.test_accounts[0])
            anvil.rpc("evm_setIntervalMining", BLOCK_TIME)
            # As a testnet user would: a step counts once a block is on top of its own.
            client.tx_policy = TxPolicy(confirmations=2)
            yield Session(client=client, storage=world.session.storage,
                          zk_dir=world.session.zk_dir)
    finally:
        anvil.stop()


def _wait_past(deadline: int, limit: float = 300.0) -> None:
    """Wait on the wall clock until a mined block's timestamp reaches ``deadline``."""
    from ape import chain

    give_up = time.monotonic() + limit
    while chain.blocks.head.timestamp < deadline:
        if time.monotonic() > give_up:
            raise AssertionError(f"the chain never reached timestamp {deadline}")
        time.sleep(0.5)
    # The next transaction lands in a later block, so at or after the deadline.


def _nonce(address: str) -> int:
    from ape import chain

    return int(chain.provider.get_nonce(address))


def test_a_round_finalises_on_an_interval_mining_chain_sending_each_transaction_once(
    world: World, rehearsal: Session
) -> None:
    from ape import accounts, chain

    session = rehearsal
    publisher = accounts.test_accounts[0]
    people = [
        Participant(session, accounts.test_accounts[i + 5], f"rehearsal-p{i}") for i in range(2)
    ]
    before = {p.address: _nonce(p.address) for p in people}
    options = tiny_options(
        commit_duration=40, reveal_duration=30, submit_duration=60, aggregate_duration=120
    )
    task_id = pub.create_task(session, publisher, options, world.pool)
    start = chain.blocks.head.number
    pub.open_round(session, publisher, task_id, world.pool)
    parts = partition(world.train, PartitionConfig(participants=2, seed=5))
    for person, data in zip(people, parts, strict=True):
        person.join(task_id)
        person.train(task_id, 0, data, TrainingConfig(epochs=10, seed=0))
        person.commit(task_id, 0)
    _wait_past(session.client.round(task_id, 0).commit_deadline)
    pub.reveal(session, publisher, task_id, 0, world.pool)
    for person in people:
        person.prove(task_id, 0)
        person.submit(task_id, 0)
    _wait_past(session.client.round(task_id, 0).submit_deadline)
    leader = session.client.select_leader(task_id, 0, sender=publisher)
    assert leader is not None
    [other] = [p for p in people if p.address != leader]
    other.send_model(task_id, 0)
    aggregate_and_publish(next(p for p in people if p.address == leader), task_id, 0)
    block_hash = session.client.finalise(task_id, 0, sender=publisher)

    # Blocks really were mined on the interval, not one per transaction on demand.
    assert chain.blocks.head.number - start >= 40 // BLOCK_TIME
    assert chain.provider.make_request("anvil_getAutomine", []) is False
    [header] = session.client.blocks(task_id)
    assert header.hash() == block_hash and header.leader == leader
    for person in people:
        assert session.client.submission(task_id, 0, person.address).verified
    # join, commit, submit for both; the one that is not the leader also hands off; the
    # leader publishes (and proves its aggregation where the task requires it). Nothing
    # was sent twice: a resent transaction would show as an extra nonce.
    sent = {p.address: _nonce(p.address) - before[p.address] for p in people}
    assert sent[other.address] == 4
    assert sent[leader] in (4, 5)
    # The local records name the mined transactions, each confirmed by a later block.
    for person in people:
        record = person.state.get_round(task_key(session, task_id), 0)
        assert record is not None
        for tx_hash in (record.commit_tx, record.submit_tx):
            receipt = chain.provider.web3.eth.get_transaction_receipt(tx_hash)
            assert int(receipt["status"]) == 1
            assert chain.blocks.head.number > int(receipt["blockNumber"])
