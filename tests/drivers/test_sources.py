"""The check-in flow runs on any scan source by configuration alone."""

from __future__ import annotations

import os
import queue
import time

import pytest

from drivers.sources import build_sources
from kiosk import config as config_mod
from kiosk.app import build
from kiosk.errors import UsageError
from tests.drivers.test_camera import A, B, write_video

CCCD = A


def load(tmp_path, toml: str):
    f = tmp_path / "kiosk.toml"
    f.write_text(toml, encoding="utf-8")
    return config_mod.load(str(f), str(tmp_path / "data"), env={})


def run_flow(cfg, feed, wait_for=1, timeout=20.0):
    """Start the configured sources, hand every scan to the check-in service, return the outcomes."""
    service = build(cfg, "none").checkin_service()
    outcomes: queue.Queue = queue.Queue()
    statuses: queue.Queue = queue.Queue()
    sources = build_sources(cfg)
    for s in sources:
        s.start(lambda scan: outcomes.put(service.handle(scan)), statuses.put)
    try:
        feed(sources, statuses)
        got = []
        end = time.monotonic() + timeout
        while len(got) < wait_for and time.monotonic() < end:
            try:
                got.append(outcomes.get(timeout=0.2))
            except queue.Empty:
                pass
        return sources, got
    finally:
        for s in sources:
            s.stop()


def test_serial_source_by_configuration(tmp_path):
    master, slave = os.openpty()
    port = os.ttyname(slave)
    cfg = load(tmp_path, f'[scanner]\nkind = "serial"\nport = "{port}"\nbaud = 115200\nsuffix = "cr"\n')

    def feed(sources, statuses):
        assert statuses.get(timeout=5).connected
        os.write(master, CCCD.encode() + b"\r")

    try:
        sources, got = run_flow(cfg, feed)
    finally:
        os.close(master)
        os.close(slave)
    assert type(sources[0]).__name__ == "SerialScanner" and sources[0].suffix == "cr"
    assert got and got[0].ok and got[0].source == "serial" and got[0].patient["full_name"] == "Trần Thị Lan Anh"


def test_camera_source_by_configuration(tmp_path):
    video = tmp_path / "v.avi"
    write_video(video, [(None, 2, ()), (B, 6, ()), (None, 2, ())])
    cfg = load(tmp_path, f'[scanner]\nkind = "none"\n[camera]\nenabled = true\ndevice = "{video}"\n'
                         'cooldown_seconds = 1.0\n')
    sources, got = run_flow(cfg, lambda s, st: None)
    assert [type(s).__name__ for s in sources] == ["CameraSource"]
    assert got and got[0].ok and got[0].source == "camera" and got[0].patient["full_name"] == "Lê Văn Bình"


def test_simulated_source_by_configuration(tmp_path):
    cfg = load(tmp_path, '[scanner]\nkind = "simulated"\n')
    sources, got = run_flow(cfg, lambda s, st: s[0].scan(CCCD))
    assert got and got[0].ok


def test_hid_source_by_configuration_reports_missing_device(tmp_path):
    pytest.importorskip("evdev")
    cfg = load(tmp_path, '[scanner]\nkind = "hid"\nhid_vid_pid = "0c2e:0b61"\n')
    (src,) = build_sources(cfg)
    statuses: queue.Queue = queue.Queue()
    src.start(lambda s: None, statuses.put)
    try:
        st = statuses.get(timeout=5)
    finally:
        src.stop()
    assert type(src).__name__ == "HidScanner" and st.device == "scanner" and not st.connected


def test_hid_without_a_device_selector_is_a_configuration_error(tmp_path):
    cfg = load(tmp_path, '[scanner]\nkind = "hid"\n')
    with pytest.raises(UsageError, match="hid_name"):
        build_sources(cfg)


def test_none_and_camera_off_gives_no_sources(tmp_path):
    assert build_sources(load(tmp_path, '[scanner]\nkind = "none"\n')) == []


@pytest.mark.parametrize("bad", ['[scanner]\nsuffix = "semicolon"\n', '[scanner]\nhid_vid_pid = "0c2e"\n',
                                 '[camera]\ndecoder = "quirc"\n', '[camera]\ncooldown_seconds = 0\n'])
def test_bad_values_are_refused(tmp_path, bad):
    with pytest.raises(config_mod.ConfigError):
        load(tmp_path, bad)
