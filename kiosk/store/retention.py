"""The SQL of retention and erasure: deleting rows with everything that references them, counting what goes.

kiosk.privacy.retention decides the periods, writes the audit entry and the
report; kiosk.privacy.person decides what an erasure may take. Everything here
runs inside the caller's transaction, except :func:`scrub` (VACUUM cannot).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.store import meta, outbox
from kiosk.store.connection import Executor

# Tables that cache answers of the online lookup, with the column holding when the answer was fetched.
CACHE_TABLES = (("lookup_cache", "fetched_at"), ("online_lookup_cache", "fetched_at"),
                ("gateway_cache", "fetched_at"), ("eligibility_cache", "fetched_at"))
_CHUNK = 500  # ids per statement (SQLite's variable limit is far above; keeps statements short)


@dataclass
class Purged:
    visits: int = 0
    patients: int = 0
    stays: int = 0
    outbox: int = 0
    cache: int = 0
    dependents: dict[str, int] = field(default_factory=dict)
    kept_unsynced: int = 0  # visits past the period kept because the hub has not acknowledged them
    kept_open_stays: int = 0  # visits past the period kept because their stay notification is still needed

    @property
    def total(self) -> int:
        return self.visits + self.patients + self.stays + self.outbox + self.cache


def secure_delete(db: Executor) -> None:
    """Freed pages are zeroed from now on (for this connection)."""
    db.execute("PRAGMA secure_delete=ON")


def scrub(db: Executor) -> None:
    """Make freed bytes really go: checkpoint and truncate the WAL, VACUUM, truncate again."""
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def file_bytes(db: Executor) -> int:
    """Size of the database file and its WAL."""
    path = str(db.execute("PRAGMA database_list").fetchone()[2])
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(path + suffix)
        except OSError:
            pass
    return total


def delete_with_dependents(tx: Executor, table: str, ids: Sequence[int], dependents: dict[str, int],
                           skip: frozenset[str] = frozenset()) -> int:
    """Delete rows of `table` and, first, every row anywhere that references them (recursively); the rows
    deleted from other tables are added to `dependents` by table."""
    if not ids:
        return 0
    n = 0
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i:i + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for child, column in meta.referencing(tx, table):
            if child in skip or child == table:
                continue
            child_ids = [int(r[0]) for r in tx.execute(f"SELECT rowid FROM {child} WHERE {column} IN ({marks})",
                                                       chunk)]
            if child_ids:
                got = delete_with_dependents(tx, child, child_ids, dependents, skip)
                dependents[child] = dependents.get(child, 0) + got
        n += tx.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", chunk).rowcount
    return n


def purge(tx: Executor, *, visit_cutoff: str, stay_cutoff: str, cache_cutoff: str,
          done_stay_states: Sequence[str]) -> Purged:
    """Delete what the retention periods let go (see kiosk.privacy.retention); returns what went and was kept."""
    r = Purged()
    tables = meta.tables(tx)
    has_stays = "stay_notifications" in tables

    # 1. Stay notifications: done (acknowledged or receipted) and past their period.
    if has_stays:
        marks = ",".join("?" * len(done_stay_states))
        stays = [int(row[0]) for row in tx.execute(
            f"SELECT id FROM stay_notifications WHERE state IN ({marks}) AND created_at < ?",
            [*done_stay_states, stay_cutoff])]
        if stays:
            r.stays += delete_with_dependents(tx, "stay_notifications", stays, r.dependents)
            # Their outbox rows (after: the notification references its row): the notification is done, so
            # whatever the row's state it has nothing left to do.
            r.outbox += outbox.delete_for(tx, "stay_notification", stays)

    # 2. Visits past the period whose every outbox row is acknowledged, with no stay notification left.
    stay_clause = "AND NOT EXISTS (SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id)" if has_stays else ""
    old_visits = int(tx.execute("SELECT count(*) FROM visits WHERE created_at < ?", [visit_cutoff]).fetchone()[0])
    purgeable = [int(row[0]) for row in tx.execute(
        f"""SELECT v.id FROM visits v WHERE v.created_at < ?
            AND EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id
                            AND o.state != 'acknowledged')
            {stay_clause}""", [visit_cutoff])]
    if has_stays:
        r.kept_open_stays = int(tx.execute(
            "SELECT count(*) FROM visits v WHERE v.created_at < ? AND EXISTS "
            "(SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id)", [visit_cutoff]).fetchone()[0])
    r.kept_unsynced = old_visits - len(purgeable) - r.kept_open_stays
    for i in range(0, len(purgeable), _CHUNK):
        chunk = purgeable[i:i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        tx.execute(
            f"""INSERT INTO retention_counts(visit_date, source, result_code, visits)
                SELECT v.visit_date, v.source,
                       coalesce((SELECT e.result_code FROM eligibility_results e WHERE e.visit_id = v.id
                                 ORDER BY e.id DESC LIMIT 1), '-'), count(*)
                FROM visits v WHERE v.id IN ({marks}) GROUP BY 1, 2, 3
                ON CONFLICT(visit_date, source, result_code) DO UPDATE SET visits = visits + excluded.visits""",
            chunk)
    r.outbox += outbox.delete_for(tx, "visit", purgeable)
    r.visits += delete_with_dependents(tx, "visits", purgeable, r.dependents)

    # 3. Patients nobody needs any more.
    stay_ref = "AND NOT EXISTS (SELECT 1 FROM stay_notifications s WHERE s.patient_id = p.id)" if has_stays else ""
    patients = [int(row[0]) for row in tx.execute(
        f"""SELECT p.id FROM patients p WHERE p.updated_at < ?
            AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.patient_id = p.id) {stay_ref}""", [visit_cutoff])]
    r.patients += delete_with_dependents(tx, "patients", patients, r.dependents)

    # 4. Other acknowledged outbox rows (audit copies, …) the hub has held for the whole period.
    r.outbox += outbox.delete_acknowledged_before(tx, visit_cutoff, ("visit", "stay_notification"))

    # 5. Cached online-lookup answers.
    for table, column in CACHE_TABLES:
        if table in tables and column in meta.columns(tx, table):
            r.cache += tx.execute(f"DELETE FROM {table} WHERE {column} < ?", [cache_cutoff]).rowcount
    return r


def record_run(tx: Executor, at: str, r: Purged) -> None:
    """One row in `retention_runs` per run that was not a dry run."""
    tx.execute(
        "INSERT INTO retention_runs(at, visits_purged, patients_purged, stays_purged, outbox_purged, "
        "cache_purged, kept_unsynced, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [at, r.visits, r.patients, r.stays, r.outbox, r.cache, r.kept_unsynced,
         json.dumps({"dependents": r.dependents, "kept_open_stays": r.kept_open_stays})])
