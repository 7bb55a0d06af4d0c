"""The audit trail: who touched whose personal data, when, and why.

An append-only, hash-chained log (table ``audit_log``, migration 0006). Each
entry holds the staff account, the time, the action, the record (by kind and
row id, never by name or number) and the purpose; its ``entry_hash`` is
SHA-256 over the previous entry's hash and this entry's canonical form, so
editing, deleting or reordering any entry breaks the chain from that entry on.
The newest (seq, hash) is also kept in ``meta`` so that cutting entries off
the end is caught, and every entry is queued to the outbox: once the hub has
a copy, rewriting the whole local chain is caught there too.

Call :func:`record` inside the transaction that does the access (the entry
then commits with it or not at all); called outside a transaction it opens its
own. The chain needs its appends serialised, which ``BEGIN IMMEDIATE``
(``kiosk.store.transaction``) gives.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kiosk.clock import iso_utc
from kiosk.errors import KioskError
from kiosk.store import audit as rows
from kiosk.store import outbox
from kiosk.store.audit import HEAD_META_KEY, Entry
from kiosk.store.connection import Executor

__all__ = ["ACTIONS", "AuditError", "Entry", "GENESIS", "HEAD_META_KEY", "OUTBOX_KIND", "Verdict", "default_actor",
           "entries", "entry_hash", "record", "verify"]

GENESIS = "0" * 64

# What can be done to personal data (the list, plus the device-level actions that touch all of it).
ACTIONS = (
    "viewed",          # shown on the console or a staff screen
    "printed",         # on paper
    "exported",        # to a file or another machine (access request, report)
    "corrected",       # changed by staff
    "sent_upstream",   # delivered to the hub
    "purged",          # deleted or reduced by retention
    "erased",          # deleted on a person's request
    "backed_up",       # copied (encrypted) to removable media
    "restored",        # restored from a backup
    "wiped",           # the device's data destroyed
    "key_created",     # a data key provisioned
    # Staff accounts (who may see personal data): kiosk/services/staff.py
    "account_added",
    "account_disabled",
    "account_enabled",
    "account_pin_reset",
    "account_locked",  # too many wrong PINs
)

OUTBOX_KIND = "audit"


class AuditError(KioskError):
    pass


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, record_kind: str, record_id: str,
               purpose: str, details: str) -> str:
    """The chain link: SHA-256 of the previous hash and this entry, in a fixed, unambiguous form."""
    canonical = json.dumps([prev_hash, seq, at, actor, action, record_kind, record_id, purpose, details],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_actor() -> str:
    """Who is at the command line when no staff account was given: the operating-system user."""
    try:
        return f"os:{getpass.getuser()}"
    except Exception:  # no passwd entry (containers)
        return "os:unknown"


def record(db: Executor, *, actor: str, action: str, record_kind: str, record_id: Any,
           purpose: str, details: dict[str, Any] | None = None, now: datetime | None = None,
           to_outbox: bool = True) -> Entry:
    """Append one entry; inside the caller's transaction if there is one, else in its own.

    `details` must be non-personal (counts, field names, masked IDs at most).
    Returns the entry written.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    if not actor or not purpose:
        raise ValueError("an audit entry needs an actor and a purpose")
    with rows.appending(db) as tx:
        return _append(tx, actor, action, record_kind, str(record_id), purpose, details, now, to_outbox)


def _append(tx: Executor, actor: str, action: str, record_kind: str, record_id: str, purpose: str,
            details: dict[str, Any] | None, now: datetime | None, to_outbox: bool) -> Entry:
    at = iso_utc(now or datetime.now(timezone.utc))
    details_text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    last = rows.last(tx)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    h = entry_hash(prev, seq, at, actor, action, record_kind, record_id, purpose, details_text)
    entry = Entry(seq, at, actor, action, record_kind, record_id, purpose, details_text, prev, h)
    rows.append(tx, entry)
    if to_outbox:
        outbox.enqueue(tx, OUTBOX_KIND, seq, entry.to_json(), now or datetime.now(timezone.utc))
    return entry


