"""The composition root: the one place that turns a configuration into a running kiosk's parts.

`build(cfg, devices=...)` loads what must be loaded once per process — the
device data key (kiosk.privacy.datakey: refused on a wiped device, or when it
is not the key the database was sealed with), the roster key, the clock — and
builds the devices:

- ``"configured"``: the drivers the configuration names (kiosk run);
- ``"simulated"``: kiosk.simulated's doubles (kiosk demo, the UI tests,
  benchmarks): a scanner fed by `scan(payload)`, the CCCD emulator on the
  "reader", PNG tickets;
- ``"none"``: no devices (the command-line tools).

Everything else asks the App: `database()` for a new connection (one per
thread: SQLite connections are not shared across threads) carrying the key and
the clock, `checkin_service(db)`, `national_lookup(staff_id)`. Nothing below
this module looks a key, a clock or a device up globally; only this module, the
tests and the benchmarks import kiosk.simulated.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from drivers import sources as driver_sources
from drivers.printer import SimulatedPrinter, printer_from_config
from drivers.protocols import ChipSource, Printer, ScanSource, Voice
from drivers.simulated import SimulatedScanner
from drivers.voice import voice_from_config
from kiosk import store
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.eligibility import roster
from kiosk.privacy import datakey
from kiosk.privacy.datakey import DataKey
from kiosk.services import staff
from kiosk.services.checkin import CheckinService
from kiosk.simulated.chip_source import EmulatedChipSource
from sync import national_lookup as national

DeviceSet = Literal["configured", "simulated", "none"]


@dataclass
class Devices:
    """What the kiosk's window talks to. `sources` are the scan sources (scanner, camera); the chip reader is
    `chip`, built apart from them (it takes `expect()` from the check-in flow). `all_sources()` is every source
    to start and stop together."""

    sources: list[ScanSource] = field(default_factory=list)
    chip: ChipSource | None = None
    printer: Printer | None = None
    voice: Voice | None = None

    def all_sources(self) -> list[ScanSource]:
        return [*self.sources, *([self.chip] if self.chip is not None else [])]


@dataclass
class App:
    """One process's kiosk: its configuration, clock, device data key (loaded once, never looked up globally),
    roster key and devices. Threads share it; each opens its own `database()`."""

    config: Config
    clock: Clock
    data_key: DataKey | None
    roster_key: bytes
    devices: Devices = field(default_factory=Devices)

    @property
    def facility_code(self) -> str:
        return str(self.config["facility.code"])

    def database(self) -> store.Database:
        """A new connection with the data key and the clock; the caller closes it (one per thread)."""
        return store.connect(self.config.database, key=self.data_key, clock=self.clock)

    def checkin_service(self, db: store.Database | None = None) -> CheckinService:
        """The check-in service on `db` (a new connection when not given: the caller's thread owns it)."""
        return CheckinService(db if db is not None else self.database(), facility_code=self.facility_code,
                              roster_key=self.roster_key,
                              rescan_window=timedelta(minutes=self.config["checkin.rescan_window_minutes"]))

    def national_lookup(self, staff_id: int | None = None) -> national.NationalLookup | national.HubRelay | None:
        """The online eligibility lookup (the station's gateway account, else the hub's relay), signed in as the
        console's officer: the national lookup requires the looking-up officer's own name and ID number.
        None when neither is configured (offline only)."""
        gateway = national.from_config(self.config)
        if gateway is None:
            return None
        if staff_id is not None and isinstance(gateway, national.NationalLookup):
            with closing(self.database()) as db:
                gateway.staff_name = staff.get(db, staff_id).full_name
                gateway.staff_id_number = staff.officer_id_number(db, staff_id)
        gateway.login()
        return gateway

    def recheck_pending(self, db: store.Database, staff_id: int | None = None) -> int | None:
        """The console's "re-check pending insurance online": how many visits got an answer; None when no
        lookup is configured."""
        gateway = self.national_lookup(staff_id)
        if gateway is None:
            return None
        return len(national.recheck_pending(db, gateway, self.facility_code))


def build(cfg: Config, devices: DeviceSet = "configured", *, clock: Clock | None = None) -> App:
    """The kiosk's parts for `cfg`: data key (created beside the data directory on a development machine, never
    in production: datakey.load), roster key, clock, and the `devices` asked for."""
    clock = clock or SystemClock()
    key = datakey.load(cfg)
    with closing(store.connect(cfg.database, key=key, clock=clock)) as db:
        datakey.bind(db, key)  # refuses a key this database was not sealed with, before anything opens a row
    app = App(cfg, clock, key, roster.load_key(cfg["roster.key_file"]))
    if devices == "configured":
        app.devices = _configured(cfg)
    elif devices == "simulated":
        app.devices = _simulated(cfg)
    elif devices != "none":
        raise ValueError(f"devices: expected configured, simulated or none, got {devices!r}")
    return app


def _configured(cfg: Config) -> Devices:
    sources: list[ScanSource] = [s for s in (driver_sources.make_scanner(cfg), driver_sources.make_camera(cfg))
                                 if s is not None]
    return Devices(sources=sources, chip=driver_sources.make_chip(cfg), printer=printer_from_config(cfg),
                   voice=voice_from_config(cfg))


def _simulated(cfg: Config) -> Devices:
    return Devices(sources=[SimulatedScanner("serial")],
                   chip=EmulatedChipSource(latency_ms=25),  # the project's CCCD emulator, 25 ms per command
                   printer=SimulatedPrinter(cfg.data_dir / "tickets", cfg["printer.paper_width_px"]),
                   voice=voice_from_config(cfg))


def open_database(cfg: Config, *, migrate_now: bool = True) -> store.Database:
    """The database without the data key, for the tools that never open a personal field: schema migration at
    provisioning (before any key exists), the key's own status, counting what is unsynced before a wipe or a
    restore. Everything else goes through `build(...).database()`."""
    return store.connect(cfg.database, migrate_now=migrate_now)
