"""Acceptance: after real check-ins, no name, ID number or address is in clear in the database, its WAL,
the outbox, or a backup; what the kiosk shows still reads correctly."""

import json
import subprocess
from datetime import timedelta

import pytest

from kiosk import store
from kiosk.privacy import datakey
from kiosk.privacy import encryption
from kiosk.services import stay_notification as sn
from kiosk.app import build
from kiosk.services.checkin import CheckinService, visits_on
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY
from tests.conftest import kiosk_cmd
from tests.privacy.conftest import person

N = 60


def secrets_of(people):
    out = []
    for p in people:
        out += [p["name"], p["id_number"], p["address"]]
    return out


def raw_hits(paths, needles):
    blob = b"".join(p.read_bytes() for p in paths if p.exists())
    return [n for n in needles if n.encode("utf-8") in blob]


def fill(service, clock, n=N, stays=10):
    people = [person(i) for i in range(n)]
    for p in people:
        clock.advance(seconds=30)
        v = service.handle(ScanEvent(p["payload"].encode(), "serial"))
        assert v.ok, v
        p["visit_id"] = v.visit_id
    for p in people[:stays]:
        sn.start(service.db, p["visit_id"], "theo dõi sau sinh", clock=clock, facility_code="40123",
                 address_of_stay="Trạm Y tế xã Mẫu")
    return people


def db_files(cfg):
    return [cfg.database, cfg.database.with_name(cfg.database.name + "-wal")]


