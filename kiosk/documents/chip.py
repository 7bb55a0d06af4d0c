"""A read of the CCCD chip: what the card says (DG1 MRZ + DG13) and whether it is genuine.

Built by drivers.chip.reader; the core only sees this type. `warnings`
carries `chip_failed` / `clone_suspected`, which the check-in service records
as flags on the visit. The photo (DG2) stays in memory and never appears in
`to_json()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.domain import PersonIdentity

KIND = "cccd_chip"
IDENTITY_FIELDS = ("id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
                   "place_of_origin", "place_of_residence", "identifying_marks", "issue_date", "expiry_date",
                   "father_name", "mother_name", "spouse_name", "old_id_number")


def _mrz_date(yymmdd: str, past: bool) -> str | None:
    if not (len(yymmdd) == 6 and yymmdd.isascii() and yymmdd.isdigit()):  # int() would take ٠١٢ too
        return None
    try:
        yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
        year = 2000 + yy
        if past and year > date.today().year:
            year -= 100
        return date(year, mm, dd).isoformat()
    except ValueError:
        return None


@dataclass(frozen=True)
class ChipRead:
    access_method: str  # "pace-can" | "pace-mrz" | "bac"
    mrz: dict[str, Any]
    dg13: dict[str, Any]
    passive_authentication: str  # "verified" | "no_trust_anchor" | "failed"
    chip_authentication: str  # "genuine" | "clone_suspected" | "not_supported"
    apdus: int
    bytes: int
    access_attempts: list[dict] = field(default_factory=list)
    passive_authentication_reason: str = ""
    document_signer: str = ""
    chip_authentication_method: str | None = None
    secure_messaging: str = ""
    extended_length: bool = False
    apdus_after_access: int = 0
    bytes_after_access: int = 0
    seconds: float = 0.0
    file_sizes: dict[str, int] = field(default_factory=dict)
    photo_format: str | None = None
    photo: bytes | None = field(default=None, repr=False)  # memory only: shown, never stored
    kind: str = KIND

    @property
    def fields(self) -> dict[str, Any]:
        """The person, DG13 first, the MRZ filling what DG13 lacks."""
        out = {k: self.dg13.get(k) for k in IDENTITY_FIELDS}
        if not out["id_number"]:
            out["id_number"] = self.mrz.get("id_number")
        if not out["date_of_birth"] and self.mrz.get("date_of_birth"):
            out["date_of_birth"] = _mrz_date(self.mrz["date_of_birth"], past=True)
        if not out["sex"]:
            out["sex"] = self.mrz.get("sex")
        if not out["full_name"]:
            out["full_name"] = self.mrz.get("name")
        return out

    @property
    def warnings(self) -> list[str]:
        w = []
        if self.passive_authentication == "failed":
            w.append("chip_failed")
        if self.chip_authentication == "clone_suspected":
            w.append("clone_suspected")
        f = self.fields
        if self.mrz.get("id_number") and f["id_number"] and self.mrz["id_number"] != f["id_number"]:
            w.append("chip_id_mismatch")
        return w

    @property
    def alarm(self) -> bool:
        return bool({"chip_failed", "clone_suspected"} & set(self.warnings))

    def identity(self) -> PersonIdentity:
        f = self.fields
        return PersonIdentity(document_kind=self.kind, full_name=f["full_name"] or "", date_of_birth=f["date_of_birth"],
                              sex=f["sex"], id_number=f["id_number"], address=f["place_of_residence"])

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, **self.fields, "raw_fields": self.dg13.get("raw", {}), "mrz": self.mrz,
            "access_method": self.access_method, "access_attempts": self.access_attempts,
            "passive_authentication": self.passive_authentication,
            "passive_authentication_reason": self.passive_authentication_reason,
            "document_signer": self.document_signer,
            "chip_authentication": self.chip_authentication,
            "chip_authentication_method": self.chip_authentication_method,
            "secure_messaging": self.secure_messaging, "extended_length": self.extended_length,
            "apdus": self.apdus, "bytes": self.bytes, "apdus_after_access": self.apdus_after_access,
            "bytes_after_access": self.bytes_after_access, "seconds": self.seconds, "file_sizes": self.file_sizes,
            "photo": ({"format": self.photo_format, "size": len(self.photo)} if self.photo is not None else None),
            "warnings": self.warnings,
        }
