"""Encounter: the visit, its queue state, service, queue number, station and identity flags."""

from __future__ import annotations

from .. import systems, terminology
from .common import day, eligibility_id, encounter_id, instant, meta, patient_id, ref
from .places import station_location_id, station_org_id


def encounter(f) -> dict:
    ext = [{"url": systems.extension("queue-state"), "valueCoding": terminology.coding("queue-state", f.state)}]
    ext += [{"url": systems.extension("identity-flag"), "valueCoding": terminology.coding("identity-flag", flag)}
            for flag in f.flags]
    if f.document:
        ext.append({"url": systems.extension("identifying-document"),
                    "valueCoding": terminology.coding("document", f.document)})
    ext.append({"url": systems.extension("checking-device"),
                "valueIdentifier": {"system": systems.DEVICE, "value": f.device}})
    res = {"resourceType": "Encounter", "id": encounter_id(f), "meta": meta(f.updated_at), "extension": ext,
           "identifier": [
               {"use": "official", "system": systems.VISIT, "value": f"{f.station.code}/{f.device}/{f.record_id}"},
               {"use": "usual", "type": {"text": "Số thứ tự"},
                "system": f"{systems.QUEUE}:{f.station.code}", "value": str(f.queue_number),
                "period": {"start": day(f.day), "end": day(f.day)}}],
           "status": terminology.ENCOUNTER_STATUS[f.state],
           "class": {"system": systems.V3_ACTCODE, "code": "AMB", "display": "ambulatory"}}
    if f.services:
        # R4 has one serviceType: the first service chosen; every service is listed in the extension too
        first = f.services[0]
        res["serviceType"] = {"coding": [terminology.coding("service", first)]}
        res["extension"] += [{"url": systems.extension("service"), "valueCoding": terminology.coding("service", s)}
                             for s in f.services]
    pid = patient_id(f)
    if pid and not f.purged:
        res["subject"] = ref("Patient", pid)
    period = {"start": instant(f.checked_in_at)}
    if f.ended_at and f.state in ("done", "left", "cancelled") and f.ended_at >= f.checked_in_at:
        period["end"] = instant(f.ended_at)
    res["period"] = period
    if pid and not f.purged and f.result_code:
        res["extension"].append({"url": systems.extension("eligibility-response"),
                                 "valueReference": ref("CoverageEligibilityResponse", eligibility_id(f))})
    res["location"] = [{"location": ref("Location", station_location_id(f.station.code), f.station.name),
                        "status": "active" if f.state in ("waiting", "being_seen") else "completed"}]
    res["serviceProvider"] = ref("Organization", station_org_id(f.station.code), f.station.name)
    return res
