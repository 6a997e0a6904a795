"""Durable participant state: real SQLite files, real processes killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from zkpot.errors import StateError
from zkpot.state import ParticipantState, Step, default_path

WORKER = Path(__file__).with_name("state_worker.py")
CHECKPOINTS = [
    "identity",
    "started",
    "effect:TRAINED",
    "done:TRAINED",
    "intent:COMMITTED",
    "effect:COMMITTED",
    "done:COMMITTED",
    "effect:PROVED",
    "done:PROVED",
    "intent:SUBMITTED",
    "effect:SUBMITTED",
    "done:SUBMITTED",
    "intent:HANDED_OFF",
    "effect:HANDED_OFF",
    "done:HANDED_OFF",
]


def _worker(db: Path, ledger: Path, *, pause: bool) -> subprocess.Popen[str]:
    argv = [sys.executable, str(WORKER), str(db), str(ledger)] + (["--pause"] if pause else [])
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _run_and_kill_at(db: Path, ledger: Path, label: str) -> dict[str, str]:
    """Run the worker, continuing past checkpoints until ``label``; SIGKILL it there."""
    proc = _worker(db, ledger, pause=True)
    assert proc.stdin is not None and proc.stdout is not None
    seen: dict[str, str] = {}
    for line in proc.stdout:
        kind, _, value = line.strip().partition(" ")
        seen[kind] = value
        if kind == "AT":
            if value == label:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                assert proc.returncode == -signal.SIGKILL
                return seen
            proc.stdin.write("\n")
            proc.stdin.flush()
    proc.wait()
    raise AssertionError(f"worker finished without reaching {label}: {proc.stderr}")


def _run_to_end(db: Path, ledger: Path) -> dict[str, str]:
    proc = _worker(db, ledger, pause=False)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return {k: v for k, _, v in (line.partition(" ") for line in out.splitlines())}


def _ledger(ledger: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in ledger.read_text().splitlines()]


def _check_completed_once(db: Path, ledger: Path, salt: str | None, key: str | None) -> None:
    entries = _ledger(ledger)
    # Each transaction went out exactly once, all with the one salt of the round.
    assert sorted(e["action"] for e in entries) == ["commit", "handoff", "submit"]
    assert len({e["salt"] for e in entries}) == 1
    with ParticipantState(db) as state:
        record = state.get_round("task-7", 2)
        identity = state.identity()
    assert record is not None and identity is not None
    assert record.step == Step.HANDED_OFF and record.intent is None
    assert entries[0]["salt"] == record.salt_hex
    by_action = {e["action"]: e["tx"] for e in entries}
    assert (record.commit_tx, record.submit_tx, record.handoff_tx) == (
        by_action["commit"],
        by_action["submit"],
        by_action["handoff"],
    )
    if salt is not None:
        assert record.salt_hex == salt
    if key is not None:
        assert identity.keypair.public_hex == key


@pytest.mark.parametrize("label", CHECKPOINTS)
def test_killed_at_any_step_resumes_without_repeating_or_losing_anything(
    tmp_path: Path, label: str
) -> None:
    db, ledger = tmp_path / "state.db", tmp_path / "ledger.jsonl"
    seen = _run_and_kill_at(db, ledger, label)
    end = _run_to_end(db, ledger)
    assert json.loads(end["FINAL"])["step"] == "HANDED_OFF"
    _check_completed_once(db, ledger, seen.get("SALT"), seen.get("KEY"))


def test_killed_at_every_step_in_succession_still_completes_once(tmp_path: Path) -> None:
    db, ledger = tmp_path / "state.db", tmp_path / "ledger.jsonl"
    first = _run_and_kill_at(db, ledger, "identity")
    for label in CHECKPOINTS[1:]:
        _run_and_kill_at(db, ledger, label)
    _run_to_end(db, ledger)
    _run_to_end(db, ledger)  # a rerun after completion changes nothing
    _check_completed_once(db, ledger, None, first["KEY"])


_CONCURRENT = """
import sys
from zkpot.state import ParticipantState
for _ in range(20):
    with ParticipantState(sys.argv[1]) as s:
        key = s.ensure_identity(name="bob", eth_alias="bob", eth_address="0xB0B").keypair.public_hex
        salt = s.start_round("t", 0).salt_hex
        rec = s.mark_trained("t", 0, model_path="/m", model_hash="h")
        assert rec.step >= 1
