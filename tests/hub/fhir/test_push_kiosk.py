"""End to end: a check-in made at the kiosk (the kiosk's check-in service, its sealed database, then the real
`kiosk sync once`) reaches a live `kiosk-hub serve`; `kiosk-hub push once` delivers it to a test HIS as a valid
FHIR R4 transaction Bundle; the receptionist's queue actions at the desk (contract 1.2.0 visit_update, through the
same sender) update its Encounter there, each state in order."""

from __future__ import annotations

import subprocess

import pytest

from kiosk import store
from kiosk.simulated import demo
from kiosk.services import desk
from kiosk.services import staff
from kiosk.clock import vn_date
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY
from tests.conftest import kiosk_cmd
from tests.hub.conftest import FACILITY
from tests.hub.fhir.his_stub import HisStub


@pytest.mark.parametrize("hub_db", ["sqlite"], indirect=True)
def test_a_kiosk_checkin_and_its_queue_actions_reach_the_his(live_hub, service, clock, kiosk_env, tmp_path):
    hub = live_hub.hub
    _, token = hub.enrol()
    token_file = tmp_path / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)

    def sync_and_push() -> dict:
        r = subprocess.run(kiosk_cmd("sync", "once", "--hub", live_hub.url, "--token-file", str(token_file),
                                     "--json"), env=kiosk_env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return hub.cli_json("push", "once")

    with HisStub() as his:
        added = hub.cli_json("his", "add", "--facility", FACILITY, "--name", "his-40123", "--push-url", his.url)
        assert added["facilities"] == [FACILITY]
        demo.seed_roster(service.db, DEMO_KEY, vn_date(clock.now()), FACILITY)
        with store.transaction(service.db) as c:
            sid = staff.add(c, "Nguyễn Thị Mai", "040190000111", "385172", clock.now(), is_admin=True).id
        v = service.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode(), "serial"))
        assert v.ok, v
        assert sync_and_push()["pushed"] == 1
        assert his.invalid == [], his.invalid              # both libraries parsed the bundle as R4 / R4B
        [(eid, enc)] = his.encounters().items()
        assert enc["status"] == "arrived" and enc["class"]["code"] == "AMB"
        assert his.received[0].bundle_types[-1] == "Encounter" and "Patient" in his.received[0].bundle_types
        pat = his.resources[("Patient", enc["subject"]["reference"].split("/")[1])]
        assert demo.ELIGIBLE_CCCD.split("|")[0] in {i["value"] for i in pat["identifier"]}

        with store.transaction(service.db) as c:
            desk.add_service(c, v.visit_id, "kham_benh", None, clock.now())
            desk.call_next(c, vn_date(clock.now()).isoformat(), sid, clock.now())
        assert sync_and_push()["pushed"] >= 1
        enc = his.encounters()[eid]
        assert enc["status"] == "in-progress" and enc["serviceType"]["coding"][0]["code"] == "kham_benh"
        clock.advance(minutes=12)
        with store.transaction(service.db) as c:
            desk.change_state(c, v.visit_id, "done", sid, clock.now())
        sync_and_push()
        enc = his.encounters()[eid]
        assert enc["status"] == "finished" and "end" in enc["period"]
        assert his.states_seen()[eid] == ["waiting", "being_seen", "done"]
        assert list(his.encounters()) == [eid] and his.invalid == []
        # every push is in the hub's access log, by opaque id
        rows = hub.query("SELECT a.resource_id, a.status FROM fhir_access a WHERE a.interaction = 'push'")
        assert {r[0] for r in rows} == {eid} and all(r[1] == 200 for r in rows)
