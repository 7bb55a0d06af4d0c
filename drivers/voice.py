"""Calling queue numbers aloud, offline: espeak-ng's Vietnamese voice in a background thread.

`call(12)` returns at once; a worker thread runs `espeak-ng -v vi` one
announcement at a time. If espeak-ng is missing or fails, the kiosk stays
silent and logs it — calling aloud is a convenience, never in the way.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import time
from typing import Callable

from drivers.protocols import Probe
from kiosk.config import Config
from kiosk.logs import event
from kiosk.text import t

log = logging.getLogger(__name__)


def phrase(number: int, room: str = "phòng khám", lang: str = "vi") -> str:
    """What is said aloud (kiosk/text/messages.toml, `voice.call`); `room` is the station's `voice.room`."""
    return t("voice.call", lang, number=number, room=room)


class Voice:
    def __init__(self, voice: str = "vi", room: str = "phòng khám", *, command: str | None = None,
                 speed: int = 140, runner: Callable[..., object] = subprocess.run):
        self.voice, self.room, self.speed = voice, room, speed
        self.command = command or shutil.which("espeak-ng")
        self._runner = runner
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=20)
        self.spoken: list[str] = []
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        return self.command is not None

    def probe(self) -> Probe:
        """espeak-ng is installed (its voice is checked when it speaks: a failure is logged, never in the way)."""
        details: dict[str, str | int | bool | list[str]] = {"voice": self.voice, "command": self.command or ""}
        if not self.available:
            return Probe("voice", False, False, "not_installed", details=details)
        return Probe("voice", True, True, details=details)

    def call(self, number: int) -> bool:
        """Queue the announcement; False (and silence) when the voice is unavailable or backed up."""
        if not self.available:
            return False
        try:
            self._queue.put_nowait(phrase(number, self.room))
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                self._runner([self.command, "-v", self.voice, "-s", str(self.speed), text],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20, check=True)
                self.spoken.append(text)
                event(log, "voice_called")
            except (OSError, subprocess.SubprocessError) as e:
                event(log, "voice_failed", logging.WARNING, error=type(e).__name__)
            finally:
                self._queue.task_done()

    def wait(self, timeout: float = 10) -> None:
        """Tests: wait until everything queued has been spoken (or failed)."""
        end = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.02)

    def close(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass


def voice_from_config(cfg: Config) -> Voice | None:
    if not cfg["voice.enabled"]:
        return None
    return Voice(cfg["voice.voice"], cfg["voice.room"])
