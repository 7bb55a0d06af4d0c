"""The SQLite store: the only code that speaks SQL.

- :mod:`kiosk.store.connection` opens the database (WAL, `synchronous=FULL`,
  foreign keys; waits for other kiosk processes opening it at the same time)
  and gives the unit of work: a :class:`Database` carries the device data key
  and the clock, :func:`transaction` yields a :class:`Tx` (`BEGIN IMMEDIATE`).
- :mod:`kiosk.store.schema` applies the versioned migrations in
  `kiosk/store/migrations/`, exactly once across processes.
- one module per aggregate, each the only place with SQL for its tables:
  outbox (and the one definition of "pending"), visits, eligibility_results,
  stays, staff, audit, roster and roster_import, device_status, meta; patients
  (everything about one person, for access requests and erasure), retention
  (purging), encryption (sealing rows written before encryption), backup
  (SQLite's serialize, the backup file format); read-only queries for screens
  and reports in :mod:`kiosk.store.views`, for the heartbeat in
  :mod:`kiosk.store.heartbeat`, for `kiosk doctor` in :mod:`kiosk.store.health`.
- :mod:`kiosk.store.sealing` is the field cipher personal columns are stored
  under (the key file itself is kiosk.privacy.datakey's): the store seals as it
  writes, and imports nothing from kiosk.privacy, which builds on it.

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
