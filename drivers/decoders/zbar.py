"""ZBar (through pyzbar's ctypes wrapper) in binary mode, with inverted codes.

`pyzbar.decode()` cannot set ZBAR_CFG_BINARY or ZBAR_CFG_TEST_INVERTED, and
without binary mode ZBar guesses the text encoding (Shift-JIS first) and
garbles Vietnamese; so we drive the scanner through `pyzbar.wrapper`.
"""

from __future__ import annotations

from ctypes import c_void_p, cast, string_at

import numpy as np

from drivers.decoders.base import QR, Decoded, DecoderUnavailable, to_gray, unique

ZBAR_NONE = 0
ZBAR_QRCODE = 64
CFG_ENABLE = 0
CFG_BINARY = 4  # zbar ≥ 0.23: hand back the raw bytes of byte-mode segments
CFG_TEST_INVERTED = 0x81  # zbar ≥ 0.23: also try light-on-dark codes
_Y800 = 0x30303859  # fourcc('Y','8','0','0')


def _wrapper():
    try:
        from pyzbar import wrapper  # optional backend (and libzbar): missing is DecoderUnavailable
        wrapper.load_libzbar()
    except (ImportError, OSError) as e:
        raise DecoderUnavailable(f"pyzbar/libzbar0 is not installed ({e})") from None
    return wrapper


class ZbarDecoder:
    name = "zbar"

    def __init__(self, binary: bool = True, inverted: bool = True):
        self._w = _wrapper()
        self.binary = binary
        self.inverted = inverted
        w = self._w
        self._scanner = w.zbar_image_scanner_create()
        if not self._scanner:
            raise DecoderUnavailable("zbar could not create an image scanner")
        w.zbar_image_scanner_set_config(self._scanner, ZBAR_NONE, CFG_ENABLE, 0)
        w.zbar_image_scanner_set_config(self._scanner, ZBAR_QRCODE, CFG_ENABLE, 1)
        if binary:
            w.zbar_image_scanner_set_config(self._scanner, ZBAR_QRCODE, CFG_BINARY, 1)
        if inverted:
            w.zbar_image_scanner_set_config(self._scanner, ZBAR_NONE, CFG_TEST_INVERTED, 1)

    def __del__(self):
        if getattr(self, "_scanner", None):
            self._w.zbar_image_scanner_destroy(self._scanner)
            self._scanner = None

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        w = self._w
        gray = np.ascontiguousarray(to_gray(frame))
        height, width = gray.shape
        pixels = gray.tobytes()
        img = w.zbar_image_create()
        try:
            w.zbar_image_set_format(img, _Y800)
            w.zbar_image_set_size(img, width, height)
            w.zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            n = w.zbar_scan_image(self._scanner, img)
            if n < 0:
                return []
            out = []
            sym = w.zbar_image_first_symbol(img)
            while sym:
                data = string_at(w.zbar_symbol_get_data(sym), w.zbar_symbol_get_data_length(sym))
                corners = tuple((float(w.zbar_symbol_get_loc_x(sym, i)), float(w.zbar_symbol_get_loc_y(sym, i)))
                                for i in range(w.zbar_symbol_get_loc_size(sym)))
                if sym.contents.type == ZBAR_QRCODE:
                    out.append(Decoded(data, QR, corners))
                sym = w.zbar_symbol_next(sym)
            return unique(out)
        finally:
            w.zbar_image_destroy(img)


class ZbarTextDecoder:
    """pyzbar.decode() as commonly used (ZBar's guessed text, re-encoded as UTF-8). For comparison only."""

    name = "zbar-text"

    def __init__(self):
        _wrapper()
        from pyzbar import pyzbar  # loaded by _wrapper() just above, which says when it is missing
        self._p = pyzbar

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        found = self._p.decode(to_gray(frame), symbols=[self._p.ZBarSymbol.QRCODE])
        return unique([Decoded(r.data, QR, tuple((float(p.x), float(p.y)) for p in r.polygon)) for r in found])
