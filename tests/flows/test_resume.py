"""A participant killed at each step resumes where it stopped, and IPFS outages are survivable.

The crashes are injected (``SimulatedCrash`` raised right after a step's external
effect, before the local record): a process cannot be killed at that exact point
from inside pytest. Each resume uses a fresh ``Participant`` over the same SQLite
file, as a restarted process would. (The store itself is also SIGKILL-tested in
``tests/fl/test_state.py``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from zkpot.data import LabelFlipConfig, PartitionConfig, flip_labels, partition
from zkpot.errors import StorageError
from zkpot.proving.ezkl import EzklCircuit
from zkpot.roles import participant as participant_module
from zkpot.roles import publisher as pub
from zkpot.roles.participant import Participant, TrainingConfig
from zkpot.state import Step

from .conftest import World, advance_to, tiny_options

pytestmark = pytest.mark.slow

WORLD_OWN_IPFS = True
"""The world's IPFS node is this module's own: a test stops and restarts the node."""


class SimulatedCrash(Exception):
    """Stands for the process dying at this point."""


@contextmanager
def crash_after(target: Any, name: str, calls: int = 1) -> Iterator[None]:
    """Let ``target.name`` run for real ``calls`` times, then raise on the way out."""
    real: Callable[..., Any] = getattr(target, name)
    count = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        count["n"] += 1
        if count["n"] >= calls:
            raise SimulatedCrash(name)
        return result

    setattr(target, name, wrapper)
    try:
        yield
    finally:
        setattr(target, name, real)


def test_participant_resumes_after_a_crash_at_every_step(world: World) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    parts = partition(world.train, PartitionConfig(participants=2, seed=3))
    honest = Participant(session, accounts.test_accounts[4], "resume-honest")
    account = accounts.test_accounts[5]
    # Half its labels flipped: weak, so never the leader, yet trained enough to stay above
    # zero strict wins (a zero count is never admitted).
    data = flip_labels(parts[1], LabelFlipConfig(fraction=0.5))
    training = TrainingConfig(epochs=10, seed=7)

    def fresh() -> Participant:
        return Participant(session, account, "resume-crashy")

    for person in (honest, fresh()):
        person.join(task_id)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    honest.train(task_id, round_, parts[0], training)
    honest.commit(task_id, round_)
    salt = fresh().state.start_round(participant_module.task_key(session, task_id), round_).salt

    # train: the model file is written, then the process dies before recording it.
    crashy = fresh()

    def die(*args: Any, **kwargs: Any) -> Any:
        raise SimulatedCrash("mark_trained")

    crashy.state.mark_trained = die  # type: ignore[method-assign]
    with pytest.raises(SimulatedCrash):
        crashy.train(task_id, round_, data, training)
    key = participant_module.task_key(session, task_id)
    stored = fresh().state.get_round(key, round_)
    assert stored is not None and stored.step == Step.STARTED
    record = fresh().train(task_id, round_, data, training)
    assert record.step == Step.TRAINED and record.salt == salt

    # commit: the transaction is mined, then the process dies.
    nonce = account.nonce
    crashy = fresh()
    with crash_after(session.client, "commit"), pytest.raises(SimulatedCrash):
        crashy.commit(task_id, round_)
    assert account.nonce == nonce + 1
    record = fresh().commit(task_id, round_)
    assert account.nonce == nonce + 1  # not sent twice
    assert record.step == Step.COMMITTED and record.salt == salt
    on_chain = session.client.submission(task_id, round_, account.address).commitment
    assert "0x" + on_chain.hex() == record.commitment

    advance_to(session.client.round(task_id, round_).commit_deadline)
    pub.reveal(session, publisher, task_id, round_, world.pool)

    # prove: dies after the first of two chunk proofs.
    crashy = fresh()
    with crash_after(EzklCircuit, "prove"), pytest.raises(SimulatedCrash):
        crashy.prove(task_id, round_)
    record = fresh().prove(task_id, round_)
    assert record.step == Step.PROVED and len(record.proof_paths) == 2

    # submit: mined, then dies.
    nonce = account.nonce
    crashy = fresh()
    with crash_after(session.client, "submit"), pytest.raises(SimulatedCrash):
        crashy.submit(task_id, round_)
    record = fresh().submit(task_id, round_)
    assert account.nonce == nonce + 1
    chain_record = session.client.submission(task_id, round_, account.address)
    assert record.step == Step.SUBMITTED and chain_record.verified
    assert record.correct == chain_record.correct

    honest.prove(task_id, round_)
    honest.submit(task_id, round_)
    advance_to(session.client.round(task_id, round_).submit_deadline)
    assert session.client.select_leader(task_id, round_, sender=publisher) == honest.address

    # send-model: the hand-off transaction is mined, then dies.
    nonce = account.nonce
    crashy = fresh()
    with crash_after(session.client, "hand_off_model"), pytest.raises(SimulatedCrash):
        crashy.send_model(task_id, round_)
    record = fresh().send_model(task_id, round_)
    assert account.nonce == nonce + 1
    assert record.step == Step.HANDED_OFF and record.salt == salt
    assert record.handoff_cid == (
        session.client.submission(task_id, round_, account.address).encrypted_model_cid
    )


def test_ipfs_stopped_mid_run_gives_one_sentence_and_the_run_resumes(world: World) -> None:
    from ape import accounts

    session = world.session
    publisher = accounts.test_accounts[0]
    task_id = pub.create_task(session, publisher, tiny_options(), world.pool)
    person = Participant(session, accounts.test_accounts[6], "resume-ipfs")
    person.join(task_id)
    round_ = pub.open_round(session, publisher, task_id, world.pool)
    parts = partition(world.train, PartitionConfig(participants=2, seed=5))
    person.train(task_id, round_, parts[0], TrainingConfig(epochs=8))
    person.commit(task_id, round_)
    advance_to(session.client.round(task_id, round_).commit_deadline)
    pub.reveal(session, publisher, task_id, round_, world.pool)

    world.ipfs.stop()
    try:
        with pytest.raises(StorageError) as failure:
            Participant(session, accounts.test_accounts[6], "resume-ipfs").prove(task_id, round_)
        sentence = failure.value.sentence()
        assert "not reachable" in sentence and "zkpot node up" in sentence
        assert sentence.count(".") >= 1 and "\n" not in sentence
        stuck = Participant(session, accounts.test_accounts[6], "resume-ipfs")
        record = stuck.state.get_round(participant_module.task_key(session, task_id), round_)
        assert record is not None and record.step == Step.COMMITTED  # nothing lost
    finally:
        world.ipfs.start()
    resumed = Participant(session, accounts.test_accounts[6], "resume-ipfs")
    assert resumed.prove(task_id, round_).step == Step.PROVED
    assert resumed.submit(task_id, round_).step == Step.SUBMITTED
