"""The CapabilityStatement: exactly what this server does (and nothing it does not)."""

from __future__ import annotations

from . import search

RELEASED = "2026-11-20"

_READ_ONLY = [{"code": "read"}]


def _resource(rtype: str, doc: str, search_params: list[dict] | None = None, include: list[str] | None = None):
    r = {"type": rtype, "documentation": doc, "interaction": list(_READ_ONLY),
         "versioning": "no-version", "readHistory": False, "updateCreate": False,
         "conditionalCreate": False, "conditionalRead": "not-supported", "conditionalUpdate": False,
         "conditionalDelete": "not-supported"}
    if search_params is not None:
        r["interaction"].append({"code": "search-type"})
        r["searchParam"] = search_params
    if include:
        r["searchInclude"] = include
    return r


def capability_statement(base_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement", "id": "kiosk-hub",
        "name": "KioskHubFhirR4", "title": "Provincial kiosk hub: FHIR R4 read and search",
        "status": "active", "experimental": False, "date": RELEASED, "publisher": "tramyte kiosk project",
        "description": "Check-ins made at commune health station kiosks, for the station's medical software. "
                       "Read-only: no create, update, delete, history, transaction or batch. JSON only. "
                       "An unknown search parameter is refused (400), never ignored. See docs/fhir.md.",
        "kind": "instance",
        "implementation": {"description": "kiosk-hub FHIR R4", "url": base_url},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Paging: searchset Bundles with next/previous links (_count at most "
                             f"{search.MAX_COUNT}, default {search.DEFAULT_COUNT}).",
            "security": {"cors": False, "description":
                         "One bearer token per HIS client (Authorization: Bearer …), scoped to the facilities that "
                         "client serves: a read of another facility's data is 403, a search leaves it out. "
                         "Every interaction is recorded in the hub's access log."},
            "resource": [
                _resource("Patient", "The person as read from the card at the kiosk. Ids are keyed hashes, "
                          "stable per person."),
                _resource("Encounter", "One per kiosk visit; status follows the desk's queue state.", [
                    {"name": "date", "type": "date", "documentation":
                     "The visit's Vietnam-time day; eq (default), ge, gt, le, lt; YYYY, YYYY-MM or YYYY-MM-DD."},
                    {"name": "location", "type": "reference", "documentation":
                     "Location/station-NNNNN; several comma-separated values are OR."},
                    {"name": "_lastUpdated", "type": "date", "documentation":
                     "When the hub last received the visit; eq, ge, gt, le, lt; a date or a dateTime with zone."},
                    {"name": "_count", "type": "number", "documentation": "Page size (0: the total only)."},
                ], ["Encounter:patient"]),
                _resource("Coverage", "The BHYT card. Ids are keyed hashes of the card number."),
                _resource("CoverageEligibilityResponse", "The eligibility answer at check-in, one per visit."),
                _resource("Organization", "The station (station-NNNNN) and BHXH (bhxh)."),
                _resource("Location", "The station (station-NNNNN), its district (district-PP-DDD) and province "
                          "(province-PP)."),
                _resource("CodeSystem", "The project's code systems (docs/fhir.md)."),
            ],
        }],
    }
