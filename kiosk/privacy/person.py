"""People's rights over their data: what the kiosk holds about one person, and erasing it.

`export()` gathers everything about the person with a given ID number — the
identity (opened), visits, eligibility results, services, console changes,
stay notifications, what was sent to the hub, and who accessed it (the audit
entries that name those records) — for an access request.

`erase()` removes what the law allows and keeps, saying why, what a statutory
duty requires:
- a visit not yet acknowledged by the hub stays until it is (the BHYT claim
  and the provincial record depend on it: Luật BHYT, nothing entered is lost);
- a stay notification not yet acknowledged or receipted stays (Luật Cư trú:
  the facility must notify the police);
- the audit trail stays (it names records by row id only, and is the proof of
  lawful processing the data-protection law asks for);
- the insurance roster is the insurer's list, hashed; it is not the kiosk's
  to erase.
Everything else about the person goes, with `secure_delete` on and a VACUUM after.
Both are audited by the caller's staff account.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kiosk import store
from kiosk.privacy import audit
from kiosk.privacy import datakey
from kiosk.privacy.retention import DONE_STAY_STATES, scrub, secure_delete
from kiosk.store import audit as audit_rows
from kiosk.store import outbox
from kiosk.store import patients as rows
from kiosk.store.retention import delete_with_dependents
from kiosk.store.sealing import DataKey

PURPOSE_EXPORT = "access request by the data subject (Luật 91/2025/QH15)"
PURPOSE_ERASE = "erasure request by the data subject (Luật 91/2025/QH15)"


def patient_ids(db: store.Executor, id_number: str) -> list[int]:
    return rows.ids_by_identity_keys(db, datakey.identity_keys_for_id(id_number.strip(), db.key))


def _open_patient(row: dict[str, Any], key: DataKey | None) -> dict[str, Any]:
    out = dict(row)
    for f in datakey.PATIENT_FIELDS:
        if f in out:
            out[f] = datakey.reveal(f"patients.{f}", out[f], key)
    return out


def _open_stay(row: dict[str, Any], key: DataKey | None) -> dict[str, Any]:
    out = dict(row)
    for f in ("full_name", "date_of_birth", "id_number", "passport_number", "address_of_stay", "reason"):
        if f in out:
            out[f] = datakey.reveal(f"stay_notifications.{f}", out[f], key)
    return out


def _open_change(value: Any, field: str | None, key: DataKey | None) -> Any:
    # The desk seals a corrected field's old value as it was in the patient row, the new one as a change value.
    contexts = ["visit_changes.value"] + ([f"patients.{field}"] if field else [])
    for ctx in contexts[:-1]:
        try:
            return datakey.reveal(ctx, value, key)
        except datakey.DecryptError:
            continue
    return datakey.reveal(contexts[-1], value, key)


def collect(db: store.Executor, id_number: str) -> dict[str, Any]:
    pids = patient_ids(db, id_number)
    out: dict[str, Any] = {"found": bool(pids), "patients": [], "visits": [], "stay_notifications": [],
                           "sent_to_hub": [], "access_log": []}
    for pid in pids:
        row = rows.patient(db, pid)
        row.pop("identity_key", None)
        out["patients"].append(_open_patient(row, db.key))
        for v in rows.visits(db, pid):
            v["flags"] = json.loads(v.get("flags") or "[]")
            v["eligibility_results"] = rows.eligibility_results(db, v["id"])
            services = rows.services(db, v["id"])
            if services is not None:
                v["services"] = services
            changes = rows.changes(db, v["id"])
            if changes is not None:
                v["changes"] = [{**c, "old_value": _open_change(c["old_value"], c["field"], db.key),
                                 "new_value": _open_change(c["new_value"], c["field"], db.key)} for c in changes]
            out["visits"].append(v)
        out["stay_notifications"] += [_open_stay(s, db.key) for s in rows.stays(db, pid)]
    visit_ids = [v["id"] for v in out["visits"]]
    stay_ids = [s["id"] for s in out["stay_notifications"]]
    for kind, ids in (("visit", visit_ids), ("stay_notification", stay_ids)):
        for i in ids:
            out["sent_to_hub"] += outbox.deliveries(db, kind, i)
    refs = [("patient", str(p)) for p in pids] + [("visit", str(v)) for v in visit_ids] + \
        [("stay_notification", str(s)) for s in stay_ids]
    for kind, rid in refs:
        out["access_log"] += [e.to_json() for e in audit_rows.for_record(db, kind, rid)]
    out["access_log"].sort(key=lambda e: e["seq"])
    out["roster"] = "the insurance roster holds this person's card only as keyed hashes issued by the insurer"
    return out


def export(db: store.Database, id_number: str, *, actor: str, now: datetime,
           purpose: str = PURPOSE_EXPORT) -> dict[str, Any]:
    with store.transaction(db) as tx:
        data = collect(tx, id_number)
        for p in data["patients"]:
            audit.record(tx, actor=actor, action="exported", record_kind="patient", record_id=p["id"],
                         purpose=purpose, details={"visits": len(data["visits"]),
                                                   "stay_notifications": len(data["stay_notifications"])}, now=now)
    return data


def erase(db: store.Database, id_number: str, *, actor: str, now: datetime, purpose: str = PURPOSE_ERASE,
          vacuum: bool = True) -> dict[str, Any]:
    secure_delete(db)
    erased = {"visits": 0, "stay_notifications": 0, "patients": 0, "outbox": 0}
    kept: list[dict[str, Any]] = []
    dependents: dict[str, int] = {}
    with store.transaction(db) as tx:
        pids = patient_ids(tx, id_number)
        for pid in pids:
            for sid, state in rows.stay_states(tx, pid):
                if state in DONE_STAY_STATES:
                    erased["stay_notifications"] += delete_with_dependents(tx, "stay_notifications", [sid],
                                                                           dependents)
                    erased["outbox"] += outbox.delete_for(tx, "stay_notification", [sid])
                else:
                    kept.append({"record": f"stay_notification:{sid}", "state": state,
                                 "reason": "the stay notification is a statutory duty (Luật Cư trú) and is "
                                           "not yet acknowledged or receipted; it is erased once it is"})
            for vid in rows.visit_ids(tx, pid):
                states = outbox.states_of(tx, "visit", vid)
                if rows.visit_has_stay(tx, vid):
                    kept.append({"record": f"visit:{vid}", "reason": "its stay notification is still kept"})
                elif not states or any(s != "acknowledged" for s in states):
                    kept.append({"record": f"visit:{vid}", "outbox": states or ["never queued"],
                                 "reason": "not yet delivered to the provincial hub (BHYT claim, Luật BHYT); "
                                           "erase again once it is acknowledged"})
                else:
                    erased["outbox"] += outbox.delete_for(tx, "visit", [vid])
                    erased["visits"] += delete_with_dependents(tx, "visits", [vid], dependents)
            if not rows.still_referenced(tx, pid):
                erased["patients"] += delete_with_dependents(tx, "patients", [pid], dependents)
            else:
                kept.append({"record": f"patient:{pid}", "reason": "identity kept while the records above are kept"})
            audit.record(tx, actor=actor, action="erased", record_kind="patient", record_id=pid, purpose=purpose,
                         details={"erased": erased, "kept": len(kept)}, now=now)
    kept.append({"record": "audit_log", "reason": "the audit trail is the legally required record of processing; "
                                                   "it names records by row id only, never the person"})
    kept.append({"record": "roster", "reason": "the insurer's roster (keyed hashes only) is not the kiosk's to erase"})
    if vacuum and any(erased.values()):
        scrub(db)
    return {"found": bool(pids), "erased": erased, "dependents": dependents, "kept": kept}
