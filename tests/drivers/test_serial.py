"""The serial scanner against real pseudo-terminals (os.openpty), and its framer by property.

Unplug/replug: the scanner is configured with a *symlink* to the pty's slave
(as udev's `/dev/kiosk-scanner` is a symlink to `/dev/ttyACMn`). Closing the
master makes reads on the open slave fail with EIO, as a yanked USB CDC-ACM
device does; removing the symlink makes the path vanish; a new pty behind a
recreated symlink is the scanner plugged back in (a new /dev/pts/N, as a
replugged device may come back as ttyACM1).
"""

from __future__ import annotations

import logging
import os
import queue
import time

import pytest
from hypothesis import given, settings, strategies as st

from drivers.serial_scanner import SUFFIXES, Framer, SerialScanner

CCCD = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An|03062021"


class Pty:
    """A pseudo-terminal 'scanner' reachable through a symlink path."""

    def __init__(self, link: str):
        self.link = link
        self.plug()

    def plug(self) -> None:
        self.master, slave = os.openpty()
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        if os.path.lexists(self.link):
            os.remove(self.link)
        os.symlink(self.slave_name, self.link)

    def unplug(self) -> None:
        os.close(self.master)
        self.master = None
        os.remove(self.link)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.master is not None:
            os.close(self.master)


@pytest.fixture
def rig(tmp_path):
    made = []

    def make(suffix="auto", frame_timeout=0.1, max_frame=8192):
        pty = Pty(str(tmp_path / "kiosk-scanner"))
        scans, statuses = queue.Queue(), queue.Queue()
        sc = SerialScanner(pty.link, 115200, frame_timeout=frame_timeout, reopen_interval=0.05,
                           max_frame=max_frame, suffix=suffix)
        sc.start(scans.put, statuses.put)
        st_ = statuses.get(timeout=5)
        assert st_.connected and st_.device == "scanner"
        made.append((sc, pty))
        return pty, sc, scans, statuses

    yield make
    for sc, pty in made:
        sc.stop()
        pty.close()


def drain(q, expect=1, timeout=10.0, settle=0.3):
    """Wait (patiently: the CI box is loaded) for `expect` events, then `settle` more for any extras."""
    out = []
    end = time.monotonic() + timeout
    while len(out) < expect and time.monotonic() < end:
        try:
            out.append(q.get(timeout=0.05))
        except queue.Empty:
            pass
    time.sleep(settle)
    while not q.empty():
        out.append(q.get_nowait())
    return out


def payloads(q, expect=1):
    return [e.payload for e in drain(q, expect)]


def test_split_writes_reassemble_one_scan(rig):
    pty, _, scans, _ = rig(frame_timeout=0.3)  # margin: a loaded machine may delay the writer
    data = CCCD.encode()
    # Split inside a multi-byte character ("ầ" is 3 bytes), with pauses shorter than the timeout.
    cut = data.index("ầ".encode()) + 1
    for piece in (data[:cut], data[cut:cut + 7], data[cut + 7:]):
        pty.write(piece)
        time.sleep(0.03)
    pty.write(b"\r\n")
    got = drain(scans)
    assert [e.payload for e in got] == [data]
    assert got[0].source == "serial" and got[0].received_at is not None


@pytest.mark.parametrize("suffix_bytes", [b"\r", b"\r\n", b"\n"])
def test_cr_crlf_lf_each_give_exactly_one_scan(rig, suffix_bytes):
    pty, _, scans, _ = rig()
    pty.write(CCCD.encode() + suffix_bytes)
    assert payloads(scans) == [CCCD.encode()]


def test_no_suffix_ends_on_the_inter_character_timeout(rig):
    pty, _, scans, _ = rig(suffix="none", frame_timeout=0.15)
    pty.write(CCCD.encode())
    # Not before the timeout...
    time.sleep(0.05)
    assert scans.empty()
    # ...but after it.
    assert payloads(scans) == [CCCD.encode()]


def test_two_codes_back_to_back_in_one_write(rig):
    pty, _, scans, _ = rig()
    second = CCCD.replace("Trần Thị Lan Anh", "Lê Văn Bình").encode()
    pty.write(CCCD.encode() + b"\r\n" + second + b"\r\n")
    assert payloads(scans, 2) == [CCCD.encode(), second]


def test_two_codes_separated_only_by_silence(rig):
    pty, _, scans, _ = rig(suffix="none", frame_timeout=0.1)
    pty.write(b"first")
    time.sleep(0.3)
    pty.write(b"second")
    assert payloads(scans, 2) == [b"first", b"second"]


def test_configured_suffix_cr_keeps_lf_inside_nothing_else(rig):
    pty, _, scans, _ = rig(suffix="tab")
    pty.write(b"abc\tdef\t")
    assert payloads(scans, 2) == [b"abc", b"def"]


