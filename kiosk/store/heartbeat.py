"""Read-only counts for the heartbeat (sync/heartbeat.py): visits of a day by document, open stay notifications.

Counts and times only, never a row's content: the heartbeat carries no personal
data. Writers of these tables are kiosk.store.visits and kiosk.store.stays.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.store.connection import Executor


def visits_by_document(db: Executor, visit_date: str) -> dict[str, int]:
    """Every visit of the day, cancelled ones too (the hub counts each visit it receives the same way); visits
    recorded before the `document` column (NULL) are not counted."""
    return {str(d): int(n) for d, n in db.execute(
        "SELECT document, count(*) FROM visits WHERE visit_date = ? AND document IS NOT NULL GROUP BY document",
        [visit_date])}


def open_stays(db: Executor, open_states: Sequence[str]) -> tuple[int, str | None]:
    """(how many stay notifications are in `open_states`, the earliest deadline among them)."""
    marks = ",".join("?" * len(open_states))
    n, earliest = db.execute(f"SELECT count(*), min(deadline_at) FROM stay_notifications WHERE state IN ({marks})",
                             list(open_states)).fetchone()
    return int(n), earliest
