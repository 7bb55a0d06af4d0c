"""Retention: keep personal data only as long as its purpose needs, and never lose what is not yet delivered.

`run()` applies docs/privacy.md's periods:

- a visit older than `privacy.visit_retention_days` whose outbox rows are ALL
  acknowledged by the hub (and that has no stay notification left) is reduced
  to a daily count in `retention_counts` and deleted with everything that
  references it (eligibility result, services, console changes, …);
- a patient identity with no visit and no notification left, untouched for
  the same period, is deleted;
- an acknowledged (or receipted) stay notification older than
  `privacy.stay_notification_retention_days` is deleted with its outbox row;
- acknowledged outbox rows past the visit period go (their payloads hold
  personal data, and the hub has them);
- cached online-lookup answers older than `privacy.lookup_cache_hours` go.

A record with no outbox row, or any row not acknowledged, is never purged:
"unsynced" includes "never queued". Deletion runs with `PRAGMA
secure_delete=ON` (freed pages are zeroed), then the WAL is checkpointed and
truncated and the database is VACUUMed, so the bytes are gone from the files,
not just unlinked from the b-tree.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from kiosk import store
from kiosk.privacy import audit
from kiosk.clock import iso_utc
from kiosk.logs import event

log = logging.getLogger(__name__)

ACTOR = "system:retention"
DONE_STAY_STATES = ("acknowledged", "receipt_recorded")
# Tables that cache answers of the online lookup, with the column holding when the answer was fetched.
CACHE_TABLES = (("lookup_cache", "fetched_at"), ("online_lookup_cache", "fetched_at"),
                ("gateway_cache", "fetched_at"), ("eligibility_cache", "fetched_at"))


@dataclass
class Report:
    at: str
    visit_cutoff: str
    stay_cutoff: str
    cache_cutoff: str
    visits_purged: int = 0
    patients_purged: int = 0
    stays_purged: int = 0
    outbox_purged: int = 0
    cache_purged: int = 0
    dependents_purged: dict[str, int] = field(default_factory=dict)
    kept_unsynced: int = 0  # visits past the period kept because the hub has not acknowledged them
    kept_open_stays: int = 0  # visits past the period kept because their stay notification is still needed
    dry_run: bool = False
    vacuumed: bool = False
    bytes_before: int = 0
    bytes_after: int = 0

    def to_json(self) -> dict:
        return asdict(self)




def _delete_with_dependents(conn, table: str, ids: list[int], report: Report, skip: set[str] = frozenset()) -> int:
    """Delete rows of `table` and, first, every row anywhere that references them (recursively)."""
    if not ids:
        return 0
    n = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for child, column in store.referencing(conn, table):
            if child in skip or child == table:
                continue
            child_ids = [r[0] for r in conn.execute(f"SELECT rowid FROM {child} WHERE {column} IN ({marks})", chunk)]
            if child_ids:
                got = _delete_with_dependents(conn, child, child_ids, report, skip)
                report.dependents_purged[child] = report.dependents_purged.get(child, 0) + got
        n += conn.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", chunk).rowcount
    return n


def _db_bytes(db) -> int:
    import os
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(path + suffix)
        except OSError:
            pass
    return total


def run(db, cfg, now: datetime, *, dry_run: bool = False, vacuum: bool = True) -> Report:
    visit_cutoff = iso_utc(now - timedelta(days=cfg["privacy.visit_retention_days"]))
    stay_cutoff = iso_utc(now - timedelta(days=cfg["privacy.stay_notification_retention_days"]))
    cache_cutoff = iso_utc(now - timedelta(hours=cfg["privacy.lookup_cache_hours"]))
    report = Report(iso_utc(now), visit_cutoff, stay_cutoff, cache_cutoff, dry_run=dry_run,
                    bytes_before=_db_bytes(db))
    conn = db.conn
    conn.execute("PRAGMA secure_delete=ON")
    try:
        with store.transaction(db) as conn:
            _purge(conn, report, visit_cutoff, stay_cutoff, cache_cutoff)
            purged = report.visits_purged + report.patients_purged + report.stays_purged + \
                report.outbox_purged + report.cache_purged
            if dry_run:
                raise _DryRun()
            if purged:
                audit.record(conn, actor=ACTOR, action="purged", record_kind="retention",
                             record_id=f"before:{visit_cutoff}", purpose="retention period ended (docs/privacy.md)",
                             details={k: v for k, v in report.to_json().items()
                                      if k.endswith("_purged") or k.startswith("kept")}, now=now)
            conn.execute(
                "INSERT INTO retention_runs(at, visits_purged, patients_purged, stays_purged, outbox_purged, "
                "cache_purged, kept_unsynced, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [report.at, report.visits_purged, report.patients_purged, report.stays_purged,
                 report.outbox_purged, report.cache_purged, report.kept_unsynced,
                 json.dumps({"dependents": report.dependents_purged, "kept_open_stays": report.kept_open_stays})])
    except _DryRun:
        pass
    if not dry_run and vacuum and (report.visits_purged or report.patients_purged or report.stays_purged
                                   or report.outbox_purged or report.cache_purged):
        scrub(db)
        report.vacuumed = True
    report.bytes_after = _db_bytes(db)
    event(log, "retention_run", visits=report.visits_purged, patients=report.patients_purged,
          stays=report.stays_purged, outbox=report.outbox_purged, cache=report.cache_purged,
          kept_unsynced=report.kept_unsynced, dry_run=dry_run)
    return report


class _DryRun(Exception):
    pass


def scrub(db) -> None:
    """Make freed bytes really go: checkpoint and truncate the WAL, VACUUM, truncate again."""
    conn = db.conn
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _purge(conn: sqlite3.Connection, r: Report, visit_cutoff: str, stay_cutoff: str, cache_cutoff: str) -> None:
    tables = store.tables(conn)
    has_stays = "stay_notifications" in tables

    # 1. Stay notifications: done (acknowledged or receipted) and past their period.
    if has_stays:
        marks = ",".join("?" * len(DONE_STAY_STATES))
        stays = [row[0] for row in conn.execute(
            f"SELECT id FROM stay_notifications WHERE state IN ({marks}) AND created_at < ?",
            [*DONE_STAY_STATES, stay_cutoff])]
        if stays:
            r.stays_purged += _delete_with_dependents(conn, "stay_notifications", stays, r)
            # Their outbox rows (after: the notification references its row): the notification is done, so
            # whatever the row's state it has nothing left to do.
            for i in range(0, len(stays), 500):
                chunk = stays[i:i + 500]
                sm = ",".join("?" * len(chunk))
                r.outbox_purged += conn.execute(
                    f"DELETE FROM outbox WHERE kind = 'stay_notification' AND record_id IN ({sm})", chunk).rowcount

    # 2. Visits past the period whose every outbox row is acknowledged, with no stay notification left.
    stay_clause = "AND NOT EXISTS (SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id)" if has_stays else ""
    old_visits = conn.execute("SELECT count(*) FROM visits WHERE created_at < ?", [visit_cutoff]).fetchone()[0]
    purgeable = [row[0] for row in conn.execute(
        f"""SELECT v.id FROM visits v WHERE v.created_at < ?
            AND EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id
                            AND o.state != 'acknowledged')
            {stay_clause}""", [visit_cutoff])]
    if has_stays:
        r.kept_open_stays = conn.execute(
            "SELECT count(*) FROM visits v WHERE v.created_at < ? AND EXISTS "
            "(SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id)", [visit_cutoff]).fetchone()[0]
    r.kept_unsynced = old_visits - len(purgeable) - r.kept_open_stays
    for i in range(0, len(purgeable), 500):
        chunk = purgeable[i:i + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"""INSERT INTO retention_counts(visit_date, source, result_code, visits)
                SELECT v.visit_date, v.source,
                       coalesce((SELECT e.result_code FROM eligibility_results e WHERE e.visit_id = v.id
                                 ORDER BY e.id DESC LIMIT 1), '-'), count(*)
                FROM visits v WHERE v.id IN ({marks}) GROUP BY 1, 2, 3
                ON CONFLICT(visit_date, source, result_code) DO UPDATE SET visits = visits + excluded.visits""",
            chunk)
        r.outbox_purged += conn.execute(
            f"DELETE FROM outbox WHERE kind = 'visit' AND record_id IN ({marks})", chunk).rowcount
    r.visits_purged += _delete_with_dependents(conn, "visits", purgeable, r)

    # 3. Patients nobody needs any more.
    stay_ref = "AND NOT EXISTS (SELECT 1 FROM stay_notifications s WHERE s.patient_id = p.id)" if has_stays else ""
    patients = [row[0] for row in conn.execute(
        f"""SELECT p.id FROM patients p WHERE p.updated_at < ?
            AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.patient_id = p.id) {stay_ref}""", [visit_cutoff])]
    r.patients_purged += _delete_with_dependents(conn, "patients", patients, r)

    # 4. Other acknowledged outbox rows (audit copies, …) the hub has held for the whole period.
    r.outbox_purged += conn.execute(
        "DELETE FROM outbox WHERE state = 'acknowledged' AND coalesce(acknowledged_at, created_at) < ? "
        "AND kind != 'visit' AND kind != 'stay_notification'", [visit_cutoff]).rowcount

    # 5. Cached online-lookup answers.
    for table, column in CACHE_TABLES:
        if table in tables:
            cols = {c[1] for c in conn.execute(f"PRAGMA table_info('{table}')")}
            if column in cols:
                r.cache_purged += conn.execute(f"DELETE FROM {table} WHERE {column} < ?", [cache_cutoff]).rowcount
