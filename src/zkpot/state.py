"""Durable participant state: one SQLite file per participant (WAL mode).

It holds what must survive a crash and never leaves the machine: the
participant's identity and X25519 secret key, and for every (task, round) the
salt, the model file and its hash, the model commitment and on-chain commitment,
proof files, transaction hashes and how far the round has got.

Guarantees, enforced by the code *and* by SQLite triggers:

* a salt or a secret key, once written, is never replaced;
* a round's step only moves forward, one step at a time;
* repeating a step already done with the same data is a no-op that returns the
  stored record, so a process killed anywhere can rerun its whole pipeline;
  repeating it with *different* data raises :class:`StateError`.

Before an action with an external effect (a transaction, an upload), call
:meth:`ParticipantState.mark_intent`. A record found with ``intent`` set after a
restart means the effect may have happened: check the chain before redoing it.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from zkpot import toolchain
from zkpot.errors import StateError
from zkpot.handoff import KeyPair

if TYPE_CHECKING:
    from zkpot.chain.transactions import SentTx

SALT_BYTES: Final = 32
SCHEMA_VERSION: Final = 2
"""2: the ``transactions`` journal (every signed transaction, recorded before its broadcast)."""


class Step(IntEnum):
    """How far a participant got in a round, in protocol order.

    The on-chain commit comes before the proof: the commitment fixes the model
    before the test set is revealed, and the proof needs the revealed test set.
    """

    STARTED = 0
    """The round is known locally and its salt is fixed."""
    TRAINED = 1
    """The local model is trained and saved (path + hash recorded)."""
    COMMITTED = 2
    """``commit(keccak(modelCommitment, participant, round, salt))`` is mined."""
    PROVED = 3
    """Accuracy proofs for every test-set chunk exist (paths recorded)."""
    SUBMITTED = 4
    """``submit`` with the proofs and salt is mined."""
    HANDED_OFF = 5
    """The model, sealed to the leader's key, is on IPFS and its CID on chain."""


@dataclass(frozen=True)
class Identity:
    """Who this participant is."""

    name: str
    """Local name (the directory under ``participants/``)."""
    eth_alias: str
    """ape account alias used to sign transactions."""
    eth_address: str
    """The account's checksummed address."""
    keypair: KeyPair
    """X25519 key pair models are encrypted to when this participant leads."""


@dataclass(frozen=True)
class TaskRecord:
    """A participant's membership of a task."""

    task: str
    """Task identifier (e.g. the on-chain task id as text)."""
    join_tx: str | None
    """Hash of the ``join`` transaction, once mined."""


@dataclass(frozen=True)
class RoundRecord:
    """Everything stored about one (task, round)."""

    task: str
    round: int
    salt: bytes
    """32 random bytes, generated once when the round is first seen."""
    step: Step
    intent: Step | None
    """A step whose external effect was started but not recorded as done."""
    model_path: Path | None
    model_hash: str | None
    """SHA-256 hex of the model file's bytes."""
    model_commitment: str | None
    """The circuit's commitment to the weights (0x-hex bytes32)."""
    commitment: str | None
    """The on-chain commit value (0x-hex bytes32)."""
    commit_tx: str | None
    proof_paths: tuple[Path, ...]
    proof_cid: str | None
    correct: int | None
    """Verified correct count reported by ``submit``."""
    submit_tx: str | None
    handoff_cid: str | None
    handoff_tx: str | None
    updated_at: float

    @property
    def salt_hex(self) -> str:
        """The salt as 0x-hex, the form passed to the contract."""
        return "0x" + self.salt.hex()


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    eth_alias TEXT NOT NULL,
    eth_address TEXT NOT NULL,
    x25519_secret BLOB NOT NULL CHECK (length(x25519_secret) = 32),
    created_at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS identity_key_immutable
BEFORE UPDATE OF x25519_secret ON identity
WHEN NEW.x25519_secret IS NOT OLD.x25519_secret
BEGIN SELECT RAISE(ABORT, 'the X25519 secret key is immutable'); END;
CREATE TRIGGER IF NOT EXISTS identity_undeletable
BEFORE DELETE ON identity
BEGIN SELECT RAISE(ABORT, 'the identity cannot be deleted'); END;

