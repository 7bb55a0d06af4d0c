"""Parsers for the chip's files: EF.CardAccess, EF.COM, DG1, DG2, DG13, DG14, DG15, EF.SOD.

Everything walks the TLV/ASN.1 structure; any malformed input raises
`ParseError` (a ChipError), never a bare IndexError/ValueError.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

from asn1crypto import cms, core

from cryptography.hazmat.primitives.serialization import load_der_public_key

from drivers.chip import ec, tlv
from drivers.chip.errors import ParseError

# File identifiers: (short EF identifier, FID)
FILES = {
    "COM": (0x1E, 0x011E), "DG1": (0x01, 0x0101), "DG2": (0x02, 0x0102), "DG3": (0x03, 0x0103),
    "DG13": (0x0D, 0x010D), "DG14": (0x0E, 0x010E), "DG15": (0x0F, 0x010F), "SOD": (0x1D, 0x011D),
    "CardAccess": (0x1C, 0x011C),
}
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x6D: 13, 0x6E: 14, 0x6F: 15}
# The cards' EF.CardAccess as published by several public readers (cccd-chip.md); used only when the read fails.
KNOWN_CARD_ACCESS = bytes.fromhex(
    "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d")

OID_PACE_PREFIX = bytes.fromhex("04007F000702020402")
OID_CA_ECDH_PREFIX = bytes.fromhex("04007F000702020302")
OID_PK_ECDH = bytes.fromhex("04007F000702020102")
OID_AA = bytes.fromhex("678108010105")  # 2.23.136.1.1.5
CA_OIDS = {bytes.fromhex("04007F00070202030202"): ("aes", 128), bytes.fromhex("04007F00070202030203"): ("aes", 192),
           bytes.fromhex("04007F00070202030204"): ("aes", 256), bytes.fromhex("04007F00070202030201"): ("3des", 128)}


def _int(v: bytes) -> int:
    if not v or len(v) > 8:
        raise ParseError("INTEGER of bad size")
    return int.from_bytes(v, "big")


# -- SecurityInfos (EF.CardAccess, DG14) ------------------------------------

@dataclass(frozen=True)
class SecurityInfo:
    oid: bytes
    version: int | None
    extra: list[tuple[int, bytes]]


def security_infos(data: bytes) -> list[SecurityInfo]:
    out = []
    for tag, body in tlv.parse(tlv.unwrap(data, 0x31) if data[:1] == b"\x31" else data):
        if tag != 0x30:
            raise ParseError("SecurityInfo is not a SEQUENCE")
        parts = tlv.parse(body)
        if not parts or parts[0][0] != 0x06:
            raise ParseError("SecurityInfo without an OID")
        version = _int(parts[1][1]) if len(parts) > 1 and parts[1][0] == 0x02 else None
        out.append(SecurityInfo(parts[0][1], version, parts[2:] if version is not None else parts[1:]))
    return out


@dataclass(frozen=True)
class PaceInfo:
    oid: bytes
    version: int
    parameter_id: int


def pace_infos(card_access: bytes) -> list[PaceInfo]:
    out = []
    for si in security_infos(card_access):
        if si.oid.startswith(OID_PACE_PREFIX) and len(si.oid) == len(OID_PACE_PREFIX) + 1:
            pid = _int(si.extra[0][1]) if si.extra and si.extra[0][0] == 0x02 else None
            if pid is not None:
                out.append(PaceInfo(si.oid, si.version or 0, pid))
    return out


# -- EF.COM, DG1 ------------------------------------------------------------

def com_tags(data: bytes) -> list[int]:
    """Data-group numbers EF.COM lists."""
    body = tlv.unwrap(data, 0x60)
    taglist = tlv.find(body, 0x5C)
    if taglist is None:
        raise ParseError("EF.COM has no tag list")
    return sorted(DG_TAGS[t] for t in taglist if t in DG_TAGS)


@dataclass(frozen=True)
class Mrz:
    document_code: str
    issuing_state: str
    document_number: str
    optional_data_1: str
    date_of_birth: str  # yymmdd
    sex: str | None
    date_of_expiry: str  # yymmdd
    nationality: str
    name: str
    lines: tuple[str, str, str]

    @property
    def id_number(self) -> str | None:
        m = re.match(r"([0-9]{12})", self.optional_data_1, re.ASCII)
        return m.group(1) if m else None

    def to_json(self) -> dict:
        return {"document_code": self.document_code, "issuing_state": self.issuing_state,
                "document_number": self.document_number, "id_number": self.id_number,
                "date_of_birth": self.date_of_birth, "sex": self.sex, "date_of_expiry": self.date_of_expiry,
                "nationality": self.nationality, "name": self.name}


def parse_td1(text: str) -> Mrz:
    text = text.replace("\r", "").replace("\n", "").strip()
    if len(text) != 90 or not re.fullmatch(r"[A-Z0-9<]{90}", text):
        raise ParseError(f"MRZ: expected 90 characters A-Z 0-9 <, got {len(text)}")
    l1, l2, l3 = text[:30], text[30:60], text[60:]
    sex = {"M": "male", "F": "female"}.get(l2[7])
    return Mrz(l1[:2].rstrip("<"), l1[2:5], l1[5:14].rstrip("<"), l1[15:30].rstrip("<"), l2[:6], sex, l2[8:14],
               l2[15:18], l3.replace("<<", ", ").replace("<", " ").strip(" ,"), (l1, l2, l3))


def parse_dg1(data: bytes) -> Mrz:
    body = tlv.unwrap(data, 0x61)
    mrz = tlv.find(body, 0x5F1F)
    if mrz is None:
        raise ParseError("DG1 has no MRZ (5F1F)")
    try:
        return parse_td1(mrz.decode("ascii"))
    except UnicodeDecodeError:
        raise ParseError("DG1 MRZ is not ASCII") from None


# -- DG2 --------------------------------------------------------------------

def photo_of(dg2: bytes) -> tuple[str, bytes]:
    """(format, image bytes) of the face in DG2: 'jpeg' or 'jpeg2000'."""
    tlv.unwrap(dg2, 0x75)
    for sig, fmt, end in ((b"\xff\xd8\xff", "jpeg", b"\xff\xd9"),
                          (b"\x00\x00\x00\x0cjP  ", "jpeg2000", None), (b"\xff\x4f\xff\x51", "jpeg2000", None)):
        i = dg2.find(sig)
        if i >= 0:
            j = dg2.rfind(end) + 2 if end and dg2.rfind(end) > i else len(dg2)
            return fmt, dg2[i:j]
    raise ParseError("DG2 holds no JPEG or JPEG 2000 image")


# -- DG13 -------------------------------------------------------------------

DG13_FIELDS = {1: "id_number", 2: "full_name", 3: "date_of_birth", 4: "sex", 5: "nationality", 6: "ethnicity",
               7: "religion", 8: "place_of_origin", 9: "place_of_residence", 10: "identifying_marks",
               11: "issue_date", 12: "expiry_date", 15: "old_id_number"}
DG13_OUTPUT = ("id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
               "place_of_origin", "place_of_residence", "identifying_marks", "issue_date", "expiry_date",
               "father_name", "mother_name", "spouse_name", "old_id_number")
_SEX = {"nam": "male", "nữ": "female", "nu": "female"}


def _strings(data: bytes) -> list[str]:
    """Every UTF8String/PrintableString in `data`, depth first, in order."""
    out = []
    for tag, v in tlv.parse(data):
        if tag in (0x0C, 0x13, 0x16):
            try:
                out.append(v.decode("utf-8"))
            except UnicodeDecodeError:
                raise ParseError("DG13 text is not UTF-8") from None
        elif tag & 0x20:  # constructed
            out.extend(_strings(v))
    return out


def _iso_date(text: str, name: str) -> str | None:
    t = text.strip()
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", t, re.ASCII) or re.fullmatch(r"(\d{2})(\d{2})(\d{4})", t, re.ASCII)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        raise ParseError(f"DG13 {name}: {t!r} is not a calendar date") from None


def parse_dg13(data: bytes) -> dict:
    """DG13 as the reader's output names; unknown field numbers are kept raw (hex) under `raw`."""
    body = tlv.unwrap(data, 0x6D)
    seq = tlv.unwrap(body, 0x30)
    parts = tlv.parse(seq)
    fields_set = next((v for t, v in parts if t == 0x31), None)
    if fields_set is None:
        raise ParseError("DG13 has no SET of fields")
    out: dict = {k: None for k in DG13_OUTPUT}
    raw: dict[str, str] = {}
    for tag, item in tlv.parse(fields_set):
        if tag != 0x30:
            raise ParseError("DG13 field is not a SEQUENCE")
        inner = tlv.parse(item)
        if not inner or inner[0][0] != 0x02:
            raise ParseError("DG13 field without its number")
        n = _int(inner[0][1])
        rest = b"".join(tlv.tlv(t, v) for t, v in inner[1:])
        strings = _strings(rest)
        if n in DG13_FIELDS:
            out[DG13_FIELDS[n]] = strings[0] if strings else None
        elif n == 13:
            out["father_name"] = strings[0] if strings else None
            out["mother_name"] = strings[1] if len(strings) > 1 else None
        elif n == 14:
            out["spouse_name"] = strings[0] if strings else None
        else:
            raw[str(n)] = strings[0] if len(strings) == 1 else rest.hex()
    for k in ("date_of_birth", "issue_date"):
        if out[k] is not None:
            iso = _iso_date(out[k], k)
            if iso is None:
                raise ParseError(f"DG13 {k}: expected dd/mm/yyyy")
            out[k] = iso
    if out["expiry_date"] is not None:
        out["expiry_date"] = _iso_date(out["expiry_date"], "expiry_date")  # "Không thời hạn" → None (lifetime)
    if out["sex"] is not None:
        out["sex"] = _SEX.get(out["sex"].strip().lower(), out["sex"])
    for k in DG13_OUTPUT:
        if isinstance(out[k], str) and not out[k].strip():
            out[k] = None
    out["raw"] = raw
    return out


