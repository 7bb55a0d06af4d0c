"""The camera's decoding pipeline: do the work the engines don't do for you.

A live camera shows the same code in frame after frame, mostly still, and a
Raspberry Pi has a few milliseconds per frame. So, in order:

1. **Unchanged frame** — a frame that differs from the last decoded one by no
   more than sensor noise (block-wise, so one new code in a corner counts)
   gets the last answer without decoding.
2. **Region of interest** — where the last code was, grown by half its size,
   decoded at full resolution in a fast pass.
3. **Fast pass** — the whole frame at half resolution (most codes a patient
   holds up are large), one pass, no inverted retry.
4. **Thorough pass** — the whole frame at full resolution with the engine's
   downscale and inverted-code retries: small, inverted, and blurred codes.

Results come back in full-frame coordinates. The pipeline is stateful: one
per camera, used from one thread.
"""

from __future__ import annotations

import cv2
import numpy as np

from drivers.decoders.base import Decoded, to_gray, unique

# A block of 4x4 pixels of the half-size frame (8x8 at full size, a few QR modules)
# whose mean grey level moves by more than this means the scene changed; sensor
# noise averages out over a block. Small blocks so that a different code shown in
# the same place (a phone app refreshing its QR) never passes for the old one.
CHANGE_THRESHOLD = 6.0
_BLOCK = 4


class Pipeline:
    name = "pipeline"

    def __init__(self, engine, fast_engine=None, *, skip_unchanged: bool = True, use_roi: bool = True,
                 fast_pass: bool = True):
        from drivers.decoders.zxing import ZxingDecoder
        self.engine = engine
        self.fast_engine = fast_engine or ZxingDecoder(fast=True)
        self.skip_unchanged = skip_unchanged
        self.use_roi = use_roi
        self.fast_pass = fast_pass
        self.reset()
        self.stats = {"unchanged": 0, "roi": 0, "fast": 0, "thorough": 0, "none": 0}

    def reset(self) -> None:
        """Forget the last frame (a new, unrelated frame sequence starts)."""
        self._blocks: np.ndarray | None = None
        self._last: list[Decoded] = []
        self._roi: tuple[int, int, int, int] | None = None

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        gray = to_gray(frame)
        blocks = _block_means(gray) if self.skip_unchanged else None
        if blocks is not None and self._blocks is not None and blocks.shape == self._blocks.shape \
                and float(np.abs(blocks - self._blocks).max()) <= CHANGE_THRESHOLD:
            self.stats["unchanged"] += 1
            return list(self._last)
        results, how = self._decode(gray)
        self.stats[how] += 1
        self._blocks = blocks
        self._last = results
        # ROI only for one code: with several in view, only a full pass finds them all.
        self._roi = _grow(results[0].bbox(), gray.shape, 0.5) if len(results) == 1 and results[0].bbox() else None
        return results

    def _decode(self, gray: np.ndarray) -> tuple[list[Decoded], str]:
        h, w = gray.shape
        if self.use_roi and self._roi is not None:
            x0, y0, x1, y1 = self._roi
            found = self.fast_engine.decode(gray[y0:y1, x0:x1])
            if found:
                # A second code coming into view is seen once this one leaves the ROI
                # or the frame changes enough to miss it: a kiosk reads one card at a time.
                return [r.shifted(x0, y0) for r in found], "roi"
            self._roi = None
        if self.fast_pass and min(h, w) >= 400:
            half = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
            found = self.fast_engine.decode(half)
            if found:
                return [r.shifted(0, 0, 2.0) for r in found], "fast"
        found = unique(self.engine.decode(gray))
        return found, ("thorough" if found else "none")


def _block_means(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    small = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    bh, bw = small.shape[0] // _BLOCK, small.shape[1] // _BLOCK
    small = small[:bh * _BLOCK, :bw * _BLOCK].astype(np.float32)
    return small.reshape(bh, _BLOCK, bw, _BLOCK).mean(axis=(1, 3))


def _grow(box: tuple[int, int, int, int], shape: tuple[int, ...], by: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    mx, my = int((x1 - x0) * by) + 8, int((y1 - y0) * by) + 8
    h, w = shape[:2]
    return max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
