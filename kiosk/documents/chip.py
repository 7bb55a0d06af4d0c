"""A read of the CCCD chip: what the card says (DG1 MRZ + DG13) and whether it is genuine.

Built by drivers.chip.reader; the core only sees this type. `warnings`
carries `chip_failed` / `clone_suspected`, which the check-in service records
as flags on the visit. The photo (DG2) stays in memory and never appears in
`to_json()`.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

from kiosk.domain import PersonIdentity

KIND = "cccd_chip"


class ChipMrz(TypedDict, total=False):
    """DG1 as drivers.chip.lds gives it: the MRZ fields as printed (dates yymmdd, name without diacritics).

    total=False: a partial or hostile read may lack any of them.
    """

    document_code: str
    issuing_state: str
    document_number: str
    id_number: str | None
    date_of_birth: str
    sex: str | None
    date_of_expiry: str
    nationality: str
    name: str


class ChipPerson(TypedDict):
    """The person as the chip states them; None where the card is silent.

    Dates are ISO; `expiry_date` None is a lifetime card or no DG13.
    """

    id_number: str | None
    full_name: str | None
    date_of_birth: str | None
    sex: str | None
    nationality: str | None
    ethnicity: str | None
    religion: str | None
    place_of_origin: str | None
    place_of_residence: str | None
    identifying_marks: str | None
    issue_date: str | None
    expiry_date: str | None
    father_name: str | None
    mother_name: str | None
    spouse_name: str | None
    old_id_number: str | None


IDENTITY_FIELDS: tuple[str, ...] = tuple(ChipPerson.__annotations__)


class Dg13(TypedDict, total=False):
    """DG13 as drivers.chip.lds gives it: the person's fields, and field numbers it does not know under `raw`.

    total=False: a card without DG13 gives `{}`.
    """

    id_number: str | None
    full_name: str | None
    date_of_birth: str | None
    sex: str | None
    nationality: str | None
    ethnicity: str | None
    religion: str | None
    place_of_origin: str | None
    place_of_residence: str | None
    identifying_marks: str | None
    issue_date: str | None
    expiry_date: str | None
    father_name: str | None
    mother_name: str | None
    spouse_name: str | None
    old_id_number: str | None
    raw: dict[str, str]  # field number → text, or hex when it is not one string


class AccessAttempt(TypedDict):
    method: str  # "pace-can" | "pace-mrz" | "bac"
    result: str  # "ok" | "refused"


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
    mrz: ChipMrz
    dg13: Dg13
    passive_authentication: str  # "verified" | "no_trust_anchor" | "failed"
    chip_authentication: str  # "genuine" | "clone_suspected" | "not_supported"
    apdus: int
    bytes: int  # named as in the JSON; annotations below say builtins.bytes for the type
    access_attempts: list[AccessAttempt] = field(default_factory=list)
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
    photo: builtins.bytes | None = field(default=None, repr=False)  # memory only: shown, never stored
    kind: str = KIND

    @property
    def fields(self) -> ChipPerson:
        """The person, DG13 first, the MRZ filling what DG13 lacks."""
        d, m = self.dg13, self.mrz
        birth = d.get("date_of_birth")
        if not birth and (mrz_birth := m.get("date_of_birth")):
            birth = _mrz_date(mrz_birth, past=True)
        return {"id_number": d.get("id_number") or m.get("id_number"), "full_name": d.get("full_name") or m.get("name"),
                "date_of_birth": birth, "sex": d.get("sex") or m.get("sex"), "nationality": d.get("nationality"),
                "ethnicity": d.get("ethnicity"), "religion": d.get("religion"),
                "place_of_origin": d.get("place_of_origin"), "place_of_residence": d.get("place_of_residence"),
                "identifying_marks": d.get("identifying_marks"), "issue_date": d.get("issue_date"),
                "expiry_date": d.get("expiry_date"), "father_name": d.get("father_name"),
                "mother_name": d.get("mother_name"), "spouse_name": d.get("spouse_name"),
                "old_id_number": d.get("old_id_number")}

    @property
    def warnings(self) -> list[str]:
        w: list[str] = []
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

    def to_json(self) -> dict[str, object]:
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
