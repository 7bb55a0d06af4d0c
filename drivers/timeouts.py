"""`call_with_timeout`: run a device call that may hang (a wedged pcscd, a camera that never delivers a frame).

The call runs on a daemon thread; when it has not returned in time the
caller gets TimeoutError and the thread is left to finish or die with the
process. Only for probes: a driver's own loop has its own timeouts.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], seconds: float) -> T:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # carried back to the caller's thread
            box["error"] = e

    th = threading.Thread(target=run, name="probe", daemon=True)
    th.start()
    th.join(seconds)
    if th.is_alive():
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
