"""Resource ids: stable, opaque, never an ID or card number.

- Patient and Coverage: a keyed hash (HMAC-SHA256 under a key derived from the hub's secret key) of the
  person's strongest number (ID number, else social-insurance number, else passport) or of the card number:
  the same person gets the same id at every station and visit, and the id says nothing about the number.
- Encounter and CoverageEligibilityResponse: one per visit, the visit's row id with a keyed tag, so a read
  finds the row without a lookup table and an id cannot be guessed from another.
The ids change only if the hub's secret key changes (docs/fhir.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from django.conf import settings

_KEY: list[bytes] = []


def _key() -> bytes:
    if not _KEY:
        _KEY.append(hmac.new(settings.SECRET_KEY.encode(), b"kiosk-hub fhir resource ids v1", hashlib.sha256).digest())
    return _KEY[0]


def _tag(text: str, n: int) -> str:
    digest = hmac.new(_key(), text.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:n]


def keyed(kind: str, value: str) -> str:
    """A person- or card-level id: 32 base32 characters (160 bits) of HMAC."""
    return _tag(f"{kind}\x00{value}", 32)


_VISIT_ID = re.compile(r"([a-z2-7]{10})-([0-9a-f]{1,15})")


def of_visit(kind: str, pk: int) -> str:
    tag = _tag(f"{kind}\x00visit\x00{pk}", 10)
    return f"{tag}-{pk:x}"


def visit_pk(kind: str, rid: str) -> int | None:
    """The visit row behind an Encounter/CoverageEligibilityResponse id, or None for an id the hub never made."""
    m = _VISIT_ID.fullmatch(rid or "")
    if not m:
        return None
    pk = int(m.group(2), 16)
    return pk if hmac.compare_digest(m.group(1), of_visit(kind, pk).split("-")[0]) else None
