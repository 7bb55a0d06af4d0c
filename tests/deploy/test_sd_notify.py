"""The UI process under a fake systemd notify socket: READY=1, watchdog pings, a frozen loop, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
from hypothesis import given, strategies as st

from tests.conftest import kiosk_cmd
from ui.systemd import notify_address, watchdog_interval_ms


def _listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(0.1)
    return s


def _drain(sock, until: float) -> list[tuple[float, str]]:
    got = []
    while time.monotonic() < until:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        got.append((time.monotonic(), data.decode()))
    return got


@pytest.fixture
def ui_process(tmp_path, kiosk_env):
    pytest.importorskip("PySide6")
    sock_path = tmp_path / "notify.sock"
    sock = _listen(sock_path)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[scanner]\nkind = "none"\n[ui]\nlanguage = "vi"\n', encoding="utf-8")
    env = dict(kiosk_env, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="400000",
               QT_QPA_PLATFORM="offscreen", KIOSK_CONFIG=str(cfg),
               KIOSK_TEST_FREEZE_ON_SIGUSR2="2.0")
    proc = subprocess.Popen(kiosk_cmd("--log-level", "INFO", "run"), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc, sock
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    sock.close()


def test_ready_then_pings_then_silence_when_blocked_then_clean_stop(ui_process):
    proc, sock = ui_process
    deadline = time.monotonic() + 30  # PySide6 start-up is slow on a busy machine
    msgs: list[tuple[float, str]] = []
    while time.monotonic() < deadline and proc.poll() is None:
        msgs += _drain(sock, time.monotonic() + 0.3)
        if any(m.startswith("READY=1") for _, m in msgs):
            break
    assert msgs, f"no notification at all; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
    assert msgs[0][1].startswith("READY=1"), msgs[:3]

    # Watchdog every WATCHDOG_USEC/2 = 200 ms.
    pings = [t for t, m in _drain(sock, time.monotonic() + 1.5) if m == "WATCHDOG=1"]
    assert len(pings) >= 3, pings
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < 1.2, gaps  # 0.2 s nominal; slack for a loaded CI machine

    # Freeze the GUI thread for 2 s: no ping may arrive while it sleeps.
    proc.send_signal(signal.SIGUSR2)
    t_freeze = time.monotonic()
    during = _drain(sock, t_freeze + 4.0)
    times = [t for t, m in during if m == "WATCHDOG=1"]
    assert times, "pings never resumed after the freeze"
    gaps = [b - a for a, b in zip([t_freeze] + times, times)]
    assert max(gaps) >= 1.5, f"pings kept coming while the event loop was blocked: {gaps}"
    # ... and they resume once the loop runs again.
    assert len([t for t in times if t > times[0] + 0.1]) >= 2

    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=15)
    tail = [m for _, m in _drain(sock, time.monotonic() + 0.3)]
    assert rc == 0, proc.stderr.read()
    assert "STOPPING=1" in tail or "STOPPING=1" in [m for _, m in during]


def test_no_notify_socket_is_a_no_op():
    from ui.systemd import Notifier
    n = Notifier(env={})
    assert not n.enabled and n.interval_ms is None
    assert n.send("READY=1") is False and n.sent == []


def test_watchdog_for_another_pid_is_not_ours():
    assert watchdog_interval_ms("1000000", str(os.getpid())) == 500
    assert watchdog_interval_ms("1000000", str(os.getpid() + 1)) is None
    assert watchdog_interval_ms("0") is None and watchdog_interval_ms("abc") is None


def test_abstract_and_path_addresses():
    assert notify_address("@foo") == b"\0foo"
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert notify_address("vsock:2:1234") is None and notify_address("") is None


@given(st.text(max_size=30), st.one_of(st.none(), st.text(max_size=12)))
def test_watchdog_env_never_crashes(usec, pid):
    v = watchdog_interval_ms(usec, pid)
    assert v is None or v >= 1


@given(st.text(max_size=40))
def test_notify_address_never_crashes(value):
    a = notify_address(value)
    assert a is None or isinstance(a, (str, bytes))
