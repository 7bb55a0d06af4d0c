"""Keyed hashing of roster identifiers: the roster is looked up, never read.

The roster on a device holds identifiers only as HMAC-SHA256 under the
province's roster key, so a copied database is not a list of insured people.
A lookup hashes what the patient presented with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from pathlib import Path

from kiosk.errors import ConfigError

# Only matches the demo roster; a provisioned device has its own key file.
DEMO_KEY = b"tramyte-kiosk demo roster key - not for production"


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


def _h(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()


def id_hash(key: bytes, id_number: str) -> str:
    return _h(key, "id", id_number.strip())


def card_hash(key: bytes, card_number: str) -> str:
    return _h(key, "card", card_number.strip().upper())


def sin_hash(key: bytes, social_insurance_number: str) -> str:
    return _h(key, "sin", social_insurance_number.strip())


def normalise_name(name: str) -> str:
    """NFC, case-folded, single spaces: the form the name/birth-date check compares."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def name_dob_hash(key: bytes, full_name: str, date_of_birth: str | None) -> str:
    return _h(key, "name_dob", f"{normalise_name(full_name)}|{date_of_birth or ''}")
