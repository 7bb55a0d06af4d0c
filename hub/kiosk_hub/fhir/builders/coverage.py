"""Coverage: the BHYT card (number, validity, beneficiary group, benefit, registered facility; payor BHXH)."""

from __future__ import annotations

from .. import systems, terminology
from .common import coverage_id, meta, patient_id, ref
from .places import BHXH_ID, BHXH_NAME


def coverage(f) -> dict | None:
    rid, pid = coverage_id(f), patient_id(f)
    if rid is None or pid is None or f.purged:
        return None
    res = {"resourceType": "Coverage", "id": rid, "meta": meta(f.updated_at),
           "identifier": [{"use": "official", "system": systems.VN_BHYT, "value": f.coverage_number}],
           "status": "active",
           "type": {"coding": [{"system": systems.V3_ACTCODE, "code": "PUBLICPOL", "display": "public healthcare"}],
                    "text": "Bảo hiểm y tế"},
           "subscriberId": f.coverage_number,
           "beneficiary": ref("Patient", pid),
           "payor": [ref("Organization", BHXH_ID, BHXH_NAME)]}
    ext = []
    if f.registered_facility:
        ext.append({"url": systems.extension("registered-primary-care-facility"),
                    "valueIdentifier": {"system": systems.FACILITY, "value": f.registered_facility}})
        if f.registered_facility_name:
            ext[-1] = {"url": ext[-1]["url"], "valueReference": {
                "identifier": ext[-1]["valueIdentifier"], "display": f.registered_facility_name}}
    if f.benefit_level is not None:
        ext.append({"url": systems.extension("benefit-level"), "valueInteger": f.benefit_level})
    if ext:
        res["extension"] = ext
    period = {}
    if f.card_valid_from:
        period["start"] = f.card_valid_from
    if f.card_valid_to:
        period["end"] = f.card_valid_to
    if period:
        res["period"] = period
    if f.beneficiary_group:
        res["class"] = [{"type": {"coding": [{"system": systems.COVERAGE_CLASS, "code": "group", "display": "Group"}]},
                         "value": f.beneficiary_group,
                         "name": terminology.display("beneficiary-group", f.beneficiary_group)}]
    percent = f.benefit_percent
    if percent is None and f.benefit_level is not None:
        percent = terminology.BENEFIT_LEVELS.get(f.benefit_level)
    if percent is not None:
        # R4 carries the patient's share: a benefit of 80% is a co-pay of 20%.
        res["costToBeneficiary"] = [{
            "type": {"coding": [{"system": systems.COPAY_TYPE, "code": "copaypct", "display": "Copay Percentage"}]},
            "valueQuantity": {"value": 100 - percent, "unit": "%", "system": systems.UCUM, "code": "%"}}]
    return res
