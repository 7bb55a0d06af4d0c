"""The device itself: is the clock synchronised, and does the watchdog guard the kiosk's UI."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from kiosk.clock import kernel_clock_synchronised
from kiosk.doctor.base import FAILURE, NET_TIMEOUT, OK, WARNING, Env, Finding


def check_clock(env: Env) -> Finding:
    t = env.t
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if kernel_clock_synchronised():
        return Finding("clock", OK, t("clock.ok", now=now), details={"now": now})
    return Finding("clock", WARNING, t("clock.unsynced", now=now), t("clock.unsynced_action"), {"now": now})


def _systemctl_show(unit: str | None, props: list[str]) -> dict[str, str]:
    cmd = ["systemctl", "show", *([unit] if unit else []), "-p", ",".join(props)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=NET_TIMEOUT).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def check_watchdog(env: Env) -> Finding:
    t = env.t
    if not systemd_running() or not shutil.which("systemctl"):
        return Finding("watchdog", WARNING, t("watchdog.no_systemd"), t("watchdog.no_systemd_action"))
    manager = _systemctl_show(None, ["RuntimeWatchdogUSec"])
    ui = _systemctl_show("kiosk-ui.service", ["ActiveState", "SubState", "WatchdogUSec", "NRestarts", "LoadState"])
    details = {"runtime_watchdog": manager.get("RuntimeWatchdogUSec", ""), "kiosk_ui": ui}
    hw_on = manager.get("RuntimeWatchdogUSec", "0") not in ("0", "infinity", "")
    if ui.get("LoadState") != "loaded":
        return Finding("watchdog", FAILURE, t("watchdog.not_installed"), t("watchdog.not_installed_action"), details)
    ui_ok = ui.get("ActiveState") == "active" and ui.get("WatchdogUSec", "0") not in ("0", "infinity", "")
    if not ui_ok:
        return Finding("watchdog", FAILURE, t("watchdog.ui_unguarded", state=ui.get("ActiveState")),
                       t("watchdog.ui_unguarded_action"), details)
    if not hw_on:
        return Finding("watchdog", WARNING, t("watchdog.hardware_off"), t("watchdog.hardware_off_action"), details)
    return Finding("watchdog", OK, t("watchdog.ok", watchdog=manager["RuntimeWatchdogUSec"],
                                     restarts=ui.get("NRestarts", "?")), details=details)
