"""Turn raw scanned bytes into a typed document, or a precise :class:`ParseError`.

`parse()` detects the kind from the content (CCCD / Căn cước QR, BHYT QR in
both layouts, TD1 MRZ); `identity_of()` gives the person as the document
states them, for the check-in service. `render()` is the inverse of
`parse()` (tests and simulators). A chip read (`ChipRead`) is built by the
chip driver, not parsed here; every kind satisfies
`kiosk.domain.IdentityDocument`. See docs/documents.md.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

from kiosk.documents import bhyt, cccd, mrz
from kiosk.documents.bhyt import BhytQr
from kiosk.documents.cccd import CccdQr
from kiosk.documents.chip import ChipRead
from kiosk.documents.errors import ParseError
from kiosk.documents.mrz import MrzTd1
from kiosk.documents.tables import load_bhyt_groups
from kiosk.domain import IdentityDocument, PersonIdentity

__all__ = ["ParseError", "CccdQr", "BhytQr", "MrzTd1", "ChipRead", "Document", "parse", "decode", "identity_of",
           "render", "load_bhyt_groups", "MAX_PAYLOAD"]

Document = CccdQr | BhytQr | MrzTd1  # what parse() gives: the kinds read from a payload
# Every kind a person presents, parsed here or read from the chip; mypy checks each is an IdentityDocument.
KINDS: tuple[type[IdentityDocument], ...] = (CccdQr, BhytQr, MrzTd1, ChipRead)
MAX_PAYLOAD = 64 * 1024
MAX_DECOMPOSED = 16 * 1024  # no document is near this long; NFC of longer decomposed text is not worth the time
MAX_MARKS = 8  # Vietnamese needs at most 2 combining marks on a letter
# C0/C1 control characters other than tab and line breaks (which the MRZ uses): binary data, not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]{0,15}://|www\.")


def decode(data: bytes | str) -> str:
    """Strict UTF-8 (never guessed), NFC-normalised, scanner CR/LF and surrounding spaces removed."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_PAYLOAD:
            raise ParseError(f"payload: expected at most {MAX_PAYLOAD} bytes, got {len(data)}")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ParseError(f"payload: expected UTF-8 text, invalid byte at offset {e.start}") from None
    elif isinstance(data, str):
        if len(data) > MAX_PAYLOAD:
            raise ParseError(f"payload: expected at most {MAX_PAYLOAD} characters, got {len(data)}")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ParseError(f"payload: expected UTF-8 text, invalid character at offset {e.start}") from None
    else:
        raise ParseError(f"payload: expected bytes or text, got {type(data).__name__}")
    m = _CONTROL.search(data)
    if m:
        raise ParseError(f"payload: expected text, found a control character at offset {m.start()} (binary data?)")
    data = data.lstrip("\ufeff")
    if not unicodedata.is_normalized("NFC", data):
        # NFC sorts each run of combining marks (quadratic in the run): bound the runs before normalising.
        if len(data) > MAX_DECOMPOSED:
            raise ParseError(f"payload: expected at most {MAX_DECOMPOSED} characters of decomposed (NFD) text, "
                             f"got {len(data)}")
        m = _mark_runs().search(data)
        if m:
            raise ParseError(f"payload: expected text, found more than {MAX_MARKS} combining marks in a row at "
                             f"offset {m.start()}")
        data = unicodedata.normalize("NFC", data)
    text = data.strip()
    if not text:
        raise ParseError("payload: empty")
    return text


@lru_cache(maxsize=1)
def _mark_runs() -> re.Pattern[str]:
    """Runs of more than MAX_MARKS characters with a non-zero combining class (built once, ~10 ms).

    Every combining mark up to Unicode 15.1 is in planes 0–1; a future one elsewhere would only escape the bound.
    """
    marks = [c for c in range(0x20000) if unicodedata.combining(chr(c))]
    ranges: list[str] = []
    start = prev = marks[0]
    for c in marks[1:] + [-1]:
        if c != prev + 1:
            ranges.append(f"\\U{start:08x}-\\U{prev:08x}")
            start = c
        prev = c
    return re.compile(f"[{''.join(ranges)}]{{{MAX_MARKS + 1},}}")


def kind_of(text: str) -> str:
    """Which parser a decoded payload goes to; raises ParseError for content that is none of them."""
    if _URL.match(text):
        raise ParseError("payload: a web address (URL), expected a CCCD QR, a BHYT QR or an ID-card MRZ")
    if mrz.looks_like(text):
        return mrz.KIND
    if "|" not in text:
        raise ParseError("payload: not a CCCD QR, BHYT QR or TD1 MRZ (expected '|'-separated fields or 3 MRZ lines)")
    if "\n" in text or "\r" in text:
        raise ParseError("payload: expected a QR as one line of '|'-separated fields, found a line break inside")
    if bhyt.has_terminator(text):
        return bhyt.KIND
    head = text.split("|", bhyt.NEW_FIELDS + 1)
    if not cccd.looks_like([f.strip() for f in head[:1]]) and bhyt.looks_like([f.strip() for f in head]):
        return bhyt.KIND
    return cccd.KIND


_PARSERS: dict[str, Callable[[str], Document]] = {cccd.KIND: cccd.parse, bhyt.KIND: bhyt.parse, mrz.KIND: mrz.parse}


def parse(data: bytes | str) -> Document:
    """A typed document from raw scanned bytes, or ParseError naming the field and the expected form."""
    text = decode(data)
    return _PARSERS[kind_of(text)](text)


def render(doc: Document) -> str:
    """The payload text of a document: parse(render(doc)) == doc."""
    if isinstance(doc, CccdQr):
        return cccd.render(doc)
    if isinstance(doc, BhytQr):
        return bhyt.render(doc)
    if isinstance(doc, MrzTd1):
        return mrz.render(doc)
    raise TypeError(f"render: expected a CccdQr, BhytQr or MrzTd1, got {type(doc).__name__}")


def identity_of(doc: IdentityDocument) -> PersonIdentity:
    """The person as the document states them. Every document kind (QR, MRZ, chip read, desk form) has `identity()`."""
    return doc.identity()
