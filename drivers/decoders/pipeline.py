"""The camera's decoding pipeline: do the work the engines don't do for you.

A live camera shows the same code in frame after frame, mostly still, and a
Raspberry Pi has a few milliseconds per frame. So, in order, stopping at the
first pass that finds something:

1. **Unchanged frame** — a frame that differs from the last decoded one by no
   more than sensor noise (compared block by block, so a new code in a corner
   counts) gets the last answer without decoding.
2. **Region of interest** — where the last code was (when there was one),
   grown by half its size, at full resolution, one fast pass.
3. **Half resolution** — the whole frame downscaled 2× (area averaging also
   removes sensor noise), one fast pass with inverted codes. Most codes a
   patient holds up are found here in well under a millisecond; a
   full-resolution fast pass then adds any smaller codes beside them.
4. **Full resolution** — one fast pass (small codes).
5. **Sharpened** — an unsharp mask, then one fast pass (out-of-focus and
   motion-blurred codes).
6. **Upscaled** — 2× bilinear, one fast pass (codes whose modules are under
   two pixels, or whose finder patterns a glare spot has eaten into).
7. **Thorough** — the engine with all its retries (downscaling, inversion).

A first frame with no code goes through every pass (about 9 ms of one x86
core at 1280×720, see docs/benchmarks.md). After that, while nothing is in
front of the camera, a changed frame runs the fast passes and one slow pass
in turn (a median of 4.5 ms); an unchanged frame costs only the change check.

Results come back in full-frame coordinates. The pipeline is stateful: one
per camera, used from one thread. `bench/qr_decode.py` measures it against
the bare engines.
"""

from __future__ import annotations

import cv2
import numpy as np

from drivers.decoders.base import Decoded, to_gray, unique
from drivers.decoders.zxing import ZxingDecoder

# A block of 8x8 pixels (a few QR modules) whose mean grey level moves by more
# than this means the scene changed; sensor noise averages out over a block.
# Small blocks so that a different code shown in the same place (a phone app
# refreshing its QR) never passes for the old one.
CHANGE_THRESHOLD = 6.0
_BLOCK = 8


class Pipeline:
    name = "pipeline"

    def __init__(self, engine, fast_engine=None, *, skip_unchanged: bool = True, use_roi: bool = True,
                 fast_pass: bool = True, budget_slow_passes: bool = True):
        self.engine = engine
        self.fast_engine = fast_engine or ZxingDecoder(fast=True)
        self.half_engine = ZxingDecoder(fast=True, invert=True)
        self.skip_unchanged = skip_unchanged
        self.use_roi = use_roi
        self.fast_pass = fast_pass
        self.budget_slow_passes = budget_slow_passes
        self.reset()
        self.stats = dict.fromkeys(("unchanged", "roi", "fast", "full", "sharpened", "upscaled", "thorough", "none"), 0)

    def reset(self) -> None:
        """Forget the last frame (a new, unrelated frame sequence starts)."""
        self._blocks: np.ndarray | None = None
        self._last: list[Decoded] = []
        self._roi: tuple[int, int, int, int] | None = None
        self._misses = 0

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        gray = to_gray(frame)
        blocks = _block_means(gray) if self.skip_unchanged else None
        if blocks is not None and self._blocks is not None and blocks.shape == self._blocks.shape \
                and float(np.abs(blocks - self._blocks).max()) <= CHANGE_THRESHOLD:
            self.stats["unchanged"] += 1
            return list(self._last)
        results, how = self._decode(gray)
        self.stats[how] += 1
        self._misses = 0 if results else self._misses + 1
        self._blocks = blocks
        self._last = results
        # ROI only for one code: with several in view, only a full pass finds them all.
        self._roi = _grow(results[0].bbox(), gray.shape, 0.5) if len(results) == 1 and results[0].bbox() else None
        return results

    def _decode(self, gray: np.ndarray) -> tuple[list[Decoded], str]:
        h, w = gray.shape
        fast = self.fast_engine
        if self.use_roi and self._roi is not None:
            x0, y0, x1, y1 = self._roi
            found = fast.decode(gray[y0:y1, x0:x1])
            if found:
                # A second code coming into view is seen once this one leaves the ROI
                # or the frame changes enough to miss it: a kiosk reads one card at a time.
                return [r.shifted(x0, y0) for r in found], "roi"
            self._roi = None
        if self.fast_pass:
            if min(h, w) >= 400:
                half = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
                found = [r.shifted(0, 0, 2.0) for r in self.half_engine.decode(half)]
                if found:
                    # A first sighting: one full-resolution pass adds smaller codes beside it. Later
                    # frames of a single code go to the region of interest and skip this.
                    return unique(found + fast.decode(gray)), "fast"
            found = fast.decode(gray)
            if found:
                return found, "full"
        # The slow passes. After a frame that found nothing, a changed frame that finds nothing
        # again (a live camera with nobody in front of it) runs only one of them, in turn: the
        # idle cost per frame stays near the fast passes', and each slow pass still comes round
        # every third frame. A first frame (and every `decode` after `reset()`) runs them all.
        slow = [self._sharpened, self._upscaled, self._thorough] if self.fast_pass else [self._thorough]
        if self.budget_slow_passes and self._misses > 0:
            slow = [slow[self._misses % len(slow)]]
        for step in slow:
            found, how = step(gray)
            if found:
                return found, how
        return [], "none"

    def _sharpened(self, gray: np.ndarray) -> tuple[list[Decoded], str]:
        blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
        return self.fast_engine.decode(cv2.addWeighted(gray, 2.0, blurred, -1.0, 0)), "sharpened"

    def _upscaled(self, gray: np.ndarray) -> tuple[list[Decoded], str]:
        h, w = gray.shape
        up = cv2.resize(gray, (w * 2, h * 2), interpolation=cv2.INTER_LINEAR)
        return [r.shifted(0, 0, 0.5) for r in self.fast_engine.decode(up)], "upscaled"

    def _thorough(self, gray: np.ndarray) -> tuple[list[Decoded], str]:
        return unique(self.engine.decode(gray)), "thorough"


def _block_means(gray: np.ndarray) -> np.ndarray:
    """Mean grey level of every 8×8 block (INTER_AREA at an integer factor is an exact block mean)."""
    h, w = gray.shape
    bh, bw = h // _BLOCK, w // _BLOCK
    return cv2.resize(gray[:bh * _BLOCK, :bw * _BLOCK], (bw, bh), interpolation=cv2.INTER_AREA).astype(np.float32)


def _grow(box: tuple[int, int, int, int], shape: tuple[int, ...], by: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    mx, my = int((x1 - x0) * by) + 8, int((y1 - y0) * by) + 8
    h, w = shape[:2]
    return max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
