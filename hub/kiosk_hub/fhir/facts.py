"""What a visit says, read once from the hub's row and the payload the kiosk sent (contract 1.1.0), with the
fields contract 1.2.0 adds read when present (docs/fhir.md, "Where each value comes from"); the queue state,
services and later identity flags come from the row, where ingest.changes applies the visit_updates. Pure: the
builders take a VisitFacts, so the same facts drive the resources, the tests and the property test."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import terminology

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?", re.ASCII)
_ID12 = re.compile(r"\d{12}", re.ASCII)
_ID9 = re.compile(r"\d{9}", re.ASCII)
_SIN = re.compile(r"\d{10}", re.ASCII)
_CARD15 = re.compile(r"([A-Z]{2})([1-5])(\d{2})(\d{10})", re.ASCII)
_FACILITY = re.compile(r"\d{5}", re.ASCII)


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    district_code: str
    district_name: str
    province_code: str
    province_name: str


@dataclass(frozen=True)
class VisitFacts:
    pk: int
    station: Station
    device: str
    record_id: int
    checked_in_at: datetime
    day: date
    queue_number: int
    updated_at: datetime
    document: str | None = None
    purged: bool = False
    # the person (all None once the hub has purged the visit's personal fields)
    full_name: str | None = None
    birth_date: str | None = None              # "YYYY", "YYYY-MM" or "YYYY-MM-DD": the precision the card had
    sex: str | None = None                     # male | female
    id_number: str | None = None               # 12 digits
    old_id_number: str | None = None           # 9 digits (1.2.0)
    social_insurance_number: str | None = None
    passport_number: str | None = None         # (1.2.0)
    nationality: str | None = None             # ISO 3166 alpha-3 (1.2.0)
    address: str | None = None                 # (when a kiosk sends it)
    # the BHYT card and the answer about it
    card_number: str | None = None
    card_valid_from: str | None = None         # (1.2.0)
    card_valid_to: str | None = None           # (1.2.0)
    beneficiary_group: str | None = None       # (1.2.0, else read from a legacy card number)
    benefit_level: int | None = None
    registered_facility: str | None = None     # nơi ĐKKCB ban đầu, 5-digit code (1.2.0)
    registered_facility_name: str | None = None
    result_code: str | None = None
    benefit_percent: int | None = None
    eligibility_source: str | None = None      # roster | gateway | none
    eligibility_as_of: str | None = None       # roster date, or the time of the online answer
    # the queue
    state: str = "waiting"
    ended_at: datetime | None = None
    services: tuple[str, ...] = ()             # (1.2.0)
    flags: tuple[str, ...] = ()                # identity flags (1.2.0)
    extra: dict = field(default_factory=dict)

    @property
    def has_person(self) -> bool:
        return bool(self.full_name or self.id_number or self.social_insurance_number or self.card_number
                    or self.passport_number)

    @property
    def has_coverage(self) -> bool:
        return self.coverage_number is not None

    @property
    def coverage_number(self) -> str | None:
        """The BHYT card number, or the 12-digit ID number that stands for it since 15 Aug 2025 (Decree
        188/2025) when the eligibility check was made with it."""
        if self.card_number:
            return self.card_number
        if self.id_number and self.eligibility_source in ("roster", "gateway") and self.result_code:
            return self.id_number
        return None

    @property
    def person_key(self) -> str | None:
        """What makes two visits the same person, strongest number first (never emitted, only hashed)."""
        if self.id_number:
            return f"cccd:{self.id_number}"
        if self.social_insurance_number:
            return f"bhxh:{self.social_insurance_number}"
        if self.passport_number:
            return f"passport:{self.nationality or ''}:{self.passport_number}"
        if self.old_id_number:
            return f"cmnd:{self.old_id_number}"
        if self.card_number:
            return f"bhyt:{self.card_number}"
        return None


def _text(v: Any, limit: int = 500) -> str | None:
    if not isinstance(v, str):
        return None
    v = unicodedata.normalize("NFC", " ".join(v.split()))
    return v[:limit] or None


def _match(pattern: re.Pattern, v: Any) -> str | None:
    v = v.strip() if isinstance(v, str) else None
    return v if v and pattern.fullmatch(v) else None


def _date(v: Any) -> str | None:
    v = _match(_DATE, v)
    if v is None:
        return None
    try:  # the full date must exist
        if len(v) == 10:
            date.fromisoformat(v)
        elif len(v) == 7 and not 1 <= int(v[5:]) <= 12:
            return None
    except ValueError:
        return None
    return v


def _pick(*values: Any) -> Any:
    for v in values:
        if v not in (None, ""):
            return v
    return None


def _list(v: Any) -> tuple[str, ...]:
    """A list of codes, or the codes of a list of {"code": …}, or the true keys of a {flag: bool} object."""
    if isinstance(v, dict):
        return tuple(sorted(k for k, on in v.items() if on is True and isinstance(k, str)))
    if isinstance(v, list):
        out = []
        for x in v:
            code = x.get("code") if isinstance(x, dict) else x
            if isinstance(code, str) and code.strip() and code.strip() not in out:
                out.append(code.strip())
        return tuple(out)
    return ()


def _datetime(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else None


ENDED = ("done", "left", "cancelled")   # queue states that end the Encounter (period.end)


def _flag_map(v: Any) -> dict[str, bool]:
    return {f: True for f in _list(v)}


def _as_datetime(v: Any) -> datetime | None:
    return v if isinstance(v, datetime) and v.tzinfo else _datetime(v)


def from_payload(*, pk: int, station: Station, device: str, record_id: int, checked_in_at: datetime, day: date,
                 queue_number: int, received_at: datetime, payload: dict, purged: bool = False,
                 queue: dict | None = None) -> VisitFacts:
    """`queue`: what the visit's updates (contract 1.2.0 visit_update, ingest.changes) say, over the payload:
    state, services, changed_at (when the state was set), updated_at (when the hub took it), identity_flags."""
    p = payload if isinstance(payload, dict) else {}
    if queue:
        p = dict(p)
        if queue.get("state_seq"):
            p.update(status=queue["state"], services=queue.get("services") or [],
                     ended_at=queue["changed_at"] if queue["state"] in ENDED else None)
        if queue.get("updated_at") is not None:
            p["updated_at"] = queue["updated_at"]
        p["identity_flags"] = {**_flag_map(p.get("identity_flags", p.get("flags"))),
                               **_flag_map(queue.get("identity_flags"))}
    person = p.get("patient") if isinstance(p.get("patient"), dict) else {}
    card = p.get("card") if isinstance(p.get("card"), dict) else {}
    elig = p.get("eligibility") if isinstance(p.get("eligibility"), dict) else {}
    id_number = _match(_ID12, person.get("id_number"))
    old_id = _match(_ID9, _pick(person.get("old_id_number"), person.get("id_number")))
    card_number = _pick(person.get("card_number"), card.get("number"))
    card_number = card_number.strip().upper() if isinstance(card_number, str) and card_number.strip() else None
    group, level = _pick(card.get("beneficiary_group"), p.get("beneficiary_group")), None
    m = _CARD15.fullmatch(card_number or "")
    # The three card formats: a legacy card carries the social-insurance number in its last ten digits; the
    # 10-digit card number is that number; the 12-digit one is the person's ID number (Decree 188/2025).
    sin = _match(_SIN, person.get("social_insurance_number")) or (m.group(4) if m else _match(_SIN, card_number))
    id_number = id_number or _match(_ID12, card_number)
    if m:
        group, level = group or m.group(1), int(m.group(2))
    group = group.strip().upper() if isinstance(group, str) and re.fullmatch(r"\s*[A-Za-z]{2}\s*", group) else None
    if level is None and group in terminology.GROUP_LEVELS:
        level = terminology.GROUP_LEVELS[group]
    benefit = elig.get("benefit_percent")
    sex = person.get("sex")
    nationality = _pick(person.get("nationality"))
    updated = _as_datetime(p.get("updated_at")) or received_at
    registered = _pick(card.get("registered_facility"), p.get("registered_facility"))
    registered_name = None
    if isinstance(registered, dict):
        registered, registered_name = registered.get("code"), _text(registered.get("name"), 200)
    state = _pick(p.get("status"), p.get("queue_state"))
    return VisitFacts(
        pk=pk, station=station, device=device, record_id=record_id, checked_in_at=checked_in_at, day=day,
        queue_number=queue_number, updated_at=max(updated, received_at), purged=purged,
        document=p.get("document") if p.get("document") in terminology.DOCUMENTS else None,
        full_name=_text(person.get("full_name"), 200), birth_date=_date(person.get("date_of_birth")),
        sex=sex if sex in ("male", "female") else None, id_number=id_number,
        old_id_number=old_id if old_id != id_number else None, social_insurance_number=sin,
        passport_number=_match(re.compile(r"[A-Z0-9]{6,9}", re.ASCII), person.get("passport_number")),
        nationality=nationality if isinstance(nationality, str) and re.fullmatch(r"[A-Z]{3}", nationality) else None,
        address=_text(person.get("address")),
        card_number=card_number if card_number and re.fullmatch(r"[A-Z0-9]{10,15}", card_number) else None,
        card_valid_from=_date(_pick(card.get("valid_from"), person.get("card_valid_from"))),
        card_valid_to=_date(_pick(card.get("valid_to"), person.get("card_valid_to"))),
        beneficiary_group=group, benefit_level=level,
        registered_facility=_match(_FACILITY, registered), registered_facility_name=registered_name,
        result_code=_match(re.compile(r"[0-9A-Z]{3}", re.ASCII), elig.get("result_code")),
        benefit_percent=benefit if isinstance(benefit, int) and not isinstance(benefit, bool)
        and 0 <= benefit <= 100 else None,
        eligibility_source=elig.get("source") if elig.get("source") in terminology.ELIGIBILITY_SOURCES else None,
        eligibility_as_of=_text(elig.get("as_of"), 40),
        state=state if state in terminology.QUEUE_STATES else "waiting",
        ended_at=_as_datetime(p.get("ended_at")),
        services=_list(p.get("services")),
        flags=tuple(f for f in _list(_pick(p.get("identity_flags"), p.get("flags")))
                    if f in terminology.IDENTITY_FLAGS),
    )


def of_visit(visit) -> VisitFacts:
    """The facts of a Visit row (its facility and device loaded with it: select_related)."""
    f = visit.facility
    return from_payload(
        pk=visit.pk, station=Station(f.code, f.name, f.district_code, f.district_name, f.province_code,
                                     f.province_name),
        device=visit.device.name, record_id=visit.record_id, checked_in_at=visit.checked_in_at, day=visit.day,
        queue_number=visit.queue_number, received_at=visit.received_at, payload=visit.payload,
        purged=visit.purged_at is not None,
        queue={"state": visit.state, "state_seq": visit.state_seq, "services": visit.services,
               "changed_at": visit.state_changed_at, "updated_at": visit.updated_at,
               "identity_flags": visit.identity_flags})
