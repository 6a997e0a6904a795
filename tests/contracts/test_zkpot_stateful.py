"""Hypothesis stateful test: random call sequences against ZKPoT with real proofs.

Invariants after every step: at most one leader per round and it holds the maximum
verified count among the submitters not passed over; a round never admits more than
maxSubmissions nor a zero count; blocks are hash-linked; tokens held + paid out equals
what was funded, so no funds are created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ape import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from proof_kit import ProofKit
from zkpot_helpers import TS_SALT, X25519_KEY, salt_for, warp

from zkpot.chain import (
    AggregationPolicy,
    RoundStatus,
    TaskSpec,
    ZKPoTClient,
    round_test_set_commitment,
    verify_chain,
)
from zkpot.errors import ChainError

POOL = 10_000
MODELS = ["a", "b", "c", "d", "k6", "z"]
MAX_SUBMISSIONS = 2


@pytest.mark.slow
def test_random_call_sequences_keep_the_invariants(
    client: ZKPoTClient,
    kit: ProofKit,
    verifier: Any,
    token: Any,
    spec_factory: Callable[..., TaskSpec],
    publisher: Any,
    participants: list[Any],
) -> None:
    members = participants[:4]
    ts = kit.test_sets["s1"]

    class ZKPoTMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            token.approve(client.rewards.address, POOL, sender=publisher)
            spec = spec_factory(
                verifier,
                chunks_per_round=2,
                policy=AggregationPolicy.LEADER_MODEL,
                reward_token=token.address,
                reward_pool=POOL,
                reward_per_round=3_000,
                leader_share_bps=2_500,
                max_submissions=MAX_SUBMISSIONS,
                initial_model_commitment=kit.commitments["k1"],
            )
            self.task = client.create_task(spec, publisher)
            for p in members:
                client.join(self.task, X25519_KEY, p)
            self.balance0 = token.balanceOf(client.rewards.address)
            self.paid = 0
            self.models: dict[tuple[int, str], str] = {}

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        def _try(self, action: Callable[[], Any]) -> Any:
            try:
                return action()
            except ChainError:
                return None  # a rejected call is a legal outcome; invariants still hold

        def _round(self) -> int | None:
            count = client.task_state(self.task).round_count
            return count - 1 if count else None

        @rule()
        def open_round(self) -> None:
            self._try(
                lambda: client.open_round(
                    self.task,
                    round_test_set_commitment(ts.cid, ts.chunk_commitments, TS_SALT),
                    publisher,
                )
            )

        @rule(who=st.integers(0, 3), model=st.sampled_from(MODELS))
        def commit(self, who: int, model: str) -> None:
            r = self._round()
            if r is None:
                return
            p = members[who]
            if self._try(
                lambda: client.commit(self.task, r, kit.commitments[model], salt_for(p), p)
            ):
                self.models[(r, p.address)] = model

        @rule()
        def reveal(self) -> None:
            r = self._round()
            if r is not None:
                self._try(
                    lambda: client.reveal_test_set(
                        self.task, r, ts.cid, ts.chunk_commitments, TS_SALT, publisher
                    )
                )

        @rule(who=st.integers(0, 3))
        def submit(self, who: int) -> None:
            r = self._round()
            p = members[who]
            model = self.models.get((r, p.address), MODELS[who]) if r is not None else None
            if r is not None and model is not None:
                self._try(
                    lambda: client.submit(
                        self.task, r, kit.proofs[(model, "s1")], salt_for(p), "bafy-p", p
                    )
                )

        @rule(deadline=st.sampled_from(["commit", "reveal", "submit", "aggregate"]))
        def advance(self, deadline: str) -> None:
            r = self._round()
            if r is None:
                return
            info = client.round(self.task, r)
            target = getattr(info, f"{deadline}_deadline")
            if target > int(chain.blocks.head.timestamp):
                warp(target)

        @rule()
        def select_leader(self) -> None:
            r = self._round()
            if r is not None:
                self._try(lambda: client.select_leader(self.task, r, publisher))

        @rule()
        def replace_leader(self) -> None:
            r = self._round()
            if r is not None:
                self._try(lambda: client.replace_leader(self.task, r, publisher))

        @rule()
        def publish(self) -> None:
            r = self._round()
            if r is None:
                return
            info = client.round(self.task, r)
            leader = next((p for p in members if p.address == info.leader), None)
            model = self.models.get((r, info.leader))
            if leader is not None and model is not None:
                self._try(
                    lambda: client.publish_global_model(
                        self.task, r, "bafy-g", kit.proofs[(model, "s1")], leader
                    )
                )

        @rule(by_leader=st.booleans())
        def baseline(self, by_leader: bool) -> None:
            r = self._round()
            if r is None:
                return
            info = client.round(self.task, r)
            model = next(
                (
                    m
                    for m, c in kit.commitments.items()
                    if c == info.global_model_commitment and (m, "s1") in kit.proofs
                ),
                None,
            )
            leader = next((p for p in members if p.address == info.leader), None)
            sender = leader if by_leader and leader is not None else publisher
            if model is not None:
                self._try(
                    lambda: client.record_baseline(self.task, r, kit.proofs[(model, "s1")], sender)
                )

        @rule()
        def finalise(self) -> None:
            r = self._round()
            if r is not None:
                self._try(lambda: client.finalise(self.task, r, publisher))

        @rule(who=st.integers(0, 3), back=st.integers(0, 2))
        def claim(self, who: int, back: int) -> None:
            r = self._round()
            if r is None or r - back < 0:
                return
            amount = self._try(lambda: client.claim(self.task, r - back, members[who]))
            if amount:
                self.paid += amount

        @invariant()
        def leader_holds_the_maximum_verified_count(self) -> None:
            for r in range(client.task_state(self.task).round_count):
                info = client.round(self.task, r)
                if info.status not in (
                    RoundStatus.LEADER_SELECTED,
                    RoundStatus.PUBLISHED,
                    RoundStatus.FINALISED,
                ):
                    continue
                records = {a: client.submission(self.task, r, a) for a in info.submitters}
                assert info.leader in records  # the one leader is a verified submitter
                standing = [s.correct for s in records.values() if not s.passed_over]
                assert not records[info.leader].passed_over
                assert records[info.leader].correct == max(standing)

        @invariant()
        def admission_is_bounded_and_never_zero(self) -> None:
            for r in range(client.task_state(self.task).round_count):
                info = client.round(self.task, r)
                assert len(info.submitters) <= MAX_SUBMISSIONS
                for a in info.submitters:
                    record = client.submission(self.task, r, a)
                    assert record.verified and not record.evicted and record.correct > 0

        @invariant()
        def blocks_are_hash_linked(self) -> None:
            state = client.task_state(self.task)
            headers = client.blocks(self.task)
            verify_chain(headers, state.last_block_hash)
            assert len({h.round for h in headers}) == len(headers)  # one block per round at most

        @invariant()
        def no_funds_are_created(self) -> None:
            held = token.balanceOf(client.rewards.address)
            assert held + self.paid == self.balance0
            assert client.task_state(self.task).unallocated <= held

    run_state_machine_as_test(
        ZKPoTMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
