"""Keyed hashing of roster identifiers: the roster is looked up, never read.

The roster on a device holds identifiers only as keyed hashes (HMAC-SHA256
under the province's roster key), so a copied database is not a list of
insured people. A lookup hashes what the patient presented with the same key.

On disk a hash is its first 8 bytes as a signed 64-bit integer ("key64"):
SQLite stores it in the row itself (no separate text), which keeps a
3.4-million-card roster well under the SD card budget. 64 bits is plenty for
an exact-match lookup at province scale (a chance collision between two of
3.4 M cards is about 3 in 10 million, and a collision can only make one
lookup find the wrong card, which the name/birth-date check then flags).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from pathlib import Path

from kiosk.errors import ConfigError

# Only matches the demo roster; a provisioned device has its own key file.
DEMO_KEY = b"tramyte-kiosk demo roster key - not for production"

_digest = hmac.digest


def load_key(key_file: str) -> bytes:
    if not key_file:
        return DEMO_KEY
    try:
        raw = Path(key_file).read_bytes().strip()
    except OSError as e:
        raise ConfigError(f"roster.key_file: cannot read {key_file}: {e.strerror}") from None
    if len(raw) < 32:
        raise ConfigError("roster.key_file: expected at least 32 bytes of key material")
    return raw


def _k(key: bytes, kind: bytes, value: str) -> int:
    return int.from_bytes(_digest(key, kind + value.encode("utf-8"), "sha256")[:8], "big", signed=True)


def normalise_card(card_number: str) -> str:
    return card_number.strip().upper()


def card_key(key: bytes, card_number: str) -> int:
    """The 15-character card code (GG L PP NNNNNNNNNN), case-insensitive."""
    return _k(key, b"card:", normalise_card(card_number))


def id_key(key: bytes, id_number: str) -> int:
    """The 12-digit personal identification number."""
    return _k(key, b"id:", id_number.strip())


def sin_key(key: bytes, social_insurance_number: str) -> int:
    """The 10-digit social-insurance (BHXH) number: also the number printed on new cards."""
    return _k(key, b"sin:", social_insurance_number.strip())


def name_key(key: bytes, full_name: str) -> int:
    return _k(key, b"name:", normalise_name(full_name))


def birth_key(key: bytes, date_of_birth: str) -> int:
    """ISO date `YYYY-MM-DD`, or `YYYY` when only the year is known."""
    return _k(key, b"dob:", date_of_birth.strip())


def normalise_name(name: str) -> str:
    """The form the name check compares: no diacritics (đ → d), case-folded, single spaces.

    Diacritics are dropped on purpose: the chip MRZ and some scanners give the
    name without them, and a kiosk must not call "LE VAN BINH" a different
    person from "Lê Văn Bình".
    """
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.casefold().split())
