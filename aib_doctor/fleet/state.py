"""The cron state: what each template's last run looked like, what was reported, and the lock.

SQLite in WAL mode; every template's update, and the notification it queues, commit in one
transaction, so a check killed at any point leaves each template either fully before or fully after.
An exclusive lock file keeps two checks from working on the same state at once. Times are the
caller's (the check's clock), so tests need not wait for one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from aib_doctor.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,            -- lower-cased ARM id
    name TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    subscription TEXT NOT NULL,
    fingerprint TEXT NOT NULL,      -- hash of provisioning state, run state, start time and message
    status TEXT NOT NULL,           -- failed / succeeded / running / unknown
    run_start TEXT,
    primary_rule TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_duration REAL,
    first_seen REAL NOT NULL,
    last_checked REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    key TEXT PRIMARY KEY,           -- template id + run fingerprint + kind: one notification per event, ever
    template_id TEXT NOT NULL,
    kind TEXT NOT NULL,             -- new_failure / recovered
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    sent REAL                       -- NULL until the webhook accepted it
);
CREATE TABLE IF NOT EXISTS checks (
    started REAL PRIMARY KEY,
    finished REAL,
    summary TEXT
);
"""


@dataclass(frozen=True)
class TemplateState:
    id: str
    name: str
    resource_group: str
    subscription: str
    fingerprint: str
    status: str
    run_start: str | None
    primary_rule: str | None
    failures: int
    last_duration: float | None
    last_checked: float | None = None


class StateLocked(Exception):
    """Another check holds the lock."""


class StateStore:
    def __init__(self, folder: Path, wait_seconds: float = 0) -> None:
        self.folder = folder
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the state folder {folder}: {exc.strerror}") from None
        self._lock = self._acquire(folder / "check.lock", wait_seconds)
        self.db = sqlite3.connect(folder / "state.sqlite3", timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        os.chmod(folder / "state.sqlite3", 0o600)

    @staticmethod
    def _acquire(path: Path, wait_seconds: float):
        handle = open(path, "a+")
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                _lock_exclusive(handle)
                return handle
            except OSError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise StateLocked(f"another aib-doctor check is running on {path.parent}") from None
                time.sleep(0.2)

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def templates(self) -> dict[str, TemplateState]:
        rows = self.db.execute(
            "SELECT id, name, resource_group, subscription, fingerprint, status, run_start, primary_rule, failures, last_duration, last_checked FROM templates"
        )
        return {row[0]: TemplateState(*row) for row in rows}

    def save(self, state: TemplateState, now: float, notification: tuple[str, str, dict] | None = None) -> None:
        """The template's new state and, atomically with it, the notification its change calls for."""
        with self.transaction():
            self.db.execute(
                """INSERT INTO templates (id, name, resource_group, subscription, fingerprint, status, run_start,
                       primary_rule, failures, last_duration, first_seen, last_checked)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET name=excluded.name, resource_group=excluded.resource_group,
                       fingerprint=excluded.fingerprint, status=excluded.status, run_start=excluded.run_start,
                       primary_rule=excluded.primary_rule, failures=excluded.failures,
                       last_duration=excluded.last_duration, last_checked=excluded.last_checked""",
                (
                    state.id,
                    state.name,
                    state.resource_group,
                    state.subscription,
                    state.fingerprint,
                    state.status,
                    state.run_start,
                    state.primary_rule,
                    state.failures,
                    state.last_duration,
                    now,
                    now,
                ),
            )
            if notification is not None:
                key, kind, payload = notification
                self.db.execute(
                    "INSERT OR IGNORE INTO notifications (key, template_id, kind, payload, created) VALUES (?, ?, ?, ?, ?)",
                    (key, state.id, kind, json.dumps(payload), now),
                )

    def touch(self, ids: list[str], now: float) -> None:
        with self.transaction():
            self.db.executemany("UPDATE templates SET last_checked=? WHERE id=?", [(now, i) for i in ids])

    def forget(self, template_id: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM templates WHERE id=?", (template_id,))

    def pending_notifications(self) -> list[tuple[str, str, dict]]:
        rows = self.db.execute("SELECT key, kind, payload FROM notifications WHERE sent IS NULL ORDER BY created")
        return [(key, kind, json.loads(payload)) for key, kind, payload in rows]

    def mark_sent(self, key: str, now: float) -> None:
        with self.transaction():
            self.db.execute("UPDATE notifications SET sent=? WHERE key=?", (now, key))

    def record_check(self, started: float, finished: float, summary: dict) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO checks (started, finished, summary) VALUES (?, ?, ?)",
                (started, finished, json.dumps(summary)),
            )

    def transaction(self):
        return _Transaction(self.db)


def _lock_exclusive(handle) -> None:
    """A non-blocking exclusive lock held until the file is closed; OSError when another process has it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *rest) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