print(key, salt)
"""


def test_concurrent_openers_agree_on_one_key_and_one_salt(tmp_path: Path) -> None:
    db = tmp_path / "shared" / "state.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(db)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outputs)) == 1 and outputs[0].count(" ") == 1


def test_salt_is_generated_once_and_the_database_refuses_to_change_it(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ParticipantState(db) as state:
        salt = state.start_round("t", 1).salt
        assert len(salt) == 32
        assert state.start_round("t", 1).salt == salt
        assert state.start_round("t", 2).salt != salt  # each round its own salt
    with ParticipantState(db) as state:
        assert state.start_round("t", 1).salt == salt
    # Even a direct write is refused by the store's triggers.
    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="salt is immutable"):
        raw.execute("UPDATE rounds SET salt = ? WHERE round = 1", (os.urandom(32),))
    with pytest.raises(sqlite3.IntegrityError, match="never goes back"):
        raw.execute("UPDATE rounds SET step = -1 WHERE round = 1")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be deleted"):
        raw.execute("DELETE FROM rounds")
    raw.close()


def test_identity_key_is_created_once_and_bound_to_its_account(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ParticipantState(db) as state:
        assert state.identity() is None
        first = state.ensure_identity(name="carol", eth_alias="carol", eth_address="0xCa")
        again = state.ensure_identity(name="carol", eth_alias="carol", eth_address="0xCA")
        assert again == first
        with pytest.raises(StateError, match="bound to account carol"):
            state.ensure_identity(name="carol", eth_alias="dave", eth_address="0xDa")
    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("UPDATE identity SET x25519_secret = ?", (os.urandom(32),))
    raw.close()
    assert (db.stat().st_mode & 0o777) == 0o600  # it holds a secret key
    with ParticipantState(db) as state:
        identity = state.identity()
        assert identity is not None and identity.keypair == first.keypair


def test_steps_are_idempotent_forward_only_and_never_skipped(tmp_path: Path) -> None:
    with ParticipantState(tmp_path / "state.db") as state:
        with pytest.raises(StateError, match="cannot go to committed"):
            state.mark_committed("t", 0, model_commitment="0x1", commitment="0x2", tx_hash="0x3")
        trained = state.mark_trained("t", 0, model_path=Path("/m"), model_hash="h1")
        assert trained.step == Step.TRAINED and trained.model_path == Path("/m")
        # Repeating a done step: no-op returning the stored record.
        assert state.mark_trained("t", 0, model_path=Path("/m"), model_hash="h1") == trained
        # Repeating it with other data would rewrite history: refused.
        with pytest.raises(StateError, match="refusing to replace"):
            state.mark_trained("t", 0, model_path=Path("/m"), model_hash="h2")
        with pytest.raises(StateError, match="at step trained, so it cannot go to proved") as info:
            state.mark_proved("t", 0, proof_paths=[Path("/p")])
        assert info.value.hint == "complete committed first"
        intent = state.mark_intent("t", 0, Step.COMMITTED)
        assert intent.intent == Step.COMMITTED and intent.step == Step.TRAINED
        committed = state.mark_committed(
            "t", 0, model_commitment="0x1", commitment="0x2", tx_hash="0x3"
        )
        assert committed.intent is None and committed.commit_tx == "0x3"
        proved = state.mark_proved("t", 0, proof_paths=[Path("/p0"), Path("/p1")], proof_cid="c")
        assert proved.proof_paths == (Path("/p0"), Path("/p1"))
        submitted = state.mark_submitted("t", 0, tx_hash="0x4", correct=15)
        # A resumed caller that no longer knows the count still gets the stored record.
        assert state.mark_submitted("t", 0, tx_hash="0x4") == submitted
        assert submitted.correct == 15
        # A step already done: intent and earlier steps are no-ops.
        assert state.mark_intent("t", 0, Step.COMMITTED) == submitted
        assert state.mark_trained("t", 0, model_path=Path("/m"), model_hash="h1") == submitted
        done = state.mark_handed_off("t", 0, cid="bafy", tx_hash="0x5")
        assert [r.step for r in state.rounds("t")] == [Step.HANDED_OFF]
        assert done.salt == trained.salt


def test_join_is_recorded_once(tmp_path: Path) -> None:
    with ParticipantState(tmp_path / "state.db") as state:
        assert state.task("7") is None
        record = state.mark_joined("7", tx_hash="0xj")
        assert state.mark_joined("7", tx_hash="0xj") == record
        with pytest.raises(StateError, match="already joined"):
            state.mark_joined("7", tx_hash="0xk")


def test_default_path_lives_under_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZKPOT_STATE_DIR", str(tmp_path))
    assert default_path("alice") == tmp_path / "participants" / "alice" / "state.db"
    with ParticipantState.for_participant("alice") as state:
        state.start_round("t", 0)
    assert (tmp_path / "participants" / "alice" / "state.db").exists()
    with pytest.raises(StateError, match="not a valid participant name"):
        default_path("../evil")


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "state.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="Cannot open participant state"):
        ParticipantState(bad)
