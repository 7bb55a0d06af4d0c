"""Field checks shared by the document kinds: dates, names, hex text, the 12-digit ID.

Error messages name the field and the expected form; they describe the shape
of what arrived rather than quoting it, because values are personal data.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from kiosk.documents.errors import ParseError
from kiosk.documents.tables import provinces

MIN_YEAR, MAX_YEAR = 1900, 2199  # the ID's century digits 0–5
_D8 = re.compile(r"\d{8}", re.ASCII)
_DMY = re.compile(r"(\d{2})/(\d{2})/(\d{4})", re.ASCII)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+", re.ASCII)
_NAME_PUNCT = frozenset(" '-.")


def typed(text: str | None) -> str:
    """What a person typed, NFKC-normalised: full-width digits and letters (IME input) become ASCII.

    Digits of other scripts (Arabic-Indic ٠١٢, Devanagari …) stay as they are, so the ASCII-only
    patterns (`[0-9]`, `re.ASCII`) then refuse them: one person must never get a second number.
    """
    return unicodedata.normalize("NFKC", text or "")


def ascii_digits(text: str | None) -> bool:
    """True for a non-empty string of ASCII digits only (str.isdigit() also accepts ٠١٢, ², ①)."""
    return text is not None and text.isascii() and text.isdigit()  # isdigit() is False for ""


def shape(text: str) -> str:
    """`12/05/1995` → `dd/dd/dddd`: what arrived, without the personal value."""
    out = []
    for c in text[:24]:
        out.append("d" if c.isdigit() else "a" if c.isalpha() else c if c.isprintable() else "?")
    return "".join(out) + ("…" if len(text) > 24 else "")


def real_date(year: int, month: int, day: int, field: str) -> str:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError(f"{field}: year out of range (expected {MIN_YEAR}–{MAX_YEAR})", field)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ParseError(f"{field}: {day:02d}/{month:02d} is not a real calendar date", field) from None


def ddmmyyyy(text: str, field: str) -> str:
    """CCCD dates: `12051995` (no separators) → ISO."""
    if not _D8.fullmatch(text):
        hint = " (no separators on the CCCD QR)" if _DMY.fullmatch(text) else ""
        raise ParseError(f"{field}: expected a date as ddmmyyyy{hint}, got {shape(text) or 'nothing'}", field)
    return real_date(int(text[4:]), int(text[2:4]), int(text[:2]), field)


def dd_mm_yyyy(text: str, field: str) -> str:
    """BHYT dates: `12/05/1995` → ISO."""
    m = _DMY.fullmatch(text)
    if not m:
        raise ParseError(f"{field}: expected a date as dd/mm/yyyy, got {shape(text) or 'nothing'}", field)
    return real_date(int(m[3]), int(m[2]), int(m[1]), field)


def name(text: str, field: str, max_len: int = 100) -> str:
    """A person's name: letters (any script, with marks), spaces, ' - . and digits (flagged by the caller)."""
    if not text:
        raise ParseError(f"{field}: expected a name, got nothing", field)
    if len(text) > max_len:
        raise ParseError(f"{field}: expected at most {max_len} characters, got {len(text)}", field)
    for c in text:
        if c not in _NAME_PUNCT and unicodedata.category(c)[0] not in "LM" and not ("0" <= c <= "9"):
            what = "a control character" if not c.isprintable() else f"{c!r}"
            raise ParseError(f"{field}: expected letters and spaces, found {what}", field)
    return text


def has_digit(text: str | None) -> bool:
    """Real names have no digits; one usually means test data or a shifted field, so it is flagged, not refused."""
    return text is not None and any("0" <= c <= "9" for c in text)


def free_text(text: str, field: str, max_len: int) -> str:
    if len(text) > max_len:
        raise ParseError(f"{field}: expected at most {max_len} characters, got {len(text)}", field)
    if not text.isprintable():
        raise ParseError(f"{field}: expected printable text, found a control character", field)
    return text


def hex_utf8(text: str, field: str, max_len: int) -> str:
    """BHYT name/address fields: hex-encoded UTF-8 (`4cc3aa` → `Lê`), returned NFC and stripped."""
    if len(text) > 4 * max_len * 2:
        raise ParseError(f"{field}: expected at most {max_len} characters, got {len(text)} hex digits", field)
    if not _HEX.fullmatch(text):
        raise ParseError(f"{field}: expected hex-encoded UTF-8 (an even number of 0-9a-f digits)", field)
    try:
        decoded = bytes.fromhex(text).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(f"{field}: hex does not decode to UTF-8 (bad byte at {e.start})", field) from None
    decoded = unicodedata.normalize("NFC", decoded).strip()
    if not decoded:
        raise ParseError(f"{field}: hex decodes to empty text", field)
    return free_text(decoded, field, max_len)


# --- the 12-digit personal identification number: PPP G YY NNNNNN -----------------------------------

def id_century(id_number: str) -> int:
    """First year of the birth century from the sex/century digit (0/1 → 1900, 2/3 → 2000, …)."""
    return 1900 + 100 * (int(id_number[3]) // 2)


def id_sex(id_number: str) -> str:
    return "female" if int(id_number[3]) % 2 else "male"


def id_birth_year(id_number: str) -> int:
    return id_century(id_number) + int(id_number[4:6])


def id_warnings(id_number: str, date_of_birth: str | None, sex: str | None) -> list[str]:
    """Codes for an ID whose province, century/sex digit or birth year disagrees with itself or the document."""
    warnings: list[str] = []
    if id_number[1:3] not in provinces() or id_number[0] != "0":
        warnings.append("id_province_unknown")
    if sex and sex != id_sex(id_number):
        warnings.append("id_sex_mismatch")
    if date_of_birth:
        year = int(date_of_birth[:4])
        if year // 100 * 100 != id_century(id_number):
            warnings.append("id_century_mismatch")
        elif year % 100 != int(id_number[4:6]):
            warnings.append("id_birth_year_mismatch")
    return warnings
