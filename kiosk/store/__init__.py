"""The SQLite store: the only code that speaks SQL.

- :mod:`kiosk.store.connection` opens the database (WAL, `synchronous=FULL`,
  foreign keys; waits for other kiosk processes opening it at the same time)
  and gives the unit of work: a :class:`Database` carries the device data key
  and the clock, :func:`transaction` yields a :class:`Tx` (`BEGIN IMMEDIATE`).
- :mod:`kiosk.store.schema` applies the versioned migrations in
  `kiosk/store/migrations/`, exactly once across processes.
- one module per aggregate (outbox, patients, visits, stays, staff, audit,
  roster, device_status, retention, backup, meta), each the only place with
  SQL for its tables, and :mod:`kiosk.store.views` for screen and report
  queries.

The public names below are re-exported so callers write `store.connect(...)`
and `with store.transaction(db) as tx:`.
"""

from __future__ import annotations

from kiosk.store.connection import (Connection, Database, DatabaseError, Executor, Params, Tx, connect, migrate,
                                    schema_version, transaction)
from kiosk.store.meta import get_meta, referencing, set_meta, tables
from kiosk.store.schema import MigrationError, all_migrations

__all__ = ["Connection", "Database", "DatabaseError", "Executor", "MigrationError", "Params", "Tx", "all_migrations",
           "connect", "get_meta", "migrate", "referencing", "schema_version", "set_meta", "tables", "transaction"]
