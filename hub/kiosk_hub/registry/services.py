"""Enrol, revoke, import facilities: the operations the CLI and the dashboard share. Each records itself
in AdminAction (registry.actions.record) with the actor given."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kiosk_hub.errors import ServiceError   # also services.ServiceError, as the dashboard catches it

from . import actions, marker
from .models import Device, Facility

FACILITY_COLUMNS = ("code", "name", "district_code", "district_name", "province_code", "province_name")
_CODE = re.compile(r"[0-9]{5}", re.ASCII)
_AREA = re.compile(r"[0-9]{1,5}", re.ASCII)
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,120}")


def token_hash(token: str) -> str:
    # Tokens are 256-bit random: a plain SHA-256 makes the stored form useless to a thief.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def enrol(facility_code: str, name: str, *, actor: str = "cli") -> tuple[Device, str]:
    """Register a kiosk for one facility, or re-enrol it (a new token; revocation and wipe order lifted).
    Returns the device and its token, which is shown once and never stored."""
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise ServiceError("the device name must be 1..120 printable characters")
    fac = Facility.objects.filter(code=(facility_code or "").strip()).first()
    if fac is None:
        raise ServiceError(f"no facility with code {facility_code!r} (import the registry: kiosk-hub facilities import)")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        dev = Device.objects.select_for_update().filter(name=name).first()
        re_enrolled = dev is not None
        if dev is None:
            dev = Device.objects.create(name=name, facility=fac, token_hash=token_hash(token), created_at=now)
        else:
            dev.facility, dev.token_hash, dev.created_at = fac, token_hash(token), now
            dev.revoked_at, dev.revoke_reason, dev.wipe_ordered = None, "", False
            dev.save()
        actions.record(actor, "device_enrol", name, facility=fac.code, re_enrolled=re_enrolled)
        transaction.on_commit(marker.announce)   # workers cache token -> device (ingest.devices)
    return dev, token


def revoke(name: str, reason: str = "", wipe: bool = False, *, actor: str = "cli") -> dict[str, Any]:
    """Revoke a kiosk's token: its requests get 403 device_revoked, or device_wipe_ordered with `wipe`
    (a kiosk that still reaches the hub then crypto-shreds itself, unsynced records included)."""
    reason = " ".join((reason or "").split())[:300] or "revoked by the hub operator"
    with transaction.atomic():
        dev = Device.objects.select_for_update().filter(name=(name or "").strip()).first()
        if dev is None:
            raise ServiceError(f"no device named {name!r}")
        dev.revoked_at, dev.revoke_reason, dev.wipe_ordered = timezone.now(), reason, bool(wipe)
        dev.save(update_fields=["revoked_at", "revoke_reason", "wipe_ordered"])
        actions.record(actor, "device_revoke", dev.name, reason=reason, wipe=bool(wipe))
        transaction.on_commit(marker.announce)   # workers cache token -> device (ingest.devices)
    return {"name": dev.name, "facility": dev.facility_id, "revoked_at": dev.revoked_at.isoformat(),
            "reason": reason, "wipe_ordered": bool(wipe)}


def import_facilities(source: str | Path | io.TextIOBase, *, actor: str = "cli") -> dict[str, Any]:
    """Insert or update facilities from a CSV with the header code,name,district_code,district_name,
    province_code,province_name. All rows or none: a bad row names its line and nothing is written."""
    if isinstance(source, (str, Path)):
        try:
            f = open(source, encoding="utf-8-sig", newline="")
        except OSError as e:
            raise ServiceError(f"cannot read {source}: {e.strerror}") from None
    else:
        f = source
    try:
        reader = csv.DictReader(f)
        try:
            header = tuple(h.strip() for h in (reader.fieldnames or ()))
        except UnicodeDecodeError:
            raise ServiceError("the file is not UTF-8") from None
        missing = [c for c in FACILITY_COLUMNS if c not in header]
        if missing:
            raise ServiceError(f"the CSV header lacks {', '.join(missing)} (expected {','.join(FACILITY_COLUMNS)})")
        rows: dict[str, dict[str, str]] = {}
        try:
            for row in reader:
                line = reader.line_num
                r = {k: (row.get(k) or "").strip() for k in FACILITY_COLUMNS}
                if not _CODE.fullmatch(r["code"]):
                    raise ServiceError(f"line {line}: code: expected 5 ASCII digits")
                for k in ("district_code", "province_code"):
                    if not _AREA.fullmatch(r[k]):
                        raise ServiceError(f"line {line}: {k}: expected 1..5 ASCII digits")
                for k in ("name", "district_name", "province_name"):
                    if not _NAME.fullmatch(r[k]):
                        raise ServiceError(f"line {line}: {k}: expected 1..120 printable characters")
                rows[r["code"]] = r
        except UnicodeDecodeError:
            raise ServiceError("the file is not UTF-8") from None
    finally:
        if isinstance(source, (str, Path)):
            f.close()
    with transaction.atomic():
        existing = set(Facility.objects.filter(code__in=list(rows)).values_list("code", flat=True))
        for code, r in rows.items():
            Facility.objects.update_or_create(code=code, defaults={k: r[k] for k in FACILITY_COLUMNS[1:]})
        result = {"facilities": len(rows), "created": len(rows) - len(existing), "updated": len(existing),
                  "districts": len({r["district_code"] for r in rows.values()})}
        actions.record(actor, "facilities_import", "", **result)
    return result
