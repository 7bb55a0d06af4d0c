"""Opening the database, and the unit of work: a connection that carries its data key and clock.

Every connection runs in WAL mode with `synchronous=FULL` (what a person
entered must survive a power cut) and foreign keys on. Python's implicit
transactions are switched off (`isolation_level=None`); writes go through
:func:`transaction`, which takes the write lock up front (`BEGIN IMMEDIATE`).

Several kiosk processes open the same database (at boot the UI and
`kiosk-sync` start together): opening, switching to WAL and migrating wait
for one another. SQLite answers some of these with SQLITE_BUSY at once,
without calling the busy handler (changing the journal mode, WAL recovery),
so :func:`connect` retries them with a bounded, logged backoff; and
:func:`migrate` applies every pending migration in one `BEGIN IMMEDIATE`
transaction that re-reads `user_version` under the lock, so exactly one
process migrates and the others find the work done.

The device data key and the clock travel with the connection (:class:`Database`,
:class:`Tx`): whoever opens the database says which key seals its personal
fields, so nothing looks a key up by path, and a process holding two databases
(tests, restore) never seals one under the other's key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from kiosk.clock import Clock, SystemClock
from kiosk.errors import UnavailableError
from kiosk.store.sealing import DataKey
from kiosk.store import schema

Params: TypeAlias = "Sequence[Any] | Mapping[str, Any]"
DatabaseError = sqlite3.Error  # what a store call raises; callers outside kiosk.store catch it by this name


class Connection(sqlite3.Connection):
    """A sqlite3 connection that knows the data key and clock it was opened with."""

    key: DataKey | None = None
    clock: Clock = SystemClock()


class Executor(Protocol):
    """What store functions need from their first argument: a :class:`Database` or a :class:`Tx`."""

    @property
    def key(self) -> DataKey | None: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, params: Params = ..., /) -> sqlite3.Cursor: ...

    def executemany(self, sql: str, params: Iterable[Params], /) -> sqlite3.Cursor: ...


class _OnConnection:
    """What a Database and a Tx share: SQL on one connection, which carries the data key and the clock."""

    conn: Connection

    @property
    def key(self) -> DataKey | None:
        return self.conn.key

    @property
    def clock(self) -> Clock:
        return self.conn.clock

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, params: Params = (), /) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, params: Iterable[Params], /) -> sqlite3.Cursor:
        return self.conn.executemany(sql, params)


class Database(_OnConnection):
    """One open database: its connection, path, device data key and clock."""

    def __init__(self, conn: Connection, path: Path):
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"Database({self.path}, key={self.key!r})"


class Tx(_OnConnection):
    """The open write transaction :func:`transaction` yields: SQL, plus the key and clock of its database."""

    def __init__(self, db: Database):
        self.db = db
        self.conn = db.conn


def connect(path: Path | str, *, key: DataKey | None = None, clock: Clock | None = None, migrate_now: bool = True,
            timeout: float = 30.0) -> Database:
    """Open (and by default migrate) the database. `key` seals and opens personal fields; without one (unit
    tests of logic) they are written in clear."""
    path = Path(path)
    if str(path) != ":memory:":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UnavailableError(f"cannot create the data directory {path.parent}: {e.strerror}") from None
    waiter = schema.Waiter("open", path, timeout)
    while True:
        conn: Connection | None = None
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False,
                                   factory=Connection)
            conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            # Changing the journal mode can answer SQLITE_BUSY without waiting: only ask when it is needed.
            row = conn.execute("PRAGMA journal_mode").fetchone()
            if (row[0] if row else "").lower() != "wal" and str(path) != ":memory:":
                row = conn.execute("PRAGMA journal_mode=WAL").fetchone()
                mode = (row[0] if row else "no answer").lower()
                if mode != "wal":  # SQLite could not switch (it says which mode it kept)
                    raise sqlite3.OperationalError(f"database is locked (journal mode stayed {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            break
        except sqlite3.Error as e:
            if conn is not None:
                conn.close()
            if not schema.busy(e):
                raise UnavailableError(f"cannot open the database {path}: {e}") from None
            waiter.wait(e)
    conn.key = key
    if clock is not None:
        conn.clock = clock
    db = Database(conn, path)
    if migrate_now:
        migrate(db, timeout=timeout)
    return db


def migrate(db: Database, *, timeout: float = 30.0) -> list[int]:
    """Apply pending migrations (see kiosk.store.schema); returns the versions this process applied."""
    return schema.apply(db.conn, timeout=timeout)


def schema_version(db: Executor) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def transaction(db: Database) -> Iterator[Tx]:
    """One write transaction: everything inside commits together or not at all."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield Tx(db)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "full" in str(e).lower():
                raise UnavailableError("the storage is full: nothing was saved; free space and try again") from None
            raise
