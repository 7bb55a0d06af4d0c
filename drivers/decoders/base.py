"""The decoder interface shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

QR = "QRCode"


class DecoderUnavailable(RuntimeError):
    """The backend's library (or its native part, e.g. libzbar) is not installed."""


@dataclass(frozen=True)
class Decoded:
    raw: bytes
    format: str = QR
    # Corners (x, y) in the coordinates of the frame passed in, or () when the engine gives none.
    corners: tuple[tuple[float, float], ...] = ()

    @property
    def text(self) -> str | None:
        """Strict UTF-8; None when the bytes are not UTF-8 (reported, never guessed)."""
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def bbox(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) around the corners."""
        if not self.corners:
            return None
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1

    def shifted(self, dx: int, dy: int, scale: float = 1.0) -> "Decoded":
        return Decoded(self.raw, self.format, tuple((x * scale + dx, y * scale + dy) for x, y in self.corners))


class Decoder(Protocol):
    name: str

    def decode(self, frame: np.ndarray) -> list[Decoded]: ...


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    import cv2  # OpenCV (the `camera` extra) only for colour frames: grey ones convert without it
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def unique(results: list[Decoded]) -> list[Decoded]:
    """One result per payload (engines can report a code twice, e.g. normal and inverted pass)."""
    seen: set[bytes] = set()
    out = []
    for r in results:
        if r.raw not in seen:
            seen.add(r.raw)
            out.append(r)
    return out
