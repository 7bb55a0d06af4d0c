"""QR decoding: one interface, several engines, and the pipeline the camera uses.

Every backend takes a grayscale (or BGR) numpy frame and returns
:class:`Decoded` results carrying the code's **raw bytes**: text is decoded
here as strict UTF-8, never guessed (ZBar guesses Shift-JIS and mangles
Vietnamese names). Only the symbologies a kiosk reads are enabled: QR Code
(CCCD, Căn cước, BHYT, VNeID/VssID screens).

    >>> from drivers.decoders import get_decoder
    >>> dec = get_decoder("default")          # the benchmarked pipeline
    >>> [r.text for r in dec.decode(gray)]    # doctest: +SKIP
"""

from __future__ import annotations

from drivers.decoders.base import Decoded, Decoder, DecoderUnavailable, to_gray
from drivers.decoders.opencv import OpenCvDecoder
from drivers.decoders.pipeline import Pipeline
from drivers.decoders.zbar import ZbarDecoder, ZbarTextDecoder
from drivers.decoders.zxing import ZxingDecoder

BACKENDS = ("zxing", "zbar", "opencv")
DEFAULT = "pipeline"  # zxing-cpp behind ROI / fast-pass / unchanged-frame logic; chosen by bench/qr_decode.py


def get_decoder(name: str = "default") -> Decoder:
    """A decoder by name: "default"/"pipeline", "zxing", "zxing-fast", "zbar", "zbar-text", "opencv"."""
    if name in ("default", "pipeline"):
        return Pipeline(ZxingDecoder())
    if name == "zxing":
        return ZxingDecoder()
    if name == "zxing-fast":
        return ZxingDecoder(fast=True)
    if name == "zbar":
        return ZbarDecoder()
    if name == "zbar-text":  # pyzbar.decode() as most code uses it: for the benchmark's comparison only
        return ZbarTextDecoder()
    if name == "opencv":
        return OpenCvDecoder()
    raise ValueError(f"unknown decoder {name!r}: expected one of default, pipeline, zxing, zxing-fast, zbar, "
                     "zbar-text, opencv")


NAMES = ("default", "pipeline", "zxing", "zxing-fast", "zbar", "zbar-text", "opencv")

__all__ = ["Decoded", "Decoder", "DecoderUnavailable", "get_decoder", "to_gray", "NAMES", "DEFAULT", "BACKENDS"]
