"""The serial scanner against a real pseudo-terminal."""

import os
import queue
import time

import pytest

from drivers.serial_scanner import Framer, SerialScanner


@pytest.fixture
def pty_scanner():
    master, slave = os.openpty()
    port = os.ttyname(slave)
    scans: queue.Queue = queue.Queue()
    statuses: queue.Queue = queue.Queue()
    scanner = SerialScanner(port, 9600, frame_timeout=0.1, reopen_interval=0.1)
    scanner.start(scans.put, statuses.put)
    assert statuses.get(timeout=5).connected
    yield master, scans, statuses, scanner
    scanner.stop()
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def get_all(q, wait=0.6):
    time.sleep(wait)
    out = []
    while not q.empty():
        out.append(q.get_nowait().payload)
    return out


def test_split_writes_and_crlf(pty_scanner):
    master, scans, _, _ = pty_scanner
    payload = "040195001234||Trần Thị Lan Anh|12051995|Nữ|Nghệ An|03062021".encode()
    os.write(master, payload[:10])
    time.sleep(0.02)
    os.write(master, payload[10:] + b"\r\n")
    assert get_all(scans) == [payload]


def test_cr_only_lf_only_and_back_to_back(pty_scanner):
    master, scans, _, _ = pty_scanner
    os.write(master, b"first\rsecond\nthird\r\n")
    assert get_all(scans) == [b"first", b"second", b"third"]


def test_no_suffix_ends_on_timeout(pty_scanner):
    master, scans, _, _ = pty_scanner
    os.write(master, "Nguyễn".encode())
    assert get_all(scans) == ["Nguyễn".encode()]


def test_invalid_utf8_is_passed_raw_for_the_core_to_refuse(pty_scanner):
    master, scans, _, _ = pty_scanner
    os.write(master, b"abc\xff\xfedef\r\n")
    assert get_all(scans) == [b"abc\xff\xfedef"]


def test_framer_drops_a_flood():
    f = Framer(frame_timeout=0.1, max_frame=100)
    frames = f.feed(b"x" * 1000 + b"\r\nok\r\n", now=1.0)
    assert frames == [b"ok"] and f.dropped == 1