CREATE TABLE IF NOT EXISTS tasks (
    task TEXT PRIMARY KEY,
    join_tx TEXT
);

CREATE TABLE IF NOT EXISTS rounds (
    task TEXT NOT NULL,
    round INTEGER NOT NULL CHECK (round >= 0),
    salt BLOB NOT NULL CHECK (length(salt) = 32),
    step INTEGER NOT NULL DEFAULT 0,
    intent INTEGER,
    model_path TEXT,
    model_hash TEXT,
    model_commitment TEXT,
    commitment TEXT,
    commit_tx TEXT,
    proof_paths TEXT NOT NULL DEFAULT '[]',
    proof_cid TEXT,
    correct INTEGER,
    submit_tx TEXT,
    handoff_cid TEXT,
    handoff_tx TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (task, round)
);
CREATE TRIGGER IF NOT EXISTS rounds_salt_immutable
BEFORE UPDATE OF salt ON rounds
WHEN NEW.salt IS NOT OLD.salt
BEGIN SELECT RAISE(ABORT, 'a round salt is immutable'); END;
CREATE TRIGGER IF NOT EXISTS rounds_step_forward
BEFORE UPDATE OF step ON rounds
WHEN NEW.step < OLD.step
BEGIN SELECT RAISE(ABORT, 'a round step never goes back'); END;
CREATE TRIGGER IF NOT EXISTS rounds_undeletable
BEFORE DELETE ON rounds
BEGIN SELECT RAISE(ABORT, 'round records cannot be deleted'); END;

CREATE TABLE IF NOT EXISTS transactions (
    hash TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    round INTEGER NOT NULL,
    action TEXT NOT NULL,
    nonce INTEGER NOT NULL CHECK (nonce >= 0),
    sender TEXT NOT NULL,
    raw BLOB NOT NULL,
    sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_by_action ON transactions (task, round, action);
CREATE TRIGGER IF NOT EXISTS transactions_immutable
BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'a recorded transaction is immutable'); END;
CREATE TRIGGER IF NOT EXISTS transactions_undeletable
BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'recorded transactions cannot be deleted'); END;
"""


PRIVATE_DIR_MODE: Final = 0o700
"""Folders holding secrets (keys, salts, seeds, models): owner only."""
PRIVATE_FILE_MODE: Final = 0o600
"""Files holding secrets: owner read/write only."""


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as owner-only folders; tighten it if it exists.

    Every folder this creates gets mode 0700, and ``path`` itself is set to 0700
    even if it already existed with a wider mode, so what is stored inside is
    readable by its owner only whatever the file modes.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)  # a concurrent caller may win
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def restrict_private(path: Path) -> None:
    """Set an existing secret file to 0600 (files written by older versions were 0644)."""
    if path.exists() and (path.stat().st_mode & 0o777) != PRIVATE_FILE_MODE:
        os.chmod(path, PRIVATE_FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to a 0600 file in a 0700 folder (never half a file).

    The file is created 0600 before any byte is written, so a secret is never
    briefly readable by others.
    """
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # O_CREAT's mode is filtered by the umask
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if fd >= 0:
            os.close(fd)
    tmp.replace(path)


def write_private_json(path: Path, data: object) -> None:
    """:func:`write_private` of ``data`` as indented, key-sorted JSON."""
    write_private(path, json.dumps(data, indent=2, sort_keys=True).encode())


def default_path(name: str) -> Path:
    """``$ZKPOT_STATE_DIR/participants/<name>/state.db``."""
    if not name or "/" in name or name in (".", ".."):
        raise StateError(f"{name!r} is not a valid participant name", "use a plain name")
    return toolchain.state_dir() / "participants" / name / "state.db"


def _enable_wal(db: sqlite3.Connection, *, deadline_s: float = 30.0) -> None:
    """Switch ``db`` to WAL, retrying while another opener holds the lock.

    Changing the journal mode needs an exclusive lock, and SQLite answers
    "database is locked" at once for it instead of calling the busy handler,
    so several processes opening a fresh store together must retry here.
    """
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > give_up:
                raise
            time.sleep(0.05)


