"""Constants and clock helpers shared by the contract tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ape import chain

from zkpot.chain import TaskSpec, ZKPoTClient, round_test_set_commitment

if TYPE_CHECKING:
    from proof_kit import ProofKit

COMMIT = 600
REVEAL = 300
SUBMIT = 900
AGGREGATE = 400
CIRCUIT_ID = bytes.fromhex("c1" * 32)
INITIAL_MODEL = bytes.fromhex("11" * 32)
X25519_KEY = bytes.fromhex("ab" * 32)


def joined_task(
    client: ZKPoTClient,
    verifier: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
    **overrides: Any,
) -> int:
    """Create a task on ``verifier`` (``spec_factory`` fields plus ``overrides``) and join
    every participant with the same test X25519 key."""
    task_id = client.create_task(spec_factory(verifier, **overrides), publisher)
    for p in participants:
        client.join(task_id, X25519_KEY, p)
    return task_id


def warp(timestamp: int) -> None:
    """Mine a block at ``timestamp`` so views and the next transaction see that time."""
    chain.mine(1, timestamp=timestamp)


def now() -> int:
    return int(chain.blocks.head.timestamp)


SALT = bytes.fromhex("5a" * 32)
TS_SALT = bytes.fromhex("7e" * 32)


def salt_for(account: Any) -> bytes:
    """A per-participant salt (distinct, reproducible)."""
    return bytes.fromhex(account.address[2:].lower().rjust(64, "0"))


def open_and_commit(
    client: ZKPoTClient,
    kit: ProofKit,
    task_id: int,
    test_set: str,
    commits: dict[Any, str],
    publisher: Any,
    reveal: bool = True,
) -> int:
    """Open a round on ``test_set``, commit each account's model, optionally reveal."""
    ts = kit.test_sets[test_set]
    round_ = client.open_round(
        task_id, round_test_set_commitment(ts.cid, ts.chunk_commitments, TS_SALT), publisher
    )
    for account, model in commits.items():
        client.commit(task_id, round_, kit.commitments[model], salt_for(account), account)
    if reveal:
        warp(client.round(task_id, round_).commit_deadline)
        client.reveal_test_set(task_id, round_, ts.cid, ts.chunk_commitments, TS_SALT, publisher)
    return round_


def submit(
    client: ZKPoTClient,
    kit: ProofKit,
    task_id: int,
    round_: int,
    account: Any,
    model: str,
    test_set: str,
) -> Any:
    """Submit ``model``'s proofs on ``test_set`` straight to the contract (reverts surface)."""
    return raw_submit(
        client.contract,
        task_id,
        round_,
        kit.proofs[(model, test_set)],
        salt_for(account),
        f"bafy-proof-{model}",
        account,
    )


def raw_submit(
    zkpot: Any, task_id: int, round_: int, proofs: Any, salt: bytes, cid: str, sender: Any
) -> Any:
    return zkpot.submit(
        task_id,
        round_,
        [p.proof for p in proofs],
        [list(p.instances) for p in proofs],
        salt,
        cid,
        sender=sender,
    )


def raw_publish(
    zkpot: Any,
    task_id: int,
    round_: int,
    cid: str,
    proofs: Any,
    sender: Any,
    included: Any = (),
) -> Any:
    return zkpot.publishGlobalModel(
        task_id,
        round_,
        cid,
        list(included),
        [p.proof for p in proofs],
        [list(p.instances) for p in proofs],
        sender=sender,
    )


def to_leader_selection(client: ZKPoTClient, task_id: int, round_: int) -> None:
    warp(client.round(task_id, round_).submit_deadline)


def past_hand_offs(client: ZKPoTClient, task_id: int, round_: int) -> None:
    """Move the clock to the current leader's hand-off deadline (the window is then closed)."""
    deadline = client.round(task_id, round_).hand_off_deadline
    if now() < deadline:
        warp(deadline)
