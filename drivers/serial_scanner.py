"""2D barcode scanner in serial mode (USB CDC-ACM or RS-232), read with pyserial.

Keyboard-wedge mode cannot carry Vietnamese, so the kiosk reads scanners as
serial ports and decodes the raw bytes as UTF-8 in the core. Framing: a scan
ends at CR, LF or CR LF, or after `frame_timeout` of silence (scanners set to
no suffix). A frame longer than `max_frame` is a flood and is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from drivers.scan import DeviceStatus, ScanCallback, StatusCallback
from kiosk.domain import ScanEvent
from kiosk.logs import event

log = logging.getLogger(__name__)

MAX_FRAME = 8 * 1024  # the longest Căn cước QR is well under 2 KiB


class Framer:
    """Bytes in, complete scans out. Pure: the caller supplies the time."""

    def __init__(self, frame_timeout: float = 0.08, max_frame: int = MAX_FRAME):
        self.frame_timeout = frame_timeout
        self.max_frame = max_frame
        self._buf = bytearray()
        self._last = 0.0
        self._flooding = False
        self.dropped = 0

    def feed(self, data: bytes, now: float) -> list[bytes]:
        frames = []
        if self._buf and now - self._last >= self.frame_timeout:
            frames.extend(self._flush())
        self._last = now
        for b in data:
            if b in (0x0D, 0x0A):
                frames.extend(self._flush())
                continue
            if self._flooding:
                continue
            self._buf.append(b)
            if len(self._buf) > self.max_frame:
                self._flooding = True
                self._buf.clear()
                self.dropped += 1
                event(log, "scanner_flood_dropped", logging.WARNING, limit=self.max_frame)
        return frames

    def poll(self, now: float) -> list[bytes]:
        """Call while idle: ends a frame that has had no suffix for `frame_timeout`."""
        if (self._buf or self._flooding) and now - self._last >= self.frame_timeout:
            return self._flush()
        return []

    def _flush(self) -> list[bytes]:
        frame, self._flooding = bytes(self._buf), False
        self._buf.clear()
        return [frame] if frame.strip() else []


class SerialScanner:
    def __init__(self, port: str, baud: int = 9600, frame_timeout: float = 0.08, reopen_interval: float = 1.0,
                 max_frame: int = MAX_FRAME):
        self.name = port
        self.port = port
        self.baud = baud
        self.frame_timeout = frame_timeout
        self.reopen_interval = reopen_interval
        self.max_frame = max_frame
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_scan, on_status or (lambda s: None)),
                                        name=f"scan-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=3)
            self._thread = None

    def _run(self, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        import serial  # pyserial

        connected: bool | None = None
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baud, timeout=min(self.frame_timeout / 2, 0.05),
                                   exclusive=True) as port:
                    if connected is not True:
                        connected = True
                        event(log, "scanner_connected", port=self.port)
                        on_status(DeviceStatus("scanner", True, self.port))
                    self._read(port, on_scan)
            except (OSError, serial.SerialException) as e:
                if connected is not False:
                    connected = False
                    event(log, "scanner_disconnected", logging.WARNING, port=self.port, error=type(e).__name__)
                    on_status(DeviceStatus("scanner", False, f"{self.port}: {type(e).__name__}"))
                self._stop.wait(self.reopen_interval)

    def _read(self, port, on_scan: ScanCallback) -> None:
        framer = Framer(self.frame_timeout, self.max_frame)
        while not self._stop.is_set():
            data = port.read(max(1, port.in_waiting))
            now = time.monotonic()
            frames = framer.feed(data, now) if data else framer.poll(now)
            for frame in frames:
                on_scan(ScanEvent(frame, "serial", datetime.now(timezone.utc)))
