"""Time as the kiosk sees it: UTC instants, Vietnam-time dates, and whether to trust them.

A Raspberry Pi 4 has no real-time clock: until NTP syncs, `now()` may be days
off. Every record stores whether the clock was synchronised when it was made,
and tests replace the clock with :class:`FixedClock`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: we only read `status` and the return value.
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("_pad", ctypes.c_int * 11)]


def kernel_clock_synchronised() -> bool:
    """What the kernel says (the same test `timedatectl` uses): adjtimex without STA_UNSYNC."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    return state != -1 and state != _TIME_ERROR and not (tx.status & _STA_UNSYNC)


class Clock(Protocol):
    """What the kiosk asks of a clock: the time, and whether the system clock is set (NTP or the RTC)."""

    def now(self) -> datetime: ...

    def synchronised(self) -> bool: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def synchronised(self) -> bool:
        return kernel_clock_synchronised()


class FixedClock:
    """A clock for tests: set or advance it by hand, and say whether it is synchronised."""

    def __init__(self, at: datetime, synchronised: bool = True):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(timezone.utc)
        self._synced = synchronised

    def now(self) -> datetime:
        return self._at

    def synchronised(self) -> bool:
        return self._synced

    def advance(self, **kw: float) -> None:
        self._at += timedelta(**kw)

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)


def vn_date(instant: datetime) -> date:
    """The calendar date in Vietnam at this instant (queue numbers restart on it)."""
    return instant.astimezone(VN_TZ).date()


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
