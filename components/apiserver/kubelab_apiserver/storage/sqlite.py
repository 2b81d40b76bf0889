"""The embedded backend: one SQLite file kept the way etcd keeps its keys (a multi-version log).

Every write appends a row ``(key, revision, create_revision, value)``; a deletion appends a row
without a value (a tombstone). Reading at a revision takes, per key, the newest row at or below
it, so a list's later pages see the first page's snapshot exactly as etcd's do, and a watch
replays the rows after its revision. Compaction deletes the rows no read at or above the
compacted revision can see. One revision counter serves every key, so resourceVersions are
monotonic across the whole store.

SQLite serialises writers itself; the connection is shared by the event loop's tasks under a
lock and every call is short. Watchers are woken through their own loop, so the store may be
used from a thread other than the one that made it.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from kubelab_apiserver.storage.errors import AlreadyExists, Conflict, NotFound, TooLargeResourceVersion
from kubelab_apiserver.storage.interface import (
    Event,
    Object,
    Page,
    conflict_message,
    decode,
    encode,
    expired_continue,
    parse_continue,
    too_old,
)
from kubelab_apiserver.storage.interface import continue_token as make_continue

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT NOT NULL,
    rev INTEGER NOT NULL,
    create_rev INTEGER NOT NULL,
    value BLOB,                      -- NULL: the key was deleted at rev
    PRIMARY KEY (key, rev)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_rev ON kv (rev);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('revision', 1), ('compacted', 0);
"""
# The newest row of each key in [start, end) at or below a revision.
AT_REVISION = """
SELECT kv.key, kv.rev, kv.value FROM kv
JOIN (SELECT key, MAX(rev) AS rev FROM kv WHERE key >= ? AND key < ? AND rev <= ? GROUP BY key) newest
  ON kv.key = newest.key AND kv.rev = newest.rev
WHERE kv.value IS NOT NULL ORDER BY kv.key
"""


def prefix_end(prefix: str) -> str:
    """The first key after every key that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


class _Watcher:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.changed = asyncio.Event()

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.changed.set)


class SqliteStorage:
    name = "sqlite"

    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._watchers: set[_Watcher] = set()

    # -- reading --------------------------------------------------------------------------------
    def _meta(self, name: str) -> int:
        value: int = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0]
        return value

    def _newest(self, key: str, at: int | None = None) -> tuple[int, int, bytes | None] | None:
        row = self._db.execute(
            "SELECT rev, create_rev, value FROM kv WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1",
            (key, at if at is not None else self._meta("revision")),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    async def get(self, key: str) -> Object:
        with self._lock:
            row = self._newest(key)
        if row is None or row[2] is None:
            raise NotFound(key, f"{key} not found")
        return decode(row[2], row[0])

    async def list(self, prefix: str, *, limit: int = 0, continue_token: str = "") -> Page:
        with self._lock:
            current, compacted = self._meta("revision"), self._meta("compacted")
            at, start = current, prefix
            if continue_token:
                at, start = parse_continue(continue_token, prefix)
                if at < compacted:
                    raise expired_continue(prefix, at)
                if at > current:
                    raise TooLargeResourceVersion(prefix, f"Too large resource version: {at}, current: {current}")
            rows = self._db.execute(AT_REVISION, (start, prefix_end(prefix), at)).fetchall()
        page, rest = (rows[:limit], rows[limit:]) if limit > 0 else (rows, [])
        items = [decode(value, rev) for _key, rev, value in page]
        token = make_continue(at, rest[0][0]) if rest else ""
        return Page(items, at, token, len(rest) if rest else 0)

    async def revision(self) -> int:
        with self._lock:
            return self._meta("revision")

    # -- writing --------------------------------------------------------------------------------
    def _append(self, key: str, create_rev: int | None, value: bytes | None) -> int:
        """Write one row at the next revision (inside the caller's transaction); returns the revision."""
        revision = self._meta("revision") + 1
        self._db.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (revision,))
        self._db.execute(
            "INSERT INTO kv VALUES (?, ?, ?, ?)", (key, revision, create_rev if create_rev else revision, value)
        )
        return revision

    def _commit(self) -> None:
        self._db.execute("COMMIT")
        for watcher in list(self._watchers):
            watcher.wake()

    async def create(self, key: str, obj: Object) -> Object:
        data = encode(obj)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._newest(key)
                if row is not None and row[2] is not None:
                    raise AlreadyExists(key, f"{key} already exists")
                revision = self._append(key, None, data)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._commit()
        return decode(data, revision)

    async def update(self, key: str, obj: Object, *, expected: int) -> Object:
        data = encode(obj)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._newest(key)
                if row is None or row[2] is None:
                    raise NotFound(key, f"{key} not found")
                if row[0] != expected:
                    raise Conflict(key, conflict_message(key, expected, row[0]))
                revision = self._append(key, row[1], data)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._commit()
        return decode(data, revision)

    async def delete(self, key: str, *, expected: int | None = None) -> Object:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._newest(key)
                if row is None or row[2] is None:
                    raise NotFound(key, f"{key} not found")
                if expected is not None and row[0] != expected:
                    raise Conflict(key, conflict_message(key, expected, row[0]))
                revision = self._append(key, row[1], None)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._commit()
        return decode(row[2], revision)

    async def compact(self, revision: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            current = self._meta("revision")
            if revision > current:
                self._db.execute("ROLLBACK")
                raise TooLargeResourceVersion("", f"cannot compact at {revision}: the store is at {current}")
            # rows a later row at or below the compacted revision hides, then tombstones nothing follows
            self._db.execute(
                "DELETE FROM kv WHERE rev < :c AND EXISTS "
                "(SELECT 1 FROM kv later WHERE later.key = kv.key AND later.rev > kv.rev AND later.rev <= :c)",
                {"c": revision},
            )
            self._db.execute(
                "DELETE FROM kv WHERE rev <= :c AND value IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM kv later WHERE later.key = kv.key AND later.rev > kv.rev)",
                {"c": revision},
            )
            self._db.execute("UPDATE meta SET value = MAX(value, ?) WHERE name = 'compacted'", (revision,))
            self._db.execute("COMMIT")

    # -- watching -------------------------------------------------------------------------------
    def _events_after(self, prefix: str, after: int) -> builtins.list[Event]:
        rows = self._db.execute(
            "SELECT key, rev, create_rev, value FROM kv WHERE key >= ? AND key < ? AND rev > ? ORDER BY rev",
            (prefix, prefix_end(prefix), after),
        ).fetchall()
        events: builtins.list[Event] = []
        for key, rev, create_rev, value in rows:
            if value is None:
                before = self._newest(key, rev - 1)
                last = before[2] if before is not None and before[2] is not None else b"{}"
                events.append(Event("DELETED", key, decode(last, rev), rev))
            else:
                events.append(Event("ADDED" if create_rev == rev else "MODIFIED", key, decode(value, rev), rev))
        return events

    async def watch(self, prefix: str, after: int) -> AsyncIterator[Event]:
        watcher = _Watcher()
        self._watchers.add(watcher)
        try:
            while True:
                watcher.changed.clear()
                with self._lock:
                    compacted = self._meta("compacted")
                    if after < compacted:  # asked for, or fell behind, history that is gone
                        raise too_old(prefix, after, compacted)
                    events = self._events_after(prefix, after)
                for event in events:
                    after = event.revision
                    yield event
                await watcher.changed.wait()
        finally:
            self._watchers.discard(watcher)

    async def close(self) -> None:
        with self._lock:
            self._db.close()
