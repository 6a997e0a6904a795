"""Transactions on a chain that does not mine at once: tracked by hash, never resent blindly.

Real anvil (mining switched to manual or to an interval for the test and back to automine
after), real contract, real participants. A process "dies" by an exception raised right
after its transaction was broadcast (``SimulatedCrash``): a process cannot be killed at
that exact point from inside pytest. Reorgs are anvil's own (``anvil_reorg``), injected
the moment a role first sees its transaction's receipt, so that the reorg lands inside
the confirmation window every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from zkpot.chain import RoundStatus
from zkpot.chain import transactions as txs
from zkpot.data import PartitionConfig, partition
from zkpot.errors import ChainError
from zkpot.roles import publisher as pub
from zkpot.roles.leader import aggregate_and_publish
from zkpot.roles.participant import Participant, TrainingConfig, task_key
from zkpot.state import Step

from .conftest import World, advance_to, tiny_options

pytestmark = pytest.mark.slow


class SimulatedCrash(Exception):
    """Stands for the process dying at this point."""


def _rpc(method: str, params: list[Any]) -> Any:
    from ape import chain

    reply = chain.provider.web3.provider.make_request(method, params)
    assert "error" not in reply, reply
    return reply.get("result")


def _nonce(address: str) -> int:
    from ape import chain

    return int(chain.provider.web3.eth.get_transaction_count(address, "latest"))


@contextmanager
def mining(mode: str) -> Iterator[None]:
    """``manual`` (no automine) or ``interval`` (a block a second); automine again after."""
    if mode == "manual":
        _rpc("evm_setAutomine", [False])
    else:
        _rpc("evm_setIntervalMining", [1])
    try:
        yield
    finally:
        _rpc("evm_setIntervalMining", [0])
        _rpc("evm_setAutomine", [True])


@contextmanager
def policy(world: World, **changes: Any) -> Iterator[None]:
    client = world.session.client
    saved = client.tx_policy
    client.tx_policy = replace(saved, **changes)
    try:
        yield
    finally:
        client.tx_policy = saved


def mine_later(seconds: float, blocks: int = 1) -> threading.Timer:
    """Mine ``blocks`` blocks after ``seconds`` from another thread (its own connection)."""
    from ape import chain
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(chain.provider.uri))
    timer = threading.Timer(
        seconds, lambda: [w3.provider.make_request("evm_mine", []) for _ in range(blocks)]
    )
    timer.start()
    return timer


@contextmanager
def crash_after_broadcast() -> Iterator[None]:
    real: Callable[..., None] = txs._broadcast

    def broadcast_then_die(*args: Any) -> None:
        real(*args)
        raise SimulatedCrash("after broadcast")

    txs._broadcast = broadcast_then_die  # type: ignore[assignment]
    try:
        yield
    finally:
        txs._broadcast = real  # type: ignore[assignment]


@pytest.fixture(scope="module")
def trained(world: World) -> tuple[int, int, list[str]]:
    """A task and round with five participants trained and not yet committed."""
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    parts = partition(world.train, PartitionConfig(participants=5, seed=11))
    names = []
    for i in range(len(parts)):
        person = Participant(session, accounts.test_accounts[i + 1], f"tx-p{i}")
        person.join(task_id)
        names.append(person.name)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    for i, data in enumerate(parts):
        Participant(session, accounts.test_accounts[i + 1], names[i]).train(
            task_id, round_, data, TrainingConfig(epochs=2, seed=i)
        )
    return task_id, round_, names


def _person(world: World, trained: tuple[int, int, list[str]], i: int) -> Participant:
    from ape import accounts

    return Participant(world.session, accounts.test_accounts[i + 1], trained[2][i])


def _journal(person: Participant, task_id: int, round_: int, action: str) -> list[txs.SentTx]:
    return person.state.journal(task_key(person.session, task_id), round_, action).sent()


def test_a_commit_pending_when_the_process_died_is_waited_for_not_resent(
    world: World, trained: tuple[int, int, list[str]]
) -> None:
    task_id, round_, _ = trained
    person = _person(world, trained, 0)
    before = _nonce(person.address)
    with mining("manual"):
        with crash_after_broadcast(), pytest.raises(SimulatedCrash):
            person.commit(task_id, round_)
        recorded = _journal(person, task_id, round_, "commit")
        assert len(recorded) == 1 and _nonce(person.address) == before
        timer = mine_later(1.0)
        record = _person(world, trained, 0).commit(task_id, round_)
        timer.join()
    assert _journal(person, task_id, round_, "commit") == recorded  # nothing new was signed
    assert record.step == Step.COMMITTED and record.commit_tx == recorded[0].hash
    assert _nonce(person.address) == before + 1


def test_a_recorded_commit_the_node_dropped_is_broadcast_again_byte_for_byte(
    world: World, trained: tuple[int, int, list[str]]
) -> None:
    task_id, round_, _ = trained
    person = _person(world, trained, 1)
    before = _nonce(person.address)
    with mining("manual"):
        with crash_after_broadcast(), pytest.raises(SimulatedCrash):
            person.commit(task_id, round_)
        (recorded,) = _journal(person, task_id, round_, "commit")
        _rpc("anvil_dropTransaction", [recorded.hash])
        assert _rpc("eth_getTransactionByHash", [recorded.hash]) is None
    record = _person(world, trained, 1).commit(task_id, round_)
    assert _journal(person, task_id, round_, "commit") == [recorded]
    assert record.commit_tx == recorded.hash and _nonce(person.address) == before + 1
    on_chain = world.session.client.submission(task_id, round_, person.address).commitment
    assert "0x" + on_chain.hex() == record.commitment


def test_a_stuck_commit_is_replaced_with_higher_fees_but_never_above_the_cap(
    world: World, trained: tuple[int, int, list[str]]
) -> None:
    from ape import chain

    task_id, round_, _ = trained
    person = _person(world, trained, 2)
    before = _nonce(person.address)
    # Just above what the network asks now (the latest block's base fee and the tip): the
    # transaction fits, a replacement (fees x9/8) does not.
    latest = int(chain.provider.get_block("latest").base_fee)
    cap = latest + int(chain.provider.priority_fee) + 1_000
    with mining("manual"):
        with policy(world, max_fee_wei=cap, replace_after_s=0.3), pytest.raises(
            ChainError
        ) as refused:
            person.commit(task_id, round_)
        sentence = refused.value.sentence()
        assert "stuck" in sentence and "above your cap" in sentence and "\n" not in sentence
        assert len(_journal(person, task_id, round_, "commit")) == 1
        stored = person.state.get_round(task_key(person.session, task_id), round_)
        assert stored is not None and stored.step == Step.TRAINED  # kept, resumable
        with policy(world, max_fee_wei=cap * 4, replace_after_s=1.0):
            timer = mine_later(2.5)
            record = _person(world, trained, 2).commit(task_id, round_)
            timer.join()
    sent = _journal(person, task_id, round_, "commit")
    # One replacement a second until the block came: same nonce, new hash, fees x9/8 each.
    assert len(sent) >= 2 and len({tx.hash for tx in sent}) == len(sent)
    assert {tx.nonce for tx in sent} == {sent[0].nonce}
    # The record names the transaction the block took: the newest replacement, or the one
    # before it when the block came while one more was being signed (seen under load).
    assert record.commit_tx in [tx.hash for tx in sent[1:]]
    assert _nonce(person.address) == before + 1
    mined = chain.provider.web3.eth.get_transaction(record.commit_tx)
    assert mined["blockNumber"] is not None
    assert cap < int(mined["maxFeePerGas"]) <= cap * 4


def test_the_network_asking_more_than_the_cap_sends_nothing(
    world: World, trained: tuple[int, int, list[str]]
) -> None:
    task_id, round_, _ = trained
    person = _person(world, trained, 3)
    before = _nonce(person.address)
    with policy(world, max_fee_wei=1), pytest.raises(ChainError) as refused:
        person.commit(task_id, round_)
    assert "nothing was sent" in refused.value.sentence()
    assert _journal(person, task_id, round_, "commit") == []
    assert _nonce(person.address) == before


def test_a_step_counts_as_done_only_after_its_confirmations(
    world: World, trained: tuple[int, int, list[str]]
) -> None:
    from ape import chain

    task_id, round_, _ = trained
    person = _person(world, trained, 4)
    with policy(world, confirmations=3):
        timer = mine_later(1.0, blocks=2)
        record = person.commit(task_id, round_)
        timer.join()
    assert record.commit_tx is not None
    receipt = chain.provider.web3.eth.get_transaction_receipt(record.commit_tx)
    assert int(chain.provider.web3.eth.block_number) - int(receipt["blockNumber"]) + 1 >= 3


def test_reorgs_dropping_a_submission_a_hand_off_and_a_publication_are_survived(
    world: World,
) -> None:
    """Each of the three is reorged out right after it is first seen mined; each role
    broadcasts the same signed transaction again and the round finalises."""
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(backend="groth16"), world.pool)
    parts = partition(world.train, PartitionConfig(participants=2, seed=12))
    people = [Participant(session, accounts.test_accounts[i + 6], f"reorg-p{i}") for i in range(2)]
    for person in people:
        person.join(task_id)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    for person, data in zip(people, parts, strict=True):
        person.train(task_id, round_, data, TrainingConfig(epochs=10, seed=3))
        person.commit(task_id, round_)
    advance_to(session.client.round(task_id, round_).commit_deadline)
    pub.reveal(session, publisher, task_id, round_, world.pool)
    for person in people:
        person.prove(task_id, round_)

    targets = {"submit", "handOffModel", "publishGlobalModel"}
    reorged: dict[str, str] = {}
    current = {"action": ""}
    real_settle, real_receipt = txs.settle, txs._canonical_receipt

    def settle(action: str, *args: Any) -> Any:
        current["action"] = action
        return real_settle(action, *args)

    def receipt(w3: Any, tx_hash: str) -> Any:
        found = real_receipt(w3, tx_hash)
        action = current["action"]
        if found is not None and action in targets and action not in reorged:
            reorged[action] = tx_hash
            depth = int(w3.eth.block_number) - int(found["blockNumber"]) + 1
            w3.provider.make_request("anvil_reorg", [depth, []])
            gone = real_receipt(w3, tx_hash)
            assert gone is None, f"the reorg kept {action}"
            return gone
        return found

    txs.settle, txs._canonical_receipt = settle, receipt  # type: ignore[assignment]
    try:
        with policy(world, confirmations=2), mining("interval"):
            people[0].submit(task_id, round_)
            people[1].submit(task_id, round_)
            advance_to(session.client.round(task_id, round_).submit_deadline)
            leader_address = session.client.select_leader(task_id, round_, sender=publisher)
            leader = next(p for p in people if p.address == leader_address)
            other = next(p for p in people if p is not leader)
            handed = other.send_model(task_id, round_)
            aggregate_and_publish(leader, task_id, round_)
            session.client.finalise(task_id, round_, sender=publisher)
    finally:
        txs.settle, txs._canonical_receipt = real_settle, real_receipt  # type: ignore[assignment]

    assert set(reorged) == targets  # each was really dropped once
    info = session.client.round(task_id, round_)
    assert info.status == RoundStatus.FINALISED
    for person in people:
        assert session.client.submission(task_id, round_, person.address).verified
        assert len(_journal(person, task_id, round_, "submit")) == 1  # same bytes again
    assert handed.handoff_tx == reorged["handOffModel"]
    assert session.client.submission(task_id, round_, other.address).encrypted_model_cid
