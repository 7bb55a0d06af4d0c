"""2D barcode scanner in serial mode (USB CDC-ACM or RS-232), read with pyserial.

Keyboard-wedge mode cannot carry Vietnamese, so the kiosk reads scanners as
serial ports and hands the raw bytes to the core, which decodes them as
strict UTF-8. This driver also checks UTF-8 so that a technician sees
`scanner_invalid_utf8` in the log (a scanner set to a legacy code page is a
configuration fault, not a bad card) — the bytes still go on, unreplaced,
for the core to refuse with a message to the patient.

Framing: a scan ends at the configured suffix (`auto`: CR, LF or CR LF), or
after `frame_timeout` of silence (scanners set to no suffix). A frame longer
than `max_frame` is a flood (a stuck trigger, a scanner in a test mode, a
wrong baud rate) and is dropped with a warning up to its end.

Unplugging: the port (often a udev symlink such as `/dev/kiosk-scanner`)
vanishes or returns I/O errors; the driver reports `DeviceStatus(connected=
False)` once, discards the half-read scan, and reopens the path every
`reopen_interval` until the scanner is back.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from datetime import datetime, timezone

import serial  # pyserial

from drivers.protocols import Probe
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback, ThreadedSource
from kiosk.domain import ScanEvent, ScanSourceName
from kiosk.logs import event

log = logging.getLogger(__name__)

MAX_FRAME = 8 * 1024  # the longest Căn cước QR is well under 2 KiB
SUFFIXES = {
    "auto": b"\r\n",  # CR, LF or CR LF (an empty frame between CR and LF is ignored)
    "cr": b"\r",
    "lf": b"\n",
    "crlf": b"\r\n",
    "tab": b"\t",
    "none": b"",  # frame on silence only
}


class Framer:
    """Bytes in, complete scans out. Pure: the caller supplies the time."""

    def __init__(self, frame_timeout: float = 0.08, max_frame: int = MAX_FRAME, suffix: str = "auto"):
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix: expected one of {', '.join(SUFFIXES)}, got {suffix!r}")
        self.frame_timeout = frame_timeout
        self.max_frame = max_frame
        self.terminators = frozenset(SUFFIXES[suffix])
        self._buf = bytearray()
        self._last = 0.0
        self._flooding = False
        self._flood_bytes = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Bytes of a scan not yet complete."""
        return len(self._buf)

    def feed(self, data: bytes, now: float) -> list[bytes]:
        frames = []
        if (self._buf or self._flooding) and now - self._last >= self.frame_timeout:
            frames.extend(self._flush())
        self._last = now
        terms = self.terminators
        for b in data:
            if b in terms:
                frames.extend(self._flush())
                continue
            if self._flooding:
                self._flood_bytes += 1
                continue
            self._buf.append(b)
            if len(self._buf) > self.max_frame:
                self._flooding = True
                self._flood_bytes = len(self._buf)
                self._buf.clear()
                event(log, "scanner_flood", logging.WARNING, limit=self.max_frame)
        return frames

    def poll(self, now: float) -> list[bytes]:
        """Call while idle: ends a frame that has had no suffix for `frame_timeout`."""
        if (self._buf or self._flooding) and now - self._last >= self.frame_timeout:
            return self._flush()
        return []

    def reset(self) -> int:
        """Forget a half-read scan (the port went away); returns how many bytes were lost."""
        lost = len(self._buf)
        self._buf.clear()
        self._flooding = False
        return lost

    def _flush(self) -> list[bytes]:
        if self._flooding:
            self._flooding = False
            self.dropped += 1
            event(log, "scanner_flood_dropped", logging.WARNING, bytes=self._flood_bytes, limit=self.max_frame)
            self._buf.clear()
            return []
        frame = bytes(self._buf)
        self._buf.clear()
        return [frame] if frame.strip() else []


def utf8_problem(frame: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None."""
    try:
        frame.decode("utf-8")
        return None
    except UnicodeDecodeError as e:
        return e.start


class SerialScanner(ThreadedSource):
    def __init__(self, port: str, baud: int = 9600, frame_timeout: float = 0.08, reopen_interval: float = 1.0,
                 max_frame: int = MAX_FRAME, suffix: str = "auto", source: ScanSourceName = "serial"):
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix: expected one of {', '.join(SUFFIXES)}, got {suffix!r}")
        self.name = port
        self.port = port
        self.baud = baud
        self.frame_timeout = frame_timeout
        self.reopen_interval = reopen_interval
        self.max_frame = max_frame
        self.suffix = suffix
        self.source = source
        self.scans = 0
        self.invalid_utf8 = 0
        self.floods = 0
        super().__init__()
        self._port_obj = None

    def probe(self) -> Probe:
        """Is the port there, and does it open for this user? (Not exclusively: the running kiosk may hold it.)"""
        details: dict[str, str | int | bool | list[str]] = {"port": self.port}
        if not os.path.exists(self.port):
            return Probe("scanner", False, False, "port_missing", details=details)
        details["device"] = os.path.realpath(self.port)
        try:
            with serial.Serial(self.port, self.baud, timeout=0):
                pass
        except (OSError, serial.SerialException) as e:
            details["error"] = type(e).__name__
            details["message"] = str(e)[:200]
            denied = e.errno in (errno.EACCES, errno.EPERM)  # pyserial keeps the OS errno
            return Probe("scanner", True, False, "permission" if denied else "busy", details=details)
        return Probe("scanner", True, True, details=details)

    def _run(self, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        connected: bool | None = None
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baud, timeout=min(self.frame_timeout / 2, 0.05),
                                   exclusive=True) as port:
                    if connected is not True:
                        connected = True
                        event(log, "scanner_connected", port=self.port, baud=self.baud, suffix=self.suffix)
                        on_status(DeviceStatus("scanner", True, self.port))
                    self._read(port, on_scan)
            except (OSError, serial.SerialException) as e:
                if connected is not False:
                    connected = False
                    event(log, "scanner_disconnected", logging.WARNING, port=self.port, error=type(e).__name__,
                          errno=getattr(e, "errno", None) or "-")
                    on_status(DeviceStatus("scanner", False, f"{self.port}: {type(e).__name__}"))
                self._stop.wait(self.reopen_interval)
            except Exception:  # a bug here must not end scanning for the day: log where, retry
                log.exception("event=scanner_crashed port=%s", self.port)
                if connected is not False:
                    connected = False
                    on_status(DeviceStatus("scanner", False, f"{self.port}: internal error"))
                self._stop.wait(self.reopen_interval)

    def _read(self, port: serial.Serial, on_scan: ScanCallback) -> None:
        framer = Framer(self.frame_timeout, self.max_frame, self.suffix)
        try:
            while not self._stop.is_set():
                data = port.read(max(1, port.in_waiting))
                now = time.monotonic()
                before = framer.dropped
                frames = framer.feed(data, now) if data else framer.poll(now)
                self.floods += framer.dropped - before
                for frame in frames:
                    self._emit(frame, on_scan)
        finally:
            lost = framer.reset()
            if lost:
                event(log, "scanner_partial_scan_lost", logging.WARNING, port=self.port, bytes=lost)

    def _emit(self, frame: bytes, on_scan: ScanCallback) -> None:
        self.scans += 1
        bad = utf8_problem(frame)
        if bad is not None:
            self.invalid_utf8 += 1
            # Offset and length only: the bytes may be part of a name.
            event(log, "scanner_invalid_utf8", logging.WARNING, port=self.port, offset=bad, bytes=len(frame),
                  hint="set the scanner to UTF-8 output")
        on_scan(ScanEvent(frame, self.source, datetime.now(timezone.utc)))
