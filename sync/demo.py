"""The demo's stay-notification scene: one notification raised, sent and acknowledged by a hub on
loopback, and one recorded by hand (its queued copy withdrawn). Called at the end of `kiosk demo --headless`."""

from __future__ import annotations

from typing import Callable

from kiosk import stay_notification as sn
from kiosk import store
from kiosk.clock import VN_TZ, SystemClock, parse_iso


def _local(iso: str | None) -> str:
    return parse_iso(iso).astimezone(VN_TZ).strftime("%H:%M:%S %d/%m") if iso else "-"


def _left(n: dict) -> str:
    s = n.get("time_left_seconds")
    if s is None:
        return "done"
    return (f"overdue by {-s // 60} min" if s < 0 else f"{s // 3600}h{(s % 3600) // 60:02d}m left") + \
        ("" if n.get("deadline_trusted") else " (clock not synchronised: approximate)")


def run_stay_demo(cfg, say: Callable[[str], None], clock=None) -> int:
    """Run the scene against the demo's database (cfg.database); returns the number of failures."""
    from sync.client import HubClient
    from sync.hub import Hub
    from sync.sender import Sender, Settings

    clock = clock or SystemClock()
    db = store.connect(cfg.database)
    visits = db.execute("SELECT v.id FROM visits v JOIN patients p ON p.id = v.patient_id "
                        "WHERE p.id_number IS NOT NULL AND NOT EXISTS "
                        "(SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id) ORDER BY v.id LIMIT 2").fetchall()
    if len(visits) < 2:
        say("stay: the demo needs two visits of patients with an ID number; skipped")
        return 1
    hub_dir = cfg.data_dir / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True)
    hub = Hub(hub_dir / "hub.db", host="127.0.0.1", port=0).start()
    failures = 0
    try:
        token = hub.store.enrol("demo-kiosk")
        say(f"hub: reference hub on {hub.url} (loopback); device 'demo-kiosk' enrolled")
        synced = clock.synchronised()
        if not synced:
            say("stay: note — the system clock is not synchronised; each notification records that, and deadlines "
                "are shown as approximate")
        addr, code = cfg["facility.address"], cfg["facility.code"]
        a = sn.start(db, visits[0][0], "Theo dõi qua đêm sau truyền dịch", clock=clock, facility_code=code,
                     address_of_stay=addr)
        ja = a.to_json(clock.now(), synced)
        say(f"stay: raised #{a.id} for visit {a.visit_id} ({a.masked_id}) — state {a.state}, due "
            f"{ja['deadline_local']} Vietnam time, {_left(ja)}")
        sender = Sender(db, HubClient(hub.url, token), clock=clock, settings=Settings(batch_size=50))
        r = sender.once()
        a = sn.get(db.conn, a.id)
        say(f"sync: sent {r.acknowledged} records to the hub in {r.requests} request(s)")
        say(f"stay: #{a.id} sent at {_local(a.sent_at)} → {a.state} by the hub as {a.hub_reference} "
            f"at {_local(a.acknowledged_at)}")
        if a.state != "acknowledged":
            failures += 1
        b = sn.start(db, visits[1][0], "Chờ chuyển tuyến sáng mai", clock=clock, facility_code=code,
                     address_of_stay=addr)
        say(f"stay: raised #{b.id} for visit {b.visit_id} ({b.masked_id}) — state {b.state}; the receptionist "
            "submits it through VNeID by hand")
        b, outcome = sn.record_receipt(db, b.id, "VNeID LT-2026-000123", clock=clock)
        say(f"stay: #{b.id} receipt 'VNeID LT-2026-000123' recorded → {b.state}; outbox copy {b.outbox_state} "
            f"({outcome}), so the police desk gets it once")
        if b.state != "receipt_recorded" or b.outbox_state != "withdrawn":
            failures += 1
        r = sender.once()
        st = hub.store.stats()
        say(f"hub: holds {st['visits']} visits and {st['stay_notifications']} stay notification(s); "
            f"outbox empty: {sender.remaining() == 0}")
        if sender.remaining() != 0:
            failures += 1
    finally:
        hub.stop()
        db.conn.close()
    return failures
