"""The scan-source seam's shared base: `ThreadedSource`, a source that reads its device on one thread.

The types of the seam (ScanSource, DeviceStatus, the callbacks) are declared
in drivers.protocols and re-exported here, where drivers and the UI have long
imported them from.
"""

from __future__ import annotations

import threading

from drivers.protocols import DeviceStatus, ScanCallback, ScanSource, StatusCallback

__all__ = ["DeviceStatus", "ScanCallback", "ScanSource", "StatusCallback", "ThreadedSource"]


class ThreadedSource:
    """Base for sources that read a device on one thread: `start`/`stop` around a `_run` loop.

    Subclasses set `name` and implement `_run(on_scan, on_status)`, returning when `_stop` is set.
    """

    name: str = "source"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
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
