"""Counting for the exactly-once tests: what the kiosk's outbox says it sent, what the hub's database holds,
and every way the two can disagree (a record missing, held twice, held under another key, left queued).

Kept apart from the test so the counting itself is tested (tests/hub/test_exactly_once.py feeds it a
hub that wrote twice and one that lost a record, and checks it says so).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

from kiosk import store
from kiosk.services import stay_notification as sn
from kiosk.services.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY

# The hub's table for each outbox kind, and the column that is the kiosk's own id of the record.
TABLES = {"visit": ("ingest_visit", "record_id"),
          "stay_notification": ("ingest_staynotification", "record_id"),
          "audit": ("ingest_auditentry", "seq")}


def letters(i: int) -> str:
    return "".join("abcdeghikl"[int(d)] for d in str(i)).capitalize()


def make_records(db_path: Path, clock, data_key, visits: int, stays: int, facility: str = "40123") -> None:
    """`visits` check-ins through the real check-in service (identity sealed under the device key, as in
    production), and a stay notification for the first `stays` of them: each writes its outbox rows."""
    service = CheckinService(store.connect(db_path, key=data_key, clock=clock), facility_code=facility,
                             roster_key=DEMO_KEY, rescan_window=timedelta(0))
    ids = []
    for i in range(visits):
        clock.advance(seconds=20)
        v = service.handle(ScanEvent(f"0401950{i:05d}||Người Thử {letters(i)}|12051995|Nữ|Xã Thử|03062021".encode(),
                                     "serial"))
        assert v.ok, v
        ids.append(v.visit_id)
    for vid in ids[:stays]:
        sn.start(service.db, vid, "theo dõi qua đêm", clock=clock, facility_code=facility,
                 address_of_stay="Trạm Y tế xã Thử")
    service.db.conn.close()


def outbox_rows(db_path: Path) -> list[tuple[str, int, str, str]]:
    """(kind, record_id, idempotency_key, state) of every outbox row, read with plain sqlite3."""
    c = sqlite3.connect(db_path, timeout=30)
    try:
        return c.execute("SELECT kind, record_id, idempotency_key, state FROM outbox").fetchall()
    finally:
        c.close()


def outbox_remaining(db_path: Path) -> int:
    c = sqlite3.connect(db_path, timeout=30)
    try:
        return c.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sent')").fetchone()[0]
    finally:
        c.close()


def hub_rows(hub, device: str) -> dict[str, list[tuple[str, str, int]]]:
    """Per kind, (device name, idempotency key, record id) of every row the hub holds — for every device,
    so a row filed under the wrong device shows too."""
    out = {}
    for kind, (table, rid) in TABLES.items():
        out[kind] = [tuple(r) for r in hub.query(
            f"SELECT d.name, t.idempotency_key, t.{rid} FROM {table} t JOIN registry_device d ON d.id = t.device_id")]
    return out


def problems(outbox: list[tuple[str, int, str, str]], held: dict[str, list[tuple[str, str, int]]],
             device: str) -> list[str]:
    """Every disagreement between the kiosk's outbox and the hub's rows; empty means exactly once.

    Exactly once is checked three ways, because each catches a different wrong hub:
    - per idempotency key: a retry written again under its own key (no unique constraint, or an
      idempotency record written outside the record's transaction) shows as a key held twice;
    - per (device, record id): a record written twice under two keys (a sender that minted a new key for a
      resend, or a hub keying on something else) shows as a record id held twice;
    - against the outbox: every acknowledged row is held under its own key, kind and record id, nothing is
      held that the kiosk never sent, and nothing is left queued, in flight or refused.
    """
    found: list[str] = []
    states = Counter(state for *_, state in outbox)
    if set(states) != {"acknowledged"}:
        found.append(f"outbox not drained: {dict(states)}")
    sent = {key: (kind, rid) for kind, rid, key, _ in outbox}
    held_keys: Counter = Counter()
    where: dict[str, tuple[str, int]] = {}
    for kind, rows in held.items():
        per_record = Counter((dev, rid) for dev, _, rid in rows)
        twice = {r: n for r, n in per_record.items() if n > 1}
        if twice:
            found.append(f"{kind}: {len(twice)} (device, record id) held more than once, e.g. {next(iter(twice))}")
        for dev, key, rid in rows:
            held_keys[key] += 1
            where[key] = (kind, rid)
            if dev != device:
                found.append(f"{kind} {rid} filed under device {dev!r}, not {device!r}")
    dup_keys = [k for k, n in held_keys.items() if n > 1]
    if dup_keys:
        found.append(f"{len(dup_keys)} idempotency keys held more than once")
    missing = [k for k in sent if k not in where]
    if missing:
        found.append(f"{len(missing)} outbox records not on the hub, e.g. {sent[missing[0]]}")
    extra = [k for k in where if k not in sent]
    if extra:
        found.append(f"{len(extra)} hub records the outbox never sent, e.g. {where[extra[0]]}")
    wrong = [k for k in sent if k in where and where[k] != sent[k]]
    if wrong:
        found.append(f"{len(wrong)} keys held as another record, e.g. {sent[wrong[0]]} held as {where[wrong[0]]}")
    return found