# -- DG14 / DG15 -------------------------------------------------------------

@dataclass(frozen=True)
class ChipAuthInfo:
    oid: bytes
    key_id: int | None
    public_key: bytes  # uncompressed point
    curve: str


def _curve_from_params(params_tag: int, params: bytes) -> str:
    if params_tag == 0x06:
        names = {bytes.fromhex("2B2403030208010107"): "brainpoolP256r1", bytes.fromhex("2A8648CE3D030107"): "secp256r1",
                 bytes.fromhex("2B240303020801010B"): "brainpoolP384r1", bytes.fromhex("2B81040022"): "secp384r1"}
        if params not in names:
            raise ParseError("DG14 key on an unsupported named curve")
        return names[params]
    if params_tag == 0x30:  # explicit ECParameters: identify by the prime
        parts = tlv.parse(params)
        try:
            field_id = tlv.parse(parts[1][1])
            prime = int.from_bytes(field_id[1][1], "big")
        except IndexError:
            raise ParseError("DG14 explicit curve parameters truncated") from None
        for name, c in ec.BY_NAME.items():
            if c.curve.p() == prime:
                return name
        raise ParseError("DG14 key on unknown explicit curve parameters")
    raise ParseError("DG14 key has no curve parameters")


def _spki_point(spki: bytes) -> tuple[bytes, str]:
    body = tlv.unwrap(spki, 0x30)
    parts = tlv.parse(body)
    if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x03:
        raise ParseError("public key info is not SEQUENCE{alg, BIT STRING}")
    alg = tlv.parse(parts[0][1])
    if len(alg) < 2:
        raise ParseError("public key algorithm has no parameters")
    curve = _curve_from_params(alg[1][0], alg[1][1])
    bits = parts[1][1]
    if not bits or bits[0] != 0:
        raise ParseError("public key BIT STRING has unused bits")
    return bits[1:], curve


