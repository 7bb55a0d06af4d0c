"""`POST /v1/heartbeat`: a kiosk's state every 5 minutes and after each sync. No personal data: every
field is a count, a version, a time or a device state, and any other field is refused."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from kiosk_hub.registry.models import DEVICE_STATES, Device

from .models import DOCUMENTS
from .validate import Invalid, _need, when

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIELDS = {"app_version", "roster_version", "roster_as_of", "outbox", "oldest_unsent_at", "clock_synced",
          "disk_free_mb", "devices", "visits_today", "open_stays", "earliest_stay_deadline", "sent_at"}
DEVICE_NAMES = ("scanner", "chip", "camera", "printer")
OUTBOX_STATES = ("queued", "sent", "acknowledged", "needs_manual", "withdrawn")
VERSION_RE = re.compile(r"[A-Za-z0-9.+_~-]{1,64}", re.ASCII)
AS_OF_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?", re.ASCII)
MAX_COUNT = 10 ** 9


def _count(v: Any, name: str, *, null: bool = False) -> int | None:
    if v is None and null:
        return None
    _need(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT * 1000,
          f"{name}: expected a count (integer ≥ 0)")
    return v


def _counts(v: Any, name: str, keys: tuple[str, ...]) -> dict[str, int]:
    if v is None:
        return {}
    _need(isinstance(v, dict), f"{name}: expected an object of counts")
    bad = set(v) - set(keys)
    _need(not bad, f"{name}: unknown keys {', '.join(sorted(bad))} (expected {', '.join(keys)})")
    return {k: _count(n, f"{name}.{k}") for k, n in v.items()}


def parse(body: Any) -> dict[str, Any]:
    _need(isinstance(body, dict), "the body must be a JSON object")
    extra = set(body) - FIELDS
    _need(not extra, f"fields outside the heartbeat: {', '.join(sorted(extra))} (a heartbeat carries no personal data)")
    av = body.get("app_version")
    _need(isinstance(av, str) and bool(VERSION_RE.fullmatch(av)), "app_version: expected a version string")
    ra = body.get("roster_as_of")
    _need(ra is None or (isinstance(ra, str) and bool(AS_OF_RE.fullmatch(ra))), "roster_as_of: expected a date")
    cs = body.get("clock_synced")
    _need(cs is None or isinstance(cs, bool), "clock_synced: expected a boolean")
    devices = body.get("devices") or {}
    _need(isinstance(devices, dict), "devices: expected an object")
    bad = set(devices) - set(DEVICE_NAMES)
    _need(not bad, f"devices: unknown devices {', '.join(sorted(bad))}")
    for k, v in devices.items():
        _need(v in DEVICE_STATES, f"devices.{k}: expected ok, absent or fault")
    outbox = _counts(body.get("outbox"), "outbox", OUTBOX_STATES)
    return {
        "app_version": av,
        "roster_version": _count(body.get("roster_version"), "roster_version", null=True),
        "roster_as_of": ra,
        "outbox": outbox,
        "backlog": outbox.get("queued", 0) + outbox.get("sent", 0),
        "oldest_unsent_at": when(body, "oldest_unsent_at", required=False),
        "clock_synced": cs,
        "disk_free_mb": _count(body.get("disk_free_mb"), "disk_free_mb", null=True),
        "devices": devices,
        "visits_today": _counts(body.get("visits_today"), "visits_today", DOCUMENTS),
        "open_stays": _count(body.get("open_stays", 0) or 0, "open_stays"),
        "earliest_stay_deadline": when(body, "earliest_stay_deadline", required=False),
    }


_STATUS_COLS = ("device_id", "received_at", "app_version", "roster_version", "roster_as_of", "outbox", "backlog",
                "oldest_unsent_at", "clock_synced", "disk_free_mb", "devices", "visits_today", "open_stays",
                "earliest_stay_deadline")
_JSON = {"outbox", "devices", "visits_today"}
_DAY = "registry_heartbeatday"


def store(device: Device, fields: dict[str, Any], now: datetime) -> None:
    """The latest state (one row per device) and the day's aggregate, in one transaction of three
    statements (two upserts and the device's last contact), on both engines."""
    today = now.astimezone(VN).date()
    fault = any(v == "fault" for v in fields["devices"].values())
    unsynced = fields["clock_synced"] is False
    ops = connection.ops
    pg = connection.vendor == "postgresql"
    at = ops.adapt_datetimefield_value(now)
    row = {"device_id": device.pk, "received_at": at, **fields}
    for k in ("oldest_unsent_at", "earliest_stay_deadline"):
        row[k] = ops.adapt_datetimefield_value(row[k])
    for k in _JSON:
        row[k] = json.dumps(row[k])
    marks = ", ".join("%s::jsonb" if pg and c in _JSON else "%s" for c in _STATUS_COLS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _STATUS_COLS[1:])
    disk = fields["disk_free_mb"]
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f"INSERT INTO registry_devicestatus ({', '.join(_STATUS_COLS)}) VALUES ({marks}) "
                  f"ON CONFLICT (device_id) DO UPDATE SET {updates}", [row[k] for k in _STATUS_COLS])
        c.execute("UPDATE registry_device SET last_seen_at = %s WHERE id = %s", [at, device.pk])
        c.execute(
            f'INSERT INTO {_DAY} (device_id, "date", "count", worst_backlog, min_disk_free_mb, fault_count, '
            "clock_unsynced_count, first_at, last_at) VALUES (%s, %s, 1, %s, %s, %s, %s, %s, %s) "
            f'ON CONFLICT (device_id, "date") DO UPDATE SET "count" = {_DAY}."count" + 1, '
            f"worst_backlog = CASE WHEN excluded.worst_backlog > {_DAY}.worst_backlog "
            f"THEN excluded.worst_backlog ELSE {_DAY}.worst_backlog END, "
            f"min_disk_free_mb = CASE WHEN excluded.min_disk_free_mb IS NULL THEN {_DAY}.min_disk_free_mb "
            f"WHEN {_DAY}.min_disk_free_mb IS NULL OR excluded.min_disk_free_mb < {_DAY}.min_disk_free_mb "
            f"THEN excluded.min_disk_free_mb ELSE {_DAY}.min_disk_free_mb END, "
            f"fault_count = {_DAY}.fault_count + excluded.fault_count, "
            f"clock_unsynced_count = {_DAY}.clock_unsynced_count + excluded.clock_unsynced_count, "
            "last_at = excluded.last_at",
            [device.pk, ops.adapt_datefield_value(today), fields["backlog"], disk, int(fault), int(unsynced), at, at])


__all__ = ["parse", "store", "Invalid"]
