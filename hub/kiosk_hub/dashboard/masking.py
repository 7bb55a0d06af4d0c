"""Masked ID numbers for every dashboard page: `001095001245` → `0010******45`."""

from __future__ import annotations


def mask_id(value: object) -> str:
    """Keep the first 4 and last 2 characters; anything of 6 characters or fewer is masked whole."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if len(text) <= 6:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 6) + text[-2:]


# Keys under which the kiosk's payloads carry identity numbers (visit and stay-notification bodies).
ID_KEYS = ("id_number", "cccd", "cccd_number", "personal_id", "passport_number", "bhyt_number",
           "card_number", "insurance_number", "document_number")


def masked_ids(payload: object) -> list[str]:
    """The masked ID numbers found anywhere in a payload (for showing which person, never who)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, val in node.items():
                if key in ID_KEYS and isinstance(val, str | int):
                    found.append(mask_id(val))
                else:
                    walk(val)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    return found
