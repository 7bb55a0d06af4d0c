"""The device behind a bearer token, cached in each worker process for a few seconds.

Every device request used to look its token up in the database. Now a worker keeps the answer for
KIOSK_HUB_TOKEN_CACHE_SECONDS (default 5; 0 turns the cache off). Enrolling and revoking
(registry.services, from the CLI or the dashboard) replace DATA_DIR/registry.changed once committed
(registry.marker), and a worker that sees that file change drops its whole cache before answering: on
one host a revocation is effective at the next request. A change the file does not announce (another
host without a shared DATA_DIR, or the database edited by hand) is effective within the cache's seconds.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

from kiosk_hub.registry import marker
from kiosk_hub.registry.models import Device

MAX_ENTRIES = 20000     # a province has ~460 kiosks; unknown tokens are never cached
_lock = threading.Lock()
_cache: dict[str, tuple[float, Device]] = {}
_seen: tuple[int, int] | None = None


def _seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("KIOSK_HUB_TOKEN_CACHE_SECONDS", "5")))
    except ValueError:
        return 5.0


CACHE_SECONDS = _seconds()


def clear() -> None:
    with _lock:
        _cache.clear()


def by_token(token: str) -> Device | None:
    h = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
    if CACHE_SECONDS <= 0:
        return Device.objects.filter(token_hash=h).select_related("facility").first()
    global _seen
    gen = marker.generation()   # read before the database, so a change committed meanwhile is seen next time
    now = time.monotonic()
    with _lock:
        if gen != _seen:
            _cache.clear()
            _seen = gen
        hit = _cache.get(h)
    if hit is not None and hit[0] > now:
        return hit[1]
    dev = Device.objects.filter(token_hash=h).select_related("facility").first()
    if dev is not None:
        with _lock:
            if len(_cache) >= MAX_ENTRIES:
                _cache.clear()
            _cache[h] = (now + CACHE_SECONDS, dev)
    return dev
