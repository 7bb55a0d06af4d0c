"""The heartbeat (contract 1.1.0, `POST /v1/heartbeat`): this kiosk's state for the province's fleet page.

State, not a record: it is built fresh from the store each time, never queued,
and a heartbeat that fails is simply sent again next time. It never blocks or
delays the outbox beyond its own short timeout, and it carries no personal
data: versions, counts, times and device states only (docs/privacy.md).

`kiosk-sync` sends one every `upstream.heartbeat_seconds` (300) and after
each pass that delivered something; `kiosk sync heartbeat` sends one now.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

import kiosk
from kiosk import store
from kiosk.services import device_status
from kiosk.services import stay_notification
from kiosk.store import heartbeat as counts
from kiosk.store import meta, outbox
from kiosk.clock import _STA_UNSYNC, _TIME_ERROR, Clock, SystemClock, _Timex, iso_utc, vn_date
from kiosk.logs import event
from sync.client import DeviceWipeOrdered, HubClient, HubUnavailable

log = logging.getLogger(__name__)

PATH = "/v1/heartbeat"
DOCUMENTS = ("chip", "cccd_qr", "bhyt_qr", "mrz", "manual")
OUTBOX_STATES = ("queued", "sent", "acknowledged", "needs_manual", "withdrawn")
TIMEOUT = (2.0, 5.0)  # connect, read: a stalled hub costs the sync loop at most this, once per heartbeat
DEFAULT_INTERVAL = 300.0


def kernel_clock_state() -> bool | None:
    """Whether the kernel says the clock is NTP-synchronised (the test `timedatectl show -p NTPSynchronized`
    makes: adjtimex without STA_UNSYNC). None — unknown — when adjtimex cannot be asked (no libc symbol, a
    seccomp filter, EPERM): the heartbeat then says `null`, not `false`, so the fleet page does not flag a
    clock nobody could check."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return None
    if state == -1:
        return None
    return state != _TIME_ERROR and not (tx.status & _STA_UNSYNC)


def clock_state(clock: Clock | None) -> bool | None:
    """The system clock's tri-state; a test clock says what it was told."""
    if clock is None or isinstance(clock, SystemClock):
        return kernel_clock_state()
    return bool(clock.synchronised())


def disk_free_mb(path: Path) -> int | None:
    """Free space on the data directory's filesystem, in MiB (None when it cannot be read)."""
    try:
        return shutil.disk_usage(path).free // (1024 * 1024)
    except OSError:
        return None


def build(db: store.Executor, *, now: datetime, data_dir: Path, clock: Clock | None = None) -> dict[str, Any]:
    """The heartbeat body, from the store. Every field is a version, count, time or device state."""
    by_state = dict.fromkeys(OUTBOX_STATES, 0)
    by_state.update({s: n for s, n in outbox.counts(db).items() if s in by_state})
    visits = dict.fromkeys(DOCUMENTS, 0)
    visits.update({d: n for d, n in counts.visits_by_document(db, vn_date(now).isoformat()).items() if d in visits})
    open_stays, earliest = counts.open_stays(db, stay_notification.OPEN_STATES)
    version = meta.get_meta(db, "roster.version")
    return {
        "app_version": kiosk.__version__,
        "roster_version": int(version) if version is not None else None,
        "roster_as_of": meta.get_meta(db, "roster.as_of"),
        "outbox": by_state,
        "oldest_unsent_at": outbox.oldest_unsent(db),
        "clock_synced": clock_state(clock),
        "disk_free_mb": disk_free_mb(data_dir),
        "devices": device_status.read(db),
        "visits_today": visits,
        "open_stays": open_stays,
        "earliest_stay_deadline": earliest,
        "sent_at": iso_utc(now),
    }


class Batch(Protocol):
    """What the sender tells after a batch (sync.sender.PassResult)."""

    claimed: int
    acknowledged: int
    rejected: int
    error: str | None


class HeartbeatRefused(Exception):
    """The hub answered, but did not take the heartbeat (an older hub: 404; a body it refused: 400)."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"the hub answered {status} to the heartbeat" + (f": {detail}" if detail else ""))
        self.status = status


def send(client: HubClient, body: dict[str, Any], timeout: tuple[float, float] = TIMEOUT) -> dict[str, Any]:
    """POST the heartbeat; the hub's answer. HubUnavailable (network, 5xx), HubAuthError / DeviceRevoked /
    DeviceWipeOrdered (token) or HeartbeatRefused (another answer) otherwise. No Idempotency-Key: it is state."""
    r = client.request("POST", PATH, json=body, timeout=timeout)
    answer = client._json(r)
    if r.status_code >= 500:
        raise HubUnavailable(f"the hub answered {r.status_code} to the heartbeat", status=r.status_code)
    if r.status_code != 200:
        raise HeartbeatRefused(r.status_code, str(answer.get("detail") or answer.get("error") or "")[:200])
    return answer


class Heartbeat:
    """The sync loop's heartbeat: every `interval` seconds, and once the outbox drains after a pass that
    delivered something. `after_batch` never raises except for a wipe order, which the loop must obey."""

    def __init__(self, db: store.Database, client: HubClient, *, data_dir: Path, interval: float = DEFAULT_INTERVAL,
                 clock: Clock | None = None, monotonic: Callable[[], float] = time.monotonic,
                 timeout: tuple[float, float] = TIMEOUT):
        self.db = db
        self.client = client
        self.data_dir = Path(data_dir)
        self.interval = interval
        self.clock = clock or SystemClock()
        self.monotonic = monotonic
        self.timeout = timeout
        self.next_at = monotonic()  # the first one as soon as the loop starts
        self.pending = False  # something was delivered since the last heartbeat
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    def after_batch(self, r: Batch) -> None:
        """Called by the sender after each batch (a PassResult)."""
        if r.acknowledged or r.rejected:
            self.pending = True
        if r.error:
            return  # the hub is not answering records: a heartbeat now would only fail too
        if (self.pending and r.claimed == 0) or self.monotonic() >= self.next_at:
            self.beat()

    def beat(self) -> bool:
        """Build and send one heartbeat; True when the hub took it. Failures are logged and counted."""
        self.next_at = self.monotonic() + self.interval
        self.pending = False
        try:
            body = build(self.db, now=self.clock.now(), data_dir=self.data_dir, clock=self.clock)
            send(self.client, body, self.timeout)
        except DeviceWipeOrdered:
            raise
        except Exception as e:  # network, token, an old hub, a busy database: never the loop's problem
            self.failed += 1
            self.last_error = str(e)[:300]
            event(log, "heartbeat_failed", logging.WARNING, error=type(e).__name__,
                  status=getattr(e, "status", None) or "-")
            return False
        self.sent += 1
        self.last_error = None
        event(log, "heartbeat_sent", backlog=body["outbox"]["queued"] + body["outbox"]["sent"],
              open_stays=body["open_stays"])
        return True
