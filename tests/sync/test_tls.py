"""HTTPS to the hub (`kiosk-hub serve --tls-cert`): a certificate from an unknown CA is refused with a clear message; the configured CA works."""

import datetime as dt
import ipaddress
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.client import HubClient, HubUnavailable
from tests.conftest import kiosk_cmd
from tests.hubproc import KIOSK_DEFAULT_FACILITY, start_hub


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, cn="hub.test", usage=x509.oid.ExtendedKeyUsageOID.SERVER_AUTH):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pem(path, cert=None, key=None):
    data = b""
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_ca("Province hub CA (test)")
    other_key, other = make_ca("Somebody else's CA (test)")
    leaf_key, leaf = make_leaf(ca_key, ca)
    return {"ca": write_pem(d / "ca.pem", ca), "other_ca": write_pem(d / "other.pem", other),
            "cert": write_pem(d / "hub.pem", leaf), "key": write_pem(d / "hub.key", key=leaf_key)}


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory, pki):
    h = start_hub(tmp_path_factory.mktemp("tlshub"), "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]),
                  facility=KIOSK_DEFAULT_FACILITY)
    yield h
    h.stop()


def test_configured_ca_is_accepted(tls_hub, pki):
    assert tls_hub.url.startswith("https://127.0.0.1:")
    c = HubClient(tls_hub.url, tls_hub.token, ca_file=str(pki["ca"]))
    assert c.health()["status"] == "ok"


def test_unknown_ca_is_refused_clearly(tls_hub, pki):
    c = HubClient(tls_hub.url, tls_hub.token, ca_file=str(pki["other_ca"]))
    with pytest.raises(HubUnavailable) as e:
        c.health()
    msg = str(e.value)
    assert "not trusted" in msg and str(pki["other_ca"]) in msg and "upstream.ca_file" in msg
    assert e.value.delivered is False
    # The system CAs do not know the test CA either.
    with pytest.raises(HubUnavailable, match="not trusted"):
        HubClient(tls_hub.url, tls_hub.token).health()


def test_sync_over_tls_via_config(tls_hub, pki, kiosk_env, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[upstream]\nurl = "{tls_hub.url}"\ntoken_file = "{tls_hub.token_file}"\n'
                   f'ca_file = "{pki["other_ca"]}"\n')
    env = {**kiosk_env, "KIOSK_CONFIG": str(cfg)}
    subprocess.run(kiosk_cmd("checkin", "--payload", "040195001234||A B|12051995|Nữ|X|03062021"), env=env,
                   check=True, capture_output=True)
    r = subprocess.run(kiosk_cmd("sync", "once", "--backoff-max", "0.01"), capture_output=True, text=True, env=env)
    assert r.returncode == 3 and "not trusted" in r.stdout
    cfg.write_text(f'[upstream]\nurl = "{tls_hub.url}"\ntoken_file = "{tls_hub.token_file}"\n'
                   f'ca_file = "{pki["ca"]}"\n')
    r = subprocess.run(kiosk_cmd("sync", "once"), capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 acknowledged" in r.stdout


def test_plain_http_client_against_tls_hub_fails_cleanly(tls_hub):
    c = HubClient(tls_hub.url.replace("https", "http"), tls_hub.token)
    with pytest.raises(HubUnavailable):
        c.health()


def test_client_certificate_required_when_hub_asks(tmp_path, pki):
    ca_key, ca = make_ca("Device CA (test)")
    ck, cc = make_leaf(ca_key, ca, cn="kiosk-1", usage=x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    dev_ca = write_pem(tmp_path / "devca.pem", ca)
    client_pem = write_pem(tmp_path / "client.pem", cc, ck)
    h = start_hub(tmp_path / "mtls", "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]),
                  "--client-ca", str(dev_ca), cert=str(client_pem))
    try:
        with pytest.raises(HubUnavailable):
            HubClient(h.url, h.token, ca_file=str(pki["ca"])).health()
        ok = HubClient(h.url, h.token, ca_file=str(pki["ca"]), client_cert=str(client_pem))
        assert ok.health()["status"] == "ok"
    finally:
        h.stop()
