"""Turn raw scanned bytes into a typed document, or a precise :class:`ParseError`.

`parse()` detects the kind from the content; `identity_of()` gives the
person as the document states them, for the check-in service.
"""

from __future__ import annotations

import unicodedata
from typing import Union

from kiosk.documents import cccd
from kiosk.documents.cccd import CccdQr
from kiosk.documents.errors import ParseError
from kiosk.domain import PersonIdentity

__all__ = ["ParseError", "CccdQr", "Document", "parse", "decode", "identity_of", "MAX_PAYLOAD"]

Document = Union[CccdQr]
MAX_PAYLOAD = 64 * 1024


def decode(data: bytes | str) -> str:
    """Strict UTF-8 (never guessed), NFC-normalised, scanner suffix removed."""
    if isinstance(data, bytes):
        if len(data) > MAX_PAYLOAD:
            raise ParseError(f"payload: expected at most {MAX_PAYLOAD} bytes, got {len(data)}")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ParseError(f"payload: expected UTF-8 text, invalid byte at offset {e.start}") from None
    if len(data) > MAX_PAYLOAD:
        raise ParseError(f"payload: expected at most {MAX_PAYLOAD} characters, got {len(data)}")
    text = unicodedata.normalize("NFC", data).strip("\r\n").strip()
    if not text:
        raise ParseError("payload: empty")
    if any(unicodedata.category(c) == "Cc" and c not in "\t" for c in text):
        raise ParseError("payload: expected text, found control characters (binary data?)")
    return text


def parse(data: bytes | str) -> Document:
    text = decode(data)
    if "|" not in text:
        raise ParseError("payload: not a CCCD or BHYT QR (no '|' separated fields)")
    return cccd.parse(text)


def identity_of(doc) -> PersonIdentity:
    """The person as the document states them. Every document type (QR, MRZ, chip read) has `identity()`."""
    return doc.identity()
