"""Encounter search parameters: parsed strictly (an unknown parameter is a 400, never ignored, so a HIS never
takes a wider answer for the one it asked)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_COUNT = 200
DEFAULT_COUNT = 50
ENCOUNTER_PARAMS = ("date", "location", "_lastUpdated", "_include", "_count", "_offset", "_format")
INCLUDES = ("Encounter:patient",)
FORMATS = ("json", "application/json", "application/fhir+json")

_PREFIX = re.compile(r"(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)
_LOCATION = re.compile(r"(?:Location/)?station-(\d{5})", re.ASCII)


class BadSearch(ValueError):
    pass


@dataclass
class EncounterQuery:
    day_from: date | None = None            # inclusive
    day_to: date | None = None              # inclusive
    facilities: set[str] | None = None      # from location=
    updated_from: datetime | None = None    # inclusive
    updated_before: datetime | None = None  # exclusive
    include_patient: bool = False
    count: int = DEFAULT_COUNT
    offset: int = 0
    names: list[str] = field(default_factory=list)


def _ascii_int(text: str, name: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text, re.ASCII):
        raise BadSearch(f"{name}: expected a whole number, got {text[:20]!r}")
    return int(text)


def _date_range(text: str, name: str) -> tuple[date, date]:
    m = _DATE.fullmatch(text)
    if not m:
        raise BadSearch(f"{name}: expected YYYY, YYYY-MM or YYYY-MM-DD (the Vietnam-time visit day)")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            first = last = date(y, int(mo), int(d))
        elif mo:
            first = date(y, int(mo), 1)
            last = date(y, int(mo), calendar.monthrange(y, int(mo))[1])
        else:
            first, last = date(y, 1, 1), date(y, 12, 31)
    except ValueError:
        raise BadSearch(f"{name}: {text!r} is not a date") from None
    return first, last


def _instant_range(text: str, name: str) -> tuple[datetime, datetime]:
    """[start, end) of a date (Vietnam time) or a dateTime with its zone (to the second)."""
    if _DATE.fullmatch(text):
        first, last = _date_range(text, name)
        return (datetime.combine(first, time(), VN), datetime.combine(last + timedelta(days=1), time(), VN))
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearch(f"{name}: expected a date or a dateTime with its zone") from None
    if at.tzinfo is None:
        raise BadSearch(f"{name}: a dateTime needs its zone (Z or +07:00)")
    at = at.astimezone(timezone.utc)
    return at, at + timedelta(seconds=1)


def _split(value: str, name: str) -> tuple[str, str]:
    prefix, rest = _PREFIX.fullmatch(value).groups()
    prefix = prefix or "eq"
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise BadSearch(f"{name}: the prefix {prefix!r} is not supported (eq, gt, ge, lt, le)")
    return prefix, rest


def parse_encounter(params) -> EncounterQuery:
    """`params`: a QueryDict (several values per name allowed)."""
    q = EncounterQuery()
    for name in params:
        if name not in ENCOUNTER_PARAMS:
            raise BadSearch(f"unknown or unsupported search parameter {name[:40]!r} (supported: "
                            f"{', '.join(ENCOUNTER_PARAMS)})")
        q.names.append(name)
    for value in params.getlist("date"):
        prefix, rest = _split(value, "date")
        first, last = _date_range(rest, "date")
        lo, hi = {"eq": (first, last), "ge": (first, None), "gt": (last + timedelta(days=1), None),
                  "le": (None, last), "lt": (None, first - timedelta(days=1))}[prefix]
        if lo and (q.day_from is None or lo > q.day_from):
            q.day_from = lo
        if hi and (q.day_to is None or hi < q.day_to):
            q.day_to = hi
    for value in params.getlist("_lastUpdated"):
        prefix, rest = _split(value, "_lastUpdated")
        start, end = _instant_range(rest, "_lastUpdated")
        lo, hi = {"eq": (start, end), "ge": (start, None), "gt": (end, None), "le": (None, end),
                  "lt": (None, start)}[prefix]
        if lo and (q.updated_from is None or lo > q.updated_from):
            q.updated_from = lo
        if hi and (q.updated_before is None or hi < q.updated_before):
            q.updated_before = hi
    for value in params.getlist("location"):
        codes = set()
        for one in value.split(","):
            m = _LOCATION.fullmatch(one.strip())
            if not m:
                raise BadSearch("location: expected Location/station-NNNNN (a station's Location id)")
            codes.add(m.group(1))
        q.facilities = codes if q.facilities is None else q.facilities & codes   # repeated: AND
    for value in params.getlist("_include"):
        if value not in INCLUDES:
            raise BadSearch(f"_include: only {', '.join(INCLUDES)} is supported")
        q.include_patient = True
    for value in params.getlist("_count")[-1:]:
        q.count = min(_ascii_int(value, "_count"), MAX_COUNT)
    for value in params.getlist("_offset")[-1:]:
        q.offset = _ascii_int(value, "_offset")
    for value in params.getlist("_format"):
        if value not in FORMATS:
            raise BadSearch("_format: only JSON (application/fhir+json) is served")
    return q
