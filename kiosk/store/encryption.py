"""Rows that hold personal fields: counting the ones still in clear, and sealing them in place.

Which columns are sealed is :data:`kiosk.store.sealing.SEALED`; the policy
(when to seal, what to scrub afterwards) is kiosk.privacy.encryption's.
"""

from __future__ import annotations

from kiosk.store import meta
from kiosk.store.connection import Executor
from kiosk.store.sealing import PREFIX, SEALED, DataKey, context, is_sealed


def sealed_columns(db: Executor, table: str) -> tuple[str, ...]:
    """The sealed columns `table` has in this database (optional features add theirs by migration)."""
    present = meta.columns(db, table)
    return tuple(c for c in SEALED[table] if c in present)


def clear_count(db: Executor, table: str) -> int:
    """How many rows of `table` still hold a sealed column's value in clear."""
    cond = " OR ".join(f"({c} IS NOT NULL AND {c} != '' AND {c} NOT LIKE '{PREFIX}%')"
                       for c in sealed_columns(db, table))
    return int(db.execute(f"SELECT count(*) FROM {table} WHERE {cond}").fetchone()[0])


def seal_table(tx: Executor, table: str, key: DataKey) -> int:
    """Seal every clear value of `table`'s sealed columns; returns how many rows changed."""
    cols = sealed_columns(tx, table)
    n = 0
    for row in tx.execute(f"SELECT rowid, {', '.join(cols)} FROM {table}").fetchall():
        rid, values = row[0], row[1:]
        new = [key.seal(v, context(table, c)) if (v is not None and not is_sealed(v)) else v
               for c, v in zip(cols, values)]
        if new != list(values):
            tx.execute(f"UPDATE {table} SET {', '.join(c + ' = ?' for c in cols)} WHERE rowid = ?", [*new, rid])
            n += 1
    return n


def rekey_patients(tx: Executor, key: DataKey) -> int:
    """Patients stored under a clear identity key ("id:…", "bhxh:…") moved to the keyed hash; a person seen
    again after encryption was switched on is merged into that newer row. Returns how many were re-keyed."""
    n = 0
    rows = tx.execute("SELECT id, identity_key, id_number, social_insurance_number FROM patients "
                      "WHERE identity_key LIKE 'id:%' OR identity_key LIKE 'bhxh:%'").fetchall()
    for pid, _, id_sealed, sin_sealed in rows:
        id_number = key.open(id_sealed, "patients.id_number")
        sin = key.open(sin_sealed, "patients.social_insurance_number")
        new_key = key.identity_key(id_number, sin)
        other = tx.execute("SELECT id FROM patients WHERE identity_key = ?", [new_key]).fetchone()
        if other:  # the same person was already seen after encryption was switched on: merge into that row
            for table, column in meta.referencing(tx, "patients"):
                tx.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [other[0], pid])
            tx.execute("DELETE FROM patients WHERE id = ?", [pid])
        else:
            tx.execute("UPDATE patients SET identity_key = ? WHERE id = ?", [new_key, pid])
        n += 1
    return n
