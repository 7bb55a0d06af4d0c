"""BHYT eligibility from the local roster (offline-first).

`check()` finds the card by the keyed hash of what the patient presented and
applies the rules (`kiosk.eligibility.rules`, pure functions over dated rule
data). It reads the roster through the :class:`Cards` protocol (the store's
`kiosk.store.roster.cards(db)`), so this package holds no SQL and imports no
store. Result codes are the national lookup's (000, 010, 110, …); situations
that list lacks get the project's own K-codes (see docs/eligibility.md).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Callable, Protocol

from kiosk.eligibility import roster
from kiosk.domain import Eligibility, PersonIdentity
from kiosk.clock import VN_TZ, parse_iso
from kiosk.eligibility.cards import STATUS_CODE, CardRow, CardSummary, RosterCard, normalise_birth
from kiosk.eligibility.rules import (CANNOT_VERIFY, CODES, NOT_YET_VALID, OTHER_PROVINCE, Decision, Facility,
                                     Presented, RuleBook, RuleSet, decide, vn)
from kiosk.masking import mask_id

__all__ = ["CANNOT_VERIFY", "NOT_YET_VALID", "OTHER_PROVINCE", "CODES", "Cards", "RosterCard", "Facility",
           "Presented", "Decision", "RuleBook", "decide", "check", "find_card", "presented", "from_roster",
           "cannot_verify", "provenance", "matched_card"]

_REPLACED = STATUS_CODE["replaced"]


class Cards(Protocol):
    """Where the roster's cards are found (kiosk.store.roster.Cards over a database)."""

    def by_sin(self, sin_key: int) -> list[CardRow]: ...

    def by_card(self, sin_key: int, prefix: str | None) -> list[CardRow]: ...

    def by_id(self, id_key: int) -> list[CardRow]: ...

    def as_of(self) -> str | None: ...


@lru_cache(maxsize=1)
def rule_book() -> RuleBook:
    return RuleBook.load()


@lru_cache(maxsize=64)
def _rules_on(d: date) -> RuleSet:
    return rule_book().for_date(d)


def _best(rows: list[CardRow]) -> CardRow | None:
    # A person may have an old (replaced) card and a new one: prefer the one in force.
    if not rows:
        return None
    return max(rows, key=lambda r: (r[13] == 0, r[13] != _REPLACED, 10**7 if r[10] is None else r[10]))


def find_card(cards: Cards, key: bytes, *, card_number: str | None = None,
              id_number: str | None = None, social_insurance_number: str | None = None) -> RosterCard | None:
    """The roster card by card code (15 characters) or printed 10-digit number, ID number, or BHXH number."""
    probes: list[Callable[[], list[CardRow]]] = []
    if card_number:
        c = roster.normalise_card(card_number)
        sin, prefix = roster.card_identity(key, c)
        # The 10-digit number printed on new cards is the BHXH number: any card of that person.
        probes.append((lambda: cards.by_sin(sin)) if prefix is None else (lambda: cards.by_card(sin, prefix)))
    if id_number:
        idk = roster.id_key(key, id_number)
        probes.append(lambda: cards.by_id(idk))
    if social_insurance_number:
        sink = roster.sin_key(key, social_insurance_number)
        probes.append(lambda: cards.by_sin(sink))
    for probe in probes:
        row = _best(probe())
        if row:
            return RosterCard.from_row(row)
    return None


def card_by_key(cards: Cards, sin_key: int, prefix: str | None) -> RosterCard | None:
    row = _best(cards.by_card(sin_key, prefix))
    return RosterCard.from_row(row) if row else None


def presented(key: bytes, identity: PersonIdentity) -> Presented:
    """Hash what the document said, for the name and birth-date check (a year-only birth date is not checked)."""
    name = roster.name_key(key, identity.full_name) if identity.full_name and identity.full_name.strip() else None
    dob = normalise_birth(identity.date_of_birth)
    births = None
    if dob and len(dob) == 10:
        births = frozenset({roster.birth_key(key, dob), roster.birth_key(key, dob[:4])})
    return Presented(name, births)


def from_roster(decision: Decision, as_of: str | None, masked: str | None) -> Eligibility:
    """A roster decision as an answer; `provenance()` says where it came from for screens and paper."""
    return Eligibility(decision.result_code, decision.benefit_percent, decision.reason, "roster", as_of, masked,
                       dict(decision.details))


def cannot_verify(as_of: str | None, why: str = "không có trong danh sách, chưa tra cứu trực tuyến được",
                  masked: str | None = None) -> Eligibility:
    """K02: a legitimate answer; the visit proceeds as pending and a later online check updates it."""
    return Eligibility(CANNOT_VERIFY, None, f"Chưa xác minh được thẻ BHYT lúc này ({why})", "none", as_of, masked)


def provenance(e: Eligibility) -> str:
    """"theo danh sách ngày dd/mm/yyyy" or "tra cứu trực tuyến lúc hh:mm" (Vietnam time), or not verified."""
    if e.source == "roster" and e.as_of:
        return f"theo danh sách ngày {vn(date.fromisoformat(e.as_of[:10]))}"
    if e.source == "gateway" and e.as_of:
        return f"tra cứu trực tuyến lúc {parse_iso(e.as_of).astimezone(VN_TZ):%H:%M}"
    return "chưa xác minh được" + (f" (danh sách ngày {vn(date.fromisoformat(e.as_of[:10]))})" if e.as_of else "")


def check(cards: Cards, key: bytes, identity: PersonIdentity, visit_date: date, facility_code: str,
          *, admitted_on: date | None = None, commune_station: bool = True) -> Eligibility:
    """Offline answer from the roster: a decision, or "cannot verify now" (K02) when the card is not on it."""
    as_of = cards.as_of()
    card = find_card(cards, key, card_number=identity.card_number, id_number=identity.id_number,
                     social_insurance_number=identity.social_insurance_number)
    if card is None:
        if as_of is None:
            return cannot_verify(None, "máy chưa có danh sách BHYT, chưa tra cứu trực tuyến được", _masked(identity))
        return cannot_verify(as_of, masked=_masked(identity))
    replacement = (card_by_key(cards, card.replaced_by_key, card.replaced_by_prefix)
                   if card.replaced_by_key is not None else None)
    decision = decide(card, presented(key, identity), visit_date, Facility(facility_code, commune_station),
                      _rules_on(visit_date), admitted_on=admitted_on, replacement=replacement)
    result = from_roster(decision, as_of, _masked(identity))
    if as_of:  # how fresh the answer is, for screens that warn about an old roster
        result.details["roster_age_days"] = (visit_date - date.fromisoformat(as_of[:10])).days
    return result


def _masked(identity: PersonIdentity) -> str:
    return mask_id(identity.card_number or identity.social_insurance_number or identity.id_number)


def matched_card(cards: Cards, key: bytes, identity: PersonIdentity) -> CardSummary | None:
    """What the roster holds about the matched card that is not personal: group, level, dates, facility, status."""
    card = find_card(cards, key, card_number=identity.card_number, id_number=identity.id_number,
                     social_insurance_number=identity.social_insurance_number)
    if card is None:
        return None
    return card.summary()
