"""The demo's hub: `kiosk-hub serve` (the province's Django hub, hub/) on SQLite in the demo's data directory,
with the seeded province, the demo kiosk enrolled for its facility and a demo province admin; and the
stay-notification scene synced to it. Called by `kiosk demo` (ui/demo.py, through kiosk.app's Simulation).

The hub is its own program: it runs as a subprocess through its command line, as a province runs it, and
the kiosk talks to it over HTTP on loopback with its real sender, heartbeat and client.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests

from kiosk import store
from kiosk.clock import VN_TZ, Clock, parse_iso
from kiosk.config import Config
from kiosk.services import stay_notification as sn
from kiosk.store import outbox, visits as visit_rows
from sync import heartbeat as hb
from sync.client import HubClient
from sync.sender import Sender, Settings

DEMO_DEVICE = "demo-kiosk"
DEMO_ADMIN = "demo-admin"
PAGES = (("fleet", "/fleet/"), ("use", "/use/"), ("stays", "/stays/"), ("devices", "/devices/"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


class HubUnavailable(Exception):
    """The demo hub could not be set up or started; the message says why."""


def _local(iso: str | None) -> str:
    return parse_iso(iso).astimezone(VN_TZ).strftime("%H:%M:%S %d/%m") if iso else "-"


def _left(n: dict[str, Any]) -> str:
    s = n.get("time_left_seconds")
    if s is None:
        return "done"
    return (f"overdue by {-s // 60} min" if s < 0 else f"{s // 3600}h{(s % 3600) // 60:02d}m left") + \
        ("" if n.get("deadline_trusted") else " (clock not synchronised: approximate)")


def hub_command() -> list[str] | None:
    """How to run `kiosk-hub` from this environment (the venv installs both distributions), or None."""
    exe = Path(sys.executable).parent / "kiosk-hub"
    if exe.exists():
        return [str(exe)]
    if importlib.util.find_spec("kiosk_hub") is not None:
        return [sys.executable, "-m", "kiosk_hub.cli"]
    return None


def seed_file() -> Path | None:
    spec = importlib.util.find_spec("kiosk_hub")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "seed" / "facilities-demo.csv"
    return path if path.exists() else None


class DemoHub:
    """A hub of the demo's own: SQLite in `data_dir`, loopback only, stopped with the demo."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.token_file = data_dir / f"{DEMO_DEVICE}.token"
        self.token = ""
        self.admin = (DEMO_ADMIN, "")
        cmd = hub_command()
        if cmd is None:
            raise HubUnavailable("the hub (kiosk-hub, distribution tramyte-hub) is not installed in this "
                                 "environment; `make setup` installs it")
        self.cmd = cmd
        self.env = {**os.environ, "KIOSK_HUB_DATA_DIR": str(data_dir / "data"),
                    "KIOSK_HUB_DATABASE_URL": f"sqlite:///{data_dir / 'data' / 'hub.db'}", "PYTHONUNBUFFERED": "1"}
        self.env.pop("KIOSK_HUB_SECRET_KEY", None)  # generated into the data directory, 0600

    def cli(self, *args: str) -> str:
        r = subprocess.run([*self.cmd, *args], capture_output=True, text=True, env=self.env, timeout=300)
        if r.returncode != 0:
            raise HubUnavailable(f"kiosk-hub {args[0]} failed (exit {r.returncode}): "
                                 f"{(r.stderr or r.stdout).strip()[-500:]}")
        return r.stdout

    def setup(self, facility_code: str, facility_name: str) -> list[str]:
        """Migrate, import the seeded province (and the kiosk's own station if the seed lacks it), enrol the
        demo kiosk, create the demo admin. Returns what it did, one line each."""
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        seed = seed_file()
        if seed is None:
            raise HubUnavailable("the hub's seed registry (kiosk_hub/seed/facilities-demo.csv) is missing")
        self.cli("migrate")
        self.cli("facilities", "import", str(seed))
        with open(seed, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        lines = [f"{len(rows)} stations in {len({r['district_code'] for r in rows})} districts of "
                 f"{rows[0]['province_name']} (seed)"]
        if facility_code not in {r["code"] for r in rows}:
            extra = self.data_dir / "kiosk-facility.csv"
            with open(extra, "w", encoding="utf-8", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerow({**rows[0], "code": facility_code, "name": facility_name})
            self.cli("facilities", "import", str(extra))
            lines.append(f"the demo kiosk's station {facility_code} added to {rows[0]['district_name']}")
        self.token = json.loads(self.cli("enrol", "--facility", facility_code, "--name", DEMO_DEVICE,
                                         "--token-out", str(self.token_file), "--json"))["token"]
        password = secrets.token_urlsafe(12)
        pw = self.data_dir / "admin-password"
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        self.cli("createadmin", "--username", DEMO_ADMIN, "--password-file", str(pw), "--role", "province_admin")
        self.admin = (DEMO_ADMIN, password)
        return lines

    def start(self, timeout: float = 90) -> "DemoHub":
        log = open(self.data_dir / "hub.log", "ab")
        self.proc = proc = subprocess.Popen([*self.cmd, "serve", "--bind", "127.0.0.1:0", "--workers", "1",
                                             "--no-migrate"], stdout=subprocess.PIPE, stderr=log, text=True,
                                            env=self.env)
        log.close()
        out = proc.stdout
        assert out is not None  # stdout=PIPE
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(out.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = box[0] if box else ""
        if not line.startswith("hub listening on "):
            self.stop()
            raise HubUnavailable(f"kiosk-hub serve did not start (see {self.data_dir / 'hub.log'})")
        self.url = line.split("hub listening on ", 1)[1].strip().rstrip("/")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the socket listens before the worker has booted
            try:
                if requests.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise HubUnavailable(f"kiosk-hub never became ready (see {self.data_dir / 'hub.log'})")

    def stats(self) -> dict[str, Any]:
        counts: dict[str, Any] = json.loads(self.cli("stats", "--json"))
        return counts

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_demo_hub(cfg: Config, say: Callable[[str], None]) -> DemoHub:
    """Set up and start the demo hub and print how to reach the dashboard."""
    hub = DemoHub(cfg.data_dir / "hub")
    for line in hub.setup(cfg["facility.code"], cfg["facility.name"]):
        say(f"hub: {line}")
    hub.start()
    say(f"hub: kiosk-hub (Django, SQLite in {hub.data_dir / 'data'}) on {hub.url}; device '{DEMO_DEVICE}' "
        f"enrolled for facility {cfg['facility.code']}")
    say(f"hub: dashboard {hub.url}/ — sign in as {hub.admin[0]}, password {hub.admin[1]} (province admin)")
    return hub


def browser_missing() -> str | None:
    """Why the dashboard screenshots cannot be taken here, or None."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return ("Debian's chromium and chromium-driver are not installed "
                "(apt-get install --no-install-recommends chromium chromium-driver)")
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e 'hub/[test]')"
    return None


def dashboard_screenshots(hub: DemoHub, out_dir: Path, say: Callable[[str], None]) -> list[str]:
    """Sign in to the dashboard with headless Chromium and save each page as hub-*.png in out_dir."""
    why = browser_missing()
    if why:
        say(f"hub: dashboard screenshots skipped: {why}")
        return []
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not reach the network
    # Selenium is optional (the demo's dashboard screenshots only): imported when a browser is there to drive.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="kiosk-demo-chromium-")
    for arg in ("--headless=new", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1366,768", "--lang=vi",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    shots: list[str] = []
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        driver.set_page_load_timeout(60)
        driver.get(hub.url + "/accounts/login/")
        driver.find_element(By.ID, "id_username").send_keys(hub.admin[0])
        driver.find_element(By.ID, "id_password").send_keys(hub.admin[1])
        driver.find_element(By.ID, "sign-in").click()
        end = time.monotonic() + 30
        while "/accounts/login/" in driver.current_url and time.monotonic() < end:
            time.sleep(0.2)
        if "/accounts/login/" in driver.current_url:
            say("hub: dashboard sign-in failed; no screenshots")
            return []
        for name, path in PAGES:
            driver.get(hub.url + path)
            file = out_dir / f"hub-{name}.png"
            driver.save_screenshot(str(file))
            shots.append(file.name)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    say(f"hub: dashboard screenshots in {out_dir}: {', '.join(shots)}")
    return shots


def run_stay_demo(cfg: Config, say: Callable[[str], None], *, database: Callable[[], store.Database],
                  clock: Clock | None = None, out_dir: Path | None = None) -> int:
    """The hub scene against the demo's database (`database()` opens it with its key and clock: kiosk.app): the
    kiosk's visits synced to the demo hub, a stay raised, sent and acknowledged, one recorded by hand, a
    heartbeat; then, with `out_dir`, the dashboard's screenshots. Returns the number of failures."""
    db = database()
    clock = clock or db.clock
    visits = visit_rows.without_stay(db, limit=2)
    if len(visits) < 2:
        say("stay: the demo needs two visits of patients with an ID number; skipped")
        return 1
    try:
        hub = start_demo_hub(cfg, say)
    except HubUnavailable as e:
        say(f"hub: not started: {e}")
        db.conn.close()
        return 1
    failures = 0
    try:
        synced = clock.synchronised()
        if not synced:
            say("stay: note — the system clock is not synchronised; each notification records that, and deadlines "
                "are shown as approximate")
        addr, code = cfg["facility.address"], cfg["facility.code"]
        a = sn.start(db, visits[0], "Theo dõi qua đêm sau truyền dịch", clock=clock, facility_code=code,
                     address_of_stay=addr)
        ja = a.to_json(clock.now(), synced)
        say(f"stay: raised #{a.id} for visit {a.visit_id} ({a.masked_id}) — state {a.state}, due "
            f"{ja['deadline_local']} Vietnam time, {_left(ja)}")
        client = HubClient(hub.url, hub.token)
        sender = Sender(db, client, clock=clock, settings=Settings(batch_size=50))
        r = sender.once()
        a = sn.get(db, a.id)
        say(f"sync: sent {r.acknowledged} records to the hub in {r.requests} request(s)")
        say(f"stay: #{a.id} sent at {_local(a.sent_at)} → {a.state} by the hub as {a.hub_reference} "
            f"at {_local(a.acknowledged_at)}")
        if a.state != "acknowledged":
            failures += 1
        b = sn.start(db, visits[1], "Chờ chuyển tuyến sáng mai", clock=clock, facility_code=code,
                     address_of_stay=addr)
        say(f"stay: raised #{b.id} for visit {b.visit_id} ({b.masked_id}) — state {b.state}; the receptionist "
            "submits it through VNeID by hand")
        b, outcome = sn.record_receipt(db, b.id, "VNeID LT-2026-000123", clock=clock)
        say(f"stay: #{b.id} receipt 'VNeID LT-2026-000123' recorded → {b.state}; outbox copy {b.outbox_state} "
            f"({outcome}), so the police desk gets it once")
        if b.state != "receipt_recorded" or b.outbox_state != "withdrawn":
            failures += 1
        sender.once()
        beat = hb.Heartbeat(db, client, data_dir=cfg.data_dir, clock=clock)
        if beat.beat():
            say("hub: heartbeat sent (versions, outbox, devices, visits today by document, open stays)")
        else:
            say(f"hub: heartbeat NOT sent: {beat.last_error}")
            failures += 1
        st = hub.stats()
        say(f"hub: holds {st['visits']} visits and {st['stay_notifications']} stay notification(s); "
            f"outbox empty: {sender.remaining() == 0}")
        sent = outbox.counts_by_kind(db, "acknowledged")
        if sender.remaining() != 0 or (st["visits"], st["stay_notifications"]) != \
                (sent.get("visit", 0), sent.get("stay_notification", 0)):
            say(f"hub: counts differ from what the kiosk had acknowledged: {sent}")
            failures += 1
        if out_dir is not None:
            try:
                dashboard_screenshots(hub, out_dir, say)
            except Exception as e:  # a browser problem must not sink the kiosk demo; say what it was
                say(f"hub: dashboard screenshots failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
                failures += 1
    finally:
        hub.stop()
        db.conn.close()
    return failures


class BackgroundSync:
    """For the windowed demo: the demo hub, and the kiosk's sender (with its heartbeat) working the outbox in
    a thread of its own, as kiosk-sync does on a device, until stop()."""

    def __init__(self, cfg: Config, say: Callable[[str], None], *, database: Callable[[], store.Database]):
        self.hub = start_demo_hub(cfg, say)
        self._stop = threading.Event()
        self._database = database  # opened on the sync thread: a connection belongs to one thread
        self._thread = threading.Thread(target=self._run, args=(cfg,), name="demo-sync", daemon=True)
        self._thread.start()
        say("hub: the kiosk syncs to it in the background (visits, stays, a heartbeat each minute)")

    def _run(self, cfg: Config) -> None:
        db = self._database()
        try:
            client = HubClient(self.hub.url, self.hub.token)
            beat = hb.Heartbeat(db, client, data_dir=cfg.data_dir, interval=60)
            Sender(db, client, settings=Settings(idle_poll=1.0), heartbeat=beat).run(self._stop)
        finally:
            db.conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        self.hub.stop()
