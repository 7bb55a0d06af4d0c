"""The device API on both engines, against a live gunicorn hub: idempotency, facility binding, the 400s,
bounded bodies, heartbeats, revocation, roster files."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from tests.hub.conftest import FACILITY, OTHER_FACILITY


def visit(i: int, facility: str = FACILITY, **kw) -> dict:
    return {"visit_id": i, "facility_code": facility, "visit_date": "2026-11-26", "queue_number": i,
            "created_at": "2026-11-26T02:30:00Z", "source": "serial", "clock_synced": True, "document": "cccd_qr",
            "patient": {"id_number": "040195001234", "full_name": "Trần Thị Lan Anh", "date_of_birth": "1995-05-12",
                        "sex": "female", "social_insurance_number": None, "card_number": None},
            "eligibility": {"result_code": "000", "benefit_percent": 100, "source": "roster", "as_of": "2026-11-25"},
            **kw}


def stay(i: int, facility: str = FACILITY) -> dict:
    return {"notification_id": i, "facility_code": facility, "full_name": "Trần Thị Lan Anh",
            "date_of_birth": "1995-05-12", "id_number": "040195001234", "passport_number": None,
            "reason": "Theo dõi sau sinh", "stay_from": "2026-11-26T14:40:00Z", "stay_until": None,
            "address_of_stay": "Trạm Y tế xã Nghi Văn", "deadline_at": "2026-11-26T16:00:00Z",
            "created_at": "2026-11-26T14:40:00Z", "clock_synced": True}


class Device:
    def __init__(self, live, facility: str = FACILITY, cli: bool = False):
        self.live = live
        self.name, self.token = live.hub.enrol(facility=facility, cli=cli)
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {self.token}"

    def post(self, path: str, body, key: str | None = None, **kw) -> requests.Response:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return self.s.post(self.live.url + path, json=body, headers=headers, timeout=30, **kw)

    def raw(self, path: str, data: bytes, key: str | None = None) -> requests.Response:
        return self.s.post(self.live.url + path, data=data, timeout=30,
                           headers={"Idempotency-Key": key or str(uuid.uuid4()), "Content-Type": "application/json"})

    def count(self, table: str) -> int:
        return self.live.hub.query(f"SELECT count(*) FROM {table} t JOIN registry_device d ON d.id = t.device_id "
                                   "WHERE d.name = %s", (self.name,))[0][0]


@pytest.fixture(scope="module")
def dev(shared_hub):
    return Device(shared_hub)


def replays(hub) -> int:
    return (hub.query("SELECT value FROM ingest_counter WHERE name = 'replays_answered'") or [(0,)])[0][0]


def test_replay_gets_the_original_answer_and_another_body_422(dev, shared_hub):
    key = str(uuid.uuid4())
    first = dev.post("/v1/visits", visit(1), key)
    assert first.status_code == 201 and first.json()["id"].startswith("V")
    before = replays(shared_hub.hub)
    again = dev.post("/v1/visits", visit(1), key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shared_hub.hub.cli_json("stats")["replays_answered"] == before + 1
    other = dev.post("/v1/visits", visit(2), key)
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert dev.count("ingest_visit") == 1


def test_idempotency_keys_are_per_device(shared_hub, dev):
    other = Device(shared_hub)
    key = str(uuid.uuid4())
    assert dev.post("/v1/visits", visit(10), key).status_code == 201
    r = other.post("/v1/visits", visit(10), key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_a_record_for_another_facility_is_refused_and_not_written(shared_hub):
    d = Device(shared_hub)
    key = str(uuid.uuid4())
    r = d.post("/v1/visits", visit(3, facility=OTHER_FACILITY), key)
    assert r.status_code == 422 and r.json()["error"] == "facility_mismatch"
    r = d.post("/v1/stay-notifications", stay(3, facility=OTHER_FACILITY))
    assert r.status_code == 422 and r.json()["error"] == "facility_mismatch"
    assert d.count("ingest_visit") == 0 and d.count("ingest_staynotification") == 0
    assert d.count("ingest_idempotency") == 0  # nothing written, not even the answer
    # The key stayed free: the same key with the right facility is a first write, not a 422.
    assert d.post("/v1/visits", visit(3), key).status_code == 201


def test_batch_refuses_only_the_bad_items(shared_hub):
    d = Device(shared_hub)
    keys = [str(uuid.uuid4()) for _ in range(5)]
    items = [{"kind": "visit", "idempotency_key": keys[0], "body": visit(20)},
             {"kind": "visit", "idempotency_key": keys[1], "body": visit(21, facility=OTHER_FACILITY)},
             {"kind": "stay_notification", "idempotency_key": keys[2], "body": stay(22)},
             {"kind": "visit", "idempotency_key": keys[3], "body": {"visit_id": "x"}},
             {"kind": "stay_notification", "idempotency_key": keys[4], "body": stay(24, facility=OTHER_FACILITY)}]
    r = d.post("/v1/batch", {"items": items})
    assert r.status_code == 200
    got = [(x["idempotency_key"], x["status"], x["body"].get("error")) for x in r.json()["results"]]
    assert got == [(keys[0], 201, None), (keys[1], 422, "facility_mismatch"), (keys[2], 201, None),
                   (keys[3], 400, "invalid"), (keys[4], 422, "facility_mismatch")]
    assert d.count("ingest_visit") == 1 and d.count("ingest_staynotification") == 1
    # The same batch again: the written ones are replays, the refused ones refused again.
    again = d.post("/v1/batch", {"items": items}).json()["results"]
    assert [(x["status"], x["replayed"]) for x in again] == [(201, True), (422, False), (201, True), (400, False),
                                                             (422, False)]
    assert d.count("ingest_visit") == 1


def test_visits_count_per_day_and_document(shared_hub):
    d = Device(shared_hub, facility="40124")
    for i, doc in enumerate(["chip", "chip", "bhyt_qr", None], start=1):
        body = visit(i, facility="40124")
        if doc is None:
            body.pop("document")  # a kiosk before contract 1.1
        else:
            body["document"] = doc
        assert d.post("/v1/visits", body).status_code == 201
    rows = dict(shared_hub.hub.query("SELECT document, visits FROM ingest_dailyuse WHERE facility_id = '40124'"))
    assert rows == {"chip": 2, "bhyt_qr": 1, "unknown": 1}
    assert d.post("/v1/visits", visit(9, facility="40124", document="phone")).status_code == 400


MALFORMED = {
    "not JSON": b'{"visit_id": 1,',
    "not UTF-8": b'{"visit_id": "\xff"}',
    "nesting 33 deep": b"[" * 33 + b"]" * 33,
    "nesting 100000 deep": b"[" * 100000 + b"]" * 100000,
    "lone surrogate": b'{"visit_id": 1, "facility_code": "\\ud800"}',
    "integer over 64 bits": b'{"visit_id": 1180591620717411303424}',
    "integer under 64 bits": b'{"visit_id": -9223372036854775809}',
    "NaN": b'{"visit_id": NaN}',
    "Infinity": b'{"visit_id": -Infinity}',
    "float overflow": b'{"visit_id": 1e400}',
    "duplicate key": b'{"visit_id": 1, "visit_id": 2}',
}

FOREIGN_DIGITS = {
    "full-width facility code": visit(1, facility="4０123"),
    "Arabic-Indic facility code": visit(1, facility="٤٠١٢٣"),
    "Devanagari ID number": visit(1, patient={"id_number": "०४०१९५००१२३४", "full_name": "X"}),
    "full-width social insurance number": visit(1, patient={"social_insurance_number": "４０１２３４５６７８",
                                                            "full_name": "X"}),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_bodies_get_400_and_the_hub_keeps_serving(dev, shared_hub, case):
    r = dev.raw("/v1/visits", MALFORMED[case])
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "malformed" and r.json()["detail"]
    r = dev.raw("/v1/batch", MALFORMED[case])
    assert r.status_code == 400 and r.json()["error"] == "malformed"
    assert dev.post("/v1/visits", visit(int(time.time_ns() % 10**9) + 1)).status_code == 201


@pytest.mark.parametrize("case", list(FOREIGN_DIGITS))
def test_non_ascii_digits_are_refused_not_normalised(dev, case):
    r = dev.post("/v1/visits", FOREIGN_DIGITS[case])
    assert r.status_code == 400 and r.json()["error"] == "invalid"
    assert "ASCII" in r.json()["detail"]
    s = stay(5)
    s["id_number"] = "０４０１９５００１２３４"
    r = dev.post("/v1/stay-notifications", s)
    assert r.status_code == 400 and "ASCII" in r.json()["detail"]


def test_bodies_are_bounded(dev, shared_hub):
    # The hub answers 413 from the headers alone, without reading 9 MiB.
    u = urlsplit(shared_hub.url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(f"POST /v1/visits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {dev.token}\r\n"
                  f"Idempotency-Key: big\r\nContent-Type: application/json\r\nContent-Length: {9 * 1024 * 1024}\r\n\r\n"
                  .encode())
        s.sendall(b"[" * 1000)
        got = b""
        while chunk := s.recv(65536):   # the hub closes the connection after the answer
            got += chunk
        head = got.decode("latin-1")
    assert head.startswith("HTTP/1.1 413") and '"too_large"' in head
    items = [{"kind": "visit", "idempotency_key": str(i), "body": visit(i)} for i in range(1, 502)]
    r = dev.post("/v1/batch", {"items": items})
    assert r.status_code == 400 and "1..500" in r.json()["detail"]
    assert dev.post("/v1/visits", visit(77)).status_code == 201


def test_writes_need_a_key_and_a_token(dev, shared_hub):
    r = requests.post(shared_hub.url + "/v1/visits", json=visit(1), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = requests.post(shared_hub.url + "/v1/visits", json=visit(1), timeout=10,
                      headers={"Authorization": "Bearer nope", "Idempotency-Key": "k"})
    assert r.status_code == 401
    r = dev.s.post(shared_hub.url + "/v1/visits", json=visit(1), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"
    r = dev.s.get(shared_hub.url + "/v1/visits", timeout=10)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    r = dev.s.get(shared_hub.url + "/v1/no-such-thing", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


HEARTBEAT = {"app_version": "1.4.0", "roster_version": 42, "roster_as_of": "2026-11-25",
             "outbox": {"queued": 3, "sent": 1, "acknowledged": 200, "needs_manual": 0},
             "oldest_unsent_at": "2026-11-26T01:00:00Z", "clock_synced": True, "disk_free_mb": 5120,
             "devices": {"scanner": "ok", "chip": "fault", "camera": "absent", "printer": "ok"},
             "visits_today": {"chip": 4, "cccd_qr": 2, "manual": 1}, "open_stays": 2,
             "earliest_stay_deadline": "2026-11-26T16:00:00Z"}


def test_heartbeat_keeps_latest_state_and_a_daily_aggregate(shared_hub):
    d = Device(shared_hub)
    r = d.s.post(shared_hub.url + "/v1/heartbeat", json=HEARTBEAT, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    second = {**HEARTBEAT, "outbox": {"queued": 0}, "disk_free_mb": 4000, "devices": {"chip": "ok"}}
    assert d.s.post(shared_hub.url + "/v1/heartbeat", json=second, timeout=10).status_code == 200
    [(backlog, disk, app, open_stays)] = shared_hub.hub.query(
        "SELECT s.backlog, s.disk_free_mb, s.app_version, s.open_stays FROM registry_devicestatus s "
        "JOIN registry_device d ON d.id = s.device_id WHERE d.name = %s", (d.name,))
    assert (backlog, disk, app, open_stays) == (0, 4000, "1.4.0", 2)
    [(count, worst, min_disk, faults)] = shared_hub.hub.query(
        "SELECT h.count, h.worst_backlog, h.min_disk_free_mb, h.fault_count FROM registry_heartbeatday h "
        "JOIN registry_device d ON d.id = h.device_id WHERE d.name = %s", (d.name,))
    assert (count, worst, min_disk, faults) == (2, 4, 4000, 1)


@pytest.mark.parametrize("bad", [{"full_name": "Trần Thị Lan Anh"}, {"devices": {"scanner": "broken"}},
                                 {"outbox": {"queued": -1}}, {"visits_today": {"passport": 1}},
                                 {"app_version": "1.0 <script>"}, {"id_number": "040195001234"}])
def test_heartbeat_accepts_no_personal_data_and_no_stray_fields(dev, shared_hub, bad):
    r = dev.s.post(shared_hub.url + "/v1/heartbeat", json={**HEARTBEAT, **bad}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid"


def test_revoked_and_wipe_ordered_devices_are_refused(shared_hub):
    from sync.client import DeviceRevoked, DeviceWipeOrdered, HubClient
    d = Device(shared_hub, cli=True)
    assert d.post("/v1/visits", visit(1)).status_code == 201
    info = shared_hub.hub.cli_json("revoke", "--name", d.name, "--reason", "stolen")
    assert info["wipe_ordered"] is False
    r = d.post("/v1/visits", visit(2))
    assert r.status_code == 403 and r.json()["error"] == "device_revoked" and "stolen" in r.json()["detail"]
    with pytest.raises(DeviceRevoked):
        HubClient(shared_hub.url, d.token).send_one("visit", str(uuid.uuid4()), visit(2))
    shared_hub.hub.cli_json("revoke", "--name", d.name, "--wipe")
    r = d.post("/v1/visits", visit(2))
    assert r.status_code == 403 and r.json()["error"] == "device_wipe_ordered"
    with pytest.raises(DeviceWipeOrdered):
        HubClient(shared_hub.url, d.token).roster_updates(None)
    # Re-enrolling gives a new token that works; the old one stays refused.
    new = shared_hub.hub.cli_json("enrol", "--facility", FACILITY, "--name", d.name)["token"]
    assert d.post("/v1/visits", visit(2)).status_code == 401
    assert requests.post(shared_hub.url + "/v1/visits", json=visit(2), timeout=10,
                         headers={"Authorization": f"Bearer {new}", "Idempotency-Key": "x"}).status_code == 201
    actions = [a for (a,) in shared_hub.hub.query("SELECT action FROM registry_adminaction WHERE target = %s",
                                                 (d.name,))]
    assert actions.count("device_revoke") == 2 and actions.count("device_enrol") == 2


def test_roster_publish_and_download(shared_hub, tmp_path):
    hub = shared_hub.hub
    d = Device(shared_hub)
    snap = tmp_path / f"snap-{uuid.uuid4().hex}.jsonl.gz"
    base = 1000 + int(time.time_ns() % 1000) * 10   # distinct versions per engine run of this module
    lines = [json.dumps({"roster": "snapshot", "version": base, "as_of": "2026-11-25"})] + \
            [json.dumps({"card": f"HS44{i:011d}"}) for i in range(2000)]
    snap.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    delta = tmp_path / f"delta-{uuid.uuid4().hex}.jsonl"
    delta.write_text(json.dumps({"roster": "delta", "since": base, "until": base + 1}) + "\n")
    info = hub.cli_json("roster", "publish", str(snap))
    assert info["kind"] == "snapshot" and info["version"] == base
    assert hub.cli_json("roster", "publish", str(delta))["version"] == base + 1
    dup = hub.cli("roster", "publish", str(snap))
    assert dup.returncode == 2 and dup.stderr.startswith("error: ") and "already published" in dup.stderr
    up = d.s.get(shared_hub.url + "/v1/roster/updates", params={"since": base}, timeout=10).json()
    assert up["latest_version"] == base + 1 and [f["kind"] for f in up["files"]] == ["delta"]
    full = d.s.get(shared_hub.url + "/v1/roster/updates", timeout=10).json()
    f = full["files"][0]
    assert f["kind"] == "snapshot" and f["gzip"] is True and f["sha256"] == info["sha256"]
    body = d.s.get(shared_hub.url + f["url"], timeout=10)
    assert body.status_code == 200 and body.content == snap.read_bytes() and body.headers["ETag"] == f'"{f["sha256"]}"'
    part = d.s.get(shared_hub.url + f["url"], headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206 and part.content == snap.read_bytes()[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{f['size'] - 1}/{f['size']}"
    head = d.s.head(shared_hub.url + f["url"], timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(f["size"]) and not head.content
    bad = d.s.get(shared_hub.url + f["url"], headers={"Range": f"bytes={f['size'] + 5}-"}, timeout=10)
    assert bad.status_code == 416 and bad.json()["error"] == "range_not_satisfiable"
    assert d.s.get(shared_hub.url + "/v1/roster/updates", params={"since": "٣"}, timeout=10).status_code == 400
    assert requests.get(shared_hub.url + f["url"], timeout=10).status_code == 401
