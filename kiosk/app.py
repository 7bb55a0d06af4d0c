"""The composition root: the one place that turns a configuration into a running kiosk's parts.

`build(cfg, devices=...)` loads what must be loaded once per process — the
device data key (kiosk.privacy.datakey: refused on a wiped device, or when it
is not the key the database was sealed with), the roster key, the clock — and
builds the devices:

- ``"configured"``: the drivers the configuration names (kiosk run);
- ``"simulated"``: kiosk.simulated's doubles (kiosk demo, the UI tests,
  benchmarks): a scanner fed by `scan(payload)`, the CCCD emulator on the
  "reader", PNG tickets; and `App.simulation`, what the demo does with them
  (present a payload or the card, the invented people, the demo hub), typed
  by the Protocols below so that ui/demo.py never imports a double;
- ``"none"``: no devices (the command-line tools).

Everything else asks the App: `database()` for a new connection (one per
thread: SQLite connections are not shared across threads) carrying the key and
the clock, `checkin_service(db)`, `national_lookup(staff_id)`. Nothing below
this module looks a key, a clock or a device up globally; only this module, the
tests and the benchmarks import kiosk.simulated.
"""

from __future__ import annotations

import threading
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Literal, Protocol

from drivers import sources as driver_sources
from drivers.printer import SimulatedPrinter, printer_from_config
from drivers.protocols import ChipSource, Printer, ScanSource, Voice
from drivers.simulated import SimulatedScanner
from drivers.voice import voice_from_config
from kiosk import store
from kiosk.clock import Clock, SystemClock, vn_date
from kiosk.config import Config
from kiosk.documents.chip import ChipRead
from kiosk.eligibility import roster
from kiosk.privacy import datakey
from kiosk.privacy.datakey import DataKey
from kiosk.services import staff
from kiosk.services.checkin import CheckinService
from kiosk.simulated import demo as demo_data
from kiosk.simulated.chip_source import PACE_CARD_QR, EmulatedChipSource
from kiosk.simulated.demo_hub import BackgroundSync, HubUnavailable, run_stay_demo
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


class DemoScanner(ScanSource, Protocol):
    """The simulated scanner: `scan(payload)` delivers a payload as if a device had read it."""

    def scan(self, payload: bytes | str) -> None: ...


class DemoChip(ChipSource, Protocol):
    """The emulated chip reader: `present()` places the demo card on it and reads it on the thread it returns;
    `reads` are the chip reads so far (timing, access method, passive authentication)."""

    reads: list[ChipRead]

    def present(self) -> threading.Thread: ...


class DemoPrinter(Printer, Protocol):
    """The PNG ticket printer: tickets land in `out_dir` (`printed`, in order); `paper_out` fails the next."""

    out_dir: Path
    printed: list[Path]
    paper_out: bool


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class DemoPayloads:
    """What the demo's simulator presents: invented people's codes (kiosk.simulated.demo)."""

    eligible_cccd: str  # CCCD QR of a person on the demo roster, insured
    expired_cccd: str  # on the roster, BHYT card expired
    unknown_cccd: str  # not on the roster: offline, so "cannot verify now"
    bhyt_qr: str
    garbage: str  # not a card at all
    chip_card_qr: str  # the QR printed on the emulated chip card


@dataclass(frozen=True)
class DemoAccount:
    full_name: str
    id_number: str
    pin: str


@dataclass
class Simulation:
    """What `kiosk demo` drives on a simulated App (`App.simulation`): the doubles behind `devices`, with the
    type of what the demo does to them, the invented people and staff, and the demo hub. The UI reaches the
    doubles only through this (import contract: ui never imports kiosk.simulated or drivers.simulated)."""

    config: Config
    database: Callable[[], store.Database]  # App.database: a new connection, key and clock
    roster_key: bytes
    scanner: DemoScanner
    chip: DemoChip
    printer: DemoPrinter
    payloads: DemoPayloads
    admin: DemoAccount

    def seed(self) -> int:
        """The demo roster (valid relative to today) and the two staff accounts; returns the roster's size."""
        with closing(self.database()) as db:
            n = demo_data.seed_roster(db, self.roster_key, vn_date(db.clock.now()), self.config["facility.code"])
            demo_data.seed_staff(db)
        return n

    def start_hub(self, say: Callable[[str], None]) -> Stoppable | None:
        """The demo hub with the kiosk syncing to it in the background until `stop()`; None when it could not
        start (said why)."""
        try:
            return BackgroundSync(self.config, say, database=self.database)
        except HubUnavailable as e:
            say(f"hub: not started: {e}")
            return None

    def stay_scene(self, say: Callable[[str], None], out_dir: Path | None = None) -> int:
        """The hub scene on the demo's database (kiosk.simulated.demo_hub.run_stay_demo); the failures."""
        return run_stay_demo(self.config, say, database=self.database, out_dir=out_dir)


DEMO_PAYLOADS = DemoPayloads(demo_data.ELIGIBLE_CCCD, demo_data.EXPIRED_CCCD, demo_data.UNKNOWN_CCCD,
                             demo_data.BHYT_QR, demo_data.GARBAGE, PACE_CARD_QR)


@dataclass
class App:
    """One process's kiosk: its configuration, clock, device data key (loaded once, never looked up globally),
    roster key and devices. Threads share it; each opens its own `database()`. `simulation` is set only on a
    simulated App."""

    config: Config
    clock: Clock
    data_key: DataKey | None
    roster_key: bytes
    devices: Devices = field(default_factory=Devices)
    simulation: Simulation | None = None

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
        app.simulation = _simulation(app)
        app.devices = Devices(sources=[app.simulation.scanner], chip=app.simulation.chip,
                              printer=app.simulation.printer, voice=voice_from_config(cfg))
    elif devices != "none":
        raise ValueError(f"devices: expected configured, simulated or none, got {devices!r}")
    return app


def _configured(cfg: Config) -> Devices:
    sources: list[ScanSource] = [s for s in (driver_sources.make_scanner(cfg), driver_sources.make_camera(cfg))
                                 if s is not None]
    return Devices(sources=sources, chip=driver_sources.make_chip(cfg), printer=printer_from_config(cfg),
                   voice=voice_from_config(cfg))


def _simulation(app: App) -> Simulation:
    cfg = app.config
    return Simulation(cfg, app.database, app.roster_key, scanner=SimulatedScanner("serial"),
                      chip=EmulatedChipSource(latency_ms=25),  # the project's CCCD emulator, 25 ms per command
                      printer=SimulatedPrinter(cfg.data_dir / "tickets", cfg["printer.paper_width_px"]),
                      payloads=DEMO_PAYLOADS, admin=DemoAccount(*demo_data.DEMO_STAFF))


def open_database(cfg: Config, *, migrate_now: bool = True) -> store.Database:
    """The database without the data key, for the tools that never open a personal field: schema migration at
    provisioning (before any key exists), the key's own status, counting what is unsynced before a wipe or a
    restore. Everything else goes through `build(...).database()`."""
    return store.connect(cfg.database, migrate_now=migrate_now)
