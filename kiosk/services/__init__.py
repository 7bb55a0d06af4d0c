"""The business steps: check-in, desk actions, stays, staff, manual entry, device status, roster import.

Each step takes a unit of work — a `store.Database` (connection, device data
key, clock) — and no SQL: the store's aggregate modules hold it. Given a
`store.Tx` instead, a step joins the caller's transaction, so two steps can
commit together (seeding the demo's staff, a check-in and its desk update).
`now` parameters default to the database's clock; tests pin it with FixedClock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from kiosk import store

UnitOfWork = store.Database | store.Tx


@contextmanager
def transaction(db: UnitOfWork) -> Iterator[store.Tx]:
    """The caller's transaction when `db` is a Tx (the step joins it), else a new one on the Database."""
    if isinstance(db, store.Tx):
        yield db
    else:
        with store.transaction(db) as tx:
            yield tx


def now_of(db: store.Executor, now: datetime | None) -> datetime:
    """`now` when the caller gave one, else the unit of work's clock."""
    return now if now is not None else db.clock.now()
