"""Passive authentication (ICAO 9303-11 §5.1): hashes → SOD signature → document signer → CSCA.

Three results: `verified`; `no_trust_anchor` (nothing in the trust folder
issued the document signer — the Vietnamese chain is unconfirmed, so this is
not an alarm); `failed` with a reason (a hash or a signature does not
verify: an alarm).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from drivers.chip.lds import HASHES, Sod

log = logging.getLogger(__name__)

VERIFIED, NO_TRUST_ANCHOR, FAILED = "verified", "no_trust_anchor", "failed"
_CRYPTO_HASH = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
                "sha512": hashes.SHA512}


@dataclass(frozen=True)
class PassiveResult:
    status: str
    reason: str = ""
    document_signer: str = ""  # subject of the DS certificate (not personal data)

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "document_signer": self.document_signer}


def load_trust_store(folder: str | Path | None) -> list[x509.Certificate]:
    """Every certificate (PEM or DER) in `folder`; files `cryptography` cannot load are logged and skipped."""
    certs: list[x509.Certificate] = []
    if not folder:
        return certs
    p = Path(folder)
    if not p.is_dir():
        return certs
    for f in sorted(p.iterdir()):
        if not f.is_file():
            continue
        data = f.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs.extend(x509.load_pem_x509_certificates(data))
            else:
                certs.append(x509.load_der_x509_certificate(data))
        except ValueError as e:
            log.warning("event=csca_skipped file=%s reason=%s", f.name, str(e)[:80])
    return certs


def _verify(public_key, signature: bytes, data: bytes, hash_name: str, sig_algo: str, pss_params=None) -> None:
    h = _CRYPTO_HASH[hash_name]()
    if isinstance(public_key, rsa.RSAPublicKey):
        if sig_algo == "rsassa_pss":
            salt = pss_params["salt_length"].native if pss_params is not None else h.digest_size
            public_key.verify(signature, data, padding.PSS(padding.MGF1(h), salt), h)
        else:
            public_key.verify(signature, data, padding.PKCS1v15(), h)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(h))
    else:
        raise InvalidSignature(f"unsupported key type {type(public_key).__name__}")


def verify(sod: Sod, data_groups: dict[int, bytes], trust: list[x509.Certificate]) -> PassiveResult:
    # 1. every data group we read must match the hash the issuer signed
    hfun = HASHES[sod.hash_algorithm]
    for n, raw in sorted(data_groups.items()):
        expected = sod.hashes.get(n)
        if expected is None:
            return PassiveResult(FAILED, f"DG{n} is not listed in EF.SOD")
        if hfun(raw).digest() != expected:
            return PassiveResult(FAILED, f"DG{n} does not match its hash in EF.SOD")
    # 2. the SOD signature, with the document signer certificate it carries
    sd = sod.signed_data
    try:
        signer = sd["signer_infos"][0]
        certs = [c.chosen for c in sd["certificates"]] if sd["certificates"].native else []
        if not certs:
            return PassiveResult(FAILED, "EF.SOD carries no document signer certificate")
        ds = x509.load_der_x509_certificate(certs[0].dump())
        digest_name = signer["digest_algorithm"]["algorithm"].native
        sig_algo = signer["signature_algorithm"].signature_algo
        signed_attrs = signer["signed_attrs"]
        if digest_name not in _CRYPTO_HASH:
            return PassiveResult(FAILED, f"unsupported digest {digest_name}")
        if signed_attrs.native:
            md = next((a["values"][0].native for a in signed_attrs if a["type"].native == "message_digest"), None)
            if md != hashlib.new(digest_name, sod.econtent).digest():
                return PassiveResult(FAILED, "EF.SOD message digest does not match its content")
            to_verify = b"\x31" + signed_attrs.dump()[1:]
        else:
            to_verify = sod.econtent
        pss = signer["signature_algorithm"]["parameters"] if sig_algo == "rsassa_pss" else None
        subject = ds.subject.rfc4514_string()
        _verify(ds.public_key(), signer["signature"].native, to_verify, digest_name, sig_algo, pss)
    except InvalidSignature:
        return PassiveResult(FAILED, "EF.SOD signature does not verify with its document signer")
    except (ValueError, TypeError, KeyError, IndexError) as e:
        return PassiveResult(FAILED, f"EF.SOD signature unreadable: {type(e).__name__}")
    # 3. the document signer against the trusted CSCAs
    issuers = [c for c in trust if c.subject == ds.issuer]
    if not issuers:
        return PassiveResult(NO_TRUST_ANCHOR, "no trusted CSCA issued this document signer", subject)
    for csca in issuers:
        try:
            ds.verify_directly_issued_by(csca)
            return PassiveResult(VERIFIED, "", subject)
        except (InvalidSignature, ValueError, TypeError):
            continue
    return PassiveResult(FAILED, "document signer is not signed by the trusted CSCA of its issuer name", subject)
