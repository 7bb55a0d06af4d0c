"""The protocol object: open the chip (PACE/BAC), read its files, prove it genuine.

Stack: Connection (bytes) → Transport (APDU encoding, 61xx chaining, 6Cxx
retry) → SecureChannel (secure messaging) → ChipReader (typed errors).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from drivers.chip import crypto, lds, pace, passive, tlv
from drivers.chip.apdu import SW_END_OF_FILE, SW_OK, Command, Response
from drivers.chip.connection import Connection, CountingConnection
from drivers.chip.ec import BY_NAME, Curve
from drivers.chip.errors import (AccessDenied, ChipError, FileNotFound, ParseError, ProtocolError,
                                 SecureMessagingError, SecurityNotSatisfied, StatusError, WrongNumber)
from drivers.chip.sm import SecureMessaging
from kiosk.documents.chip import ChipRead

log = logging.getLogger(__name__)

AID_MRTD = bytes.fromhex("A0000002471001")
SHORT_CHUNK = {"aes": 223, "3des": 231}  # largest plaintext whose protected answer fits in 256 bytes
EXTENDED_CHUNK = 4096
MAX_FILE = 32767 + EXTENDED_CHUNK  # READ BINARY with even INS addresses 15-bit offsets


class Transport:
    """APDU encoding plus the ISO 7816 status-word dance that needs no keys."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def send(self, cmd: Command) -> Response:
        resp = Response.decode(self.conn.transmit(cmd.encode()))
        if resp.sw >> 8 == 0x6C and cmd.le is not None:  # wrong Le: the card tells us the right one
            resp = Response.decode(self.conn.transmit(cmd.with_le(resp.sw & 0xFF or 256).encode()))
        data = resp.data
        rounds = 0
        while resp.sw >> 8 == 0x61:  # more data waiting: GET RESPONSE
            rounds += 1
            if rounds > 64 or len(data) > 70000:
                raise ProtocolError("response chaining does not end")
            resp = Response.decode(self.conn.transmit(Command(0x00, 0xC0, 0, 0, le=resp.sw & 0xFF or 256).encode()))
            data += resp.data
        return Response(data, resp.sw)


class ExtendedRefused(ProtocolError):
    """The reader or the chip does not take extended-length APDUs."""


class SecureChannel:
    def __init__(self, transport: Transport, sm: SecureMessaging):
        self.transport, self.sm = transport, sm

    def send(self, cmd: Command) -> Response:
        protected = self.sm.protect(cmd)
        try:
            raw = self.transport.send(protected)
        except ProtocolError:
            if protected.extended:  # the reader refused the APDU: the chip never saw it
                self.sm.ssc -= 1
                raise ExtendedRefused("extended-length APDU refused by the reader") from None
            raise
        if protected.extended and raw.sw == 0x6700 and not raw.data:
            self.sm.ssc -= 1  # refused before secure messaging: the chip's counter did not move
            raise ExtendedRefused("extended-length APDU refused (6700)")
        if not raw.data and raw.sw != SW_OK:
            # the chip answers SM errors in plain and forgets the session keys
            raise SecureMessagingError(f"chip ended secure messaging (status {raw.sw:04X})")
        return self.sm.unprotect(raw)


@dataclass
class Credentials:
    """What the person gave us to open the chip. Any combination; the reader picks the order."""

    can: str | None = None
    mrz: tuple[str, str, str] | None = None  # document number, birth yymmdd, expiry yymmdd
    id_number: str | None = None
    date_of_birth: date | None = None

    def __post_init__(self):
        if self.id_number and not self.can:
            self.can = self.id_number[-6:]


def expiry_candidates(dob: date, today: date) -> list[str]:
    """CCCD expiry dates to try for BAC: the 14th/25th/40th/60th birthdays (the next one first), then lifetime."""
    births = []
    for age in (14, 25, 40, 60):
        try:
            births.append(dob.replace(year=dob.year + age))
        except ValueError:  # 29 February
            births.append(date(dob.year + age, 3, 1))
    future = [d for d in births if d >= today]
    past = sorted((d for d in births if d < today), reverse=True)
    return [d.strftime("%y%m%d") for d in future] + ["991231"] + [d.strftime("%y%m%d") for d in past]


@dataclass
class Session:
    access_method: str | None = None
    attempts: list[dict] = field(default_factory=list)
    cipher: str = "aes"


