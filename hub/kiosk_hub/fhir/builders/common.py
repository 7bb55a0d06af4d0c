from __future__ import annotations

from datetime import date, datetime, timezone

from .. import ids

VN_OFFSET = "+07:00"


def instant(d: datetime) -> str:
    """An R4 instant/dateTime: seconds precision, UTC 'Z' (FHIR requires a zone)."""
    return d.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day(d: date) -> str:
    return d.isoformat()


def meta(updated: datetime, *profiles: str) -> dict:
    return {"lastUpdated": instant(updated)} | ({"profile": list(profiles)} if profiles else {})


def ref(resource_type: str, rid: str, display: str | None = None) -> dict:
    return {"reference": f"{resource_type}/{rid}"} | ({"display": display} if display else {})


def patient_id(facts) -> str | None:
    key = facts.person_key
    return ids.keyed("Patient", key) if key else None


def coverage_id(facts) -> str | None:
    number = facts.coverage_number
    return ids.keyed("Coverage", number) if number else None


def encounter_id(facts) -> str:
    return ids.of_visit("Encounter", facts.pk)


def eligibility_id(facts) -> str:
    return ids.of_visit("CoverageEligibilityResponse", facts.pk)
