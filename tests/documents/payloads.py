"""Hand-built payloads for the document tests (invented people, shapes from identity-documents.md).

The MRZ check digits are computed here independently of kiosk.documents.mrz.
"""

from __future__ import annotations

CCCD_1 = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An|03062021"
CCCD_2 = "040205004321||Lê Văn Bình|02092005|Nam|Khối 12, Phường Hưng Bình, Thành phố Vinh, Nghệ An|15082022"


def cccd(**kw) -> str:
    f = dict(id="040195001234", old="186543210", name="Trần Thị Lan Anh", dob="12051995", sex="Nữ",
             address="Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An", issued="03062021", extra=())
    f.update(kw)
    return "|".join([f["id"], f["old"], f["name"], f["dob"], f["sex"], f["address"], f["issued"], *f["extra"]])


def hx(text: str) -> str:
    return text.encode("utf-8").hex()


def bhyt(layout: str = "new", **kw) -> str:
    """A BHYT QR; the new layout by default (10-digit number, 16 fields), `layout="old"` for 14 fields."""
    if layout == "new":
        f = dict(card="4012345678", name=hx("Phạm Thị Hoa"), dob="07/08/1960", sex="2", address="-",
                 facility="40 - 123", valid_from="01/01/2026", valid_to="-", issued="15/12/2025",
                 management="01014012345678", guardian="-", living="4", five=" 01/01/2021",
                 check="a1b2c3d4e5f6a7b8-7102", level="3", place=hx("Nghệ An"), term="$")
        order = ["card", "name", "dob", "sex", "address", "facility", "valid_from", "valid_to", "issued",
                 "management", "guardian", "living", "five", "check", "level", "place", "term"]
    else:
        f = dict(card="HS4401234567890", name=hx("Lê Văn A"), dob="24/09/2008", sex="1",
                 address=hx("Xóm 2, Xã Nghi Phong, Nghệ An"), facility="40 - 123", valid_from="01/01/2020",
                 valid_to="31/12/2020", issued="20/12/2019", management="01011234567890", guardian="-",
                 living="4", five="01/01/2025", check="4f2a9c1b7d3e5a60-7102", term="$")
        order = ["card", "name", "dob", "sex", "address", "facility", "valid_from", "valid_to", "issued",
                 "management", "guardian", "living", "five", "check", "term"]
    f.update(kw)
    return "|".join(f[k] for k in order if f[k] is not None)


# --- MRZ --------------------------------------------------------------------------------------------

def cd(text: str) -> str:
    values = {**{str(i): i for i in range(10)}, "<": 0, **{chr(65 + i): 10 + i for i in range(26)}}
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


def mrz(id_number: str = "001090012345", dob: str = "900101", sex: str = "M", expiry: str = "300101",
        name: str = "NGUYEN<<VAN<AN", state: str = "VNM", nationality: str = "VNM", sep: str = "\n",
        corrupt: str | None = None) -> str:
    """A TD1 MRZ with correct check digits, unless `corrupt` names the one to get wrong."""
    number = id_number[3:] if id_number else "123456789"
    digits = {"document_number": cd(number), "id_number": cd(id_number) if id_number else "<",
              "date_of_birth": cd(dob), "expiry_date": cd(expiry)}
    if corrupt in digits:
        digits[corrupt] = str((int(digits[corrupt]) + 1) % 10)
    optional = (id_number + "<<" + digits["id_number"]) if id_number else "<" * 15
    l1 = "ID" + state + number + digits["document_number"] + optional
    l2 = dob + digits["date_of_birth"] + sex + expiry + digits["expiry_date"] + nationality + "<" * 11
    composite = cd(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    if corrupt == "composite":
        composite = str((int(composite) + 1) % 10)
    l2 += composite
    l3 = name.ljust(30, "<")
    assert len(l1) == len(l2) == len(l3) == 30, (l1, l2, l3)
    return sep.join([l1, l2, l3])


MRZ_REFERENCE = ("IDVNM0900123450001090012345<<1\n"
                 "9001011M3001019VNM<<<<<<<<<<<2\n"
                 "NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<")
