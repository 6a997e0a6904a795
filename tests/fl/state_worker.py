"""A participant pipeline driven by ParticipantState, run as a real subprocess by test_state.

It walks one round through every step. External effects (transactions) are appended to
an append-only ledger file that stands in for what the chain would show; on restart,
a step whose intent was recorded is first looked up there, as a real participant would
look up its transaction on chain. With ``--pause`` it stops at every checkpoint, prints
``AT <label>`` and waits for a line on stdin, so the test can SIGKILL it exactly there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from zkpot.state import ParticipantState, Step

TASK = "task-7"
ROUND = 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--pause", action="store_true")
    args = parser.parse_args()
    work = args.db.parent / "work"
    work.mkdir(exist_ok=True)

    def checkpoint(label: str) -> None:
        if args.pause:
            print(f"AT {label}", flush=True)
            sys.stdin.readline()

    def ledger_lookup(action: str) -> str | None:
        if not args.ledger.exists():
            return None
        for line in args.ledger.read_text().splitlines():
            entry = json.loads(line)
            if entry["action"] == action:
                return str(entry["tx"])
        return None

    def send(action: str, salt: str) -> str:
        tx = "0x" + os.urandom(32).hex()
        with args.ledger.open("a") as handle:
            handle.write(json.dumps({"action": action, "salt": salt, "tx": tx}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return tx

    with ParticipantState(args.db) as state:
        identity = state.ensure_identity(name="alice", eth_alias="alice", eth_address="0xA11CE")
        print(f"KEY {identity.keypair.public_hex}", flush=True)
        checkpoint("identity")
        record = state.start_round(TASK, ROUND)
        print(f"SALT {record.salt_hex}", flush=True)
        checkpoint("started")

        def transact(step: Step, action: str) -> str:
            rec = state.get_round(TASK, ROUND)
            assert rec is not None
            if rec.intent == step:
                found = ledger_lookup(action)
                if found is not None:
                    return found  # it went out before the crash: never send it twice
            state.mark_intent(TASK, ROUND, step)
            checkpoint(f"intent:{step.name}")
            tx = send(action, rec.salt_hex)
            checkpoint(f"effect:{step.name}")
            return tx

        rec = state.get_round(TASK, ROUND)
        assert rec is not None
        if rec.step < Step.TRAINED:
            model = work / "model.bin"
            model.write_bytes(b"weights")  # deterministic training: same file on a rerun
            checkpoint("effect:TRAINED")
            state.mark_trained(TASK, ROUND, model_path=model, model_hash="ab" * 32)
            checkpoint("done:TRAINED")
        if state.get_round(TASK, ROUND).step < Step.COMMITTED:  # type: ignore[union-attr]
            tx = transact(Step.COMMITTED, "commit")
            state.mark_committed(
                TASK,
                ROUND,
                model_commitment="0x" + "11" * 32,
                commitment="0x" + "22" * 32,
                tx_hash=tx,
            )
            checkpoint("done:COMMITTED")
        if state.get_round(TASK, ROUND).step < Step.PROVED:  # type: ignore[union-attr]
            proof = work / "proof-0.json"
            proof.write_text("{}")
            checkpoint("effect:PROVED")
            state.mark_proved(TASK, ROUND, proof_paths=[proof])
            checkpoint("done:PROVED")
        if state.get_round(TASK, ROUND).step < Step.SUBMITTED:  # type: ignore[union-attr]
            tx = transact(Step.SUBMITTED, "submit")
            state.mark_submitted(TASK, ROUND, tx_hash=tx, correct=12)
            checkpoint("done:SUBMITTED")
        if state.get_round(TASK, ROUND).step < Step.HANDED_OFF:  # type: ignore[union-attr]
            tx = transact(Step.HANDED_OFF, "handoff")
            state.mark_handed_off(TASK, ROUND, cid="bafkreiexample", tx_hash=tx)
            checkpoint("done:HANDED_OFF")
        final = state.get_round(TASK, ROUND)
        assert final is not None
        print("FINAL " + json.dumps({"step": final.step.name, "salt": final.salt_hex}), flush=True)


if __name__ == "__main__":
    main()
