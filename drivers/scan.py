"""The scan-source seam: how a driver hands scans and device status to the core.

A source runs its own thread and calls `on_scan(ScanEvent)` for every code
read and `on_status(DeviceStatus)` when its device comes or goes. Callbacks
run on the driver's thread: receivers (the UI bridge, the CLI) hand them on
to their own threads and never block the driver for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from kiosk.domain import ScanEvent


@dataclass(frozen=True)
class DeviceStatus:
    device: str  # "scanner" | "camera" | "reader" | "printer"
    connected: bool
    detail: str = ""  # for technicians: port, error; never personal data


ScanCallback = Callable[[ScanEvent], None]
StatusCallback = Callable[[DeviceStatus], None]


class ScanSource(Protocol):
    name: str

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None: ...

    def stop(self) -> None: ...


class ThreadedSource:
    """Base for sources that read a device on one thread: `start`/`stop` around a `_run` loop.

    Subclasses set `name` and implement `_run(on_scan, on_status)`, returning when `_stop` is set.
    """

    name: str = "source"

    def __init__(self) -> None:
        import threading
        self._stop = threading.Event()
        self._thread: "threading.Thread | None" = None

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        import threading
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_scan, on_status or (lambda s: None)),
                                        name=f"scan-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=3)
            self._thread = None

    def _run(self, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        raise NotImplementedError