def parse_dg14(data: bytes) -> dict:
    infos = security_infos(tlv.unwrap(data, 0x6E))
    ca_infos, keys, aa = [], [], None
    for si in infos:
        if si.oid in CA_OIDS:
            kid = _int(si.extra[0][1]) if si.extra and si.extra[0][0] == 0x02 else None
            ca_infos.append((si.oid, kid))
        elif si.oid == OID_PK_ECDH:
            # ChipAuthenticationPublicKeyInfo: OID, SubjectPublicKeyInfo, [keyId]
            raw = si.extra
            if not raw or raw[0][0] != 0x30:
                raise ParseError("ChipAuthenticationPublicKeyInfo without a key")
            point, curve = _spki_point(tlv.tlv(0x30, raw[0][1]))
            kid = _int(raw[1][1]) if len(raw) > 1 and raw[1][0] == 0x02 else None
            keys.append((point, curve, kid))
        elif si.oid == OID_AA:
            aa = tlv.find(b"".join(tlv.tlv(t, v) for t, v in si.extra), 0x06)
    ca = None
    if ca_infos and keys:
        oid, kid = ca_infos[0]
        point, curve, _ = next((k for k in keys if kid is None or k[2] in (None, kid)), keys[0])
        ca = ChipAuthInfo(oid, kid, point, curve)
    return {"chip_authentication": ca, "aa_signature_oid": aa}


