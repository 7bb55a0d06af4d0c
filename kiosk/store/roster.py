"""Reading the insurance roster (`roster_cards`, keyed hashes only) for eligibility checks.

kiosk.eligibility decides; it finds cards through the :class:`kiosk.eligibility.Cards`
protocol, which :class:`Cards` implements over a database. The import's writes
are kiosk.store.roster_import's.
"""

from __future__ import annotations

from kiosk.eligibility.cards import COLUMNS, CardRow
from kiosk.store import meta
from kiosk.store.connection import Executor

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM roster_cards"
AS_OF_META = "roster.as_of"


class Cards:
    """The roster of one database, as kiosk.eligibility.check asks for it."""

    def __init__(self, db: Executor):
        self.db = db

    def by_sin(self, sin_key: int) -> list[CardRow]:
        """Every card of a person, by keyed BHXH number."""
        return self._rows("sin_key = ?", [sin_key])

    def by_card(self, sin_key: int, prefix: str | None) -> list[CardRow]:
        """One card (a person's cards share the BHXH number; the clear prefix tells them apart)."""
        return self._rows("sin_key = ? AND card_prefix IS ?", [sin_key, prefix])

    def by_id(self, id_key: int) -> list[CardRow]:
        """Every card of a person, by keyed ID number."""
        return self._rows("id_key = ?", [id_key])

    def as_of(self) -> str | None:
        """The date of the roster on the device (None: no roster imported yet)."""
        return meta.get_meta(self.db, AS_OF_META)

    def _rows(self, where: str, args: list[int | str | None]) -> list[CardRow]:
        return [tuple(r) for r in self.db.execute(f"{_SELECT} WHERE {where}", args)]


def cards(db: Executor) -> Cards:
    return Cards(db)
