"""`kiosk decode` and `kiosk listen` as a technician runs them (subprocesses, real pty and video)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from tests.drivers.test_camera import A, B, qr_image, write_video

KIOSK = [sys.executable, "-m", "kiosk"]


def run(args, tmp_path, **kw):
    env = dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "data"))
    env.pop("KIOSK_CONFIG", None)
    return subprocess.run(KIOSK + args, capture_output=True, env=env, timeout=60, **kw)


@pytest.fixture
def images(tmp_path):
    one = np.full((480, 640, 3), 200, np.uint8)
    code = qr_image(A, 4)
    one[20:20 + code.shape[0], 20:20 + code.shape[1]] = code[..., None]
    two = np.full((480, 900, 3), 200, np.uint8)
    cb = qr_image(B, 3)
    two[10:10 + cb.shape[0], 10:10 + cb.shape[1]] = cb[..., None]
    two[10:10 + cb.shape[0], 450:450 + cb.shape[1]] = 255 - cb[..., None]  # and an inverted copy
    empty = np.full((100, 100, 3), 128, np.uint8)
    paths = []
    for name, img in (("one.png", one), ("two.jpg", two), ("empty.png", empty)):
        cv2.imwrite(str(tmp_path / name), img)
        paths.append(str(tmp_path / name))
    return paths


@pytest.mark.parametrize("backend", ["default", "zxing", "zbar"])
def test_decode_json_one_line_per_image(tmp_path, images, backend):
    r = run(["decode", "--json", "--backend", backend] + images, tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [x["image"] for x in lines] == images
    assert [x["text"] for x in lines[0]["results"]] == [A]
    assert [x["text"] for x in lines[1]["results"]] == [B]  # same payload twice: reported once
    assert lines[2]["results"] == []
    assert all(isinstance(x["ms"], (int, float)) and x["ms"] >= 0 for x in lines)
    assert lines[0]["results"][0]["format"] == "QRCode"


def test_decode_readable_output_masks_ids_and_bad_file_exits_2(tmp_path, images):
    r = run(["decode", images[0], str(tmp_path / "missing.png")], tmp_path)
    out = r.stdout.decode()
    assert r.returncode == 2 and "error:" in r.stderr.decode()
    assert "Trần Thị Lan Anh" in out and "040195001234" not in out and "********1234" in out


def test_listen_serial_prints_a_json_line_per_scan_with_parse_result(tmp_path):
    master, slave = os.openpty()
    port = os.ttyname(slave)
    p = subprocess.Popen(KIOSK + ["listen", "--serial", port, "--baud", "115200", "--count", "3", "--timeout", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "d")))
    try:
        first = json.loads(p.stdout.readline())
        assert first == {"event": "status", "device": "scanner", "connected": True, "detail": port}
        os.write(master, A.encode() + b"\r\n" + b"not a card\r\n" + b"\xff\xfe\r\n")
        out, err = p.communicate(timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 0, err
    good, garbled, binary = [json.loads(x) for x in out.decode().splitlines()]
    assert good["ok"] and good["kind"] == "cccd_qr" and good["document"]["full_name"] == "Trần Thị Lan Anh"
    assert good["document"]["id_number"] == "********1234" and good["source"] == "serial"
    assert not garbled["ok"] and garbled["error"] and garbled["utf8"]
    assert not binary["ok"] and binary["utf8"] is False and "UTF-8" in binary["error"]


def test_listen_camera_file(tmp_path):
    video = tmp_path / "v.avi"
    write_video(video, [(None, 2, ()), (A, 8, ()), (None, 3, ()), (B, 8, ()), (None, 2, ())])
    r = run(["listen", "--camera", str(video), "--full", "--timeout", "40"], tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert lines[0]["event"] == "status" and lines[0]["device"] == "camera" and lines[0]["connected"]
    scans = [x for x in lines if x["event"] == "scan"]
    assert [x["text"] for x in scans] == [A, B]
    assert scans[0]["document"]["id_number"] == "040195001234"  # --full


def test_listen_missing_serial_port_exits_3(tmp_path):
    t = time.monotonic()
    r = run(["listen", "--serial", str(tmp_path / "nope"), "--timeout", "1"], tmp_path)
    assert r.returncode == 3 and "not available" in r.stderr.decode()
    assert json.loads(r.stdout.decode().splitlines()[0])["connected"] is False
    assert time.monotonic() - t < 20


def test_listen_needs_a_source(tmp_path):
    assert run(["listen"], tmp_path).returncode == 2


from hypothesis import given, settings, strategies as st  # noqa: E402


@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda s: s.encode("utf-8")))
@settings(max_examples=300, deadline=None)
def test_listen_line_never_crashes_and_never_leaks_ids(payload):
    from datetime import datetime, timezone

    from kiosk.cli.commands.listen import scan_line
    from kiosk.domain import ScanEvent
    line = scan_line(ScanEvent(payload, "serial", datetime.now(timezone.utc)))
    json.dumps(line, ensure_ascii=False)
    assert line["ok"] == (line["document"] is not None) and (line["error"] is None) == line["ok"]
    assert "text" not in line  # the scanned text only with --full
    if line["ok"]:
        for k in ("id_number", "card_number", "social_insurance_number"):
            v = line["document"].get(k)
            assert not v or v.startswith("*")
