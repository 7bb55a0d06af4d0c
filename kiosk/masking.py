"""Masked forms of identifiers for screens, paper and logs: only the last 4 characters show."""

from __future__ import annotations


def mask_id(value: str | None, visible: int = 4) -> str:
    """`040195001234` → `********1234`; short or missing values are masked entirely."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]
