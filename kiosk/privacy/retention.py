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

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kiosk import store
from kiosk.clock import iso_utc
from kiosk.config import Config
from kiosk.logs import event
from kiosk.privacy import audit
from kiosk.store import retention as rows
from kiosk.store.retention import CACHE_TABLES, scrub, secure_delete

__all__ = ["ACTOR", "CACHE_TABLES", "DONE_STAY_STATES", "Report", "run", "scrub", "secure_delete"]

log = logging.getLogger(__name__)

ACTOR = "system:retention"
DONE_STAY_STATES = ("acknowledged", "receipt_recorded")


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, p: rows.Purged) -> None:
        self.visits_purged += p.visits
        self.patients_purged += p.patients
        self.stays_purged += p.stays
        self.outbox_purged += p.outbox
        self.cache_purged += p.cache
        for table, n in p.dependents.items():
            self.dependents_purged[table] = self.dependents_purged.get(table, 0) + n
        self.kept_unsynced = p.kept_unsynced
        self.kept_open_stays = p.kept_open_stays


class _DryRun(Exception):
    pass


def run(db: store.Database, cfg: Config, now: datetime, *, dry_run: bool = False, vacuum: bool = True) -> Report:
    visit_cutoff = iso_utc(now - timedelta(days=cfg["privacy.visit_retention_days"]))
    stay_cutoff = iso_utc(now - timedelta(days=cfg["privacy.stay_notification_retention_days"]))
    cache_cutoff = iso_utc(now - timedelta(hours=cfg["privacy.lookup_cache_hours"]))
    report = Report(iso_utc(now), visit_cutoff, stay_cutoff, cache_cutoff, dry_run=dry_run,
                    bytes_before=rows.file_bytes(db))
    secure_delete(db)
    purged = rows.Purged()
    try:
        with store.transaction(db) as tx:
            purged = rows.purge(tx, visit_cutoff=visit_cutoff, stay_cutoff=stay_cutoff, cache_cutoff=cache_cutoff,
                                done_stay_states=DONE_STAY_STATES)
            report.add(purged)
            if dry_run:
                raise _DryRun()
            if purged.total:
                audit.record(tx, actor=ACTOR, action="purged", record_kind="retention",
                             record_id=f"before:{visit_cutoff}", purpose="retention period ended (docs/privacy.md)",
                             details={k: v for k, v in report.to_json().items()
                                      if k.endswith("_purged") or k.startswith("kept")}, now=now)
            rows.record_run(tx, report.at, purged)
    except _DryRun:
        pass
    if not dry_run and vacuum and purged.total:
        scrub(db)
        report.vacuumed = True
    report.bytes_after = rows.file_bytes(db)
    event(log, "retention_run", visits=report.visits_purged, patients=report.patients_purged,
          stays=report.stays_purged, outbox=report.outbox_purged, cache=report.cache_purged,
          kept_unsynced=report.kept_unsynced, dry_run=dry_run)
    return report
