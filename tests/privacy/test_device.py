"""Device hygiene and people's rights through the real command line: wipe, backup/restore, person export/erase."""

import json
import os
import shutil
import subprocess

import pytest

from kiosk import store
from kiosk.privacy import datakey
from tests.conftest import kiosk_cmd
from tests.privacy.conftest import person


def run(env, *args, **kw):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True, **kw)


def checkin(env, i):
    out = run(env, "checkin", "--payload", person(i)["payload"], "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def all_bytes(root):
    blob = b""
    for dirpath, _, files in os.walk(root):
        for f in files:
            blob += open(os.path.join(dirpath, f), "rb").read()
    return blob


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the root path of the admin check needs root")


@needs_root
def test_wipe_leaves_nothing_and_the_kiosk_refuses_to_start(cli_env, privacy_cfg, tmp_path):
    people = [person(i) for i in range(5)]
    for i in range(5):
        checkin(cli_env, i)
    # An attacker's earlier copy of the database: after the wipe it must be useless too.
    stolen = tmp_path / "stolen.db"
    db = store.connect(privacy_cfg.database)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(privacy_cfg.database, stolen)
    sealed = db.execute("SELECT full_name FROM patients").fetchone()[0]
    db.conn.close()

    refused = run(cli_env, "wipe")
    assert refused.returncode == 2 and "--yes-destroy-all-data" in refused.stderr
    pending = run(cli_env, "wipe", "--yes-destroy-all-data")
    assert pending.returncode == 2 and "not reached the hub" in pending.stderr
    out = run(cli_env, "wipe", "--yes-destroy-all-data", "--force", "--reason", "stolen-device order", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["key_shredded"] and info["files_destroyed"] >= 1

    key_file = datakey.key_path(privacy_cfg)
    assert not key_file.exists()
    remaining = sorted(p.name for p in privacy_cfg.data_dir.rglob("*"))
    assert remaining == [".wiped"]
    blob = all_bytes(privacy_cfg.data_dir) + all_bytes(key_file.parent)
    for p in people:
        for secret in (p["name"], p["id_number"], p["address"]):
            assert secret.encode() not in blob
    assert sealed.encode() not in blob
    # The stolen copy holds only ciphertext, and the key that opened it is gone.
    assert all(p["name"].encode() not in stolen.read_bytes() for p in people)

    for args in (("checkin", "--payload", people[0]["payload"]), ("visits",), ("sync", "status")):
        r = run(cli_env, *args)
        assert r.returncode == 3 and "wiped" in r.stderr and "re-provision" in r.stderr, (args, r.stderr)
    # Re-provisioning gives a fresh, empty kiosk.
    init = run(cli_env, "datakey", "init", "--after-wipe", "--json")
    assert init.returncode == 0, init.stderr
    assert checkin(cli_env, 0)["queue_number"] == 1


@needs_root
def test_backup_restores_onto_a_replacement_device_with_the_backup_key_only(cli_env, privacy_cfg, tmp_path):
    for i in range(4):
        checkin(cli_env, i)
    media = tmp_path / "usb"
    media.mkdir()
    bk = tmp_path / "envelope" / "backup.key"
    bk.parent.mkdir()
    out = run(cli_env, "backup", "--to", str(media), "--key-file", str(bk), "--new-key", "--json")
    assert out.returncode == 0, out.stderr
    path = json.loads(out.stdout)["path"]
    # A replacement device: empty data directory, no data key.
    new = tmp_path / "new"
    (new / "data").mkdir(parents=True)
    toml = new / "kiosk.toml"
    toml.write_text(f'[storage]\ndata_dir = "{new / "data"}"\n[privacy]\ndata_key_file = "{new / "data.key"}"\n')
    env = dict(cli_env, KIOSK_CONFIG=str(toml))
    wrong = tmp_path / "wrong.key"
    wrong.write_text(os.urandom(32).hex())
    bad = run(env, "restore", "--from", path, "--key-file", str(wrong))
    assert bad.returncode == 1 and "does not open" in bad.stderr
    good = run(env, "restore", "--from", path, "--key-file", str(bk), "--json")
    assert good.returncode == 0, good.stderr
    visits = json.loads(run(env, "visits", "--date", "2026-11-26", "--json").stdout or "[]")
    today = json.loads(run(env, "visits", "--json").stdout)
    names = sorted(v["patient"]["full_name"] for v in today + visits)
    assert sorted(set(names)) == sorted(person(i)["name"] for i in range(4))
    # The backup itself is in the audit trail, and the chain survived the trip.
    verify = json.loads(run(env, "audit", "verify", "--json").stdout)
    assert verify["ok"] and verify["entries"] >= 2
    # A damaged backup is refused, not half-restored.
    data = bytearray(open(path, "rb").read())
    data[-100] ^= 1
    damaged = tmp_path / "damaged.tkb"
    damaged.write_bytes(bytes(data))
    r = run(env, "restore", "--from", str(damaged), "--key-file", str(bk), "--replace")
    assert r.returncode != 0 and ("damaged" in r.stderr or "not yet delivered" in r.stderr)


def test_person_export_and_erase(cli_env, privacy_cfg):
    from kiosk.services import staff
    from kiosk.clock import SystemClock
    for i in range(3):
        checkin(cli_env, i)
    target = person(1)
    db = store.connect(privacy_cfg.database)
    now = SystemClock().now()
    with store.transaction(db) as conn:
        admin = staff.add(conn, "Quản Trị Viên", "001090000001", "739146", now, is_admin=True)
        clerk = staff.add(conn, "Lễ Tân", "001090000002", "5190", now)
    # The visit of person 1 reached the hub; person 1 came back later (not yet synced).
    with store.transaction(db) as conn:
        conn.execute("UPDATE outbox SET state = 'acknowledged', payload = '{}' WHERE kind = 'visit' AND record_id = 2")
    db.conn.close()

    as_clerk = run(dict(cli_env, KIOSK_STAFF_PIN="5190"), "person", "export", "--id-number", target["id_number"],
                   "--staff", str(clerk.id))
    assert as_clerk.returncode == 2 and "administrator" in as_clerk.stderr
    wrong_pin = run(dict(cli_env, KIOSK_STAFF_PIN="0000"), "person", "export", "--id-number",
                    target["id_number"], "--staff", str(admin.id))
    assert wrong_pin.returncode == 2 and "PIN not accepted" in wrong_pin.stderr

    admin_env = dict(cli_env, KIOSK_STAFF_PIN="739146")
    out = run(admin_env, "person", "export", "--id-number", target["id_number"], "--staff", str(admin.id), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["patients"][0]["full_name"] == target["name"] and data["patients"][0]["id_number"] == target["id_number"]
    assert data["patients"][0]["address"] == target["address"] and len(data["visits"]) == 1
    assert [s["state"] for s in data["sent_to_hub"]] == ["acknowledged"]

    erase = run(admin_env, "person", "erase", "--id-number", person(2)["id_number"], "--staff", str(admin.id),
                "--json")
    assert erase.returncode == 0, erase.stderr
    kept = json.loads(erase.stdout)
    assert kept["erased"]["visits"] == 0 and any("not yet delivered" in k["reason"] for k in kept["kept"])

    erase = run(admin_env, "person", "erase", "--id-number", target["id_number"], "--staff", str(admin.id), "--json")
    assert erase.returncode == 0, erase.stderr
    res = json.loads(erase.stdout)
    assert res["erased"] == {"visits": 1, "stay_notifications": 0, "patients": 1, "outbox": 1}
    again = json.loads(run(admin_env, "person", "export", "--id-number", target["id_number"], "--staff",
                           str(admin.id), "--json").stdout)
    assert again["found"] is False
    db = store.connect(privacy_cfg.database)
    actions = [(e[0], e[1]) for e in db.execute("SELECT actor, action FROM audit_log ORDER BY seq")]
    assert (f"staff:{admin.id}", "exported") in actions and (f"staff:{admin.id}", "erased") in actions
    raw = privacy_cfg.database.read_bytes() + privacy_cfg.database.with_name("kiosk.db-wal").read_bytes()
    assert target["id_number"].encode() not in raw
