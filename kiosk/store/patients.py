"""Everything stored about one person, found by identity key: for an access request and for erasure.

Rows come back as stored (dicts of column → value, identity fields sealed);
kiosk.privacy.person opens them and decides what an erasure may take. The
check-in's own patient reads and writes are in kiosk.store.visits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.store import meta
from kiosk.store.connection import Executor

Row = dict[str, Any]  # a row as stored: column → value, identity fields sealed


def _rows(db: Executor, sql: str, args: Sequence[Any]) -> list[Row]:
    cur = db.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def ids_by_identity_keys(db: Executor, identity_keys: Sequence[str]) -> list[int]:
    marks = ",".join("?" * len(identity_keys))
    return [int(r[0]) for r in db.execute(
        f"SELECT id FROM patients WHERE identity_key IN ({marks}) ORDER BY id", list(identity_keys))]


def patient(db: Executor, patient_id: int) -> Row:
    return _rows(db, "SELECT * FROM patients WHERE id = ?", [patient_id])[0]


def visits(db: Executor, patient_id: int) -> list[Row]:
    return _rows(db, "SELECT * FROM visits WHERE patient_id = ? ORDER BY id", [patient_id])


def visit_ids(db: Executor, patient_id: int) -> list[int]:
    return [int(r[0]) for r in db.execute("SELECT id FROM visits WHERE patient_id = ?", [patient_id])]


def eligibility_results(db: Executor, visit_id: int) -> list[Row]:
    return _rows(db, "SELECT result_code, benefit_percent, reason, source, as_of, card_masked, created_at "
                     "FROM eligibility_results WHERE visit_id = ? ORDER BY id", [visit_id])


def services(db: Executor, visit_id: int) -> list[Row] | None:
    """The visit's services, or None when this database has no `visit_services` table."""
    if "visit_services" not in meta.tables(db):
        return None
    return _rows(db, "SELECT service, added_by, added_at FROM visit_services WHERE visit_id = ?", [visit_id])


def changes(db: Executor, visit_id: int) -> list[Row] | None:
    """The console's changes to the visit (values sealed), or None without a `visit_changes` table."""
    if "visit_changes" not in meta.tables(db):
        return None
    return _rows(db, "SELECT staff_id, action, field, old_value, new_value, at FROM visit_changes "
                     "WHERE visit_id = ? ORDER BY id", [visit_id])


def stays(db: Executor, patient_id: int) -> list[Row]:
    """The person's stay notifications (none when this database has no such table)."""
    if "stay_notifications" not in meta.tables(db):
        return []
    return _rows(db, "SELECT * FROM stay_notifications WHERE patient_id = ? ORDER BY id", [patient_id])


def stay_states(db: Executor, patient_id: int) -> list[tuple[int, str]]:
    if "stay_notifications" not in meta.tables(db):
        return []
    return [(int(r[0]), str(r[1])) for r in db.execute(
        "SELECT id, state FROM stay_notifications WHERE patient_id = ?", [patient_id])]


def visit_has_stay(db: Executor, visit_id: int) -> bool:
    return "stay_notifications" in meta.tables(db) and db.execute(
        "SELECT 1 FROM stay_notifications WHERE visit_id = ?", [visit_id]).fetchone() is not None


def still_referenced(db: Executor, patient_id: int) -> bool:
    """Whether a visit or a stay notification still names the patient."""
    if db.execute("SELECT 1 FROM visits WHERE patient_id = ?", [patient_id]).fetchone():
        return True
    return "stay_notifications" in meta.tables(db) and db.execute(
        "SELECT 1 FROM stay_notifications WHERE patient_id = ?", [patient_id]).fetchone() is not None
