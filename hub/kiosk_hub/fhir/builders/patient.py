"""Patient: the person as read from the document they presented at the kiosk."""

from __future__ import annotations

from .. import systems
from .common import meta, patient_id
from .names import human_name


def identifiers(f) -> list[dict]:
    out = []
    if f.id_number:
        out.append({"use": "official", "type": {"coding": [{"system": systems.V2_0203, "code": "NI",
                                                             "display": "National unique individual identifier"}],
                                                "text": "Số định danh cá nhân (CCCD)"},
                    "system": systems.VN_CCCD, "value": f.id_number})
    if f.old_id_number:
        out.append({"use": "old", "type": {"text": "Số CMND (9 số)"},
                    "system": systems.CMND, "value": f.old_id_number})
    if f.card_number:
        out.append({"use": "secondary", "type": {"coding": [{"system": systems.V2_0203, "code": "SN",
                                                             "display": "Subscriber Number"}],
                                                 "text": "Mã thẻ BHYT"},
                    "system": systems.VN_BHYT, "value": f.card_number})
    if f.social_insurance_number:
        out.append({"use": "secondary", "type": {"coding": [{"system": systems.V2_0203, "code": "SB",
                                                             "display": "Social Beneficiary Identifier"}],
                                                 "text": "Mã số BHXH"},
                    "system": systems.BHXH, "value": f.social_insurance_number})
    if f.passport_number:
        system = systems.PASSPORT + (f":{f.nationality}" if f.nationality else "")
        out.append({"use": "official", "type": {"coding": [{"system": systems.V2_0203, "code": "PPN",
                                                            "display": "Passport number"}]},
                    "system": system, "value": f.passport_number})
    return out


def patient(f) -> dict | None:
    """None when the visit names nobody (purged, or an identity without any number)."""
    rid = patient_id(f)
    if rid is None or f.purged:
        return None
    res = {"resourceType": "Patient", "id": rid, "meta": meta(f.updated_at)}
    res["identifier"] = identifiers(f)
    res["active"] = True
    if f.full_name:
        res["name"] = [human_name(f.full_name)]
    if f.sex:
        res["gender"] = f.sex
    if f.birth_date:
        res["birthDate"] = f.birth_date
    if f.address:
        res["address"] = [{"use": "home", "type": "physical", "text": f.address, "country": "VN"}]
    return res
