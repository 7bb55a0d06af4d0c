"""Test PKI for the emulator: a CSCA and a document signer, generated (never real keys).

`TestPki.generate()` makes a fresh pair; `save(dir)` writes `csca/csca.pem`
(`dir/csca` is a trust folder for `reader.csca_dir`), `ds.pem` and
`ds.key.pem`; `load(dir)` reads them back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tramyte Kiosk TEST ONLY"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class TestPki:
    csca_cert: x509.Certificate
    csca_key: object
    ds_cert: x509.Certificate
    ds_key: object

    @classmethod
    def generate(cls, name: str = "TEST CSCA Vietnam") -> "TestPki":
        now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        csca_key = ec.generate_private_key(ec.SECP384R1())
        csca_name = _name(name)
        csca = (x509.CertificateBuilder().subject_name(csca_name).issuer_name(csca_name)
                .public_key(csca_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365 * 15))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
                .sign(csca_key, hashes.SHA384()))
        ds_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ds = (x509.CertificateBuilder().subject_name(_name("TEST Document Signer CCCD")).issuer_name(csca_name)
              .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365 * 11))
              .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
              # the extensions ICAO 9303-12 document signers carry, so EF.SOD has a realistic size
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()), False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ds_key.public_key()), False)
              .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                  [x509.UniformResourceIdentifier("http://pki.example.invalid/csca-test/vn.crl")], None, None, None)]),
                  False)
              .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("2.23.136.1.1.6.2"),
                                                        bytes.fromhex("3009020100310413024944")), False)
              .sign(csca_key, hashes.SHA384()))
        return cls(csca, csca_key, ds, ds_key)

    def save(self, folder: str | Path) -> Path:
        p = Path(folder)
        p.mkdir(parents=True, exist_ok=True)
        (p / "csca").mkdir(exist_ok=True)
        (p / "csca" / "csca.pem").write_bytes(self.csca_cert.public_bytes(serialization.Encoding.PEM))
        (p / "ds.pem").write_bytes(self.ds_cert.public_bytes(serialization.Encoding.PEM))
        (p / "ds.key.pem").write_bytes(self.ds_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return p / "csca"

    @classmethod
    def load(cls, folder: str | Path) -> "TestPki":
        p = Path(folder)
        return cls(x509.load_pem_x509_certificate((p / "csca" / "csca.pem").read_bytes()), None,
                   x509.load_pem_x509_certificate((p / "ds.pem").read_bytes()),
                   serialization.load_pem_private_key((p / "ds.key.pem").read_bytes(), None))
