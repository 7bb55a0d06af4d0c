"""zxing-cpp backend: QR only, raw bytes, inverted codes on."""

from __future__ import annotations

import numpy as np

from drivers.decoders.base import QR, Decoded, DecoderUnavailable, to_gray, unique


class ZxingDecoder:
    """`fast=True`: one resolution, no retries (inverted codes only with `invert=True`) — the pipeline's passes."""

    def __init__(self, fast: bool = False, invert: bool = False):
        try:
            import zxingcpp  # optional backend: a missing one is DecoderUnavailable, not an import error
        except ImportError as e:  # pragma: no cover - depends on the install
            raise DecoderUnavailable(f"zxing-cpp is not installed ({e})") from None
        self._z = zxingcpp
        self.fast = fast
        self.invert = invert  # for fast=True; the thorough mode always tries inverted codes
        self.name = "zxing-fast" if fast else "zxing"
        # QR only: with every format on, zxing-cpp reports bogus ITF/DataBar codes in noise.
        self._formats = zxingcpp.BarcodeFormat.QRCode

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        gray = np.ascontiguousarray(to_gray(frame))
        z = self._z
        if self.fast:
            # zxing-cpp retries inverted only when the normal pass finds nothing.
            found = z.read_barcodes(gray, formats=self._formats, try_rotate=False, try_downscale=False,
                                    try_invert=self.invert)
        else:
            found = z.read_barcodes(gray, formats=self._formats, try_rotate=True, try_downscale=True,
                                    try_invert=True)
        out = []
        for b in found:
            if not b.valid:
                continue
            p = b.position
            corners = tuple((float(c.x), float(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
            out.append(Decoded(bytes(b.bytes), QR, corners))
        return unique(out)
