"""The hub's check of one kiosk's audit-entry copies, and the anchors `kiosk audit verify --anchors` reads.

Same rules as the kiosk's kiosk/audit.py (the hub imports nothing from the kiosk): every copy's hash is
recomputed from its content; consecutive copies must link; gaps (entries kept local on purpose) are fine.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kiosk_hub.registry.models import Device

from .models import AuditEntry


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, record_kind: str, record_id: str,
               purpose: str, details: str) -> str:
    canonical = json.dumps([prev_hash, seq, at, actor, action, record_kind, record_id, purpose, details],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check(copies: list[dict[str, Any]]) -> dict[str, Any]:
    copies = sorted(copies, key=lambda c: c["seq"])
    anchors: dict[str, str] = {}
    links: dict[str, str] = {}
    prev: dict | None = None
    for c in copies:
        details = json.dumps(c.get("details") or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        want = entry_hash(c["prev_hash"], c["seq"], c["at"], c["actor"], c["action"], c["record_kind"],
                          str(c["record_id"]), c["purpose"], details)
        if want != c["entry_hash"]:
            return {"ok": False, "entries": len(copies), "first_broken": c["seq"],
                    "problem": f"the hub's copy of entry {c['seq']} does not match its own hash", "anchors": anchors,
                    "links": links}
        if prev is not None and c["seq"] == prev["seq"] + 1 and c["prev_hash"] != prev["entry_hash"]:
            return {"ok": False, "entries": len(copies), "first_broken": c["seq"],
                    "problem": f"entry {c['seq']} does not link to entry {prev['seq']} in the hub's copies",
                    "anchors": anchors, "links": links}
        anchors[str(c["seq"])] = c["entry_hash"]
        links[str(c["seq"])] = c["prev_hash"]
        prev = c
    return {"ok": True, "entries": len(copies), "first_broken": None, "problem": None, "anchors": anchors,
            "links": links}


def anchors_for(device: Device) -> dict[str, Any]:
    """The anchors file: the verdict on the copies held, plus `highest_seq` (the hub's highest sequence
    number for the device, which lets the kiosk see entries cut off its end)."""
    copies = list(AuditEntry.objects.filter(device=device).order_by("seq").values_list("payload", flat=True))
    result = check(copies)
    result["highest_seq"] = max((c["seq"] for c in copies), default=0)
    return result
