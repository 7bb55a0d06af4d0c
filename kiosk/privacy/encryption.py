"""Which columns hold sealed personal data, and converting rows written before encryption.

The list here is the at-rest half of docs/privacy.md's inventory: every column
named below is sealed with the device data key (kiosk.privacy.datakey) when written
and opened only when read for display, export or sending.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kiosk import store
from kiosk.privacy import datakey

# table → sealed columns (the AES-GCM associated data is "<table>.<column>").
SEALED: dict[str, tuple[str, ...]] = {
    "patients": datakey.PATIENT_FIELDS,
    "stay_notifications": ("full_name", "date_of_birth", "id_number", "passport_number", "reason"),
    "visit_changes": ("old_value", "new_value"),
    "staff": ("id_number", "birth_date"),
}


def _context(table: str, column: str) -> str:
    """The associated data a column's values are sealed with (the desk seals change values as one kind)."""
    return "visit_changes.value" if table == "visit_changes" else f"{table}.{column}"



def _columns(conn, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info('{table}')")}


def clear_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many rows still hold a personal field in clear, per table (0 everywhere once sealed)."""
    out = {}
    tables = store.tables(conn)
    for table, cols in SEALED.items():
        if table not in tables:
            continue
        cols = [c for c in cols if c in _columns(conn, table)]
        cond = " OR ".join(f"({c} IS NOT NULL AND {c} != '' AND {c} NOT LIKE '{datakey.PREFIX}%')" for c in cols)
        out[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE {cond}").fetchone()[0]
    if "outbox" in tables:
        out["outbox"] = conn.execute(
            "SELECT count(*) FROM outbox WHERE kind = 'visit' AND payload LIKE '%\"patient\": {%'").fetchone()[0]
    return out


def seal_existing(db, key: datakey.DataKey) -> dict[str, int]:
    """Seal every clear personal field (and re-key patients by keyed hash), in one transaction."""
    done: dict[str, int] = {}
    db.conn.execute("PRAGMA secure_delete=ON")
    with store.transaction(db) as conn:
        tables = store.tables(conn)
        for table, cols in SEALED.items():
            if table not in tables:
                continue
            cols = tuple(c for c in cols if c in _columns(conn, table))
            n = 0
            for row in conn.execute(f"SELECT rowid, {', '.join(cols)} FROM {table}").fetchall():
                rid, values = row[0], row[1:]
                new = [key.seal(v, _context(table, c)) if (v is not None and not datakey.is_sealed(v)) else v
                       for c, v in zip(cols, values)]
                if new != list(values):
                    conn.execute(f"UPDATE {table} SET {', '.join(c + ' = ?' for c in cols)} WHERE rowid = ?",
                                 [*new, rid])
                    n += 1
            done[table] = n
        done["patients_rekeyed"] = _rekey_patients(conn, key)
        done["outbox"] = _seal_outbox(conn, key)
    from kiosk.privacy.retention import scrub
    scrub(db)  # the clear values were in freed pages and the WAL: make them go
    return done


def _rekey_patients(conn, key: datakey.DataKey) -> int:
    n = 0
    rows = conn.execute("SELECT id, identity_key, id_number, social_insurance_number FROM patients "
                        "WHERE identity_key LIKE 'id:%' OR identity_key LIKE 'bhxh:%'").fetchall()
    for pid, _, id_sealed, sin_sealed in rows:
        id_number = key.open(id_sealed, "patients.id_number")
        sin = key.open(sin_sealed, "patients.social_insurance_number")
        new_key = key.identity_key(id_number, sin)
        other = conn.execute("SELECT id FROM patients WHERE identity_key = ?", [new_key]).fetchone()
        if other:  # the same person was already seen after encryption was switched on: merge into that row
            for table, column in store.referencing(conn, "patients"):
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [other[0], pid])
            conn.execute("DELETE FROM patients WHERE id = ?", [pid])
        else:
            conn.execute("UPDATE patients SET identity_key = ? WHERE id = ?", [new_key, pid])
        n += 1
    return n



def _seal_outbox(conn, key: datakey.DataKey) -> int:
    n = 0
    for oid, payload in conn.execute("SELECT id, payload FROM outbox WHERE state IN ('queued', 'sent', "
                                     "'needs_manual')").fetchall():
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        sealed = seal_payload(body, key)
        if sealed != body:
            conn.execute("UPDATE outbox SET payload = ? WHERE id = ?",
                         [json.dumps(sealed, ensure_ascii=False, sort_keys=True), oid])
            n += 1
    return n


PAYLOAD_PERSONAL = ("patient", "card", "full_name", "date_of_birth", "id_number", "passport_number", "reason",
                    "social_insurance_number", "card_number", "address")


def seal_payload(body: Any, key: datakey.DataKey | None) -> Any:
    """An outbox payload with its personal values sealed (the sender opens them just before sending)."""
    if key is None or not isinstance(body, dict):
        return body
    out = {}
    for k, v in body.items():
        if k in PAYLOAD_PERSONAL and v is not None and not datakey.is_sealed(v):
            out[k] = key.seal_json(v, "outbox.payload")
        else:
            out[k] = v
    return out