class ChipReader:
    def __init__(self, connection: Connection, *, extended: str = "auto", today: date | None = None):
        self.conn = connection if isinstance(connection, CountingConnection) else CountingConnection(connection)
        self.transport = Transport(self.conn)
        self.channel: SecureChannel | None = None
        self.extended = {"auto": None, "yes": True, "no": False}[extended]
        self.today = today or date.today()
        self.session = Session()
        self.card_access: bytes | None = None
        self._credentials: Credentials | None = None
        self.sod = None  # EF.SOD parsed by read_identity()

    # -- sending ------------------------------------------------------------
    def send(self, cmd: Command, what: str, ok=(SW_OK,)) -> Response:
        resp = (self.channel or self.transport).send(cmd)
        if resp.sw not in ok:
            if resp.sw == 0x6A82:
                raise FileNotFound(resp.sw, what)
            if resp.sw in (0x6982, 0x6985):
                raise SecurityNotSatisfied(resp.sw, what)
            raise StatusError(resp.sw, what)
        return resp

    # -- access -------------------------------------------------------------
    def open(self, creds: Credentials) -> str:
        """Gain access with the first method that works; every attempt is recorded in session.attempts."""
        self._credentials = creds
        plans: list[tuple[str, callable]] = []
        pace_info = self._pace_info() if (creds.can or creds.mrz) else None
        if pace_info and creds.can:
            plans.append(("pace-can", lambda: self.pace(creds.can, pace.CAN, pace_info)))
        if pace_info and creds.mrz:
            plans.append(("pace-mrz", lambda: self.pace(crypto.mrz_information(*creds.mrz), pace.MRZ, pace_info)))
        if creds.mrz:
            plans.append(("bac", lambda: self.bac(crypto.mrz_information(*creds.mrz))))
        elif creds.id_number and creds.date_of_birth:
            doc = creds.id_number[-9:]
            for exp in expiry_candidates(creds.date_of_birth, self.today):
                info = crypto.mrz_information(doc, creds.date_of_birth.strftime("%y%m%d"), exp)
                plans.append(("bac", lambda info=info: self.bac(info)))
        if not plans:
            raise AccessDenied("this card offers only BAC, which needs the date of birth or the MRZ as well")
        for method, run in plans:
            try:
                run()
            except AccessDenied as e:
                self.session.attempts.append({"method": method, "result": "refused"})
                log.info("event=chip_access_refused method=%s reason=%s", method, e)
                self.channel = None
                continue
            self.session.attempts.append({"method": method, "result": "ok"})
            self.session.access_method = method
            log.info("event=chip_access method=%s attempts=%d", method, len(self.session.attempts))
            return method
        raise WrongNumber("the number does not open this card")

    def _pace_info(self) -> lds.PaceInfo | None:
        try:
            data = self._read_plain_card_access()
        except FileNotFound:
            return None  # a BAC-only chip has no EF.CardAccess
        except (StatusError, ParseError):
            data = lds.KNOWN_CARD_ACCESS
        self.card_access = data
        infos = [i for i in lds.pace_infos(data) if i.oid in pace.PACE_OIDS and i.parameter_id in (12, 13, 15, 16, 17)]
        return infos[0] if infos else None

    def _read_plain_card_access(self) -> bytes:
        resp = self.send(Command(0x00, 0xB0, 0x80 | lds.FILES["CardAccess"][0], 0, le=256), "read EF.CardAccess",
                         ok=(SW_OK, SW_END_OF_FILE))
        return resp.data

    def pace(self, password: str, ref: int, info: lds.PaceInfo) -> None:
        cipher, bits = pace.PACE_OIDS[info.oid]
        curve = Curve.by_param_id(info.parameter_id)
        mse = tlv.tlv(0x80, info.oid) + tlv.tlv(0x83, bytes([ref])) + tlv.tlv(0x84, bytes([info.parameter_id]))
        resp = self.transport.send(Command(0x00, 0x22, 0xC1, 0xA4, mse))
        if resp.sw != SW_OK:
            raise StatusError(resp.sw, "PACE MSE:Set AT")

        def ga(tag: int, value: bytes | None, answer: int, last: bool = False) -> bytes:
            body = tlv.tlv(0x7C, tlv.tlv(tag, value) if value is not None else b"")  # step 1 sends 7C 00
            r = self.transport.send(Command(0x00 if last else 0x10, 0x86, 0, 0, body, le=256))
            if r.sw in (0x6300, 0x6982) or r.sw >> 4 == 0x63C:
                raise AccessDenied("the chip refused the PACE password")
            if r.sw != SW_OK:
                raise StatusError(r.sw, "PACE General Authenticate")
            dyn = tlv.unwrap(r.data, 0x7C)
            got = tlv.find(dyn, answer) if dyn else None
            if got is None:
                raise ProtocolError(f"PACE: answer without data object {answer:02X}")
            return got

        z = ga(0x80, None, 0x80)
        if len(z) != 16:
            raise ProtocolError("PACE nonce is not one AES block")
        s = pace.decrypt_nonce(pace.k_pi(password, ref, bits), z)
        sk_map = curve.random_scalar()
        pk_map_ic = ga(0x81, curve.encode(curve.mul(sk_map)), 0x82)
        g2 = pace.mapped_generator(curve, s, sk_map, pk_map_ic)
        sk = curve.random_scalar()
        pk_ifd = curve.encode(curve.mul(sk, g2))
        pk_ic = ga(0x83, pk_ifd, 0x84)
        if pk_ic == pk_ifd:
            raise ProtocolError("PACE: chip echoed our public key")
        shared = curve.x_bytes(curve.mul(sk, curve.decode(pk_ic)))
        ks_enc, ks_mac = pace.session_keys(shared, bits)
        t_ic = ga(0x85, pace.auth_token(ks_mac, info.oid, pk_ic), 0x86, last=True)
        if t_ic != pace.auth_token(ks_mac, info.oid, pk_ifd):
            raise SecureMessagingError("PACE: the chip's authentication token does not verify")
        self.channel = SecureChannel(self.transport, SecureMessaging(ks_enc, ks_mac, 0, cipher))
        self.session.cipher = cipher
        self.send(Command(0x00, 0xA4, 0x04, 0x0C, AID_MRTD), "select eMRTD application")

    def bac(self, mrz_info: str) -> None:
        self.channel = None
        resp = self.transport.send(Command(0x00, 0xA4, 0x04, 0x0C, AID_MRTD))
        if resp.sw != SW_OK:
            raise StatusError(resp.sw, "select eMRTD application")
        k_enc, k_mac = crypto.bac_keys(mrz_info)
        r = self.transport.send(Command(0x00, 0x84, 0, 0, le=8))
        if r.sw != SW_OK or len(r.data) != 8:
            raise StatusError(r.sw, "GET CHALLENGE")
        rnd_ic, rnd_ifd, k_ifd = r.data, crypto.random_bytes(8), crypto.random_bytes(16)
        e_ifd = crypto.des3_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
        m_ifd = crypto.retail_mac(k_mac, crypto.pad(e_ifd, 8))
        r = self.transport.send(Command(0x00, 0x82, 0, 0, e_ifd + m_ifd, le=40))
        if r.sw in (0x6300, 0x6982) or r.sw >> 4 == 0x63C:
            raise AccessDenied("the chip refused the BAC key")
        if r.sw != SW_OK or len(r.data) != 40:
            raise StatusError(r.sw, "EXTERNAL AUTHENTICATE")
        if crypto.retail_mac(k_mac, crypto.pad(r.data[:32], 8)) != r.data[32:]:
            raise SecureMessagingError("BAC: the chip's answer does not verify")
        plain = crypto.des3_decrypt(k_enc, r.data[:32])
        if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
            raise SecureMessagingError("BAC: the chip's answer does not match our challenge")
        seed = bytes(a ^ b for a, b in zip(k_ifd, plain[16:]))
        sm = SecureMessaging(crypto.kdf(seed, crypto.ENC), crypto.kdf(seed, crypto.MAC), rnd_ic[4:] + rnd_ifd[4:],
                             "3des")
        self.channel = SecureChannel(self.transport, sm)
        self.session.cipher = "3des"

    # -- files --------------------------------------------------------------
    def _read(self, p1: int, p2: int, le: int, ext: bool) -> Response:
        return self.send(Command(0x00, 0xB0, p1, p2, le=le, extended=ext), "READ BINARY",
                         ok=(SW_OK, SW_END_OF_FILE, 0x6700) + tuple(range(0x6C00, 0x6D00)))

    def read_file(self, name: str) -> bytes:
        sfi = lds.FILES[name][0]
        short = SHORT_CHUNK[self.session.cipher]
        ext = self.extended is not False
        chunk = EXTENDED_CHUNK if ext else short
        # first read by short EF identifier: no SELECT, and the TLV header tells the length
        while True:
            try:
                r = self._read(0x80 | sfi, 0, chunk, ext)
            except ExtendedRefused:
                if not ext or self.extended is True:
                    raise
                r = Response(b"", 0x6700)  # the reader itself refused an extended APDU
            if r.sw == 0x6700 or (r.sw >> 8 == 0x6C and not r.data):
                if ext and self.extended is None:
                    self.extended, ext, chunk = False, False, short
                    log.info("event=chip_extended_unsupported fallback=short")
                    continue
                if r.sw >> 8 == 0x6C and (r.sw & 0xFF) and (r.sw & 0xFF) < chunk:
                    chunk = r.sw & 0xFF
                    continue
                if chunk <= 16:
                    raise StatusError(r.sw, f"READ BINARY {name}")
                chunk //= 2
                continue
            break
        if self.extended is None and ext:
            self.extended = True
        data = r.data
        if len(data) > chunk:
            raise ProtocolError(f"{name}: chip returned {len(data)} bytes for {chunk} asked")
        _, n, vpos = tlv.read_header(data)
        total = vpos + n
        if total > MAX_FILE:
            raise ParseError(f"{name}: TLV says {total} bytes, more than a data group can hold")
        while len(data) < total:
            want = min(chunk, total - len(data))
            offset = len(data)
            if offset > 0x7FFF:
                raise ParseError(f"{name}: offset beyond READ BINARY's reach")
            r = self._read(offset >> 8, offset & 0xFF, want, ext)
            if r.sw == 0x6700 or r.sw >> 8 == 0x6C:
                if chunk <= 16:
                    raise StatusError(r.sw, f"READ BINARY {name}")
                chunk = (r.sw & 0xFF) if r.sw >> 8 == 0x6C and (r.sw & 0xFF) else chunk // 2
                continue
            if not r.data or len(r.data) > want:
                raise ProtocolError(f"{name}: chip returned {len(r.data)} bytes for {want} asked")
            data += r.data
        return data[:total]

    # -- anti-cloning -------------------------------------------------------
    def chip_authenticate(self, info: lds.ChipAuthInfo) -> bool:
        """Chip Authentication (9303-11 §6.2) with the DG14 key; True when the chip proved the private key.

        The proof is implicit: the chip restarts secure messaging with keys only the
        holder of the private key can derive, and the next protected answer must verify.
        """
        cipher, bits = lds.CA_OIDS[info.oid]
        if cipher != "aes" or info.curve not in BY_NAME or self.channel is None:
            raise NotImplementedError
        curve = Curve(BY_NAME[info.curve])
        chip_pk = curve.decode(info.public_key)
        sk = curve.random_scalar()
        mse = tlv.tlv(0x80, info.oid) + (tlv.tlv(0x84, bytes([info.key_id])) if info.key_id is not None else b"")
        self.send(Command(0x00, 0x22, 0x41, 0xA4, mse), "CA MSE:Set AT")
        self.send(Command(0x00, 0x86, 0, 0, tlv.tlv(0x7C, tlv.tlv(0x80, curve.encode(curve.mul(sk)))), le=256),
                  "CA General Authenticate")
        shared = curve.x_bytes(curve.mul(sk, chip_pk))
        ks_enc = crypto.kdf(shared, crypto.ENC, cipher, bits)
        ks_mac = crypto.kdf(shared, crypto.MAC, cipher, bits)
        self.channel = SecureChannel(self.transport, SecureMessaging(ks_enc, ks_mac, 0, cipher))
        self.session.cipher = cipher
        return True

    def active_authenticate(self, public_key, signature_oid: bytes | None) -> bool:
        rnd = crypto.random_bytes(8)
        r = self.send(Command(0x00, 0x88, 0, 0, rnd, le=256), "INTERNAL AUTHENTICATE")
        sig = r.data
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            h = {bytes.fromhex("04007F00070101040101"): hashes.SHA1(), bytes.fromhex("04007F00070101040103"):
                 hashes.SHA256(), bytes.fromhex("04007F00070101040104"): hashes.SHA384()}.get(signature_oid or b"",
                                                                                        hashes.SHA256())
            size = (public_key.curve.key_size + 7) // 8
            if len(sig) != 2 * size:
                return False
            der = utils.encode_dss_signature(int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big"))
            try:
                public_key.verify(der, rnd, ec.ECDSA(h))
                return True
            except InvalidSignature:
                return False
        if isinstance(public_key, rsa.RSAPublicKey):
            return _iso9796_2_verify(public_key, sig, rnd)
        raise NotImplementedError

    # -- the whole read -----------------------------------------------------
    def read_identity(self, creds: Credentials, *, photo: bool = False, trust=()):
        t0 = time.perf_counter()
        self.open(creds)
        access_apdus, access_bytes = self.conn.apdus, self.conn.bytes
        files: dict[str, bytes] = {}
        ca_status, ca_method = "not_supported", None
        try:
            files["DG14"] = self.read_file("DG14")
        except FileNotFound:
            pass
        dg14 = lds.parse_dg14(files["DG14"]) if "DG14" in files else {"chip_authentication": None,
                                                                       "aa_signature_oid": None}
        if dg14["chip_authentication"] is not None:
            try:
                self.chip_authenticate(dg14["chip_authentication"])
                files["COM"] = self.read_file("COM")  # the first answer under the new keys is the proof
                ca_status, ca_method = "genuine", "chip_authentication"
            except NotImplementedError:
                pass
            except (SecureMessagingError, StatusError) as e:
                ca_status, ca_method = "clone_suspected", "chip_authentication"
                log.warning("event=chip_clone_suspected method=ca reason=%s", type(e).__name__)
                self.channel = None
                self.open(self._credentials)  # read the rest so the receptionist sees what the card claims
        for name in ("COM", "DG1", "DG13", "DG15", "SOD"):
            if name in files:
                continue
            try:
                files[name] = self.read_file(name)
            except FileNotFound:
                if name in ("DG1", "SOD"):
                    raise
        if ca_status == "not_supported" and "DG15" in files:
            try:
                ok = self.active_authenticate(lds.parse_dg15(files["DG15"]), dg14["aa_signature_oid"])
                ca_status, ca_method = ("genuine" if ok else "clone_suspected"), "active_authentication"
            except NotImplementedError:
                pass
            except StatusError:
                ca_status, ca_method = "clone_suspected", "active_authentication"
        if photo:
            files["DG2"] = self.read_file("DG2")
        mrz = lds.parse_dg1(files["DG1"])
        dg13 = lds.parse_dg13(files["DG13"]) if "DG13" in files else {}
        sod = lds.parse_sod(files["SOD"])
        self.sod = sod  # kept for read_photo(): DG2 read after the result, checked against the same SOD
        dgs = {lds.dg_number(v): v for k, v in files.items() if k.startswith("DG")}
        pa = passive.verify(sod, dgs, list(trust))
        photo_fmt, photo_bytes = lds.photo_of(files["DG2"]) if photo else (None, None)
        return ChipRead(
            access_method=self.session.access_method, access_attempts=list(self.session.attempts),
            mrz=mrz.to_json(), dg13=dg13, passive_authentication=pa.status, passive_authentication_reason=pa.reason,
            document_signer=pa.document_signer, chip_authentication=ca_status,
            chip_authentication_method=ca_method, secure_messaging=self.session.cipher,
            extended_length=bool(self.extended), apdus=self.conn.apdus, bytes=self.conn.bytes,
            apdus_after_access=self.conn.apdus - access_apdus, bytes_after_access=self.conn.bytes - access_bytes,
            seconds=round(time.perf_counter() - t0, 3), file_sizes={k: len(v) for k, v in files.items()},
            photo_format=photo_fmt, photo=photo_bytes)


    def read_photo(self) -> tuple[str, bytes]:
        """DG2 after read_identity(), on the same session: (format, image) when it matches its hash in the
        SOD read_identity() checked; raises ParseError otherwise (a photo the issuer did not sign is not
        shown for a face check). Lets the kiosk show the patient's result before the ~15 KB photo is read."""
        sod = self.sod
        if sod is None:
            raise ProtocolError("read_photo() needs read_identity() first")
        dg2 = self.read_file("DG2")
        expected = sod.hashes.get(2)
        if expected is None or lds.HASHES[sod.hash_algorithm](dg2).digest() != expected:
            raise ParseError("DG2 does not match its hash in EF.SOD")
        return lds.photo_of(dg2)


def _iso9796_2_verify(key, sig: bytes, rnd: bytes) -> bool:
    """Active Authentication with RSA: ISO/IEC 9796-2 digital signature scheme 1 (partial recovery)."""
    n, e = key.public_numbers().n, key.public_numbers().e
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    m = pow(int.from_bytes(sig, "big"), e, n)
    f = m.to_bytes(k, "big")
    if f[-1] == 0xBC:
        hlen, hname, trailer = 20, "sha1", 1
    elif f[-1] == 0xCC and len(f) > 2:
        hname = {0x34: "sha256", 0x36: "sha384", 0x35: "sha512", 0x38: "sha224", 0x33: "sha1"}.get(f[-2])
        if hname is None:
            return False
        hlen, trailer = hashlib.new(hname).digest_size, 2
    else:
        return False
    if f[0] & 0xC0 != 0x40:
        return False
    m1 = f[1:k - hlen - trailer]
    d = f[k - hlen - trailer:k - trailer]
    return hashlib.new(hname, m1 + rnd).digest() == d


__all__ = ["ChipReader", "Credentials", "expiry_candidates", "ChipError"]