class ParticipantState:
    """One participant's durable store. Safe to open from several processes at once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            # The folder also holds the participant's models, proofs and sidecar files
            # (SQLite's -wal/-shm): owner only, whatever their own modes.
            private_dir(self.path.parent)
            # The file holds a secret key: create it readable by the owner only.
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
            restrict_private(self.path)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            _enable_wal(self._db)
            # FULL: a commit is on disk before we act on it (e.g. send the transaction).
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"State file {self.path} has schema {version}, newer than this zkpot's "
                    f"{SCHEMA_VERSION}",
                    "upgrade zkpot",
                )
            if version < SCHEMA_VERSION:
                # One script, one transaction (executescript commits anything pending
                # first); every statement is idempotent, so racing openers are safe.
                self._db.executescript(
                    "BEGIN IMMEDIATE;"
                    + _SCHEMA
                    + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                )
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"Cannot open participant state {self.path} ({exc})",
                "check the path and its permissions",
            ) from exc

    @classmethod
    def for_participant(cls, name: str) -> ParticipantState:
        """Open (creating if needed) the store at :func:`default_path` ``(name)``."""
        return cls(default_path(name))

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> ParticipantState:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -- identity ----------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The stored identity, or ``None`` before :meth:`ensure_identity`."""
        row = self._db.execute(
            "SELECT name, eth_alias, eth_address, x25519_secret FROM identity WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return Identity(row[0], row[1], row[2], KeyPair.from_secret(bytes(row[3])))

    def ensure_identity(self, *, name: str, eth_alias: str, eth_address: str) -> Identity:
        """Return the identity, creating it (with a fresh X25519 key) on first use.

        The key is generated exactly once; asking again with another account raises
        :class:`StateError` instead of silently switching identities.
        """
        with self._transaction():
            existing = self.identity()
            if existing is None:
                self._db.execute(
                    "INSERT INTO identity (id, name, eth_alias, eth_address, x25519_secret,"
                    " created_at) VALUES (1, ?, ?, ?, ?, ?)",
                    (name, eth_alias, eth_address, KeyPair.generate().secret, time.time()),
                )
                existing = self.identity()
                assert existing is not None
        if (existing.eth_alias, existing.eth_address.lower()) != (eth_alias, eth_address.lower()):
            raise StateError(
                f"Participant {existing.name} is bound to account {existing.eth_alias} "
                f"({existing.eth_address}), not {eth_alias} ({eth_address})",
                "use that account, or a new participant name for a new account",
            )
        return existing

    # -- tasks -------------------------------------------------------------------------

    def task(self, task: str) -> TaskRecord | None:
        """The record of ``task``, if this participant joined or started joining it."""
        row = self._db.execute("SELECT task, join_tx FROM tasks WHERE task = ?", (task,)).fetchone()
        return TaskRecord(row[0], row[1]) if row else None

    def mark_joined(self, task: str, *, tx_hash: str) -> TaskRecord:
        """Record the mined ``join`` transaction (idempotent; a different hash raises)."""
        with self._transaction():
            current = self.task(task)
            if current is not None and current.join_tx is not None:
                if current.join_tx != tx_hash:
                    raise StateError(
                        f"Task {task} was already joined in transaction {current.join_tx}",
                        "do not join a task twice",
                    )
                return current
            self._db.execute(
                "INSERT INTO tasks (task, join_tx) VALUES (?, ?) "
                "ON CONFLICT (task) DO UPDATE SET join_tx = excluded.join_tx",
                (task, tx_hash),
            )
        record = self.task(task)
        assert record is not None
        return record

    def journal(self, task: str, round_number: int, action: str) -> StateJournal:
        """Where the transactions of one action are recorded (``round_number`` -1: the task's).

        ``action`` names what the transactions do (``commit``, ``submit``, ``handoff:<leader>``,
        ``join``); the sender settles recorded ones before it ever builds a new one.
        """
        return StateJournal(self, task, round_number, action)

    # -- rounds ------------------------------------------------------------------------

    def get_round(self, task: str, round_number: int) -> RoundRecord | None:
        """The stored record, or ``None`` if this round was never started here."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM rounds WHERE task = ? AND round = ?", (task, round_number)
        ).fetchone()
        return _record(row) if row else None

    def rounds(self, task: str) -> list[RoundRecord]:
        """All rounds of ``task`` known here, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM rounds WHERE task = ? ORDER BY round", (task,)
        ).fetchall()
        return [_record(r) for r in rows]

    def start_round(self, task: str, round_number: int) -> RoundRecord:
        """Return the round's record, creating it with a fresh random salt the first time.

        Concurrent callers get the same salt: the first insert wins, later ones read it.
        """
        with self._transaction():
            self._insert_round(task, round_number)
        record = self.get_round(task, round_number)
        assert record is not None
        return record

    def _insert_round(self, task: str, round_number: int) -> None:
        if round_number < 0:
            raise StateError(f"Round {round_number} is negative", "rounds count from 0")
        now = time.time()
        self._db.execute(
            "INSERT OR IGNORE INTO rounds (task, round, salt, step, created_at, updated_at) "
            "VALUES (?, ?, ?, 0, ?, ?)",
            (task, round_number, secrets.token_bytes(SALT_BYTES), now, now),
        )

    def mark_intent(self, task: str, round_number: int, step: Step) -> RoundRecord:
        """Record that the external action of ``step`` is about to run.

        A no-op if ``step`` is already done. After a crash, ``intent == step`` tells
        the caller to check the chain (or IPFS) before repeating the action.
        """
        with self._transaction():
            self._insert_round(task, round_number)
            current = self._locked_round(task, round_number)
            if current.step >= step:
                return current
            self._check_next(current, step)
            self._db.execute(
                "UPDATE rounds SET intent = ?, updated_at = ? WHERE task = ? AND round = ?",
                (int(step), time.time(), task, round_number),
            )
        return self._locked_round(task, round_number)

    def mark_trained(
        self, task: str, round_number: int, *, model_path: Path, model_hash: str
    ) -> RoundRecord:
        """Record the trained model file and the SHA-256 hex of its bytes."""
        return self._advance(
            task,
            round_number,
            Step.TRAINED,
            {"model_path": str(model_path), "model_hash": model_hash},
        )

    def mark_committed(
        self,
        task: str,
        round_number: int,
        *,
        model_commitment: str,
        commitment: str,
        tx_hash: str,
    ) -> RoundRecord:
        """Record the mined ``commit`` transaction and the values it committed."""
        return self._advance(
            task,
            round_number,
            Step.COMMITTED,
            {"model_commitment": model_commitment, "commitment": commitment, "commit_tx": tx_hash},
        )

    def mark_proved(
        self,
        task: str,
        round_number: int,
        *,
        proof_paths: list[Path] | tuple[Path, ...],
        proof_cid: str | None = None,
    ) -> RoundRecord:
        """Record the proof files (one per test-set chunk) and, if uploaded, their CID."""
        return self._advance(
            task,
            round_number,
            Step.PROVED,
            {"proof_paths": json.dumps([str(p) for p in proof_paths]), "proof_cid": proof_cid},
        )

    def mark_submitted(
        self, task: str, round_number: int, *, tx_hash: str, correct: int | None = None
    ) -> RoundRecord:
        """Record the mined ``submit`` transaction and the verified correct count."""
        return self._advance(
            task, round_number, Step.SUBMITTED, {"submit_tx": tx_hash, "correct": correct}
        )

    def mark_handed_off(
        self, task: str, round_number: int, *, cid: str, tx_hash: str | None = None
    ) -> RoundRecord:
        """Record the sealed model's CID and the ``handOffModel`` transaction."""
        return self._advance(
            task, round_number, Step.HANDED_OFF, {"handoff_cid": cid, "handoff_tx": tx_hash}
        )

    def _locked_round(self, task: str, round_number: int) -> RoundRecord:
        record = self.get_round(task, round_number)
        if record is None:
            raise StateError(
                f"No local record of task {task} round {round_number}",
                "start the round first",
            )
        return record

    @staticmethod
    def _check_next(current: RoundRecord, step: Step) -> None:
        if step != current.step + 1:
            raise StateError(
                f"Task {current.task} round {current.round} is at step "
                f"{current.step.name.lower()}, so it cannot go to {step.name.lower()}",
                f"complete {Step(current.step + 1).name.lower()} first",
            )

    def _advance(
        self, task: str, round_number: int, step: Step, fields: dict[str, str | int | None]
    ) -> RoundRecord:
        with self._transaction():
            self._insert_round(task, round_number)
            current = self._locked_round(task, round_number)
            if current.step >= step:
                stored = self._db.execute(
                    f"SELECT {', '.join(fields)} FROM rounds WHERE task = ? AND round = ?",
                    (task, round_number),
                ).fetchone()
                for (column, wanted), have in zip(fields.items(), stored, strict=True):
                    # None means "not given" (e.g. a resumed caller that lost the value).
                    if wanted is not None and wanted != have:
                        raise StateError(
                            f"Task {task} round {round_number} already recorded {column} = "
                            f"{have!r} at step {step.name.lower()}; refusing to replace it "
                            f"with {wanted!r}",
                            "a finished step cannot be redone with different data",
                        )
                return current
            self._check_next(current, step)
            assignments = ", ".join(f"{column} = ?" for column in fields)
            self._db.execute(
                f"UPDATE rounds SET {assignments}, step = ?, intent = NULL, updated_at = ? "
                "WHERE task = ? AND round = ?",
                (*fields.values(), int(step), time.time(), task, round_number),
            )
        return self._locked_round(task, round_number)


