"""A simulated scanner: `scan(payload)` delivers a scan as if read by a device, from its own thread."""

from __future__ import annotations

import queue
import threading
from datetime import datetime, timezone

from drivers.protocols import Probe
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback
from kiosk.domain import ScanEvent, ScanSourceName


class SimulatedScanner:
    def __init__(self, source: ScanSourceName = "serial", name: str = "simulated scanner"):
        self.name = name
        self.source = source
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        def run() -> None:
            if on_status:
                on_status(DeviceStatus("scanner", True, self.name))
            while (payload := self._queue.get()) is not None:
                on_scan(ScanEvent(payload, self.source, datetime.now(timezone.utc)))

        self._thread = threading.Thread(target=run, name=f"scan-{self.name}", daemon=True)
        self._thread.start()

    def probe(self) -> Probe:
        return Probe("scanner", True, True, "simulated", simulated=True, details={"name": self.name})

    def scan(self, payload: bytes | str) -> None:
        self._queue.put(payload.encode("utf-8") if isinstance(payload, str) else payload)

    def stop(self) -> None:
        if self._thread:
            self._queue.put(None)
            self._thread.join(timeout=2)
            self._thread = None
