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
import sqlite3
from datetime import datetime
from typing import Any

from kiosk import store
from kiosk.privacy import audit
from kiosk.privacy import datakey
from kiosk.privacy.retention import _delete_with_dependents, Report, scrub

PURPOSE_EXPORT = "access request by the data subject (Luật 91/2025/QH15)"
PURPOSE_ERASE = "erasure request by the data subject (Luật 91/2025/QH15)"


def patient_ids(conn: sqlite3.Connection, id_number: str) -> list[int]:
    keys = datakey.identity_keys_for_id(id_number.strip(), conn.key)
    marks = ",".join("?" * len(keys))
    return [r[0] for r in conn.execute(f"SELECT id FROM patients WHERE identity_key IN ({marks}) ORDER BY id", keys)]



def _rows(conn, sql: str, args: list) -> list[dict]:
    cur = conn.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _open_patient(row: dict, key: datakey.DataKey | None) -> dict:
    out = dict(row)
    for f in datakey.PATIENT_FIELDS:
        if f in out:
            out[f] = datakey.reveal(f"patients.{f}", out[f], key)
    return out


def _open_stay(row: dict, key: datakey.DataKey | None) -> dict:
    out = dict(row)
    for f in ("full_name", "date_of_birth", "id_number", "passport_number", "address_of_stay", "reason"):
        if f in out:
            out[f] = datakey.reveal(f"stay_notifications.{f}", out[f], key)
    return out


def _open_change(value, field: str | None, key: datakey.DataKey | None):
    # The desk seals a corrected field's old value as it was in the patient row, the new one as a change value.
    contexts = ["visit_changes.value"] + ([f"patients.{field}"] if field else [])
    for ctx in contexts[:-1]:
        try:
            return datakey.reveal(ctx, value, key)
        except datakey.DecryptError:
            continue
    return datakey.reveal(contexts[-1], value, key)


def collect(conn: sqlite3.Connection, id_number: str) -> dict[str, Any]:
    tables = store.tables(conn)
    pids = patient_ids(conn, id_number)
    out: dict[str, Any] = {"found": bool(pids), "patients": [], "visits": [], "stay_notifications": [],
                           "sent_to_hub": [], "access_log": []}
    for pid in pids:
        row = _rows(conn, "SELECT * FROM patients WHERE id = ?", [pid])[0]
        row.pop("identity_key", None)
        out["patients"].append(_open_patient(row, conn.key))
        for v in _rows(conn, "SELECT * FROM visits WHERE patient_id = ? ORDER BY id", [pid]):
            v["flags"] = json.loads(v.get("flags") or "[]")
            v["eligibility_results"] = _rows(conn, "SELECT result_code, benefit_percent, reason, source, as_of, "
                                                   "card_masked, created_at FROM eligibility_results "
                                                   "WHERE visit_id = ? ORDER BY id", [v["id"]])
            if "visit_services" in tables:
                v["services"] = _rows(conn, "SELECT service, added_by, added_at FROM visit_services "
                                            "WHERE visit_id = ?", [v["id"]])
            if "visit_changes" in tables:
                v["changes"] = [{**c, "old_value": _open_change(c["old_value"], c["field"], conn.key),
                                 "new_value": _open_change(c["new_value"], c["field"], conn.key)}
                                for c in _rows(conn, "SELECT staff_id, action, field, old_value, new_value, at "
                                                     "FROM visit_changes WHERE visit_id = ? ORDER BY id", [v["id"]])]
            out["visits"].append(v)
        if "stay_notifications" in tables:
            out["stay_notifications"] += [_open_stay(s, conn.key) for s in _rows(
                conn, "SELECT * FROM stay_notifications WHERE patient_id = ? ORDER BY id", [pid])]
    visit_ids = [v["id"] for v in out["visits"]]
    stay_ids = [s["id"] for s in out["stay_notifications"]]
    for kind, ids in (("visit", visit_ids), ("stay_notification", stay_ids)):
        for i in ids:
            out["sent_to_hub"] += _rows(conn, "SELECT kind, record_id, state, created_at, acknowledged_at "
                                              "FROM outbox WHERE kind = ? AND record_id = ?", [kind, i])
    refs = [("patient", str(p)) for p in pids] + [("visit", str(v)) for v in visit_ids] + \
        [("stay_notification", str(s)) for s in stay_ids]
    for kind, rid in refs:
        out["access_log"] += [e.to_json() for e in (audit.Entry(*r) for r in conn.execute(
            f"SELECT {audit._COLUMNS} FROM audit_log WHERE record_kind = ? AND record_id = ? ORDER BY seq",
            [kind, rid]))]
    out["access_log"].sort(key=lambda e: e["seq"])
    out["roster"] = "the insurance roster holds this person's card only as keyed hashes issued by the insurer"
    return out


