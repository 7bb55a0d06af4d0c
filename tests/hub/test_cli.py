"""`kiosk-hub`: JSON output, exit codes 0/2/3/1, one-line errors, files 0600/0700, recorded admin actions,
retention and erasure."""

from __future__ import annotations

import argparse
import json
import os
import stat
import uuid

import pytest

from tests.hub.conftest import FACILITY, HubEnv, run_cli
from tests.hub.test_api import Device, stay, visit


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_enrol_json_token_file_and_symlink_refusal(hub_db, tmp_path):
    out = tmp_path / "k.token"
    r = hub_db.cli("enrol", "--facility", FACILITY, "--name", "kiosk-a", "--token-out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"name", "facility", "token"} and data["facility"] == FACILITY
    assert out.read_text().strip() == data["token"] and mode(out) == 0o600
    target = tmp_path / "elsewhere"
    link = tmp_path / "link.token"
    link.symlink_to(target)
    r = hub_db.cli("enrol", "--facility", FACILITY, "--name", "kiosk-b", "--token-out", str(link))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "symlink" in r.stderr
    assert not target.exists()
    readable = hub_db.cli("enrol", "--facility", FACILITY, "--name", "kiosk-c")
    assert readable.returncode == 0 and "token (shown once)" in readable.stdout
    for args, needle in ((("enrol", "--facility", "99999", "--name", "x"), "no facility"),
                         (("enrol", "--facility", FACILITY, "--name", ""), "name"),
                         (("revoke", "--name", "nobody-here"), "no device"),
                         (("roster", "publish", str(tmp_path / "missing.jsonl")), "no such file"),
                         (("facilities", "import", str(tmp_path / "missing.csv")), "cannot read"),
                         (("enrol", "--facility"), "")):
        r = hub_db.cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr
    rows = hub_db.query("SELECT actor, action, target FROM registry_adminaction WHERE action = 'device_enrol' "
                        "ORDER BY id")
    assert [t for _, _, t in rows] == ["kiosk-a", "kiosk-c"] and all(a.startswith("cli:") for a, _, _ in rows)


def test_stats_json(hub_db):
    hub_db.enrol()
    data = hub_db.cli_json("stats")
    assert {"visits", "stay_notifications", "replays_answered", "devices"} <= set(data)
    assert data["devices"] == 1 and data["visits"] == 0 and data["facilities"] == 20


def test_database_unavailable_is_exit_3(tmp_path):
    from tests.hub.pg import free_port
    env = HubEnv("postgres", tmp_path / "d", f"postgres://hub@127.0.0.1:{free_port()}/nothing")
    for args in (("stats", "--json"), ("migrate",), ("enrol", "--facility", FACILITY, "--name", "x")):
        r = env.cli(*args)
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("error: the hub's database is unavailable") and "Traceback" not in r.stderr


def test_facilities_import_all_or_nothing(hub_db, tmp_path):
    bad = tmp_path / "f.csv"
    bad.write_text("code,name,district_code,district_name,province_code,province_name\n"
                   "40901,Trạm Y tế xã Một,429,Huyện Nghi Lộc,40,Nghệ An\n"
                   "4０902,Trạm Y tế xã Hai,429,Huyện Nghi Lộc,40,Nghệ An\n", encoding="utf-8")
    r = hub_db.cli("facilities", "import", str(bad))
    assert r.returncode == 2 and "line 3" in r.stderr and "ASCII" in r.stderr
    assert hub_db.query("SELECT count(*) FROM registry_facility WHERE code = '40901'") == [(0,)]
    good = tmp_path / "g.csv"
    good.write_text(bad.read_text().replace("4０902", "40902"), encoding="utf-8")
    assert hub_db.cli_json("facilities", "import", str(good)) == {"facilities": 2, "created": 2, "updated": 0,
                                                                  "districts": 1}
    missing = tmp_path / "m.csv"
    missing.write_text("code,name\n40903,X\n")
    assert hub_db.cli("facilities", "import", str(missing)).returncode == 2


def test_createadmin(hub_db, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple\n")
    data = hub_db.cli_json("createadmin", "--username", "so-y-te", "--password-file", str(pw))
    assert data["role"] == "province_admin" and data["created"] is True
    data = hub_db.cli_json("createadmin", "--username", "nghi-loc", "--password-file", str(pw),
                           "--role", "district_viewer", "--district", "429")
    assert data["role"] == "district_viewer"
    rows = dict(hub_db.query("SELECT u.username, p.district_code FROM accounts_profile p "
                             "JOIN auth_user u ON u.id = p.user_id"))
    assert rows == {"so-y-te": "", "nghi-loc": "429"}
    [(hashed,)] = hub_db.query("SELECT password FROM auth_user WHERE username = 'so-y-te'")
    assert "correct horse" not in hashed
    weak = tmp_path / "weak"
    weak.write_text("1234")
    assert hub_db.cli("createadmin", "--username", "x", "--password-file", str(weak)).returncode == 2
    assert hub_db.cli("createadmin", "--username", "x", "--password-file", str(pw), "--role",
                      "district_viewer").returncode == 2
    assert hub_db.cli("createadmin", "--username", "x", "--password-file", str(pw), "--role", "district_viewer",
                      "--district", "999").returncode == 2


def test_sqlite_files_are_owner_only(tmp_path, live_hub):
    hub = live_hub.hub
    if hub.engine != "sqlite":
        pytest.skip("files on disk: the embedded database")
    d = Device(live_hub)
    assert d.post("/v1/visits", visit(1)).status_code == 201
    snap = tmp_path / "r.jsonl"
    snap.write_text('{"roster": "snapshot", "version": 3}\n{}\n')
    hub.cli_json("roster", "publish", str(snap))
    files = [p for p in hub.data_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"hub.db", "hub.db-wal"} <= names and any(n.endswith("-snapshot-3.jsonl") for n in names)
    for p in files:
        assert mode(p) == 0o600, f"{p} is {oct(mode(p))}"
    for p in [hub.data_dir, *[q for q in hub.data_dir.rglob("*") if q.is_dir()]]:
        assert mode(p) == 0o700, f"{p} is {oct(mode(p))}"


def test_default_data_dir_gets_a_secret_key_0600(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_HUB_")}
    env["KIOSK_HUB_DATA_DIR"] = str(tmp_path / "fresh" / "hub")
    r = run_cli(env, "migrate", "--json")
    assert r.returncode == 0, r.stderr
    key = tmp_path / "fresh" / "hub" / "secret_key"
    assert mode(key) == 0o600 and len(key.read_text().strip()) >= 50
    assert mode(tmp_path / "fresh" / "hub") == 0o700 and mode(tmp_path / "fresh" / "hub" / "hub.db") == 0o600


def test_purge_and_person_erase(live_hub):
    hub = live_hub.hub
    d = Device(live_hub)
    other = visit(2, patient={"id_number": "001085012345", "full_name": "Nguyễn Văn Khác"})
    for body in (visit(1), other):
        assert d.post("/v1/visits", body).status_code == 201
    old_stay = stay(1)
    old_stay["deadline_at"] = "2020-01-01T00:00:00Z"
    assert d.post("/v1/stay-notifications", old_stay).status_code == 201
    open_stay = stay(2)
    open_stay["deadline_at"] = "2099-01-01T00:00:00Z"
    assert d.post("/v1/stay-notifications", open_stay).status_code == 201
    r = hub.cli("person", "erase", "--id-number", "040195001234", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["found"] == {"visits": 1, "stay_notifications": 2}
    assert info["erased"] == {"visits": 1, "stay_notifications": 1}
    assert any(k["record"].startswith("stay_notification:") for k in info["kept"])
    assert "040195001234" not in r.stdout and info["masked_id"] == "********1234"
    payloads = [json.loads(p) if isinstance(p, str) else p for (p,) in
                hub.query("SELECT payload FROM ingest_visit ORDER BY id")]
    assert "patient" not in payloads[0] and payloads[0]["purged"] is True
    assert payloads[1]["patient"]["full_name"] == "Nguyễn Văn Khác"
    readable = hub.cli("person", "erase", "--id-number", "040195001234")
    assert "********1234" in readable.stdout and "040195001234" not in readable.stdout
    assert hub.cli("person", "erase", "--id-number", "０４０１９５００１２３４").returncode == 2
    [(action, target)] = hub.query("SELECT action, target FROM registry_adminaction WHERE action = 'person_erase' "
                                   "ORDER BY id LIMIT 1")
    assert target == "********1234"
    # Retention: nothing is old enough yet; with a 1-day period and records made "old", they are purged.
    assert hub.cli_json("purge", "--dry-run")["visits"] == 0
    if hub.engine == "postgres":
        import psycopg
        with psycopg.connect(hub.db_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute("UPDATE ingest_visit SET received_at = '2020-01-01 00:00:00+00'")
    else:
        import sqlite3
        c = sqlite3.connect(hub.db_url.removeprefix("sqlite:///"))
        c.execute("UPDATE ingest_visit SET received_at = '2020-01-01 00:00:00'")
        c.commit()
        c.close()
    assert hub.cli_json("purge", "--days", "30", "--dry-run")["visits"] == 1   # the erased one is already purged
    done = hub.cli_json("purge", "--days", "30")
    assert done["visits"] == 1 and done["stay_notifications"] == 0
    payloads = [json.loads(p) if isinstance(p, str) else p for (p,) in
                hub.query("SELECT payload FROM ingest_visit ORDER BY id")]
    assert all("patient" not in p for p in payloads)
    assert hub.cli("purge", "--days", "0").returncode == 2


@pytest.mark.parametrize("command, option, value", [
    (("serve",), "--workers", "١٢"),              # Arabic-Indic digits: int() reads 12
    (("serve",), "--threads", "８"),              # full-width
    (("serve",), "--timeout", "3_0"),             # int() reads 30
    (("purge", "--dry-run"), "--days", "٣٠"),
    (("push", "run"), "--threads", "۴"),          # Extended Arabic-Indic
    (("push", "run"), "--interval", "٠.٥"),       # float() reads 0.5
    (("push", "run"), "--interval", "nan"),
    (("push", "run"), "--interval", "1e3"),
])
def test_numeric_options_take_ascii_digits_only(tmp_path, command, option, value):
    """Every numeric option of kiosk-hub refuses what int()/float() would read as a number but an operator
    would not: exit 2 before anything runs (no database touched), naming the option and the value."""
    env = {**os.environ, "KIOSK_HUB_DATA_DIR": str(tmp_path / "d")}
    r = run_cli(env, *command, option, value)
    assert r.returncode == 2, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert f"error: argument {option}: expected" in last and "in ASCII digits" in last and repr(value) in last, last
    assert "Traceback" not in r.stderr and not (tmp_path / "d").exists()


def test_ascii_argument_types():
    from kiosk_hub.argtypes import ascii_float, ascii_int
    assert [ascii_int(s) for s in ("0", "12", "-3", "+7", "007")] == [0, 12, -3, 7, 7]
    assert [ascii_float(s) for s in ("0.5", "2", "-1.25", ".5", "3.")] == [0.5, 2.0, -1.25, 0.5, 3.0]
    for bad in ("١٢", "１２", "1_0", " 12", "12 ", "", "+", "0x10", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            ascii_int(bad)
    for bad in ("٠.٥", "nan", "inf", "1e3", "1_0.5", "", ".", "1.2.3", " 1"):
        with pytest.raises(argparse.ArgumentTypeError):
            ascii_float(bad)
