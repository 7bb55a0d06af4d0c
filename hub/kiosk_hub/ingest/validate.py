"""The contract's record schemas (sync/openapi/v1.json), checked on arrival.

Codes and ID numbers take ASCII digits only: "٠٤٠..." or full-width digits are refused, never
normalised, so what the hub stores is exactly what a person's card says.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from .models import DOCUMENTS

KINDS = ("visit", "stay_notification", "audit", "visit_update")
QUEUE_STATES = ("waiting", "being_seen", "done", "left", "cancelled")   # kiosk/desk.py STATES
OLD_ID_RE = re.compile(r"[0-9]{9}", re.ASCII)
GROUP_RE = re.compile(r"[A-Z]{2}", re.ASCII)
MAX_SERVICES = 50
FACILITY_RE = re.compile(r"[0-9]{5}", re.ASCII)
ID_NUMBER_RE = re.compile(r"[0-9]{12}|[0-9]{9}", re.ASCII)   # CCCD (12) or the old CMND (9)
SOCIAL_RE = re.compile(r"[0-9]{10}", re.ASCII)
CARD_RE = re.compile(r"[A-Z]{2}[0-9]{13}|[0-9]{10}", re.ASCII)  # BHYT card code, or its 10-digit number
PASSPORT_RE = re.compile(r"[A-Za-z0-9]{5,20}", re.ASCII)
RESULT_CODE_RE = re.compile(r"[A-Z0-9]{1,8}", re.ASCII)
HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
ISO_DT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})",
                    re.ASCII)
ISO_D = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
ISO_D_OR_YEAR = re.compile(r"[0-9]{4}(-[0-9]{2}-[0-9]{2})?", re.ASCII)

STAY_FIELDS = {"notification_id", "facility_code", "full_name", "date_of_birth", "id_number", "passport_number",
               "reason", "stay_from", "stay_until", "address_of_stay", "deadline_at", "created_at", "clock_synced"}
AUDIT_FIELDS = {"seq", "at", "actor", "action", "record_kind", "record_id", "purpose", "details", "prev_hash",
                "entry_hash"}
MAX_TEXT = 2000


class Invalid(ValueError):
    """The record does not follow the contract (400 `invalid`)."""


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise Invalid(message)


def _has_foreign_digits(s: str) -> bool:
    return any(ch.isdigit() and not ("0" <= ch <= "9") for ch in s)


def code(body: dict, key: str, pattern: re.Pattern, expected: str, *, required: bool = True) -> str | None:
    v = body.get(key)
    if v is None and not required:
        return None
    _need(isinstance(v, str), f"{key}: expected {expected}")
    _need(not _has_foreign_digits(v), f"{key}: digits must be ASCII 0-9 (not normalised)")
    _need(bool(pattern.fullmatch(v)), f"{key}: expected {expected}")
    return v


def posint(body: dict, key: str) -> int:
    v = body.get(key)
    _need(isinstance(v, int) and not isinstance(v, bool) and v > 0, f"{key}: expected a positive integer")
    return v


def when(body: dict, key: str, *, required: bool = True) -> datetime | None:
    v = body.get(key)
    if v is None and not required:
        return None
    _need(isinstance(v, str) and bool(ISO_DT.fullmatch(v)), f"{key}: expected an ISO date-time with offset")
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{key}: not a real date-time") from None


def day(body: dict, key: str, pattern=ISO_D, *, required: bool = True) -> str | None:
    v = body.get(key)
    if v is None and not required:
        return None
    _need(isinstance(v, str) and bool(pattern.fullmatch(v)), f"{key}: expected YYYY-MM-DD")
    if len(v) == 10:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise Invalid(f"{key}: not a real date") from None
    return v


def text(body: dict, key: str, *, required: bool = True) -> str | None:
    v = body.get(key)
    if v is None and not required:
        return None
    _need(isinstance(v, str) and bool(v.strip()) and len(v) <= MAX_TEXT, f"{key}: required text")
    return v


def visit(body: Any) -> dict[str, Any]:
    _need(isinstance(body, dict), "the body must be a JSON object")
    for k in ("visit_id", "facility_code", "visit_date", "queue_number", "created_at"):
        _need(k in body, f"{k}: required")
    out = {"record_id": posint(body, "visit_id"),
           "facility_code": code(body, "facility_code", FACILITY_RE, "5 digits"),
           "day": date.fromisoformat(day(body, "visit_date")),
           "queue_number": posint(body, "queue_number"),
           "checked_in_at": when(body, "created_at")}
    doc = body.get("document")
    _need(doc is None or doc in DOCUMENTS, f"document: expected one of {', '.join(DOCUMENTS)} (or absent)")
    out["document"] = doc
    _need(body.get("source") is None or body["source"] in ("serial", "camera", "chip", "manual", "hid"),
          "source: expected serial, camera, chip, manual or hid")
    _need(body.get("clock_synced") is None or isinstance(body["clock_synced"], bool), "clock_synced: expected a boolean")
    patient = body.get("patient")
    if patient is not None:
        _need(isinstance(patient, dict), "patient: expected an object")
        code(patient, "id_number", ID_NUMBER_RE, "12 digits (or a 9-digit old ID)", required=False)
        code(patient, "social_insurance_number", SOCIAL_RE, "10 digits", required=False)
        code(patient, "card_number", CARD_RE, "a 15-character BHYT card code or its 10 digits", required=False)
        _need(patient.get("full_name") is None or isinstance(patient["full_name"], str), "patient.full_name: text")
        day(patient, "date_of_birth", ISO_D_OR_YEAR, required=False)
        code(patient, "old_id_number", OLD_ID_RE, "the old 9-digit ID number", required=False)
    _contract_1_2(body)
    elig = body.get("eligibility")
    out["eligibility_code"] = ""
    if elig is not None:
        _need(isinstance(elig, dict), "eligibility: expected an object")
        rc = code(elig, "result_code", RESULT_CODE_RE, "a result code such as 000 or K02", required=False)
        out["eligibility_code"] = rc or ""
        bp = elig.get("benefit_percent")
        _need(bp is None or (isinstance(bp, int) and not isinstance(bp, bool) and 0 <= bp <= 100),
              "eligibility.benefit_percent: expected 0..100 or null")
    return out


def services(body: dict, key: str = "services", *, required: bool = False) -> list[str] | None:
    v = body.get(key)
    if v is None and not required:
        return None
    _need(isinstance(v, list) and len(v) <= MAX_SERVICES, f"{key}: expected a list of at most {MAX_SERVICES} codes")
    for s in v:
        _need(isinstance(s, str) and 1 <= len(s) <= 64 and s == s.strip() and s.isprintable(),
              f"{key}: each service is a code of 1..64 printable characters")
    _need(len(set(v)) == len(v), f"{key}: a service is listed twice")
    return v


def identity_flags(body: dict) -> dict[str, bool] | None:
    v = body.get("identity_flags")
    if v is None:
        return None
    _need(isinstance(v, dict) and len(v) <= 20, "identity_flags: expected an object of flags")
    for k, on in v.items():
        _need(isinstance(k, str) and 1 <= len(k) <= 40 and isinstance(on, bool),
              "identity_flags: each flag is a name and true or false")
    return v


def _contract_1_2(body: dict) -> None:
    """The visit fields contract 1.2.0 adds, all optional (an older kiosk sends none of them)."""
    services(body)
    identity_flags(body)
    card = body.get("card")
    if card is None:
        return
    _need(isinstance(card, dict), "card: expected an object")
    day(card, "valid_from", required=False)
    day(card, "valid_to", required=False)
    code(card, "beneficiary_group", GROUP_RE, "two capital letters (the BHYT beneficiary group)", required=False)
    reg = card.get("registered_facility")
    if isinstance(reg, dict):
        code(reg, "code", FACILITY_RE, "5 digits")
        _need(reg.get("name") is None or isinstance(reg["name"], str) and len(reg["name"]) <= 200,
              "card.registered_facility.name: text")
    else:
        code(card, "registered_facility", FACILITY_RE, "5 digits (nơi ĐKKCB ban đầu)", required=False)


def visit_update(body: Any) -> dict[str, Any]:
    """A queue change of a visit (contract 1.2.0). Fields outside these are ignored, not stored."""
    _need(isinstance(body, dict), "the body must be a JSON object")
    for k in ("visit_id", "seq", "state", "services", "changed_at"):
        _need(k in body, f"{k}: required")
    _need(body["state"] in QUEUE_STATES, f"state: expected one of {', '.join(QUEUE_STATES)}")
    return {"record_id": posint(body, "visit_id"), "seq": posint(body, "seq"), "state": body["state"],
            "facility_code": code(body, "facility_code", FACILITY_RE, "5 digits", required=False),
            "services": services(body, required=True), "changed_at": when(body, "changed_at"),
            "identity_flags": identity_flags(body)}


def stay(body: Any) -> dict[str, Any]:
    _need(isinstance(body, dict), "the body must be a JSON object")
    extra = set(body) - STAY_FIELDS
    _need(not extra, f"fields outside the statutory list: {', '.join(sorted(extra))}")
    out = {"record_id": posint(body, "notification_id"),
           "facility_code": code(body, "facility_code", FACILITY_RE, "5 digits")}
    for k in ("full_name", "reason", "address_of_stay"):
        text(body, k)
    idn = code(body, "id_number", ID_NUMBER_RE, "12 digits", required=False)
    pp = code(body, "passport_number", PASSPORT_RE, "a passport number (A-Z, 0-9)", required=False)
    _need(bool(idn or pp), "id_number or passport_number: one is required")
    day(body, "date_of_birth", ISO_D_OR_YEAR, required=False)
    out["started_at"] = when(body, "stay_from")
    when(body, "stay_until", required=False)
    out["deadline_at"] = when(body, "deadline_at")
    out["created_at"] = when(body, "created_at")
    _need(body.get("clock_synced") is None or isinstance(body["clock_synced"], bool), "clock_synced: expected a boolean")
    return out


def audit(body: Any) -> dict[str, Any]:
    """A copy of one audit entry (kiosk/audit.py Entry.to_json): every field `kiosk-hub audit` reads."""
    _need(isinstance(body, dict), "the body must be a JSON object")
    extra = set(body) - AUDIT_FIELDS
    _need(not extra, f"fields outside an audit entry: {', '.join(sorted(extra))}")
    seq = posint(body, "seq")
    for k in ("entry_hash", "prev_hash"):
        _need(isinstance(body.get(k), str) and bool(HEX64.fullmatch(body[k])), f"{k}: expected 64 hex digits")
    when(body, "at")
    for k in ("actor", "action", "record_kind", "purpose"):
        _need(isinstance(body.get(k), str) and len(body[k]) <= MAX_TEXT, f"{k}: expected text")
    rid = body.get("record_id")
    _need(isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool)), "record_id: expected text")
    _need(body.get("details") is None or isinstance(body["details"], dict), "details: expected an object or null")
    return {"record_id": seq, "seq": seq, "entry_hash": body["entry_hash"], "prev_hash": body["prev_hash"]}


VALIDATORS = {"visit": visit, "stay_notification": stay, "audit": audit, "visit_update": visit_update}


def record(kind: str, body: Any) -> dict[str, Any]:
    _need(kind in VALIDATORS, f"unknown record kind {kind!r} (expected one of {', '.join(KINDS)})")
    return VALIDATORS[kind](body)
