"""OpenCV's Aruco-based QR detector (the plain QRCodeDetector fails on noisy frames)."""

from __future__ import annotations

import numpy as np

from drivers.decoders.base import QR, Decoded, DecoderUnavailable, to_gray, unique


class OpenCvDecoder:
    name = "opencv"

    def __init__(self):
        try:
            import cv2  # optional backend: a missing one is DecoderUnavailable, not an import error
        except ImportError as e:  # pragma: no cover
            raise DecoderUnavailable(f"opencv-python-headless is not installed ({e})") from None
        self._det = cv2.QRCodeDetectorAruco()

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        gray = to_gray(frame)
        try:
            ok, texts, points, _ = self._det.detectAndDecodeMulti(gray)
        except Exception:  # cv2.error on degenerate input: nothing found
            return []
        if not ok:
            return []
        out = []
        for i, text in enumerate(texts):
            if not text:
                continue
            # OpenCV hands back str decoded as UTF-8 by itself (it has no raw-bytes API):
            # encoding back gives the bytes for a UTF-8 payload.
            corners = tuple((float(x), float(y)) for x, y in points[i]) if points is not None else ()
            out.append(Decoded(text.encode("utf-8", "surrogateescape"), QR, corners))
        return unique(out)
