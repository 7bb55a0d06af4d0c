"""The one way a screen asks the store something or changes it: `Op(fn).success(cb).failure(cb).run(bridge)`.

`fn` is one service call (kiosk.services.*) or one read (kiosk.store.views);
it runs on the bridge's desk thread with that thread's own database
connection, so no query or printer ever blocks the GUI thread. The callbacks
run back on the GUI thread. A failure nobody handles is logged, once, by
class name only (a refusal's message may carry what a person typed).

Ops are fire-and-forget: the screen renders whatever answer arrives, and a
callback that finds its page no longer wants it (the console locked) just
returns. Modelled on the shape of Anki's CollectionOp/QueryOp.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Generic, Protocol, TypeVar

from kiosk.logs import event
from kiosk.store import Database

log = logging.getLogger(__name__)
R = TypeVar("R")


class Runner(Protocol):
    """What runs an Op: ui.app.CheckinBridge (its desk thread). A Protocol, so ui.app may import this module."""

    def submit(self, fn: Callable[[Database], Any], callback: Callable[[Any, Exception | None], None]) -> int: ...


class Op(Generic[R]):
    def __init__(self, fn: Callable[[Database], R]):
        self._fn = fn
        self._success: list[Callable[[R], None]] = []
        self._failure: list[Callable[[Exception], None]] = []

    def success(self, cb: Callable[[R], None]) -> Op[R]:
        """Add a callback for the answer (callbacks run in the order given)."""
        self._success.append(cb)
        return self

    def failure(self, cb: Callable[[Exception], None]) -> Op[R]:
        """Add a callback for a refusal or an error (the desk thread has logged anything unexpected)."""
        self._failure.append(cb)
        return self

    def run(self, bridge: Runner) -> None:
        bridge.submit(self._fn, self._done)

    def _done(self, result: R, error: Exception | None) -> None:
        if error is None:
            for cb in self._success:
                cb(result)
        elif self._failure:
            for fail in self._failure:
                fail(error)
        else:
            event(log, "op_failed_unhandled", logging.WARNING, error=type(error).__name__)