def entries(db: Executor, since: int = 0, limit: int | None = None) -> list[Entry]:
    return rows.entries(db, since, limit)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_broken: int | None = None  # seq (position) of the first entry that does not check out
    problem: str | None = None
    head: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_broken": self.first_broken,
                "problem": self.problem, "head": self.head}


def verify(db: Executor, anchors: dict[int, str] | None = None,
           anchor_links: dict[int, str] | None = None, highest_seq: int | None = None) -> Verdict:
    """Walk the chain; report the first entry (by position) whose content, link or order is wrong.

    `anchors` maps seq → entry_hash as the hub holds them, `anchor_links` seq → the
    prev_hash the hub's copy carries: a chain rewritten locally after sync (head
    and all) is caught at the first entry that differs from what the hub saw.
    `highest_seq` is the highest sequence number the hub holds for this device:
    a log cut short here (head rewritten to match, or the whole log deleted) is
    caught because the hub holds entries beyond the local head.
    """
    anchors = anchors or {}
    anchor_links = anchor_links or {}
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in rows.walk(db):
        count += 1
        if e.seq != expected_seq:
            if e.seq > expected_seq:
                return Verdict(False, count, expected_seq,
                               f"entry {expected_seq} is missing (next entry found is {e.seq})")
            return Verdict(False, count, expected_seq, f"entry at position {expected_seq} carries seq {e.seq}: "
                                                       "entries were reordered or duplicated")
        if e.prev_hash != prev:
            return Verdict(False, count, e.seq, f"entry {e.seq} does not link to entry {e.seq - 1} "
                                                "(deleted, inserted or reordered)")
        want = entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.record_kind, e.record_id, e.purpose,
                          e.details)
        if want != e.entry_hash:
            return Verdict(False, count, e.seq, f"entry {e.seq} was altered (its content does not match its hash)")
        if e.seq in anchor_links and anchor_links[e.seq] != e.prev_hash and e.seq > 1:
            return Verdict(False, count, e.seq - 1, f"entry {e.seq - 1} differs from what the hub saw "
                                                    f"(the hub's copy of entry {e.seq} links to another hash)")
        if e.seq in anchors and anchors[e.seq] != e.entry_hash:
            return Verdict(False, count, e.seq, f"entry {e.seq} differs from the copy the hub holds")
        prev = e.entry_hash
        expected_seq += 1
    recorded = rows.head(db)
    head = f"{expected_seq - 1}:{prev}" if count else None
    # The hub only ever holds copies of entries this kiosk wrote: anything it holds beyond the local
    # end was cut off here, whatever the local head now says.
    hub_top = max([highest_seq or 0, *anchors, *anchor_links])
    last = expected_seq - 1
    if hub_top > last:
        return Verdict(False, count, last + 1,
                       f"the hub holds entries up to {hub_top} but the local log ends at "
                       f"{last if count else '(nothing)'}: entries {last + 1}..{hub_top} were deleted here",
                       head=head)
    if recorded is not None and recorded != head:
        recorded_seq = int(recorded.split(":", 1)[0])
        last = expected_seq - 1
        if recorded_seq > last:
            return Verdict(False, count, expected_seq,
                           f"entries {expected_seq}..{recorded_seq} were cut off the end of the log")
        if recorded_seq < last:
            return Verdict(False, count, recorded_seq + 1,
                           f"entries {recorded_seq + 1}..{last} were added outside the audit API")
        return Verdict(False, count, recorded_seq, f"entry {recorded_seq} does not match the recorded head: "
                                                   "the chain was rewritten (compare with the hub's copy)")
    if recorded is None and count:
        return Verdict(False, count, 1, "the recorded head of the log is missing")
    return Verdict(True, count, head=head)

