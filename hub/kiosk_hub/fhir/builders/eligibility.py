"""CoverageEligibilityResponse: the answer the kiosk got at check-in (result code, source, checking device)."""

from __future__ import annotations

from .. import systems, terminology
from .common import coverage_id, eligibility_id, encounter_id, instant, meta, patient_id, ref
from .places import BHXH_ID, BHXH_NAME, station_org_id


def eligibility_response(f) -> dict | None:
    pid, cid = patient_id(f), coverage_id(f)
    if pid is None or f.purged or not f.result_code:
        return None
    code = f.result_code
    ext = [{"url": systems.extension("eligibility-result"), "valueCoding": terminology.coding("eligibility-result", code)}]
    if f.eligibility_source:
        ext.append({"url": systems.extension("eligibility-source"),
                    "valueCoding": terminology.coding("eligibility-source", f.eligibility_source)})
    if f.eligibility_as_of:
        # the roster's date, or the time of the online answer: kept as the kiosk sent it
        ext.append({"url": systems.extension("eligibility-as-of"), "valueString": f.eligibility_as_of})
    ext.append({"url": systems.extension("checking-device"),
                "valueIdentifier": {"system": systems.DEVICE, "value": f.device}})
    if f.benefit_percent is not None:
        ext.append({"url": systems.extension("benefit-percent"), "valueInteger": f.benefit_percent})
    res = {"resourceType": "CoverageEligibilityResponse", "id": eligibility_id(f), "meta": meta(f.updated_at),
           "extension": ext,
           "identifier": [{"system": systems.VISIT, "value": f"{f.station.code}/{f.device}/{f.record_id}"}],
           "status": "active", "purpose": ["validation"],
           "patient": ref("Patient", pid),
           "servicedDate": f.day.isoformat(),
           "created": instant(f.checked_in_at),
           "requestor": ref("Organization", station_org_id(f.station.code), f.station.name),
           # the kiosk's own request is not a FHIR resource: a logical reference to the visit
           "request": {"type": "CoverageEligibilityRequest",
                       "identifier": {"system": systems.VISIT, "value": f"{f.station.code}/{f.device}/{f.record_id}"}},
           "outcome": "error" if f.eligibility_source in (None, "none") else "complete",
           "disposition": terminology.display("eligibility-result", code),
           "insurer": ref("Organization", BHXH_ID, BHXH_NAME)}
    if cid:
        res["insurance"] = [{"coverage": ref("Coverage", cid), "inforce": code in terminology.USABLE}]
    res["extension"].append({"url": systems.extension("encounter"),
                             "valueReference": ref("Encounter", encounter_id(f))})
    return res
