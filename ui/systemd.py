"""systemd integration for the UI process: readiness, the watchdog, and a clean SIGTERM.

`kiosk-ui.service` is `Type=notify` with `WatchdogSec=`: systemd waits for
`READY=1` (sent once the first screen is up) and restarts the kiosk when the
`WATCHDOG=1` pings stop. The pings come from a QTimer on the Qt event loop,
so they stop exactly when the GUI thread stops serving events — a frozen
screen is restarted, a busy worker thread is not.

Without `$NOTIFY_SOCKET` (a terminal, the demo, tests) everything here is a
no-op. Only the standard library is used: the notify protocol is one
datagram per message to a unix socket (an `@` prefix means the abstract
namespace).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time

from kiosk.logs import event

log = logging.getLogger(__name__)

# Test-only: with this variable set, SIGUSR2 makes the GUI thread sleep that many
# seconds, to show that a blocked event loop stops the watchdog pings.
FREEZE_ENV = "KIOSK_TEST_FREEZE_ON_SIGUSR2"


def notify_address(value: str | None) -> str | bytes | None:
    """The socket address `$NOTIFY_SOCKET` names, or None when it names none we can use."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # abstract namespace
    if value.startswith("/"):
        return value
    return None  # vsock: and relative paths are not for us


def watchdog_interval_ms(usec: str | None, pid: str | None = None, my_pid: int | None = None) -> int | None:
    """How often to ping: half of `$WATCHDOG_USEC` (systemd's advice), or None when no watchdog is ours."""
    if not usec:
        return None
    if pid:
        try:
            if int(pid) != (os.getpid() if my_pid is None else my_pid):
                return None  # the watchdog is meant for another process (e.g. under cage)
        except ValueError:
            return None
    try:
        value = int(usec)
    except ValueError:
        return None
    if value <= 0:
        return None
    return max(1, value // 2000)


class Notifier:
    """Sends sd_notify messages; silent when the process was not started by systemd with NotifyAccess."""

    def __init__(self, env: dict[str, str] | None = None):
        env = os.environ if env is None else env
        self.address = notify_address(env.get("NOTIFY_SOCKET"))
        self.interval_ms = watchdog_interval_ms(env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID"))
        self._sock: socket.socket | None = None
        self.sent: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, message: str) -> bool:
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self.address)
        except OSError as e:
            event(log, "sd_notify_failed", logging.WARNING, error=type(e).__name__)
            return False
        self.sent.append(message)
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class SystemdHooks:
    """Attach to a running QApplication: READY=1 once the first screen shows, watchdog pings, SIGTERM."""

    def __init__(self, app, notifier: Notifier | None = None):
        self.app = app
        self.notifier = notifier or Notifier()
        self._timer = None
        self._sig_notifier = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.stopping = False

    def install(self, window=None) -> "SystemdHooks":
        from PySide6.QtCore import QTimer  # deferred: the notifier part is used (and tested) without the Qt extra
        self._install_signals()
        # A zero-time single shot runs once the event loop has started and the
        # window's first paint is queued before it: the first screen is up.
        QTimer.singleShot(0, self._ready)
        if self.notifier.interval_ms:
            self._timer = QTimer(self.app)
            self._timer.setInterval(self.notifier.interval_ms)
            self._timer.timeout.connect(self._ping)
            self._timer.start()
        return self

    def _ready(self) -> None:
        if self.notifier.send("READY=1\nSTATUS=Kiosk screen is up"):
            event(log, "sd_ready", watchdog_ms=self.notifier.interval_ms or 0)

    def _ping(self) -> None:
        self.notifier.send("WATCHDOG=1")

    # Python runs signal handlers only between bytecodes, and Qt's event loop is C++:
    # a handler would wait for the next Python slot. set_wakeup_fd writes the signal
    # number to a socket that a QSocketNotifier watches, so SIGTERM is handled at once.
    def _install_signals(self) -> None:
        from PySide6.QtCore import QSocketNotifier  # deferred: see install()
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._wake_r, self._wake_w):
            s.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, lambda *_: None)  # the real work happens in _on_wakeup
        signal.signal(signal.SIGINT, lambda *_: None)
        if os.environ.get(FREEZE_ENV):
            signal.signal(signal.SIGUSR2, lambda *_: None)
        self._sig_notifier = QSocketNotifier(self._wake_r.fileno(), QSocketNotifier.Type.Read, self.app)
        self._sig_notifier.activated.connect(self._on_wakeup)

    def _on_wakeup(self, *_: object) -> None:
        try:
            data = self._wake_r.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                self.stop(signum)
            elif signum == signal.SIGUSR2 and os.environ.get(FREEZE_ENV):
                seconds = float(os.environ[FREEZE_ENV])
                event(log, "test_freeze", seconds=seconds)
                time.sleep(seconds)  # blocks the GUI thread on purpose: the pings must stop

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.stopping:
            return
        self.stopping = True
        event(log, "stopping", signal=signal.Signals(signum).name)
        self.notifier.send("STOPPING=1")
        if self._timer is not None:
            self._timer.stop()
        self.app.quit()

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self.notifier.close()