def parse_dg15(data: bytes):
    spki = tlv.unwrap(data, 0x6F)
    try:
        return load_der_public_key(spki)
    except (ValueError, TypeError) as e:
        raise ParseError(f"DG15 public key: {e}") from None


# -- EF.SOD -----------------------------------------------------------------

class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashes(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsSecurityObject(core.Sequence):
    _fields = [("version", core.Integer), ("hash_algorithm", cms.DigestAlgorithm),
               ("data_group_hash_values", DataGroupHashes)]


HASHES = {"sha1": hashlib.sha1, "sha224": hashlib.sha224, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
          "sha512": hashlib.sha512}


@dataclass
class Sod:
    signed_data: cms.SignedData
    hash_algorithm: str
    hashes: dict[int, bytes] = field(default_factory=dict)
    econtent: bytes = b""


def parse_sod(data: bytes) -> Sod:
    body = tlv.unwrap(data, 0x77)
    try:
        ci = cms.ContentInfo.load(body, strict=True)
        if ci["content_type"].native != "signed_data":
            raise ParseError("EF.SOD is not CMS SignedData")
        sd = ci["content"]
        econtent = sd["encap_content_info"]["content"].native
        if not isinstance(econtent, bytes):
            raise ParseError("EF.SOD has no LDS security object")
        lds = LdsSecurityObject.load(econtent, strict=True)
        algo = lds["hash_algorithm"]["algorithm"].native
        if algo not in HASHES:
            raise ParseError(f"EF.SOD hash algorithm {algo} not supported")
        hashes = {int(h["data_group_number"].native): bytes(h["data_group_hash_value"].native)
                  for h in lds["data_group_hash_values"]}
        sd["signer_infos"].native  # force full parse so errors surface here
        sd["certificates"].native
    except ParseError:
        raise
    except Exception as e:  # asn1crypto raises ValueError/TypeError/KeyError on hostile input
        raise ParseError(f"EF.SOD: {type(e).__name__}: {str(e)[:80]}") from None
    return Sod(sd, algo, hashes, econtent)


def dg_number(data: bytes) -> int:
    if not data or data[0] not in DG_TAGS:
        raise ParseError("not a data group")
    return DG_TAGS[data[0]]
