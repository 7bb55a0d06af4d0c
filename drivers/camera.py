"""Camera QR reading: OpenCV capture on one thread, decoding on another.

- The **capture thread** reads frames (`cv2.VideoCapture`: a V4L2 camera by
  index or path, or a video file for tests and technicians), keeps the newest
  for the decoder and a small copy for the preview. A live camera never
  waits for the decoder: a frame the decoder had no time for is replaced by
  the next one, so latency stays one frame.
- The **decode thread** runs the decoding pipeline (drivers.decoders: region
  of interest, fast pass, thorough pass, unchanged frames skipped) and turns
  what it sees into scan events.
- **One event per presented code.** A payload becomes a scan event when it
  appears; while it stays in view (even if some frames fail to decode) nothing
  more is sent; it is accepted again only after it has been out of sight for
  `cooldown` seconds. Times are the camera's: wall time for a live camera, the
  video's own timestamps for a file (so a file replays the same way at any
  decoding speed).
- **Preview**: `preview()` gives the newest frame, scaled down, for the UI to
  show (kept in memory only — card images are never stored).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Union

# This module is the optional `camera` extra (opencv-python-headless): drivers.sources imports it only when
# camera.enabled is set, so a station without a camera never loads OpenCV.
import cv2
import numpy as np

from drivers import decoders
from drivers.decoders.base import Decoder
from drivers.protocols import Probe
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback
from drivers.timeouts import call_with_timeout
from kiosk.domain import ScanEvent
from kiosk.logs import event

log = logging.getLogger(__name__)


class Presence:
    """Which payloads are in view, and which of them are new. Pure: the caller supplies the time."""

    def __init__(self, cooldown: float = 3.0):
        self.cooldown = cooldown
        self._last_seen: dict[bytes, float] = {}

    def seen(self, payloads: list[bytes], now: float) -> list[bytes]:
        """Payloads seen in a frame at `now` → those to emit as new scans."""
        new = []
        for p in payloads:
            last = self._last_seen.get(p)
            if last is None or now - last > self.cooldown:
                new.append(p)
            self._last_seen[p] = now
        # Forget what has been out of sight for long: bounded memory over a day.
        if len(self._last_seen) > 64:
            self._last_seen = {k: v for k, v in self._last_seen.items() if now - v <= self.cooldown}
        return new


# What the capture hands the decoder: (time, frame), or ("end", None) after a video file's last frame.
Item = tuple[Union[float, str], Any]
Capture = Any  # cv2.VideoCapture, or what a test's capture_factory returns (isOpened, read, get, set, release)


class _Mailbox:
    """The newest frame for the decoder. `block=True` (files): the capture waits instead of dropping."""

    def __init__(self, block: bool):
        self.block = block
        self._cv = threading.Condition()
        self._item: Item | None = None
        self.dropped = 0
        self.closed = False

    def put(self, item: Item, stop: threading.Event) -> None:
        with self._cv:
            if self.block:
                while self._item is not None and not stop.is_set():
                    self._cv.wait(0.05)
            elif self._item is not None:
                self.dropped += 1
            self._item = item
            self._cv.notify_all()

    def get(self, timeout: float) -> Item | None:
        with self._cv:
            if self._item is None:
                self._cv.wait(timeout)
            item, self._item = self._item, None
            self._cv.notify_all()
            return item

    def close(self) -> None:
        with self._cv:
            self.closed = True
            self._cv.notify_all()


class CameraSource:
    """A camera (index, /dev/videoN path) or a video file as a scan source."""

    def __init__(self, device: int | str = 0, *, decoder: str = "default", cooldown: float = 3.0,
                 width: int = 1280, height: int = 720, reopen_interval: float = 1.0, preview_width: int = 320,
                 capture_factory: Callable[[int | str], Capture] | None = None, decoder_threads: int = 1):
        self.device = device
        self.is_file = isinstance(device, str) and Path(device).is_file()
        self.name = f"camera {device}"
        self.decoder_name = decoder
        self.cooldown = cooldown
        self.width, self.height = width, height
        self.reopen_interval = reopen_interval
        self.preview_width = preview_width
        self.decoder_threads = decoder_threads
        self._capture_factory = capture_factory
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._mailbox = _Mailbox(block=self.is_file)
        self._preview: np.ndarray | None = None
        self._preview_lock = threading.Lock()
        self.finished = threading.Event()  # a video file has been read and decoded to its end
        self.frames = 0
        self.decoded_frames = 0
        self.events = 0
        self.decode_ms: list[float] = []

    # --- the ScanSource interface -------------------------------------------------------------
    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        decoder = decoders.get_decoder(self.decoder_name)  # fails here, at start, if the backend is missing
        on_status = on_status or (lambda s: None)
        self._stop.clear()
        self.finished.clear()
        self._threads = [
            threading.Thread(target=self._capture_loop, args=(on_status,), name="camera-capture", daemon=True),
            threading.Thread(target=self._decode_loop, args=(decoder, on_scan), name="camera-decode", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        self._mailbox.close()
        for t in self._threads:
            t.join(timeout=3)
        self._threads = []

    def probe(self, timeout: float = 5.0) -> Probe:
        """The device this source reads (`camera.device`, else /dev/video<index>): there, openable, a frame?"""
        node = self.device if isinstance(self.device, str) else f"/dev/video{self.device}"
        details: dict[str, str | int | bool | list[str]] = {"device": node}
        if self.is_file:
            return Probe("camera", True, True, "video_file", simulated=True, details=details)
        if not os.path.exists(node):
            return Probe("camera", False, False, "missing", details=details)
        details["node"] = os.path.realpath(node)
        if not os.access(node, os.R_OK | os.W_OK):
            return Probe("camera", True, False, "permission", details=details)

        def grab() -> bool:
            cap = self._open()
            try:
                return bool(cap.isOpened() and cap.read()[0])
            finally:
                cap.release()
        try:
            framed = call_with_timeout(grab, timeout)
        except Exception as e:  # cv2.error, TimeoutError: either way no frame
            details["error"] = type(e).__name__
            framed = False
        if not framed:
            return Probe("camera", True, False, "no_frame", details=details)
        return Probe("camera", True, True, details=details)

    def preview(self) -> np.ndarray | None:
        """The newest frame, BGR, `preview_width` wide (a copy the caller may keep), or None."""
        with self._preview_lock:
            return None if self._preview is None else self._preview.copy()

    # --- threads ------------------------------------------------------------------------------
    def _open(self) -> Capture:
        if self._capture_factory:
            return self._capture_factory(self.device)
        if self.is_file:
            return cv2.VideoCapture(str(self.device))
        cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of stale ones
        return cap

    def _capture_loop(self, on_status: StatusCallback) -> None:
        connected: bool | None = None
        while not self._stop.is_set():
            cap = None
            try:
                cap = self._open()
                if not cap.isOpened():
                    raise OSError("cannot open")
                ok, frame = cap.read()
                if not ok:
                    raise OSError("no frames")
                if connected is not True:
                    connected = True
                    h, w = frame.shape[:2]
                    event(log, "camera_connected", device=self.device, width=w, height=h)
                    on_status(DeviceStatus("camera", True, f"{self.device} {w}x{h}"))
                while not self._stop.is_set():
                    t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if self.is_file else time.monotonic()
                    self.frames += 1
                    self._set_preview(frame)
                    self._mailbox.put((t, frame), self._stop)
                    ok, frame = cap.read()
                    if not ok:
                        if self.is_file:
                            self._mailbox.put(("end", None), self._stop)
                            return
                        raise OSError("read failed")  # unplugged
            except OSError as e:
                if connected is not False:
                    connected = False
                    event(log, "camera_disconnected", logging.WARNING, device=self.device, error=str(e))
                    on_status(DeviceStatus("camera", False, f"{self.device}: {e}"))
                if self.is_file:
                    self._mailbox.put(("end", None), self._stop)
                    return
                self._stop.wait(self.reopen_interval)
            finally:
                if cap is not None:
                    cap.release()

    def _set_preview(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        pw = min(self.preview_width, w)
        small = cv2.resize(frame, (pw, max(1, h * pw // w)), interpolation=cv2.INTER_AREA)
        with self._preview_lock:
            self._preview = small

    def _decode_loop(self, decoder: Decoder, on_scan: ScanCallback) -> None:
        # One decoding thread: on a 4-core Pi the UI, capture and check-in keep the other cores.
        cv2.setNumThreads(self.decoder_threads)
        presence = Presence(self.cooldown)
        while not self._stop.is_set():
            item = self._mailbox.get(0.1)
            if item is None:
                continue
            t, frame = item
            if isinstance(t, str):  # "end": the video file is done
                self.finished.set()
                return
            t0 = time.perf_counter()
            try:
                results = decoder.decode(frame)
            except Exception:  # a decoder bug must not stop the camera for the day
                log.exception("event=camera_decode_failed")
                continue
            ms = (time.perf_counter() - t0) * 1000
            self.decoded_frames += 1
            if len(self.decode_ms) < 10_000:
                self.decode_ms.append(ms)
            for payload in presence.seen([r.raw for r in results], t):
                self.events += 1
                on_scan(ScanEvent(payload, "camera", datetime.now(timezone.utc)))
