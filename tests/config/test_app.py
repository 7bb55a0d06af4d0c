"""kiosk.app.build: the one place a configuration becomes a kiosk's parts (key, clock, devices, connections)."""

from __future__ import annotations

import threading
from contextlib import closing

import pytest

from drivers.printer import SimulatedPrinter
from drivers.simulated import SimulatedScanner
from kiosk import config, store
from kiosk.app import build, open_database
from kiosk.domain import ScanEvent
from kiosk.errors import UnavailableError
from kiosk.privacy import datakey
from kiosk.services import staff
from kiosk.simulated import demo
from kiosk.simulated.chip_source import PACE_CARD_QR, EmulatedChipSource


def test_none_builds_no_devices_and_a_database_with_key_and_clock(app, clock):
    assert app.devices.all_sources() == [] and app.devices.printer is None and app.devices.voice is None
    db = app.database()
    try:
        assert db.key is app.data_key is not None and db.clock is clock
        assert datakey.database_key_id(app.config.database) == app.data_key.key_id  # bound at build
    finally:
        db.close()


def test_each_database_is_a_new_connection(app):
    first, second = app.database(), app.database()
    try:
        assert first.conn is not second.conn
    finally:
        first.close()
        second.close()


def test_simulated_devices_are_the_doubles(kiosk_config, clock):
    app = build(kiosk_config, "simulated", clock=clock)
    assert [type(s) for s in app.devices.sources] == [SimulatedScanner]
    assert isinstance(app.devices.chip, EmulatedChipSource)
    assert isinstance(app.devices.printer, SimulatedPrinter)
    assert app.devices.all_sources() == [*app.devices.sources, app.devices.chip]


def test_configured_devices_follow_the_configuration(kiosk_config, clock):
    cfg = config.Config({**kiosk_config.values, "scanner.kind": "simulated", "printer.kind": "simulated"})
    app = build(cfg, "configured", clock=clock)
    assert [type(s) for s in app.devices.sources] == [SimulatedScanner]
    assert app.devices.chip is None  # reader.enabled is off by default
    assert isinstance(app.devices.printer, SimulatedPrinter)
    assert app.simulation is None  # simulated drivers in a configuration are not the demo


def test_the_simulation_is_what_the_demo_drives(kiosk_config, clock):
    """ui/demo.py reaches the doubles only through App.simulation: the same objects as the devices, the
    invented people's payloads and the demo's accounts."""
    assert build(kiosk_config, "none", clock=clock).simulation is None
    app = build(kiosk_config, "simulated", clock=clock)
    sim = app.simulation
    assert sim is not None
    assert app.devices.sources == [sim.scanner] and app.devices.chip is sim.chip
    assert app.devices.printer is sim.printer
    assert sim.payloads.eligible_cccd == demo.ELIGIBLE_CCCD and sim.payloads.chip_card_qr == PACE_CARD_QR
    assert sim.seed() == len(demo.ROSTER)
    assert sim.seed() == len(demo.ROSTER)  # a second seeding adds no second set of accounts
    with closing(app.database()) as db:
        accounts = staff.list_staff(db)
    assert [a.full_name for a in accounts].count(sim.admin.full_name) == 1 and len(accounts) == 2
    service = app.checkin_service()
    try:
        outcome = service.handle(ScanEvent(sim.payloads.eligible_cccd.encode(), "serial"))
    finally:
        service.db.close()
    assert outcome.ok and outcome.eligibility["result_code"] == "000"  # on the seeded roster, insured


def test_unknown_device_set_is_refused(kiosk_config, clock):
    with pytest.raises(ValueError):
        build(kiosk_config, "hardware", clock=clock)  # type: ignore[arg-type]


def test_a_key_the_database_was_not_sealed_with_is_refused(kiosk_config, clock):
    build(kiosk_config, "none", clock=clock)  # binds the database to the key beside the data directory
    datakey.key_path(kiosk_config).unlink()
    other = kiosk_config.data_dir / "other.key"
    datakey.create(other)
    cfg = config.Config({**kiosk_config.values, "privacy.data_key_file": str(other)})
    with pytest.raises(UnavailableError, match="not the one this database was sealed with"):
        build(cfg, "none", clock=clock)


def test_checkin_services_per_thread_share_nothing_but_the_file(app):
    outcomes = []

    def scan(payload: str) -> None:
        service = app.checkin_service()  # its own connection, as the UI's scan worker makes one
        try:
            outcomes.append(service.handle(ScanEvent(payload.encode(), "serial")))
        finally:
            service.db.close()

    threads = [threading.Thread(target=scan, args=(p,)) for p in (demo.ELIGIBLE_CCCD, demo.EXPIRED_CCCD)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(o.queue_number for o in outcomes) == [1, 2]
    assert all(o.patient["full_name"] for o in outcomes)


def test_national_lookup_is_none_when_nothing_is_configured(app):
    assert app.national_lookup() is None
    db = app.database()
    try:
        assert app.recheck_pending(db) is None
    finally:
        db.close()


def test_open_database_needs_no_key(kiosk_config):
    db = open_database(kiosk_config)  # provisioning migrates before any data key exists
    try:
        assert db.key is None and store.schema_version(db) > 0
    finally:
        db.close()
    assert not datakey.key_path(kiosk_config).exists()
