"""Hand-written cases for the three kinds, including every trap in identity-documents.md.

Each row: an id, the payload (str or bytes), and either the fields expected in
`to_json()` (plus `_warnings` for the document's warning codes) or an Err with
the text the one-line reason must contain.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pytest

from kiosk import documents
from kiosk.documents import ParseError
from tests.documents.payloads import CCCD_1, CCCD_2, MRZ_REFERENCE, bhyt, cccd, hx, mrz


@dataclass(frozen=True)
class Err:
    text: str
    field: str | None = None


NFD_NAME = unicodedata.normalize("NFD", "Trần Thị Lan Anh")
LONG = "A" * 10_000

CASES = [
    # --- CCCD / Căn cước QR -------------------------------------------------------------------------
    ("cccd-reference-sample", CCCD_1, {
        "kind": "cccd_qr", "id_number": "040195001234", "old_id_number": "186543210",
        "full_name": "Trần Thị Lan Anh", "date_of_birth": "1995-05-12", "sex": "female",
        "address": "Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An", "issue_date": "2021-06-03",
        "extra_fields": [], "warnings": []}),
    ("cccd-empty-old-id-not-collapsed", CCCD_2, {
        "id_number": "040205004321", "old_id_number": None, "full_name": "Lê Văn Bình",
        "date_of_birth": "2005-09-02", "sex": "male", "issue_date": "2022-08-15", "warnings": []}),
    ("cccd-collapsed-empty-field-is-refused", CCCD_2.replace("||", "|"), Err("expected 7 to 11 fields")),
    ("cccd-scanner-crlf", CCCD_1 + "\r\n", {"issue_date": "2021-06-03", "warnings": []}),
    ("cccd-scanner-cr", (CCCD_1 + "\r").encode(), {"id_number": "040195001234"}),
    ("cccd-stray-spaces", cccd(id=" 040195001234 ", name="  Trần Thị Lan Anh ", dob=" 12051995", sex=" Nữ "),
     {"id_number": "040195001234", "full_name": "Trần Thị Lan Anh", "sex": "female"}),
    ("cccd-nfd-becomes-nfc", cccd(name=NFD_NAME, sex=unicodedata.normalize("NFD", "Nữ")).encode(),
     {"full_name": "Trần Thị Lan Anh", "sex": "female"}),
    ("cccd-utf8-bom", ("\ufeff" + CCCD_1).encode(), {"id_number": "040195001234"}),
    ("cccd-slash-date-is-wrong", cccd(dob="12/05/1995"), Err("ddmmyyyy (no separators", "date_of_birth")),
    ("cccd-not-a-calendar-date", cccd(dob="31021995"), Err("not a real calendar date", "date_of_birth")),
    ("cccd-issue-date-checked", cccd(issued="00062021"), Err("not a real calendar date", "issue_date")),
    ("cccd-8-fields-extra-kept-raw", cccd(extra=["Trần Văn Cha"]),
     {"extra_fields": ["Trần Văn Cha"], "warnings": []}),
    ("cccd-11-fields", cccd(extra=["a", "", "Nguyễn Thị Mẹ", "040195001233"]),
     {"extra_fields": ["a", "", "Nguyễn Thị Mẹ", "040195001233"]}),
    ("cccd-12-fields-refused", cccd(extra=["1", "2", "3", "4", "5"]), Err("expected 7 to 11 fields")),
    ("cccd-10000-char-name", cccd(name=LONG), Err("at most 100 characters", "full_name")),
    ("cccd-10000-char-address", cccd(address=LONG), Err("at most 300 characters", "address")),
    ("cccd-11-digit-id", cccd(id="04019500123"), Err("expected 12 digits", "id_number")),
    ("cccd-non-ascii-digits-in-id", cccd(id="٠٤٠١٩٥٠٠١٢٣٤"), Err("expected 12 digits", "id_number")),
    ("cccd-8-digit-old-id", cccd(old="18654321"), Err("9 digits", "old_id_number")),
    ("cccd-sex-without-diacritics", cccd(sex="Nu"), Err("expected 'Nam' or 'Nữ'", "sex")),
    ("cccd-sex-any-case", cccd(sex="NỮ"), {"sex": "female"}),
    ("cccd-digits-in-name-flagged", cccd(name="Người Thử 3"), {"full_name": "Người Thử 3",
                                                               "warnings": ["name_has_digits"]}),
    ("cccd-symbol-in-name", cccd(name="Trần@Anh"), Err("expected letters and spaces, found '@'", "full_name")),
    ("cccd-id-says-male", cccd(id="040095001234"), {"sex": "female", "warnings": ["id_sex_mismatch"]}),
    ("cccd-id-says-2000s", cccd(id="040395001234"), {"warnings": ["id_century_mismatch"]}),
    ("cccd-id-birth-year-disagrees", cccd(id="040196001234"), {"warnings": ["id_birth_year_mismatch"]}),
    ("cccd-unknown-province", cccd(id="003195001234"), {"warnings": ["id_province_unknown"]}),
    ("cccd-issued-before-birth", cccd(issued="01011990"), {"warnings": ["issue_date_before_birth"]}),
    ("cccd-tab-inside-field", cccd(address="Xóm 3\tNghi Phong"), Err("control character", "address")),

    # --- BHYT QR --------------------------------------------------------------------------------------
    ("bhyt-new-layout", bhyt(), {
        "kind": "bhyt_qr", "card_number": "4012345678", "beneficiary_group": None, "benefit_level": 3,
        "province_code": None, "social_insurance_number": "4012345678", "full_name": "Phạm Thị Hoa",
        "date_of_birth": "1960-08-07", "sex": "female", "address": None, "facility_code": "40123",
        "valid_from": "2026-01-01", "valid_to": None, "issue_date": "2025-12-15",
        "management_code": "01014012345678", "guardian_name": None, "living_area": None,
        "five_year_date": "2021-01-01", "check_string": "a1b2c3d4e5f6a7b8-7102", "issuing_place": "Nghệ An",
        "warnings": []}),
    ("bhyt-old-layout-15-char-code", bhyt("old"), {
        "card_number": "HS4401234567890", "beneficiary_group": "HS", "benefit_level": 4, "province_code": "40",
        "social_insurance_number": "1234567890", "full_name": "Lê Văn A", "date_of_birth": "2008-09-24",
        "sex": "male", "address": "Xóm 2, Xã Nghi Phong, Nghệ An", "valid_to": "2020-12-31",
        "issuing_place": None, "warnings": []}),
    ("bhyt-hash-terminator", bhyt(term="#"), {"card_number": "4012345678"}),
    ("bhyt-en-dash-in-facility", bhyt(facility="40 – 123"), {"facility_code": "40123"}),
    ("bhyt-facility-without-spaces", bhyt("old", facility="79-034"), {"facility_code": "79034"}),
    ("bhyt-facility-garbled", bhyt(facility="40 . 123"), Err("'PP - FFF'", "facility_code")),
    ("bhyt-name-odd-hex", bhyt(name=hx("Phạm Thị Hoa")[:-1]), Err("hex-encoded UTF-8", "full_name")),
    ("bhyt-name-hex-not-utf8", bhyt(name="c328"), Err("does not decode to UTF-8", "full_name")),
    ("bhyt-name-plain-text", bhyt(name="Phạm Thị Hoa"), Err("hex-encoded UTF-8", "full_name")),
    ("bhyt-name-hex-uppercase-nfd", bhyt(name=hx(unicodedata.normalize("NFD", "Phạm Thị Hoa")).upper()),
     {"full_name": "Phạm Thị Hoa"}),
    ("bhyt-year-only-birth", bhyt(dob="1960"), {"date_of_birth": "1960"}),
    ("bhyt-birth-date-garbled", bhyt(dob="07-08-1960"), Err("dd/mm/yyyy or yyyy", "date_of_birth")),
    ("bhyt-five-year-leading-space", bhyt(five="  05/06/2019"), {"five_year_date": "2019-06-05"}),
    ("bhyt-living-area-k2", bhyt(living="6"), {"living_area": "K2"}),
    ("bhyt-living-area-unknown", bhyt(living="9"), Err("4 (none), 5 (K1)", "living_area")),
    ("bhyt-unknown-group", bhyt("old", card="ZZ4401234567890"), Err("not in the BHYT group table", "card_number")),
    ("bhyt-lowercase-code", bhyt("old", card="hs4401234567890"), {"card_number": "HS4401234567890"}),
    ("bhyt-group-level-disagree", bhyt("old", card="HS1401234567890"),
     {"beneficiary_group": "HS", "benefit_level": 1, "warnings": ["bhyt_group_level_mismatch"]}),
    ("bhyt-ct-either-level", bhyt("old", card="CT2401234567890"), {"benefit_level": 2, "warnings": []}),
    ("bhyt-card-code-level-6", bhyt("old", card="HS6401234567890"), Err("must be 1 to 5", "card_number")),
    ("bhyt-new-layout-15-char-code-level-disagrees", bhyt(card="HS4401234567890", management="01011234567890",
                                                           level="3"),
     {"beneficiary_group": "HS", "benefit_level": 3,
      "warnings": ["bhyt_level_mismatch", "bhyt_group_level_mismatch"]}),
    ("bhyt-management-code-other-number", bhyt(management="01019999999999"),
     {"warnings": ["bhyt_management_code_mismatch"]}),
    ("bhyt-management-code-short", bhyt(management="0101401234567"), Err("14 digits", "management_code")),
    ("bhyt-guardian-hex", bhyt(guardian=hx("Phạm Văn Bố")), {"guardian_name": "Phạm Văn Bố", "warnings": []}),
    ("bhyt-guardian-plain-kept", bhyt(guardian="Phạm Văn Bố"),
     {"guardian_name": "Phạm Văn Bố", "warnings": ["bhyt_guardian_name_not_hex"]}),
    ("bhyt-check-string-kept-raw", bhyt(check="ZZZ"), {"check_string": "ZZZ",
                                                      "warnings": ["bhyt_check_string_unusual"]}),
    ("bhyt-missing-terminator", bhyt(term=None), Err("'$' (or '#') as the last field")),
    ("bhyt-terminator-glued", bhyt(check="a1b2c3d4e5f6a7b8-7102", place=hx("Nghệ An") + "$", term=None),
     {"issuing_place": "Nghệ An"}),
    ("bhyt-15-fields", bhyt(place=None), Err("expected 14 fields (old card) or 16")),
    ("bhyt-digits-in-name-flagged", bhyt(name=hx("Phạm Thị 2")), {"warnings": ["name_has_digits"]}),
    ("bhyt-sex-3", bhyt(sex="3"), Err("1 (male) or 2 (female)", "sex")),
    ("bhyt-10000-hex-name", bhyt(name="41" * 5000), Err("at most 100 characters", "full_name")),
    ("bhyt-valid-to-before-from", bhyt(valid_to="31/12/2025"), {"warnings": ["bhyt_valid_to_before_from"]}),
    ("bhyt-expired-date-not-real", bhyt(valid_from="29/02/2025"), Err("not a real calendar date", "valid_from")),
    ("bhyt-crlf-after-terminator", (bhyt() + "\r\n").encode(), {"card_number": "4012345678"}),

    # --- TD1 MRZ --------------------------------------------------------------------------------------
    ("mrz-reference-example", MRZ_REFERENCE, {
        "kind": "mrz_td1", "document_number": "090012345", "id_number": "001090012345",
        "date_of_birth": "1990-01-01", "sex": "male", "expiry_date": "2030-01-01", "surname": "NGUYEN",
        "given_names": "VAN AN", "check_digits_ok": True, "_warnings": []}),
    ("mrz-one-90-char-string", MRZ_REFERENCE.replace("\n", ""), {"id_number": "001090012345"}),
    ("mrz-crlf-and-spaces", "  " + MRZ_REFERENCE.replace("\n", " \r\n") + "\r\n", {"surname": "NGUYEN"}),
    ("mrz-bad-document-number-digit", mrz(corrupt="document_number"), Err("document_number check digit")),
    ("mrz-bad-id-digit", mrz(corrupt="id_number"), Err("id_number check digit")),
    ("mrz-bad-birth-digit", mrz(corrupt="date_of_birth"), Err("date_of_birth check digit")),
    ("mrz-bad-expiry-digit", mrz(corrupt="expiry_date"), Err("expiry_date check digit")),
    ("mrz-bad-composite-digit", mrz(corrupt="composite"), Err("composite check digit")),
    ("mrz-lifetime-card", mrz(id_number="040160001234", dob="600315", expiry="991231"),
     {"date_of_birth": "1960-03-15", "expiry_date": None}),
    ("mrz-century-from-id-2000s", mrz(id_number="040305001234", dob="050702", sex="F", expiry="300702"),
     {"date_of_birth": "2005-07-02", "sex": "female", "expiry_date": "2030-07-02", "_warnings": []}),
    ("mrz-century-from-id-1900s", mrz(id_number="040005001234", dob="050702", expiry="991231"),
     {"date_of_birth": "1905-07-02"}),
    ("mrz-expiry-century-after-birth", mrz(id_number="040199001234", dob="991120", sex="F", expiry="241120"),
     {"date_of_birth": "1999-11-20", "expiry_date": "2024-11-20", "_warnings": []}),
    ("mrz-expiry-not-a-card-age", mrz(expiry="310101"),
     {"expiry_date": "2031-01-01", "_warnings": ["mrz_expiry_not_at_card_age"]}),
    ("mrz-id-sex-disagrees", mrz(sex="F"), {"sex": "female", "_warnings": ["id_sex_mismatch"]}),
    ("mrz-no-id-century-from-expiry", mrz(id_number="", dob="900101", expiry="300101"),
     {"id_number": None, "document_number": "123456789", "date_of_birth": "1990-01-01", "_warnings": []}),
    ("mrz-no-id-born-2005", mrz(id_number="", dob="050702", sex="F", expiry="300702"),
     {"date_of_birth": "2005-07-02", "expiry_date": "2030-07-02"}),
    ("mrz-no-id-lifetime", mrz(id_number="", dob="600315", expiry="991231"),
     {"date_of_birth": "1960-03-15", "expiry_date": None}),
    ("mrz-two-lines", "\n".join(MRZ_REFERENCE.splitlines()[:2]), Err("expected 3 lines of 30")),
    ("mrz-short-line", MRZ_REFERENCE.replace("<<<<<<<<<<<2", "<<<<<<<<<<2"), Err("expected 3 lines of 30")),
    ("mrz-other-country", mrz(state="UTO"), Err("'VNM'", "issuing_state")),
    ("mrz-lowercase-from-keyboard-wedge", MRZ_REFERENCE.lower(), {"surname": "NGUYEN"}),
    ("mrz-many-given-names", mrz(name="TRAN<<THI<LAN<ANH"), {"surname": "TRAN", "given_names": "THI LAN ANH"}),
    ("mrz-birth-date-not-real", mrz(id_number="040195001234", dob="950230", expiry="200230"),
     Err("not a real calendar date", "date_of_birth")),

    # --- anything else --------------------------------------------------------------------------------
    ("empty-bytes", b"", Err("payload: empty")),
    ("only-crlf-and-spaces", "  \r\n", Err("payload: empty")),
    ("binary-junk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Err("expected UTF-8 text")),
    ("nul-in-text", CCCD_1.replace("|Nữ|", "|N\x00|"), Err("control character")),
    ("latin1-not-guessed", CCCD_1.encode("utf-8").replace("Trần".encode(), "Tr\xe2n".encode("latin-1")),
     Err("expected UTF-8 text")),
    ("url", "https://example.invalid/not-a-card?x=1|2", Err("URL")),
    ("eu-health-certificate", "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IUKRG*I.I5BROCWAAT4V22F/8X*G3M9JUPY0BX",
     Err("not a CCCD QR, BHYT QR or TD1 MRZ")),
    ("vcard", "BEGIN:VCARD\nVERSION:3.0\nFN:Someone\nEND:VCARD", Err("not a CCCD QR")),
    ("three-fields", "a|b|c", Err("expected 7 to 11 fields")),
    ("combining-mark-flood", "a" + "\u0323\u0301" * 5000 + "|" * 6, Err("combining marks in a row")),
    ("long-decomposed-text", cccd(address=unicodedata.normalize("NFD", "Xóm ") * 5000),
     Err("characters of decomposed (NFD) text")),
    ("payload-over-64-kib", b"0" * (64 * 1024 + 1), Err("at most 65536 bytes")),
]


@pytest.mark.parametrize("payload, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(payload, expected):
    if isinstance(expected, Err):
        with pytest.raises(ParseError) as info:
            documents.parse(payload)
        message = str(info.value)
        assert expected.text in message, message
        assert "\n" not in message
        if expected.field:
            assert info.value.field == expected.field or message.startswith(expected.field) \
                or f" {expected.field} " in message, message
        return
    doc = documents.parse(payload)
    data = doc.to_json()
    for key, value in expected.items():
        if key == "_warnings":
            assert doc.warnings == value
        else:
            assert data[key] == value, key


def test_enough_hand_written_cases():
    kinds = {c[0].split("-")[0] for c in CASES}
    assert len(CASES) >= 40 and {"cccd", "bhyt", "mrz"} <= kinds
