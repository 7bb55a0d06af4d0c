"""`kiosk demo --headless`: the transcript a newcomer sees, and its screenshots."""

import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import kiosk_cmd

pytest.importorskip("PySide6")


def test_headless_demo_transcript_and_screenshots(kiosk_env, tmp_path):
    out_dir = tmp_path / "shots"
    env = dict(kiosk_env)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    res = subprocess.run(kiosk_cmd("demo", "--out", str(out_dir)), env=env, capture_output=True, text=True,
                         timeout=400)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    first = next(i for i, l in enumerate(lines) if "queue number 1 — new visit" in l)
    again = next(i for i, l in enumerate(lines) if "queue number 1 — same visit returned" in l)
    refused = next(i for i, l in enumerate(lines) if l.startswith("scan: scan garbage → refused:"))
    assert first < again < refused
    assert "Vui lòng quét lại" in lines[refused]
    assert "040195001234" not in res.stdout
    names = {p.name for p in out_dir.glob("*.png")}
    assert {"01-idle.png", "02-result.png"} <= names
    assert all((out_dir / n).stat().st_size > 5000 for n in names if "paper" not in n)
    # The printed ticket (1-bit, as the thermal printer gets it) and the console screens are there too.
    assert (out_dir / "03-ticket-paper.png").stat().st_size > 1000
    assert {"03-ticket.png", "05-error-unreadable.png", "20-console-login.png", "22-console-queue.png"} <= names
    # The province's hub (kiosk-hub on SQLite, the seeded province): its dashboard and a demo login printed, the
    # kiosk's records synced to it with a heartbeat, its screenshots (or why not), and it is stopped afterwards.
    out = res.stdout
    assert "hub: 20 stations in 3 districts of Nghệ An (seed)" in out
    m = re.search(r"^hub: dashboard (http://127\.0\.0\.1:\d+)/ — sign in as (\S+), password (\S+) \(province admin\)$",
                  out, re.M)
    assert m, out
    url, user, password = m.groups()
    assert user == "demo-admin" and len(password) >= 12
    stats = re.search(r"^hub: holds (\d+) visits and (\d+) stay notification\(s\); outbox empty: True$", out, re.M)
    assert stats and int(stats[1]) >= 5 and int(stats[2]) >= 1, out
    assert "hub: heartbeat sent" in out and "→ acknowledged by the hub" in out
    hub_shots = {"hub-fleet.png", "hub-use.png", "hub-stays.png", "hub-devices.png"}
    if Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists():
        assert hub_shots <= names, out
        assert all((out_dir / n).stat().st_size > 10000 for n in hub_shots)
    else:
        assert "hub: dashboard screenshots skipped: Debian's chromium and chromium-driver are not installed" in out
        assert not hub_shots & names
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/healthz", timeout=5)


def test_font_has_every_vietnamese_glyph_shown(qapp):
    from PySide6.QtGui import QFontMetrics

    from kiosk import text as catalogue
    from kiosk.simulated import demo
    from ui.app import apply_font
    family = apply_font(qapp)
    assert family in ("Noto Sans", "DejaVu Sans"), f"no Vietnamese-capable font installed (got {family})"
    metrics = QFontMetrics(qapp.font())
    text = "".join(m["vi"] for m in catalogue.catalogue().values()) + demo.ELIGIBLE_CCCD + demo.EXPIRED_CCCD
    missing = {c for c in text if not c.isspace() and not metrics.inFontUcs4(ord(c))}
    assert not missing, f"glyphs missing from {family}: {sorted(missing)}"
