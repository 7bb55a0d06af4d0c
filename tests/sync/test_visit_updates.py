"""Contract 1.2.0 from the kiosk: a check-in's new visit fields, and every queue action at the desk (called, done,
left, cancelled, a service added) as a numbered `visit_update` outbox row written in the action's own
transaction; then through the real sender to the real hub (`kiosk-hub serve`), its Encounter following the
queue, and exactly once through the fault proxy."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

import pytest
import requests

from kiosk import store
from kiosk.simulated import demo
from kiosk.services import desk
from kiosk.services import staff
from kiosk.services.checkin import CheckinService
from kiosk.clock import vn_date
from kiosk.privacy.datakey import unseal_tree
from kiosk.documents.chip import ChipRead
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY
from sync.client import SINGLE_PATHS, HubClient
from sync.sender import Sender, Settings
from tests.sync.test_contract import check


@pytest.fixture
def seeded(service, clock):
    demo.seed_roster(service.db, DEMO_KEY, vn_date(clock.now()), "40123")
    return service


def bodies(service, kind: str) -> list[dict]:
    rows = service.db.execute("SELECT payload FROM outbox WHERE kind = ? ORDER BY id", [kind]).fetchall()
    return [unseal_tree(service.data_key, json.loads(p)) for (p,) in rows]


def tx(service):
    return store.transaction(service.db)


def receptionist(service, clock) -> int:
    with tx(service) as c:
        return staff.add(c, "Nguyễn Thị Mai", "040190000111", "385172", clock.now(), is_admin=True).id


def chip(chip_authentication: str = "genuine", passive: str = "verified") -> ChipRead:
    return ChipRead(access_method="pace-can", mrz={}, passive_authentication=passive,
                    chip_authentication=chip_authentication, apdus=0, bytes=0,
                    dg13={"id_number": "040195001234", "full_name": "Trần Thị Lan Anh", "date_of_birth": "1995-05-12",
                          "sex": "female", "old_id_number": "186543210"})


def test_a_checkin_carries_the_1_2_fields(seeded):
    seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode()))           # CCCD QR, card on the roster
    seeded.handle(ScanEvent(demo.BHYT_QR.encode()))                 # BHYT QR: the card's own fields
    qr, bhyt = bodies(seeded, "visit")
    for b in (qr, bhyt):
        check("Visit", b)
        assert b["services"] == []
    assert qr["patient"]["old_id_number"] == "186543210" and qr["patient"]["id_number"] == "040195001234"
    assert qr["identity_flags"] == {"chip_verified": False, "clone_suspected": False, "identity_mismatch": False}
    card = qr["card"]                                               # from the roster card matched
    assert set(card) >= {"valid_from", "valid_to", "beneficiary_group"} and len(card["beneficiary_group"]) == 2
    assert bhyt["card"] == {"valid_from": "2026-01-01", "registered_facility": "40123"}
    assert "old_id_number" not in bhyt["patient"]


def test_a_chip_read_says_verified_or_clone(service, clock):
    service.handle(ScanEvent(b"", "chip", document=chip()))
    service.handle(ScanEvent(b"", "chip", document=chip("clone_suspected")))   # the re-scan: same visit
    service.rescan_window = timedelta(0)
    clock.advance(minutes=1)
    service.handle(ScanEvent(b"", "chip", document=chip("clone_suspected")))
    first, clone = bodies(service, "visit")
    assert first["identity_flags"]["chip_verified"] is True and first["patient"]["old_id_number"] == "186543210"
    assert clone["identity_flags"]["clone_suspected"] is True
    assert first["document"] == "chip"
    check("Visit", first)


def test_desk_actions_queue_numbered_updates_in_their_own_transaction(seeded, clock):
    sid = receptionist(seeded, clock)
    v = seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode())).visit_id
    with tx(seeded) as c:
        desk.add_service(c, v, "kham_benh", None, clock.now())      # chosen at the kiosk
    clock.advance(minutes=5)
    with tx(seeded) as c:
        desk.call_next(c, vn_date(clock.now()).isoformat(), sid, clock.now())
        desk.add_service(c, v, "kham_benh", sid, clock.now())      # already there: no change, no update
        desk.add_service(c, v, "tiem_chung", sid, clock.now())
    clock.advance(minutes=10)
    with tx(seeded) as c:
        desk.change_state(c, v, "done", sid, clock.now())
        desk.change_state(c, v, "done", sid, clock.now())            # no change, no update
    ups = bodies(seeded, "visit_update")
    for u in ups:
        check("VisitUpdate", u)
    assert [(u["seq"], u["state"], u["services"]) for u in ups] == [
        (1, "waiting", ["kham_benh"]), (2, "being_seen", ["kham_benh"]),
        (3, "being_seen", ["kham_benh", "tiem_chung"]), (4, "done", ["kham_benh", "tiem_chung"])]
    assert {u["visit_id"] for u in ups} == {v} and {u["facility_code"] for u in ups} == {"40123"}
    assert ups[-1]["changed_at"] == "2026-11-26T02:45:00Z"
    # An action that fails after its update was queued leaves neither (and the next update is still 5).
    with pytest.raises(RuntimeError), tx(seeded) as c:
        desk.change_state(c, v, "being_seen", sid, clock.now())
        raise RuntimeError("power cut")
    assert len(bodies(seeded, "visit_update")) == 4
    assert seeded.db.execute("SELECT status, update_seq FROM visits WHERE id = ?", [v]).fetchone() == ("done", 4)
    with tx(seeded) as c:
        desk.change_state(c, v, "being_seen", sid, clock.now())
    assert bodies(seeded, "visit_update")[-1]["seq"] == 5
    # Outside a transaction the outbox refuses (a change without its update could be committed alone).
    with pytest.raises(RuntimeError, match="inside the record's transaction"):
        desk.enqueue_update(seeded.db.conn, v, clock.now())


def test_every_queue_state_is_sent_and_a_rescan_mismatch_too(seeded, clock):
    sid = receptionist(seeded, clock)
    v = seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode())).visit_id
    for state in ("left", "waiting", "cancelled"):
        with tx(seeded) as c:
            desk.change_state(c, v, state, sid, clock.now())
    other = demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "Lê Thị Hồng")
    assert seeded.handle(ScanEvent(other.encode())).visit_id != v  # cancelled: a new visit, no mismatch
    w = seeded.handle(ScanEvent(demo.EXPIRED_CCCD.encode())).visit_id
    seeded.handle(ScanEvent(demo.EXPIRED_CCCD.replace("Lê Văn Bình", "Đỗ Thị Cúc").encode()))
    ups = bodies(seeded, "visit_update")
    assert [(u["visit_id"], u["seq"], u["state"]) for u in ups] == [(v, 1, "left"), (v, 2, "waiting"),
                                                                     (v, 3, "cancelled"), (w, 1, "waiting")]
    assert ups[-1]["identity_flags"] == {"identity_mismatch": True}
    check("VisitUpdate", ups[-1])


def _his_token(hub) -> str:
    """A HIS client of the hub for the device's facility, written into the hub's database."""
    token = secrets.token_urlsafe(32)
    env = hub.env
    now = "CURRENT_TIMESTAMP" if env.engine == "sqlite" else "now()"
    name = f"his-{secrets.token_hex(4)}"
    env.execute(f"INSERT INTO fhir_hisclient (name, token_hash, created_at) VALUES (%s, %s, {now})",
                (name, hashlib.sha256(token.encode()).hexdigest()))
    (pk,), = env.query("SELECT id FROM fhir_hisclient WHERE name = %s", (name,))
    env.execute("INSERT INTO fhir_hisclient_facilities (hisclient_id, facility_id) VALUES (%s, %s)",
                (pk, hub.facility))
    return token


def test_queue_actions_reach_the_hub_and_its_encounter(seeded, clock, hub):
    assert SINGLE_PATHS["visit_update"] == "/v1/visit-updates"
    sid = receptionist(seeded, clock)
    v = seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode())).visit_id
    client = HubClient(hub.url, hub.token)
    sender = Sender(seeded.db, client, clock=clock, settings=Settings(batch_size=1))
    first = sender.once()
    assert first.acknowledged >= 1 and first.rejected == 0
    his = requests.Session()
    his.headers["Authorization"] = f"Bearer {_his_token(hub)}"
    base = hub.url + "/fhir/R4"

    def encounter() -> dict:
        """Found by a search (the shared hub holds other tests' visits of the day: every page), then read."""
        url, params, mine = f"{base}/Encounter", {"date": vn_date(clock.now()).isoformat(), "_count": "200",
                                                  "location": f"Location/station-{hub.facility}"}, []
        while url:
            r = his.get(url, params=params, timeout=30)
            assert r.status_code == 200, r.text
            mine += [e["resource"] for e in r.json().get("entry", [])
                     if any(i["value"] == f"{hub.facility}/{hub.name}/{v}" for i in e["resource"]["identifier"])]
            url, params = next((lk["url"] for lk in r.json()["link"] if lk["relation"] == "next"), None), None
        assert len(mine) == 1
        return his.get(f"{base}/Encounter/{mine[0]['id']}", timeout=30).json()

    assert encounter()["status"] == "arrived"
    with tx(seeded) as c:
        desk.add_service(c, v, "kham_benh", None, clock.now())
        desk.call_next(c, vn_date(clock.now()).isoformat(), sid, clock.now())
    r = sender.once()                                # one record a request: the single path
    assert r.acknowledged >= 2 and r.rejected == 0
    enc = encounter()
    assert enc["status"] == "in-progress" and enc["serviceType"]["coding"][0]["code"] == "kham_benh"
    clock.advance(minutes=12)
    with tx(seeded) as c:
        desk.change_state(c, v, "done", sid, clock.now())
    sender.settings.batch_size = 100                 # the batch path
    assert sender.once().rejected == 0
    enc = encounter()
    assert enc["status"] == "finished" and enc["period"]["end"].startswith("2026-11-26T02:42:00")
    states = hub.query("SELECT c.seq, c.state, c.late FROM ingest_visitchange c JOIN registry_device d "
                       "ON d.id = c.device_id WHERE d.name = %s ORDER BY c.seq", (hub.name,))
    assert [tuple(s) for s in states] == [(1, "waiting", False), (2, "being_seen", False), (3, "done", False)]


def test_updates_reach_the_hub_exactly_once_through_faults(seeded, clock, hub):
    """A short variant of tests/hub/test_exactly_once.py for visit_update: 503s, answers dropped after the hub
    committed, resets; each update is held once, and every visit ends at the kiosk's state."""
    from tests.faultproxy import FaultProxy
    sid = receptionist(seeded, clock)
    visits = [seeded.handle(ScanEvent(f"0401950{i:05d}||Người Thử|12051995|Nữ|Xã Thử|03062021".encode())).visit_id
              for i in range(12)]
    day = vn_date(clock.now()).isoformat()
    for i, v in enumerate(visits):
        with tx(seeded) as c:
            desk.add_service(c, v, "kham_benh", None, clock.now())
    for i, v in enumerate(visits):
        clock.advance(seconds=30)
        with tx(seeded) as c:
            desk.call_next(c, day, sid, clock.now())
            desk.change_state(c, v, ("done", "left", "cancelled")[i % 3], sid, clock.now())
    up = requests.utils.urlparse(hub.url)
    proxy = FaultProxy(up.hostname, up.port, seed=15, fail_rate=0.2, drop_rate=0.2, reset_rate=0.05).start()
    try:
        client = HubClient(proxy.url, hub.token, timeout=(3.05, 10.0))
        sender = Sender(seeded.db, client, clock=clock, settings=Settings(batch_size=4, in_flight_retry=0))
        for _ in range(200):
            sender.once(max_failures=50, sleep=lambda s: None)
            if sender.remaining() == 0:
                break
            clock.advance(seconds=5)                 # rows deferred (409) come due again
    finally:
        proxy.stop()
    assert proxy.counters.dropped > 0 and proxy.counters.failed > 0          # the faults really happened
    outbox = seeded.db.execute("SELECT kind, record_id, idempotency_key, state FROM outbox").fetchall()
    assert {s for *_, s in outbox} == {"acknowledged"}
    sent = {key: rid for kind, rid, key, _ in outbox if kind == "visit_update"}
    held = hub.query("SELECT c.idempotency_key, c.record_id, c.seq FROM ingest_visitchange c JOIN registry_device d "
                     "ON d.id = c.device_id WHERE d.name = %s", (hub.name,))
    assert sorted(k for k, *_ in held) == sorted(sent)                        # each key once, none missing
    assert len({(r, s) for _, r, s in held}) == len(held) == 3 * len(visits)  # each (visit, seq) once
    kiosk = dict(seeded.db.execute("SELECT id, status FROM visits").fetchall())
    hub_states = dict(hub.query("SELECT v.record_id, v.state FROM ingest_visit v JOIN registry_device d "
                                "ON d.id = v.device_id WHERE d.name = %s", (hub.name,)))
    assert hub_states == kiosk
