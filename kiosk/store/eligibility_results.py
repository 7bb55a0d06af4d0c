"""Eligibility answers of visits (`eligibility_results`): the one place that writes them.

A visit keeps every answer it got: the first is the record of what was known
at check-in, a later online re-check adds another, and screens show the latest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from kiosk.clock import iso_utc
from kiosk.domain import Eligibility
from kiosk.store.connection import Executor


def insert(tx: Executor, visit_id: int, result: Eligibility, now: datetime) -> None:
    """Add an answer to a visit, stamped with `now` (the caller's clock, never the wall clock)."""
    tx.execute(
        "INSERT INTO eligibility_results(visit_id, result_code, benefit_percent, reason, source, as_of, "
        "card_masked, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [visit_id, result.result_code, result.benefit_percent, result.reason, result.source, result.as_of,
         result.card_number, json.dumps(result.details), iso_utc(now)])


@dataclass(frozen=True)
class Pending:
    """A visit whose latest answer is still `code`, with the patient's identity fields as stored (sealed)."""

    visit_id: int
    visit_date: str
    id_number: str | None
    social_insurance_number: str | None
    card_number: str | None
    full_name: str | None
    date_of_birth: str | None


def latest_is(db: Executor, code: str, limit: int) -> list[Pending]:
    """Visits (not cancelled) whose latest answer has result `code`, oldest first."""
    return [Pending(*r) for r in db.execute(
        "SELECT v.id, v.visit_date, p.id_number, p.social_insurance_number, p.card_number, p.full_name, "
        "p.date_of_birth FROM visits v JOIN patients p ON p.id = v.patient_id "
        "JOIN eligibility_results e ON e.id = (SELECT max(id) FROM eligibility_results WHERE visit_id = v.id) "
        "WHERE e.result_code = ? AND v.status != 'cancelled' ORDER BY v.id LIMIT ?", [code, limit])]
