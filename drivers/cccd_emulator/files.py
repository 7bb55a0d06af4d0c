"""The card's files, built from a profile: EF.CardAccess, EF.COM, DG1, DG2, DG13, DG14, DG15, EF.SOD."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from datetime import date

from asn1crypto import algos, cms, core, x509 as a_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as c_ec, padding, rsa

from drivers.chip import lds
from drivers.chip.crypto import check_digit
from drivers.chip.ec import BY_NAME, Curve
from drivers.chip.tlv import tlv
from drivers.cccd_emulator.pki import TestPki
from drivers.cccd_emulator.profile import Profile

CARD_ACCESS = lds.KNOWN_CARD_ACCESS
OID_CA_AES128 = bytes.fromhex("04007F00070202030202")
OID_EC_PUBLIC_KEY = bytes.fromhex("2A8648CE3D0201")
OID_PRIME_FIELD = bytes.fromhex("2A8648CE3D0101")
OID_ECDSA_PLAIN_SHA256 = bytes.fromhex("04007F00070101040103")
LDS_SECURITY_OBJECT = "2.23.136.1.1.1"


def _int(n: int) -> bytes:
    b = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return tlv(0x02, b)


def mrz_name(full_name: str) -> str:
    s = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").upper()
    parts = [p for p in "".join(c if c.isalpha() else " " for c in s).split()]
    text = (parts[0] + "<<" + "<".join(parts[1:])) if parts else ""
    return text[:30].ljust(30, "<")


def yymmdd(iso: str) -> str:
    d = date.fromisoformat(iso)
    return d.strftime("%y%m%d")


def mrz_key(person: dict) -> tuple[str, str, str]:
    """(document number, birth, expiry) as BAC and PACE-MRZ use them."""
    exp = yymmdd(person["expiry_date"]) if person.get("expiry_date") else "991231"
    return person["id_number"][-9:], yymmdd(person["date_of_birth"]), exp


def mrz_lines(person: dict) -> tuple[str, str, str]:
    doc, dob, exp = mrz_key(person)
    l1 = ("IDVNM" + doc + check_digit(doc) + person["id_number"] + "<<<")[:30]
    sex = {"male": "M", "female": "F"}.get(person.get("sex"), "<")
    l2 = dob + check_digit(dob) + sex + exp + check_digit(exp) + "VNM" + "<" * 11
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(composite)
    return l1, l2, mrz_name(person["full_name"])


def _dmy(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def dg13(person: dict, unknown16: str | None) -> bytes:
    def f(n: int, value: bytes) -> bytes:
        return tlv(0x30, _int(n) + value)

    def u(text: str | None) -> bytes:
        return tlv(0x0C, (text or "").encode("utf-8"))

    sex = {"male": "Nam", "female": "Nữ"}.get(person["sex"], person["sex"])
    items = [f(1, tlv(0x13, person["id_number"].encode())), f(2, u(person["full_name"])),
             f(3, tlv(0x13, _dmy(person["date_of_birth"]).encode())), f(4, u(sex)),
             f(5, u(person.get("nationality") or "Việt Nam")), f(6, u(person.get("ethnicity"))),
             f(7, u(person.get("religion"))), f(8, u(person.get("place_of_origin"))),
             f(9, u(person.get("place_of_residence"))), f(10, u(person.get("identifying_marks"))),
             f(11, tlv(0x13, _dmy(person.get("issue_date")).encode())),
             f(12, u(_dmy(person["expiry_date"]) if person.get("expiry_date") else "Không thời hạn")),
             f(13, tlv(0x30, u(person.get("father_name"))) + tlv(0x30, u(person.get("mother_name")))),
             f(14, u(person["spouse_name"]) if person.get("spouse_name") else tlv(0x30, b""))]
    if person.get("old_id_number"):
        items.append(f(15, tlv(0x13, person["old_id_number"].encode())))
    if unknown16:
        items.append(f(16, tlv(0x13, unknown16.encode())))
    body = _int(1) + tlv(0x06, bytes.fromhex("28D316010008")) + tlv(0x31, b"".join(items))
    return tlv(0x6D, tlv(0x30, body))


def explicit_ec_spki(curve_name: str, point: bytes) -> bytes:
    """SubjectPublicKeyInfo with explicit domain parameters, as eMRTD chips write them in DG14."""
    c = BY_NAME[curve_name]
    size = Curve(c).size
    params = tlv(0x30, _int(1) + tlv(0x30, tlv(0x06, OID_PRIME_FIELD) + _int(c.curve.p()))
                 + tlv(0x30, tlv(0x04, (c.curve.a() % c.curve.p()).to_bytes(size, "big"))
                       + tlv(0x04, c.curve.b().to_bytes(size, "big")))
                 + tlv(0x04, Curve(c).encode(c.generator)) + _int(c.order) + _int(1))
    return tlv(0x30, tlv(0x30, tlv(0x06, OID_EC_PUBLIC_KEY) + params) + tlv(0x03, b"\x00" + point))


def dg14(ca_point: bytes | None, aa: bool) -> bytes:
    infos = b""
    if ca_point is not None:
        infos += tlv(0x30, tlv(0x06, OID_CA_AES128) + _int(1))
        infos += tlv(0x30, tlv(0x06, lds.OID_PK_ECDH) + explicit_ec_spki("brainpoolP256r1", ca_point))
    if aa:
        infos += tlv(0x30, tlv(0x06, lds.OID_AA) + _int(1) + tlv(0x06, OID_ECDSA_PLAIN_SHA256))
    # TerminalAuthenticationInfo, as on the real cards
    infos += tlv(0x30, tlv(0x06, bytes.fromhex("04007F0007020202")) + _int(1))
    return tlv(0x6E, tlv(0x31, infos))


def dg15(aa_public) -> bytes:
    return tlv(0x6F, aa_public.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo))


def dg2(size: int) -> bytes:
    """A face record whose image is JPEG-framed filler of `size` bytes (format and size are what matter here)."""
    jpeg = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + os.urandom(max(0, size - 22)) .replace(b"\xff", b"\xfe") + b"\xff\xd9")
    facial = b"FAC\x00" + b"010\x00" + (len(jpeg) + 46).to_bytes(4, "big") + b"\x00\x01" + bytes(36) + jpeg
    bit = tlv(0x7F60, tlv(0xA1, tlv(0x80, b"\x01\x01") + tlv(0x87, b"\x01\x01") + tlv(0x88, b"\x00\x08"))
              + tlv(0x5F2E, facial))
    return tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01") + bit))


def com(dgs: list[int]) -> bytes:
    tags = bytes(t for t, n in sorted(lds.DG_TAGS.items(), key=lambda kv: kv[1]) if n in dgs)
    return tlv(0x60, tlv(0x5F01, b"0107") + tlv(0x5F36, b"040000") + tlv(0x5C, tags))


def dg1(person: dict) -> bytes:
    return tlv(0x61, tlv(0x5F1F, "".join(mrz_lines(person)).encode("ascii")))


def sod(data_groups: dict[int, bytes], pki: TestPki) -> bytes:
    lso = lds.LdsSecurityObject({
        "version": 0, "hash_algorithm": {"algorithm": "sha256"},
        "data_group_hash_values": [{"data_group_number": n, "data_group_hash_value": hashlib.sha256(v).digest()}
                                   for n, v in sorted(data_groups.items())]}).dump()
    attrs = cms.CMSAttributes([
        {"type": "content_type", "values": [LDS_SECURITY_OBJECT]},
        {"type": "message_digest", "values": [hashlib.sha256(lso).digest()]},
    ])
    key = pki.ds_key
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        sig_algo = "sha256_rsa"
    else:
        signature = key.sign(attrs.dump(), c_ec.ECDSA(hashes.SHA256()))
        sig_algo = "sha256_ecdsa"
    ds = a_x509.Certificate.load(pki.ds_cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": ds.issuer, "serial_number": ds.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_algo}),
        "signature": signature,
    })
    sd = cms.SignedData({
        "version": "v3", "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": LDS_SECURITY_OBJECT, "content": core.ParsableOctetString(lso)},
        "certificates": [ds], "signer_infos": [signer],
    })
    return tlv(0x77, cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


@dataclass
class CardFiles:
    files: dict[str, bytes]
    ca_private: int | None  # what the chip really holds (differs from DG14 on a clone)
    aa_private: object | None
    mrz_key: tuple[str, str, str]


def _aa_key(card: dict):
    if card.get("aa_key") == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # the size eMRTD chips use
    return c_ec.generate_private_key(c_ec.BrainpoolP256R1())


def build(profile: Profile, pki: TestPki) -> CardFiles:
    p, c = profile.person, profile.card
    curve = Curve(BY_NAME["brainpoolP256r1"])
    ca_sk = curve.random_scalar() if c["anti_cloning"] == "ca+aa" else None
    aa_sk = _aa_key(c) if c["anti_cloning"] != "none" else None
    files = {"COM": com([1, 2, 3, 13, 14, 15] if aa_sk else [1, 2, 3, 13, 14]), "DG1": dg1(p),
             "DG2": dg2(int(c["photo_bytes"])), "DG13": dg13(p, c.get("unknown_field_16")),
             "DG3": tlv(0x63, b"")}
    ec_aa = isinstance(aa_sk, c_ec.EllipticCurvePrivateKey)  # RSA AA needs no algorithm info in DG14
    files["DG14"] = dg14(curve.encode(curve.mul(ca_sk)) if ca_sk else None, ec_aa)
    if aa_sk is not None:
        files["DG15"] = dg15(aa_sk.public_key())
    dgs = {lds.dg_number(v): v for k, v in files.items() if k.startswith("DG")}
    files["SOD"] = sod(dgs, pki)
    if c["access"] == "pace+bac":
        files["CardAccess"] = CARD_ACCESS
    if c.get("tamper_dg"):
        name = f"DG{int(c['tamper_dg'])}"
        raw = bytearray(files[name])
        raw[-1] = ord("X") if raw[-1] != ord("X") else ord("Y")  # a forged last character, after signing
        files[name] = bytes(raw)
    if c.get("clone"):  # a copy of the signed data on a chip with other keys
        ca_sk = curve.random_scalar() if ca_sk else None
        aa_sk = _aa_key(c) if aa_sk else None
    return CardFiles(files, ca_sk, aa_sk, mrz_key(p))
