"""The outbox sender: works the outbox in order, in its own process, until the hub has every record.

A row's life: 'queued' → (claimed under the write lock, attempts+1) 'sent' →
'acknowledged' on the hub's answer, or 'needs_manual' with the hub's reason
when it is rejected for good. 'sent' means "may have reached the hub": a row
goes back to 'queued' only when the hub surely did not get it (connection
refused, 503). A row in 'sent' is resent with the same idempotency key, so a
SIGKILL at any moment costs at most a replay, never a loss or a duplicate.

Transactions here are short (claim, then record answers); the HTTP exchange
happens outside them, so check-in never waits for the network.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from kiosk import store
from kiosk.privacy import audit
from kiosk.privacy.datakey import unseal_tree
from kiosk.services import stay_notification
from kiosk.store import outbox
from kiosk.clock import Clock, SystemClock, iso_utc, parse_iso
from kiosk.logs import event
from sync.client import SINGLE_PATHS, Answer, DeviceRevoked, HubAuthError, HubClient, HubUnavailable
from sync.heartbeat import Heartbeat

log = logging.getLogger(__name__)


ACTIVE = outbox.UNSENT_STATES


# Shipped defaults (docs/sync.md, docs/benchmarks.md "Outbox sync"): the first successful exchange comes at
# most ~6 s after the hub returns (the 10 s target), while a hub that stays down sees one GET /v1/health
# (no body, no personal data) per 4-6 s per kiosk once the circuit is open.
BACKOFF_MAX = 5.0
BREAKER_COOLDOWN = 5.0


@dataclass
class Settings:
    batch_size: int = 100
    backoff_base: float = 0.5  # seconds; doubled per consecutive failure, full jitter
    backoff_max: float = BACKOFF_MAX
    breaker_threshold: int = 5  # consecutive failures that open the circuit
    breaker_cooldown: float = BREAKER_COOLDOWN  # seconds (±20 % jitter) the circuit stays open before one probe
    in_flight_retry: float = 2.0  # a 409 row waits this long
    idle_poll: float = 2.0  # `run`: how often to look at an empty outbox
    probe_timeout: tuple[float, float] = (2.0, 5.0)  # connect, read: the half-open probe must not hang a cycle


@dataclass
class PassResult:
    claimed: int = 0
    acknowledged: int = 0
    replayed: int = 0
    rejected: int = 0
    deferred: int = 0
    error: str | None = None
    requests: int = 0
    rejected_ids: list[int] = field(default_factory=list)


def status(db: store.Database, now: datetime) -> dict[str, Any]:
    """`kiosk sync status`: queued, oldest age, last success, last error (and the other states' counts)."""
    counts = outbox.counts(db)
    oldest = outbox.oldest_unsent(db)
    st = outbox.sync_status(db)
    return {
        "queued": counts.get("queued", 0) + counts.get("sent", 0),
        "in_flight": counts.get("sent", 0),
        "oldest_age_seconds": int((now - parse_iso(oldest)).total_seconds()) if oldest else None,
        "oldest_created_at": oldest,
        "last_success": st.get("last_success_at"),
        "last_error": st.get("last_error"),
        "last_error_at": st.get("last_error_at"),
        "acknowledged": counts.get("acknowledged", 0),
        "needs_manual": counts.get("needs_manual", 0),
        "withdrawn": counts.get("withdrawn", 0),
        # Set when the hub refused or revoked this device's token; cleared by the next accepted batch.
        "token_refused": st.get("auth_error"),
        "token_refused_at": st.get("auth_error_at"),
    }


PERSONAL_KINDS = ("visit", stay_notification.KIND)


def _audit_delivered(tx: store.Tx, delivered: list[tuple[str, int, str]], now: datetime) -> None:
    """One `sent_upstream` audit entry per record of personal data the hub acknowledged (issue 10).

    Kept local (not queued back to the hub): the hub's own record of what it received is the other half.
    """
    if not delivered:
        return
    for kind, record_id, ref in delivered:
        audit.record(tx, actor="system:sync", action="sent_upstream", record_kind=kind, record_id=record_id,
                     purpose="delivery to the provincial hub", details={"hub_reference": ref} if ref else None,
                     now=now, to_outbox=False)


class Sender:
    def __init__(self, db: store.Database, client: HubClient, *, clock: Clock | None = None,
                 settings: Settings | None = None, rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic, heartbeat: Heartbeat | None = None):
        self.db = db
        self.client = client
        self.clock = clock or SystemClock()
        self.settings = settings or Settings()
        self.rng = rng or random.Random()
        self.monotonic = monotonic  # injectable with `run(wait=...)`: tests drive the breaker in virtual time
        self.failures = 0  # consecutive transport failures
        self.open_until = 0.0  # monotonic time the circuit stays open until
        self.probes = 0  # half-open probes sent (GET /v1/health)
        self.heartbeat = heartbeat  # sync.heartbeat.Heartbeat: state for the hub, after batches; never blocks them

    # --- one batch ---------------------------------------------------------------------------------
    def claim(self, limit: int) -> list[outbox.Claimed]:
        """Take the next due rows in outbox order and mark them 'sent' before anything leaves."""
        now = iso_utc(self.clock.now())
        with store.transaction(self.db) as tx:
            rows = outbox.claim(tx, now, limit)
            if rows:
                stay_notification.mark_sent(tx, [r.record_id for r in rows if r.kind == stay_notification.KIND], now)
        return rows

    def send_batch(self, limit: int | None = None) -> PassResult:
        res = PassResult()
        rows = self.claim(limit or self.settings.batch_size)
        res.claimed = len(rows)
        if not rows:
            return res
        items = []
        for r in rows:
            # The payload as the hub must receive it: personal values sealed at rest are opened here, in memory.
            items.append((r.kind, r.idempotency_key, unseal_tree(self.db.key, json.loads(r.payload))))
        try:
            res.requests += 1
            if len(items) == 1 and items[0][0] in SINGLE_PATHS:
                answers = [self.client.send_one(*items[0])]
            else:
                answers = self.client.send_batch(items)
        except HubUnavailable as e:
            self._transport_failed(rows, e)
            res.error = str(e)
            return res
        except HubAuthError as e:
            # The hub refused the token before looking at the records: none was received. Put them back,
            # say so where `kiosk sync status` and the console look, and stop (the caller sees the error).
            self._auth_refused(rows, e)
            raise
        self._record(rows, answers, res)
        return res

    def _transport_failed(self, rows: list[outbox.Claimed], e: HubUnavailable) -> None:
        now = iso_utc(self.clock.now())
        with store.transaction(self.db) as tx:
            if e.delivered is False:
                outbox.requeue(tx, [r.id for r in rows], str(e)[:300])
                stay_notification.mark_unsent(tx, [r.record_id for r in rows if r.kind == stay_notification.KIND])
            else:
                outbox.note_error(tx, [r.id for r in rows], str(e)[:300])
            outbox.set_sync_status(tx, last_error=str(e)[:300], last_error_at=now)
        self.failures += 1
        event(log, "sync_failed", logging.WARNING, rows=len(rows), failures=self.failures,
              delivered=e.delivered, status=e.status or "-")

    def _auth_refused(self, rows: list[outbox.Claimed], e: HubAuthError) -> None:
        now = iso_utc(self.clock.now())
        with store.transaction(self.db) as tx:
            outbox.requeue(tx, [r.id for r in rows], str(e)[:300])
            stay_notification.mark_unsent(tx, [r.record_id for r in rows if r.kind == stay_notification.KIND])
            outbox.set_sync_status(tx, last_error=str(e)[:300], last_error_at=now, auth_error=str(e)[:300],
                                   auth_error_at=now)
        event(log, "sync_token_refused", logging.ERROR, rows=len(rows), revoked=isinstance(e, DeviceRevoked))

    def _record(self, rows: list[outbox.Claimed], answers: list[Answer], res: PassResult) -> None:
        now_dt = self.clock.now()
        now = iso_utc(now_dt)
        acks: list[tuple[str, str, int]] = []
        stay_acks: list[tuple[int, str | None]] = []
        rejects: list[tuple[int, str, int, str]] = []
        defer: list[tuple[int, int]] = []
        for row, a in zip(rows, answers):
            oid, kind, record_id = row.id, row.kind, row.record_id
            if a.accepted:
                ref = str(a.body.get("id") or "")
                acks.append((now, ref, oid))
                res.replayed += a.replayed
                if kind == stay_notification.KIND:
                    stay_acks.append((record_id, ref))
            elif a.permanent_rejection:
                reason = f"hub rejected it ({a.status}): {a.body.get('detail') or a.body.get('error') or ''}"[:300]
                rejects.append((oid, kind, record_id, reason))
            else:
                defer.append((oid, a.status))
        # Stored to the second: round up, so a short wait never truncates to "due now".
        retry_at = iso_utc(datetime.fromtimestamp(math.ceil(now_dt.timestamp() + self.settings.in_flight_retry),
                                                  now_dt.tzinfo))
        with store.transaction(self.db) as tx:
            # Once the hub holds it, the kiosk needs no second copy of the personal data in the outbox.
            outbox.acknowledge(tx, acks)
            stay_notification.mark_acknowledged(tx, stay_acks, now)
            _audit_delivered(tx, [(row.kind, row.record_id, str(a.body.get("id") or ""))
                                  for row, a in zip(rows, answers) if a.accepted and row.kind in PERSONAL_KINDS],
                             now_dt)
            for oid, kind, record_id, reason in rejects:
                outbox.needs_manual(tx, oid, reason)
                if kind == stay_notification.KIND:
                    stay_notification.mark_needs_manual(tx, record_id, reason)
            outbox.defer(tx, [(retry_at, f"hub answered {st}", oid) for oid, st in defer])
            if acks:
                outbox.set_sync_status(tx, last_success_at=now)
                outbox.clear_sync_status(tx, "auth_error", "auth_error_at")
        self.failures = 0
        res.acknowledged += len(acks)
        res.rejected += len(rejects)
        res.rejected_ids += [r[0] for r in rejects]
        res.deferred += len(defer)
        event(log, "sync_batch", rows=len(rows), acknowledged=len(acks), replayed=res.replayed,
              rejected=len(rejects), deferred=len(defer))

    # --- passes --------------------------------------------------------------------------------------
    def backoff(self) -> float:
        s = self.settings
        return self.rng.uniform(0, min(s.backoff_max, s.backoff_base * (2 ** min(self.failures, 30))))

    def remaining(self) -> int:
        return outbox.unsent_count(self.db)

    def once(self, max_failures: int = 3, sleep: Callable[[float], None] = time.sleep) -> PassResult:
        """Send every due row; give up after `max_failures` consecutive transport failures."""
        total = PassResult()
        while True:
            r = self.send_batch()
            for f in ("claimed", "acknowledged", "replayed", "rejected", "deferred", "requests"):
                setattr(total, f, getattr(total, f) + getattr(r, f))
            total.rejected_ids += r.rejected_ids
            if r.error:
                total.error = r.error
                if self.failures >= max_failures:
                    return total
                sleep(self.backoff())
                continue
            if r.claimed == 0:
                return total

    def probe(self) -> bool:
        """Half-open: is the hub back? One GET /v1/health — no records, no personal data, a few hundred bytes."""
        self.probes += 1
        try:
            r = self.client.request("GET", "/v1/health", timeout=self.settings.probe_timeout)
        except HubUnavailable as e:
            self.failures += 1
            event(log, "sync_probe_failed", logging.INFO, failures=self.failures, reason=str(e)[:120])
            return False
        if r.status_code >= 500:
            self.failures += 1
            event(log, "sync_probe_failed", logging.INFO, failures=self.failures, status=r.status_code)
            return False
        event(log, "sync_probe_ok", failures=self.failures)
        return True

    def run(self, stop: threading.Event | None = None, *, wait: Callable[[float], object] | None = None) -> None:
        """Forever: drain, back off with jitter on failures, open the circuit when the hub is down.

        Closed: full batches; a failure waits `backoff()` (full jitter, at most `backoff_max`). After
        `breaker_threshold` consecutive failures the circuit opens for `breaker_cooldown` ±20 %; then one
        health probe: if the hub answers, batches resume at once (a batch that still fails reopens the
        circuit, since `failures` only resets on an answered batch); if not, the circuit opens again.
        """
        stop = stop or threading.Event()
        wait = wait or stop.wait
        s = self.settings
        while not stop.is_set():
            now = self.monotonic()
            if now < self.open_until:
                wait(min(1.0, self.open_until - now))
                continue
            if self.failures >= s.breaker_threshold and not self.probe():
                self._open_circuit()
                continue
            r = self.send_batch()
            if self.heartbeat is not None:
                self.heartbeat.after_batch(r)
            if r.error:
                if self.failures >= s.breaker_threshold:
                    self._open_circuit()
                else:
                    wait(self.backoff())
            elif r.claimed == 0:
                wait(s.idle_poll)

    def _open_circuit(self) -> None:
        cooldown = self.settings.breaker_cooldown * self.rng.uniform(0.8, 1.2)
        self.open_until = self.monotonic() + cooldown
        event(log, "sync_circuit_open", logging.WARNING, seconds=round(cooldown, 1), failures=self.failures)
