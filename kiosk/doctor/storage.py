"""The data the kiosk keeps: the database file, free disk, the roster's age and the outbox's backlog.

The database is opened read-only (kiosk.store.health) and any -wal/-shm file
this process creates is handed back to the database's owner (HandBack).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from typing import Any, Callable

from kiosk import store
from kiosk.clock import parse_iso
from kiosk.doctor.base import (DISK_FAIL_BYTES, DISK_WARN_BYTES, FAILURE, OK, OUTBOX_WARN_HOURS, ROSTER_FAIL_DAYS,
                               ROSTER_WARN_DAYS, SKIPPED, WARNING, Env, Finding, HandBack)
from kiosk.store import health


def check_database(env: Env) -> Finding:
    t = env.t
    path = env.config.database
    if not path.exists():
        return Finding("database", FAILURE, t("database.missing", path=path), t("database.missing_action"),
                       {"path": str(path)})
    hand_back = HandBack(path)
    try:
        db = health.open_readonly(path)
        try:
            found = health.integrity(db)
        finally:
            db.close()
    except health.Error as e:
        return Finding("database", FAILURE, t("database.unopenable", path=path, error=e),
                       t("database.unopenable_action"), {"path": str(path), "error": str(e)})
    finally:
        hand_back.restore()
    latest = max((v for v, _, _ in store.all_migrations()), default=0)
    version = found.schema_version
    details = {"path": str(path), "quick_check": found.quick_check, "schema_version": version,
               "latest_version": latest, "journal_mode": found.journal_mode, "size_bytes": path.stat().st_size}
    if found.quick_check != ["ok"]:
        first = found.quick_check[0] if found.quick_check else "?"
        return Finding("database", FAILURE, t("database.damaged", problem=first), t("database.damaged_action"),
                       details)
    if version < latest:
        return Finding("database", WARNING, t("database.old_schema", version=version, latest=latest),
                       t("database.old_schema_action"), details)
    return Finding("database", OK, t("database.ok", version=version), details=details)


def check_disk(env: Env) -> Finding:
    t = env.t
    where = env.config.data_dir
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    details = {"path": str(where), "free_bytes": usage.free, "total_bytes": usage.total}
    found = t("disk.free", free_mb=usage.free // (1024 * 1024), total_mb=usage.total // (1024 * 1024), path=probe)
    if usage.free < DISK_FAIL_BYTES:
        return Finding("disk", FAILURE, found, t("disk.full_action"), details)
    if usage.free < DISK_WARN_BYTES:
        return Finding("disk", WARNING, found, t("disk.low_action"), details)
    return Finding("disk", OK, found, details=details)


def _age_days(iso: str) -> float:
    return (datetime.now(timezone.utc) - parse_iso(iso)).total_seconds() / 86400


def _with_db(env: Env, check: str, fn: Callable[[store.Database], Finding]) -> Finding:
    path = env.config.database
    if not path.exists():
        return Finding(check, SKIPPED, env.t("database.none"))
    hand_back = HandBack(path)
    try:
        db = health.open_readonly(path)
        try:
            return fn(db)
        finally:
            db.close()
    except health.Error as e:
        return Finding(check, FAILURE, env.t("database.unreadable", error=e), env.t("database.see_check"))
    finally:
        hand_back.restore()


def check_roster(env: Env) -> Finding:
    t = env.t

    def fn(db: store.Database) -> Finding:
        r = health.roster_state(db)
        cards = r.cards
        if not r.recorded:
            return Finding("roster", SKIPPED if cards else WARNING, t("roster.unrecorded", cards=cards),
                           "" if cards else t("roster.load_action"), {"cards": cards})
        if not r.imported:
            return Finding("roster", WARNING, t("roster.none"), t("roster.none_action"), {"cards": cards})
        details: dict[str, Any] = {"cards": cards, "version": r.version, "state": r.state, "as_of": r.as_of,
                                   "finished_at": r.finished_at}
        if r.state != "done":
            return Finding("roster", WARNING, t("roster.unfinished", version=r.version),
                           t("roster.unfinished_action"), details)
        when = r.finished_at or r.as_of or r.started_at or ""
        age = _age_days(when)
        details["age_days"] = round(age, 1)
        found = t("roster.state", version=r.version, cards=cards, age=f"{age:.1f}")
        if cards == 0:
            return Finding("roster", WARNING, found, t("roster.empty_action"), details)
        if age > ROSTER_FAIL_DAYS:
            return Finding("roster", FAILURE, found, t("roster.too_old_action"), details)
        if age > ROSTER_WARN_DAYS:
            return Finding("roster", WARNING, found, t("roster.old_action"), details)
        return Finding("roster", OK, found, details=details)
    return _with_db(env, "roster", fn)


def check_outbox(env: Env) -> Finding:
    t = env.t

    def fn(db: store.Database) -> Finding:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        o = health.outbox_state(db, now)
        manual = o.counts.get("needs_manual", 0)
        age_h = _age_days(o.oldest_waiting) * 24 if o.oldest_waiting else 0.0
        details: dict[str, Any] = {"counts": o.counts, "backlog": o.waiting, "oldest": o.oldest_waiting,
                                   "oldest_age_hours": round(age_h, 1)}
        if o.stays_overdue is not None:
            details["stay_overdue"] = o.stays_overdue
        found = t("outbox.waiting", waiting=o.waiting)
        if o.oldest_waiting:
            found += t("outbox.oldest", hours=f"{age_h:.1f}")
        if manual:
            found += t("outbox.manual", manual=manual)
        found += "."
        if o.stays_overdue:
            return Finding("outbox", FAILURE, found + t("outbox.stays_overdue", overdue=o.stays_overdue),
                           t("outbox.stays_overdue_action"), details)
        if manual or age_h > OUTBOX_WARN_HOURS:
            return Finding("outbox", WARNING, found, t("outbox.stuck_action"), details)
        return Finding("outbox", OK, found, details=details)
    return _with_db(env, "outbox", fn)