def test_no_personal_data_in_clear_in_db_wal_or_backup(privacy_cfg, vn_clock, cli_env, tmp_path):
    service = build(privacy_cfg, "none", clock=vn_clock).checkin_service()
    people = fill(service, vn_clock)
    # The WAL still holds the recent pages: search it as it is, before any checkpoint.
    assert privacy_cfg.database.with_name("kiosk.db-wal").stat().st_size > 0
    assert raw_hits(db_files(privacy_cfg), secrets_of(people)) == []
    # Everything still reads: the check-in result, the day's list, stay notifications, the sender's view.
    day = visits_on(service.db.conn, "2026-11-26")
    assert {v.patient["full_name"] for v in day} == {p["name"] for p in people}
    stays = sn.list_all(service.db.conn)
    assert {s.id_number for s in stays} == {p["id_number"] for p in people[:10]}
    payloads = [datakey.unseal_tree(service.data_key, json.loads(r[0])) for r in service.db.execute(
        "SELECT payload FROM outbox WHERE kind = 'visit' ORDER BY id")]
    assert [p["patient"]["full_name"] for p in payloads] == [p["name"] for p in people]
    assert encryption.clear_counts(service.db.conn) == {"patients": 0, "stay_notifications": 0,
                                                        "visit_changes": 0, "outbox": 0} or \
        all(v == 0 for v in encryption.clear_counts(service.db.conn).values())
    # A backup on "removable media": encrypted as a whole.
    media = tmp_path / "usb"
    media.mkdir()
    out = subprocess.run(kiosk_cmd("backup", "--to", str(media / "b.tkb"), "--key-file", str(tmp_path / "bk.key"),
                                   "--new-key", "--json"), env=cli_env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    backup = media / "b.tkb"
    assert raw_hits([backup], secrets_of(people) + ["SQLite format 3", "patients"]) == []


def test_the_search_finds_clear_text_when_it_is_there(data_dir, vn_clock):
    # Control: the same search on a database written without a data key finds every name and number.
    service = CheckinService(store.connect(data_dir / "kiosk.db", clock=vn_clock), facility_code="40123",
                             roster_key=DEMO_KEY, rescan_window=timedelta(minutes=10))
    people = fill(service, vn_clock, n=5, stays=0)
    files = [data_dir / "kiosk.db", data_dir / "kiosk.db-wal"]
    assert sorted(raw_hits(files, secrets_of(people))) == sorted(secrets_of(people))


def test_patient_lookup_is_by_keyed_hash(privacy_cfg, vn_clock):
    service = build(privacy_cfg, "none", clock=vn_clock).checkin_service()
    p = person(3)
    first = service.handle(ScanEvent(p["payload"].encode(), "serial"))
    vn_clock.advance(minutes=5)
    again = service.handle(ScanEvent(p["payload"].encode(), "serial"))
    assert again.existing and again.visit_id == first.visit_id  # found again without a clear identifier
    (key,) = service.db.execute("SELECT identity_key FROM patients").fetchone()
    assert key.startswith("hid:") and p["id_number"] not in key


def test_wrong_key_refuses_instead_of_showing_garbage(privacy_cfg, vn_clock, tmp_path):
    service = build(privacy_cfg, "none", clock=vn_clock).checkin_service()
    service.handle(ScanEvent(person(1)["payload"].encode(), "serial"))
    keyfile = datakey.key_path(privacy_cfg)
    keyfile.unlink()
    datakey.create(keyfile)  # a different key where the old one was
    from kiosk.errors import UnavailableError
    with pytest.raises(UnavailableError, match="not the one this database was sealed with"):
        build(privacy_cfg, "none", clock=vn_clock).checkin_service()


def test_sealed_value_moved_to_another_column_does_not_open(privacy_cfg, vn_clock):
    service = build(privacy_cfg, "none", clock=vn_clock).checkin_service()
    service.handle(ScanEvent(person(2)["payload"].encode(), "serial"))
    db = service.db
    db.conn.execute("UPDATE patients SET full_name = address")
    with pytest.raises(datakey.DecryptError):
        visits_on(db.conn, "2026-11-26")


def test_key_file_mode_is_checked_and_provisioned_0640(privacy_cfg):
    import os
    import stat
    path = datakey.key_path(privacy_cfg)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not str(path).startswith(str(privacy_cfg.data_dir))
    os.chmod(path, 0o644)
    from kiosk.errors import ConfigError
    with pytest.raises(ConfigError, match="must not be readable by others"):
        datakey.read(path)


def test_rows_from_before_encryption_are_sealed_by_encrypt_existing(privacy_cfg, vn_clock, cli_env):
    # Rows written in clear (an older release), then the key switched on.
    clear = CheckinService(store.connect(privacy_cfg.database, clock=vn_clock), facility_code="40123",
                           roster_key=DEMO_KEY)
    people = fill(clear, vn_clock, n=6, stays=2)
    clear.db.conn.close()
    assert raw_hits(db_files(privacy_cfg), secrets_of(people))
    out = subprocess.run(kiosk_cmd("datakey", "encrypt-existing", "--json"), env=cli_env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert done["patients"] == 6 and done["stay_notifications"] == 2 and done["patients_rekeyed"] == 6
    assert raw_hits(db_files(privacy_cfg), secrets_of(people)) == []
    # The same people scanned again are found under their keyed hash, not duplicated.
    service = build(privacy_cfg, "none", clock=vn_clock).checkin_service()
    vn_clock.advance(hours=1)
    v = service.handle(ScanEvent(people[0]["payload"].encode(), "serial"))
    assert v.ok and v.patient["full_name"] == people[0]["name"]
    assert service.db.execute("SELECT count(*) FROM patients").fetchone()[0] == 6


def test_datakey_status_reports_the_key_and_no_clear_rows(cli_env, privacy_cfg):
    for i in range(3):
        assert subprocess.run(kiosk_cmd("checkin", "--payload", person(i)["payload"]), env=cli_env,
                              capture_output=True).returncode == 0
    out = subprocess.run(kiosk_cmd("datakey", "status", "--json"), env=cli_env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert st["exists"] and st["mode"] == "0640" and st["outside_data_dir"] and not st["wiped"]
    assert set(st["clear_rows"].values()) == {0}
    again = subprocess.run(kiosk_cmd("datakey", "init"), env=cli_env, capture_output=True, text=True)
    assert again.returncode == 2 and "refusing to replace" in again.stderr


def test_staff_id_numbers_are_sealed_and_still_unique(cli_env, privacy_cfg):
    env = dict(cli_env, KIOSK_NEW_PIN="739146")
    add = subprocess.run(kiosk_cmd("staff", "add", "--name", "Quản Trị Viên", "--id-number", "001090000001",
                                   "--birth-date", "14/03/1990", "--admin"), env=env, capture_output=True, text=True)
    assert add.returncode == 0, add.stderr
    dup = subprocess.run(kiosk_cmd("staff", "add", "--name", "Người Khác", "--id-number", "001090000001",
                                   "--birth-date", "02/07/1985", "--staff", "1"), env=dict(env, KIOSK_STAFF_PIN="739146"), capture_output=True,
                         text=True)
    assert dup.returncode != 0 and "id" in dup.stderr.lower()
    listed = json.loads(subprocess.run(kiosk_cmd("staff", "list", "--json"), env=env, capture_output=True,
                                       text=True).stdout)
    assert [a["masked_id"] for a in listed] == ["********0001"]
    assert raw_hits(db_files(privacy_cfg), ["001090000001"]) == []
    from kiosk.services import staff
    db = store.connect(privacy_cfg.database, key=datakey.load(privacy_cfg))
    assert staff.officer_id_number(db.conn, 1) == "001090000001"