_COLUMNS: Final = (
    "task, round, salt, step, intent, model_path, model_hash, model_commitment, commitment,"
    " commit_tx, proof_paths, proof_cid, correct, submit_tx, handoff_cid, handoff_tx, updated_at"
)


def _record(row: tuple[object, ...]) -> RoundRecord:
    (
        task,
        rnd,
        salt,
        step,
        intent,
        model_path,
        model_hash,
        model_commitment,
        commitment,
        commit_tx,
        proof_paths,
        proof_cid,
        correct,
        submit_tx,
        handoff_cid,
        handoff_tx,
        updated_at,
    ) = row
    return RoundRecord(
        task=str(task),
        round=int(str(rnd)),
        salt=_blob(salt),
        step=Step(int(str(step))),
        intent=None if intent is None else Step(int(str(intent))),
        model_path=None if model_path is None else Path(str(model_path)),
        model_hash=None if model_hash is None else str(model_hash),
        model_commitment=None if model_commitment is None else str(model_commitment),
        commitment=None if commitment is None else str(commitment),
        commit_tx=None if commit_tx is None else str(commit_tx),
        proof_paths=tuple(Path(p) for p in json.loads(str(proof_paths))),
        proof_cid=None if proof_cid is None else str(proof_cid),
        correct=None if correct is None else int(str(correct)),
        submit_tx=None if submit_tx is None else str(submit_tx),
        handoff_cid=None if handoff_cid is None else str(handoff_cid),
        handoff_tx=None if handoff_tx is None else str(handoff_tx),
        updated_at=float(str(updated_at)),
    )


