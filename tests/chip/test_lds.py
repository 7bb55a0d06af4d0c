"""File parsers on hand-built data in the layouts public readers disagree about."""

from __future__ import annotations

from datetime import date

import pytest

from drivers.chip import lds
from drivers.chip.errors import ParseError
from drivers.chip.reader import Credentials, expiry_candidates
from drivers.chip.tlv import tlv


def field(n: int, value: bytes) -> bytes:
    return tlv(0x30, tlv(0x02, bytes([n])) + value)


def u(s: str, tag: int = 0x0C) -> bytes:
    return tlv(tag, s.encode())


def dg13(*fields: bytes) -> bytes:
    return tlv(0x6D, tlv(0x30, tlv(0x02, b"\x01") + tlv(0x06, bytes.fromhex("28D316010008"))
                         + tlv(0x31, b"".join(fields))))


def test_card_access_constant_is_pace_gm_aes128_on_brainpool_p256():
    (info,) = lds.pace_infos(lds.KNOWN_CARD_ACCESS)
    assert info.oid == bytes.fromhex("04007F00070202040202") and info.version == 2 and info.parameter_id == 13
    oids = [si.oid.hex().upper() for si in lds.security_infos(lds.KNOWN_CARD_ACCESS)]
    assert "04007F00070202030202" in oids  # id-CA-ECDH-AES-CBC-CMAC-128


@pytest.mark.parametrize("parents", [
    # one more SEQUENCE level, both names in it
    field(13, tlv(0x30, u("Nguyễn Văn Bố") + u("Lê Thị Mẹ"))),
    # two more levels, one per parent
    field(13, tlv(0x30, tlv(0x30, u("Nguyễn Văn Bố")) + tlv(0x30, u("Lê Thị Mẹ")))),
    # flat
    field(13, u("Nguyễn Văn Bố") + u("Lê Thị Mẹ")),
])
def test_dg13_parents_at_any_nesting_and_lifetime_card(parents):
    out = lds.parse_dg13(dg13(
        field(1, u("001085012345", 0x13)), field(2, u("Trần Thị Ánh")), field(3, u("02/09/1960", 0x13)),
        field(4, u("Nữ")), field(12, u("Không thời hạn")), parents, field(14, tlv(0x30, b"")),
        field(16, u("ABCDEF0123456789", 0x13)), field(42, tlv(0x04, b"\x01\x02"))))
    assert out["father_name"] == "Nguyễn Văn Bố" and out["mother_name"] == "Lê Thị Mẹ"
    assert (out["date_of_birth"], out["sex"], out["expiry_date"], out["spouse_name"]) == \
        ("1960-09-02", "female", None, None)
    assert out["raw"] == {"16": "ABCDEF0123456789", "42": "04020102"}


def test_dg13_fields_in_any_order_and_bad_dates_refused():
    out = lds.parse_dg13(dg13(field(11, u("20/04/2021")), field(1, u("001085012345"))))
    assert out["issue_date"] == "2021-04-20" and out["id_number"] == "001085012345"
    with pytest.raises(ParseError):
        lds.parse_dg13(dg13(field(3, u("31/02/1990"))))
    with pytest.raises(ParseError):
        lds.parse_dg13(dg13(field(2, tlv(0x0C, b"\xff\xfe"))))


def test_dg1_td1_mrz():
    mrz = "IDVNM0850123452001085012345<<<8503149F2503147VNM<<<<<<<<<<<9NGUYEN<<THI<THU<HUONG<<<<<<<<<"
    m = lds.parse_dg1(tlv(0x61, tlv(0x5F1F, mrz.encode())))
    assert (m.document_number, m.id_number, m.date_of_birth, m.date_of_expiry, m.sex) == \
        ("085012345", "001085012345", "850314", "250314", "female")
    with pytest.raises(ParseError):
        lds.parse_dg1(tlv(0x61, tlv(0x5F1F, mrz[:-1].encode())))


def test_credentials_and_candidates():
    assert Credentials(id_number="001085012345").can == "012345"
    assert expiry_candidates(date(2000, 2, 29), date(2026, 1, 1))[:2] == ["400229", "600229"]
    # 29 February birthdays fall on 1 March in common years
    assert expiry_candidates(date(2000, 2, 29), date(2026, 1, 1))[-2:] == ["250301", "140301"]