def export(db, id_number: str, *, actor: str, now: datetime, purpose: str = PURPOSE_EXPORT) -> dict[str, Any]:
    with store.transaction(db) as conn:
        data = collect(conn, id_number)
        for p in data["patients"]:
            audit.record(conn, actor=actor, action="exported", record_kind="patient", record_id=p["id"],
                         purpose=purpose, details={"visits": len(data["visits"]),
                                                   "stay_notifications": len(data["stay_notifications"])}, now=now)
    return data


def erase(db, id_number: str, *, actor: str, now: datetime, purpose: str = PURPOSE_ERASE,
          vacuum: bool = True) -> dict[str, Any]:
    db.conn.execute("PRAGMA secure_delete=ON")
    erased = {"visits": 0, "stay_notifications": 0, "patients": 0, "outbox": 0}
    kept: list[dict[str, Any]] = []
    rep = Report(at="", visit_cutoff="", stay_cutoff="", cache_cutoff="")
    with store.transaction(db) as conn:
        tables = store.tables(conn)
        pids = patient_ids(conn, id_number)
        for pid in pids:
            if "stay_notifications" in tables:
                for sid, state in conn.execute("SELECT id, state FROM stay_notifications WHERE patient_id = ?",
                                               [pid]).fetchall():
                    if state in ("acknowledged", "receipt_recorded"):
                        erased["stay_notifications"] += _delete_with_dependents(conn, "stay_notifications",
                                                                                [sid], rep)
                        erased["outbox"] += conn.execute("DELETE FROM outbox WHERE kind = 'stay_notification' "
                                                         "AND record_id = ?", [sid]).rowcount
                    else:
                        kept.append({"record": f"stay_notification:{sid}", "state": state,
                                     "reason": "the stay notification is a statutory duty (Luật Cư trú) and is "
                                               "not yet acknowledged or receipted; it is erased once it is"})
            for (vid,) in conn.execute("SELECT id FROM visits WHERE patient_id = ?", [pid]).fetchall():
                states = [r[0] for r in conn.execute("SELECT state FROM outbox WHERE kind = 'visit' "
                                                     "AND record_id = ?", [vid])]
                has_stay = "stay_notifications" in tables and conn.execute(
                    "SELECT 1 FROM stay_notifications WHERE visit_id = ?", [vid]).fetchone()
                if has_stay:
                    kept.append({"record": f"visit:{vid}", "reason": "its stay notification is still kept"})
                elif not states or any(s != "acknowledged" for s in states):
                    kept.append({"record": f"visit:{vid}", "outbox": states or ["never queued"],
                                 "reason": "not yet delivered to the provincial hub (BHYT claim, Luật BHYT); "
                                           "erase again once it is acknowledged"})
                else:
                    erased["outbox"] += conn.execute("DELETE FROM outbox WHERE kind = 'visit' AND record_id = ?",
                                                     [vid]).rowcount
                    erased["visits"] += _delete_with_dependents(conn, "visits", [vid], rep)
            if not conn.execute("SELECT 1 FROM visits WHERE patient_id = ?", [pid]).fetchone() and not (
                    "stay_notifications" in tables and
                    conn.execute("SELECT 1 FROM stay_notifications WHERE patient_id = ?", [pid]).fetchone()):
                erased["patients"] += _delete_with_dependents(conn, "patients", [pid], rep)
            else:
                kept.append({"record": f"patient:{pid}", "reason": "identity kept while the records above are kept"})
            audit.record(conn, actor=actor, action="erased", record_kind="patient", record_id=pid, purpose=purpose,
                         details={"erased": erased, "kept": len(kept)}, now=now)
    kept.append({"record": "audit_log", "reason": "the audit trail is the legally required record of processing; "
                                                   "it names records by row id only, never the person"})
    kept.append({"record": "roster", "reason": "the insurer's roster (keyed hashes only) is not the kiosk's to erase"})
    if vacuum and any(erased.values()):
        scrub(db)
    return {"found": bool(pids), "erased": erased, "dependents": rep.dependents_purged, "kept": kept}