@dataclass(frozen=True)
class StateJournal:
    """A :class:`zkpot.chain.transactions.TxJournal` kept in the participant's state file."""

    state: ParticipantState
    task: str
    round: int
    action: str

    def sent(self) -> list[SentTx]:
        """The recorded transactions of this action, oldest first."""
        from zkpot.chain.transactions import SentTx  # not at import: zkpot.chain loads ape

        rows = self.state._db.execute(
            "SELECT hash, nonce, sender, raw FROM transactions "
            "WHERE task = ? AND round = ? AND action = ? ORDER BY sent_at, rowid",
            (self.task, self.round, self.action),
        ).fetchall()
        return [SentTx(hash=h, nonce=int(n), sender=s, raw=_blob(r)) for h, n, s, r in rows]

    def record(self, tx: SentTx) -> None:
        """Store ``tx`` (on disk before this returns; the same hash twice is a no-op)."""
        with self.state._transaction():
            self.state._db.execute(
                "INSERT OR IGNORE INTO transactions "
                "(hash, task, round, action, nonce, sender, raw, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (tx.hash, self.task, self.round, self.action, tx.nonce, tx.sender, tx.raw,
                 time.time()),
            )


def _blob(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise StateError("A stored salt is not a byte string", "the state file is corrupt")
    return value


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, taking the write lock up front.

    So two processes never interleave a read-check-write sequence.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        if self._db.in_transaction:
            return  # nested use: the outer transaction covers us
        self._outer = True
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._outer:
            return
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
