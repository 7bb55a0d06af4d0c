"""`kiosk doctor`: each check finds what is really there, and a broken configuration is its first finding."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings, strategies as st

from kiosk import doctor
from tests.conftest import kiosk_cmd


def _by_check(report):
    return {f.check: f for f in report.findings}


def _run_cli(env, *args):
    r = subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def provisioned(tmp_path, data_dir):
    """A configuration like provision.sh writes, secrets 0640, a migrated database."""
    key = tmp_path / "roster.key"
    key.write_text("k" * 64 + "\n")
    key.chmod(0o640)
    token = tmp_path / "device-token"
    token.write_text("tok-123\n")
    token.chmod(0o640)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[facility]\ncode = "40123"\nname = "Trạm Y tế xã Thử"\n'
                   f'[storage]\ndata_dir = "{data_dir}"\n[scanner]\nkind = "none"\n'
                   f'[roster]\nkey_file = "{key}"\n', encoding="utf-8")
    from kiosk import store
    store.connect(data_dir / "kiosk.db").conn.close()
    return cfg


def test_broken_configuration_is_the_first_finding_and_the_rest_still_run(tmp_path, kiosk_env):
    bad = tmp_path / "bad.toml"
    bad.write_text('[facility]\ncode = "123"\n', encoding="utf-8")
    rc, out, err = _run_cli(kiosk_env, "--config", str(bad), "doctor", "--json")
    assert rc == 2, err
    data = json.loads(out)
    assert data["checks"][0]["check"] == "config"
    assert data["checks"][0]["status"] == "failure"
    assert "facility.code" in data["checks"][0]["found"]
    names = [c["check"] for c in data["checks"]]
    for later in ("database", "disk", "clock", "outbox", "watchdog"):
        assert later in names


def test_unparseable_toml_too(tmp_path, kiosk_env):
    bad = tmp_path / "bad.toml"
    bad.write_text("[facility\ncode=", encoding="utf-8")
    rc, out, _ = _run_cli(kiosk_env, "--config", str(bad), "doctor")
    assert rc == 2
    assert out.splitlines()[1].startswith("✘ [LỖI] config: Cấu hình sai")


def test_provisioned_config_and_database_pass(provisioned, data_dir):
    report = doctor.run("en", str(provisioned), None, environ={})
    f = _by_check(report)
    assert f["config"].status == "ok", f["config"]
    assert f["secrets"].status == "ok", f["secrets"]
    assert f["database"].status == "ok", f["database"]
    assert f["database"].details["quick_check"] == ["ok"]
    assert f["scanner"].status == "skipped"
    assert f["outbox"].status == "ok"


def test_damaged_database_is_a_failure(provisioned, data_dir):
    db = data_dir / "kiosk.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'visits'").fetchone()[0]
    conn.close()
    raw = bytearray(db.read_bytes())
    # Scribble over the visits table's b-tree page; the file header stays intact.
    raw[(root - 1) * page: root * page] = b"\x0d\xff\xff" * (page // 3) + b"\xff" * (page % 3)
    db.write_bytes(bytes(raw))
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["database"].status == "failure", f["database"]


def test_missing_database_is_a_failure_and_not_created(provisioned, data_dir):
    (data_dir / "kiosk.db").unlink()
    for extra in ("kiosk.db-wal", "kiosk.db-shm"):
        (data_dir / extra).unlink(missing_ok=True)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["database"].status == "failure"
    assert not (data_dir / "kiosk.db").exists()


def test_world_readable_secret_is_a_failure(provisioned, tmp_path):
    (tmp_path / "roster.key").chmod(0o644)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["secrets"].status == "failure"
    assert "world_accessible" in f["secrets"].found


def test_short_roster_key_is_a_failure(provisioned, tmp_path):
    (tmp_path / "roster.key").write_text("short\n")
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["secrets"].status == "failure"


def _add_outbox(db, created_at, state="queued", n=1):
    conn = sqlite3.connect(db)
    for i in range(n):
        conn.execute("INSERT INTO outbox(kind, record_id, idempotency_key, payload, state, created_at) "
                     "VALUES ('visit', ?, ?, '{}', ?, ?)", [i, f"k-{state}-{created_at}-{i}", state, created_at])
    conn.commit()
    conn.close()


def test_outbox_backlog_and_its_oldest_record(provisioned, data_dir):
    db = data_dir / "kiosk.db"
    recent = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(timespec="seconds").replace("+00:00", "Z")
    _add_outbox(db, recent, n=3)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["outbox"]
    assert f.status == "ok" and f.details["backlog"] == 3
    old = (datetime.now(timezone.utc) - timedelta(hours=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    _add_outbox(db, old, n=2)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["outbox"]
    assert f.status == "warning" and f.details["backlog"] == 5
    assert f.details["oldest"] == old and f.details["oldest_age_hours"] >= 29.9


def test_scanner_port_absent_and_present(provisioned, tmp_path):
    text = provisioned.read_text().replace('kind = "none"', f'kind = "serial"\nport = "{tmp_path}/ttyX"')
    provisioned.write_text(text)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["scanner"]
    assert f.status == "failure" and "not present" in f.found
    master, slave = os.openpty()
    try:
        os.symlink(os.ttyname(slave), tmp_path / "ttyX")
        f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["scanner"]
        assert f.status == "ok", f
    finally:
        os.close(master)
        os.close(slave)


class _Hub(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/v1/health":
            body, code = b'{"status":"ok"}', 200
        elif self.headers.get("Authorization") == "Bearer good-token":
            body, code = b'{"updates":[]}', 200
        else:
            body, code = b'{"error":"unauthorized"}', 401
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def hub():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _with_hub(cfg, tmp_path, url, token):
    (tmp_path / "device-token").write_text(token + "\n")
    cfg.write_text(cfg.read_text() + f'[upstream]\nurl = "{url}"\ntoken_file = "{tmp_path}/device-token"\n')


def test_hub_reachable_and_token_accepted(provisioned, tmp_path, hub):
    _with_hub(provisioned, tmp_path, hub, "good-token")
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["hub"].status == "ok"
    assert f["hub_token"].status == "ok"
    assert f["hub_tls"].status == "warning"  # plain http is not fine on a device


def test_hub_refuses_token(provisioned, tmp_path, hub):
    _with_hub(provisioned, tmp_path, hub, "stolen")
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["hub"].status == "ok" and f["hub_token"].status == "failure"


def test_hub_unreachable(provisioned, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    _with_hub(provisioned, tmp_path, f"http://127.0.0.1:{port}", "x")
    report = doctor.run("en", str(provisioned), None, environ={})
    assert _by_check(report)["hub"].status == "failure"
    assert report.exit_code == 2


def test_a_crashing_check_is_a_finding(provisioned, monkeypatch):
    def boom(env):
        raise RuntimeError("bug")
    monkeypatch.setattr(doctor, "CHECKS", [("config", doctor.check_config), ("disk", boom)])
    report = doctor.run("en", str(provisioned), None, environ={})
    assert _by_check(report)["disk"].status == "failure"
    assert report.exit_code == 2


def test_exit_codes_follow_the_worst_status():
    F = doctor.Finding
    assert doctor.Report([F("a", "ok", ""), F("b", "skipped", "")]).exit_code == 0
    assert doctor.Report([F("a", "ok", ""), F("b", "warning", "")]).exit_code == 1
    assert doctor.Report([F("a", "warning", ""), F("b", "failure", "")]).exit_code == 2


def test_vietnamese_by_default(provisioned, kiosk_env):
    rc, out, _ = _run_cli(kiosk_env, "--config", str(provisioned), "doctor", "--check", "database")
    assert "Cơ sở dữ liệu nguyên vẹn" in out
    assert rc in (0, 1)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_any_config_text_gives_a_report_not_a_crash(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("c") / "k.toml"
    p.write_text(text, encoding="utf-8")
    report = doctor.run("vi", str(p), str(p.parent / "data"), environ={}, only={"disk"})
    assert report.findings[0].check == "config"
    assert report.findings[0].status in ("ok", "failure", "warning")


_CARD = ('{"card_number": "DN4010123456789", "id_number": "040195001234", "social_insurance_number": "0123456789", '
         '"full_name": "A B", "date_of_birth": "1995-05-12", "sex": "female", "beneficiary_group": "DN", '
         '"benefit_level": 4, "province_code": "40", "facility_code": "40123", "valid_from": "2026-01-01", '
         '"valid_to": "2026-12-31", "five_year_date": null, "living_area": null, "status": "active", "replaced_by": null}')


@pytest.mark.parametrize("lines, status, cards", [([_CARD], "ok", 1), ([], "warning", 0)])
def test_roster_age_from_a_real_import(provisioned, tmp_path, kiosk_env, lines, status, cards):
    f = tmp_path / "roster.jsonl"
    f.write_text("\n".join(['{"roster": "snapshot", "version": 7}', *lines]) + "\n", encoding="utf-8")
    rc, out, err = _run_cli(kiosk_env, "--config", str(provisioned), "roster", "import", str(f))
    assert rc == 0, err
    finding = _by_check(doctor.run("en", str(provisioned), None, environ={}))["roster"]
    assert finding.status == status, finding
    assert finding.details["version"] == 7 and finding.details["cards"] == cards
    assert finding.details["age_days"] < 0.1


def test_no_roster_yet_is_a_warning(provisioned):
    finding = _by_check(doctor.run("en", str(provisioned), None, environ={}))["roster"]
    assert finding.status == "warning" and "No BHYT roster" in finding.found


# --- the doctor checks what the drivers and the sync client really use (issue 16) ---------------------------------

def test_a_hid_scanner_is_probed_as_hid_not_reported_as_simulated(provisioned):
    provisioned.write_text(provisioned.read_text().replace('kind = "none"', 'kind = "hid"\nhid_name = "NoSuchScanner"'))
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["scanner"]
    assert "simulated" not in f.found
    assert f.status == "failure" and "NoSuchScanner" in f.found


def test_the_camera_is_checked_at_camera_device(provisioned, tmp_path):
    node = tmp_path / "kiosk-camera"
    provisioned.write_text(provisioned.read_text() + f'[camera]\nenabled = true\nindex = 0\ndevice = "{node}"\n')
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["camera"]
    assert f.status == "failure" and f.details["device"] == str(node) and str(node) in f.found


def test_printer_and_voice_are_skipped_unless_configured(provisioned):
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["printer"].status == "skipped" and f["voice"].status == "skipped"
    provisioned.write_text(provisioned.read_text() + '[printer]\nkind = "simulated"\n')
    assert _by_check(doctor.run("en", str(provisioned), None, environ={}))["printer"].status == "warning"


@pytest.fixture
def mtls_hub(tmp_path):
    """An HTTPS hub that requires a client certificate from the device CA, as a province may run it."""
    import ssl
    from cryptography import x509
    from tests.sync.test_tls import make_ca, make_leaf, write_pem
    ca_key, ca = make_ca("Province hub CA (test)")
    hub_key, hub_cert = make_leaf(ca_key, ca)
    dev_ca_key, dev_ca = make_ca("Device CA (test)")
    client_key, client_cert = make_leaf(dev_ca_key, dev_ca, cn="kiosk-1",
                                        usage=x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    files = {"ca": write_pem(tmp_path / "ca.pem", ca), "client": write_pem(tmp_path / "client.pem", client_cert),
             "client_key": write_pem(tmp_path / "client.key", key=client_key)}
    for p in files.values():
        p.chmod(0o640)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(write_pem(tmp_path / "hub.pem", hub_cert), write_pem(tmp_path / "hub.key", key=hub_key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(write_pem(tmp_path / "devca.pem", dev_ca))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"https://127.0.0.1:{srv.server_address[1]}", files
    srv.shutdown()
    srv.server_close()


def test_the_hub_is_checked_with_the_client_certificate_hubclient_sends(provisioned, tmp_path, mtls_hub):
    url, files = mtls_hub
    _with_hub(provisioned, tmp_path, url, "good-token")
    base = provisioned.read_text().replace("[upstream]\n", f'[upstream]\nca_file = "{files["ca"]}"\n')
    provisioned.write_text(base)
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["hub"].status == "failure", f["hub"]  # no client certificate: the hub refuses the handshake
    provisioned.write_text(base.replace("[upstream]\n", f'[upstream]\nclient_cert = "{files["client"]}"\n'
                                                        f'client_key = "{files["client_key"]}"\n'))
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))
    assert f["hub"].status == "ok", f["hub"]
    # The handshake presented the client certificate; the test certificates live 30 days, under the warning bar.
    assert f["hub_tls"].details["client_cert_days_left"] in (28, 29), f["hub_tls"]
    assert f["hub_tls"].status == "warning" and "client certificate" in f["hub_tls"].found
    assert f["hub_token"].status == "ok", f["hub_token"]
    assert f["secrets"].status == "ok", f["secrets"]
    files["client_key"].chmod(0o644)  # the device's private key readable by anyone
    assert _by_check(doctor.run("en", str(provisioned), None, environ={}))["secrets"].status == "failure"


@pytest.mark.parametrize("readers, wanted, status", [
    ([], "", "warning"),
    (["ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00"], "OMNIKEY", "warning"),
    (["ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00"], "acr1252", "ok"),  # matched as the driver does
])
def test_pcscd_is_the_chip_source_probe(provisioned, monkeypatch, readers, wanted, status):
    from drivers.chip import source
    monkeypatch.setattr(source, "list_readers", lambda: readers)
    provisioned.write_text(provisioned.read_text() + f'[reader]\nname = "{wanted}"\n')
    f = _by_check(doctor.run("en", str(provisioned), None, environ={}))["pcscd"]
    assert f.status == status and f.details["readers"] == readers, f