def test_invalid_utf8_is_reported_in_the_log_and_passed_unreplaced(rig, caplog):
    pty, sc, scans, _ = rig()
    bad = b"Tr\xc3\xa7\xff n"  # \xff is never valid UTF-8
    with caplog.at_level(logging.WARNING, logger="drivers.serial_scanner"):
        pty.write(bad + b"\r\n")
        got = payloads(scans)
    assert got == [bad]  # no U+FFFD substitution: the core refuses it with a message
    lines = [r.getMessage() for r in caplog.records if "scanner_invalid_utf8" in r.getMessage()]
    assert len(lines) == 1 and "offset=4" in lines[0] and f"bytes={len(bad)}" in lines[0]
    assert "Tr" not in lines[0]  # never the content
    assert sc.invalid_utf8 == 1


def test_core_refuses_the_invalid_scan_with_a_reason(rig):
    from kiosk.documents import ParseError, parse
    pty, _, scans, _ = rig()
    pty.write(b"0401950\xff01234|x\r\n")
    (payload,) = payloads(scans)
    with pytest.raises(ParseError, match="UTF-8"):
        parse(payload)


def test_a_flood_is_dropped_with_a_warning_and_scanning_goes_on(rig, caplog):
    pty, sc, scans, _ = rig(max_frame=2048)
    with caplog.at_level(logging.WARNING, logger="drivers.serial_scanner"):
        for _ in range(40):  # 40 KiB of garbage with no suffix, arriving in bursts
            pty.write(b"\x00A" * 512)
            time.sleep(0.005)
        pty.write(b"\r\n")
        time.sleep(0.2)
        pty.write(CCCD.encode() + b"\r\n")
        got = payloads(scans)
    assert got == [CCCD.encode()]
    assert sc.floods == 1
    msgs = " ".join(r.getMessage() for r in caplog.records)
    assert "scanner_flood_dropped" in msgs and "bytes=40960" in msgs


def test_port_disappears_and_returns(rig, caplog):
    pty, sc, scans, statuses = rig()
    pty.write(b"before\r\n")
    assert payloads(scans) == [b"before"]
    with caplog.at_level(logging.WARNING, logger="drivers.serial_scanner"):
        pty.write(b"half a sc")  # then the cable is pulled mid-scan
        time.sleep(0.05)
        pty.unplug()
        st_ = statuses.get(timeout=3)
        assert not st_.connected and "kiosk-scanner" in st_.detail
        time.sleep(0.4)  # several failed reopen attempts: still exactly one "disconnected"
        assert statuses.empty()
        pty.plug()
        st_ = statuses.get(timeout=3)
        assert st_.connected
    pty.write(b"after\r\n")
    assert payloads(scans) == [b"after"]  # the half scan was discarded, not glued to "after"
    msgs = " ".join(r.getMessage() for r in caplog.records)
    assert "scanner_disconnected" in msgs and "scanner_partial_scan_lost" in msgs


def test_scanner_absent_at_start_reports_disconnected_then_connects(tmp_path):
    link = str(tmp_path / "kiosk-scanner")
    scans, statuses = queue.Queue(), queue.Queue()
    sc = SerialScanner(link, 9600, frame_timeout=0.1, reopen_interval=0.05)
    sc.start(scans.put, statuses.put)
    try:
        assert statuses.get(timeout=3).connected is False
        pty = Pty(link)
        assert statuses.get(timeout=3).connected is True
        pty.write(b"hello\r")
        assert payloads(scans) == [b"hello"]
        pty.close()
    finally:
        sc.stop()


def test_unknown_suffix_is_refused():
    with pytest.raises(ValueError, match="suffix"):
        SerialScanner("/dev/null", suffix="semicolon")


# --- the framer, by property -------------------------------------------------------------------

frames_st = st.lists(st.binary(min_size=1, max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
                     .filter(lambda b: b.strip()), min_size=1, max_size=6)


@given(frames=frames_st, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
       suffix=st.sampled_from([b"\r", b"\n", b"\r\n"]))
@settings(max_examples=300, deadline=None)
def test_framer_any_chunking_gives_the_same_scans(frames, cuts, suffix):
    stream = b"".join(f + suffix for f in frames)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    f = Framer(frame_timeout=1.0)
    out = []
    for i, (a, b) in enumerate(zip(points, points[1:])):
        out += f.feed(stream[a:b], now=i * 0.01)  # gaps far below the timeout
    assert out == frames


@given(frames=frames_st)
@settings(max_examples=200, deadline=None)
def test_framer_timeout_framing_without_suffix(frames):
    f = Framer(frame_timeout=0.1, suffix="none")
    out, now = [], 0.0
    for fr in frames:
        out += f.feed(fr, now)
        now += 0.5  # silence between scans
    out += f.poll(now)
    assert out == frames


@given(data=st.binary(max_size=3000), limit=st.integers(min_value=16, max_value=256))
@settings(max_examples=200, deadline=None)
def test_framer_never_emits_more_than_the_limit(data, limit):
    f = Framer(frame_timeout=0.1, max_frame=limit)
    out = f.feed(data, 0.0) + f.poll(10.0)
    assert all(0 < len(x) <= limit for x in out)


def test_all_documented_suffixes_are_accepted():
    for s in SUFFIXES:
        Framer(suffix=s)
