"""A 2D scanner in keyboard-wedge (USB HID) mode, read with python-evdev.

Only for stations that have no serial-mode scanner: a keyboard carries key
codes, not text, so Vietnamese cannot pass (shared reference: hardware and
platform). The driver

- finds the scanner by configured name (substring) or `VID:PID` (hex),
- grabs it exclusively (EVIOCGRAB), so its keystrokes never reach the UI,
- maps key codes to ASCII with the US layout scanners default to, ends a scan
  on Enter/Tab or after `frame_timeout` of silence,
- and when a scan carries what a keyboard cannot (Alt+keypad sequences that
  scanners use for non-ASCII characters, key codes with no ASCII meaning, or a
  CCCD QR whose name and address came out without a single Vietnamese letter
  — the scanner dropped them), passes nothing on and reports the scanner as
  unusable with `detail` telling the receptionist to switch it to serial
  (USB COM) mode. A mangled name is a wrong record; no scan is better.

The key decoding (:class:`KeyDecoder`) is pure and tested with recorded event
sequences; :class:`HidScanner` feeds it from the device on its own thread.
"""

from __future__ import annotations

import glob
import logging
import re
import select
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from drivers.protocols import SWITCH_TO_SERIAL, Probe
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback, ThreadedSource
from kiosk.domain import ScanEvent
from kiosk.logs import event

log = logging.getLogger(__name__)

EV_SYN, EV_KEY, EV_MSC = 0, 1, 4

# Linux input key codes (linux/input-event-codes.h) → (unshifted, shifted), US layout.
_KEYS: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"), 7: ("6", "^"), 8: ("7", "&"),
    9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"), 12: ("-", "_"), 13: ("=", "+"),
    16: ("q", "Q"), 17: ("w", "W"), 18: ("e", "E"), 19: ("r", "R"), 20: ("t", "T"), 21: ("y", "Y"),
    22: ("u", "U"), 23: ("i", "I"), 24: ("o", "O"), 25: ("p", "P"), 26: ("[", "{"), 27: ("]", "}"),
    30: ("a", "A"), 31: ("s", "S"), 32: ("d", "D"), 33: ("f", "F"), 34: ("g", "G"), 35: ("h", "H"),
    36: ("j", "J"), 37: ("k", "K"), 38: ("l", "L"), 39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"),
    43: ("\\", "|"), 44: ("z", "Z"), 45: ("x", "X"), 46: ("c", "C"), 47: ("v", "V"), 48: ("b", "B"),
    49: ("n", "N"), 50: ("m", "M"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 57: (" ", " "),
    # keypad (scanners set to "numeric keypad" digits)
    71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 74: ("-", "-"), 75: ("4", "4"), 76: ("5", "5"),
    77: ("6", "6"), 78: ("+", "+"), 79: ("1", "1"), 80: ("2", "2"), 81: ("3", "3"), 82: ("0", "0"),
    83: (".", "."), 55: ("*", "*"), 98: ("/", "/"),
}
_KEYPAD_DIGITS = {71, 72, 73, 75, 76, 77, 79, 80, 81, 82}
_SHIFT = {42, 54}  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
_ALT = {56, 100}  # KEY_LEFTALT, KEY_RIGHTALT (AltGr)
_CTRL = {29, 97}
_CAPSLOCK = 58
_ENDS = {28: "enter", 96: "enter", 15: "tab"}  # KEY_ENTER, KEY_KPENTER, KEY_TAB
_CCCD = re.compile(r"\d{12}\|", re.ASCII)


@dataclass(frozen=True)
class HidScan:
    text: str
    problem: str | None = None  # why it cannot be trusted: "alt_sequence" | "unmapped_key" | "letters_dropped"


class KeyDecoder:
    """(type, code, value) input events in, complete scans out. Pure: the caller supplies the time."""

    def __init__(self, frame_timeout: float = 0.1, max_frame: int = 8 * 1024):
        self.frame_timeout = frame_timeout
        self.max_frame = max_frame
        self._chars: list[str] = []
        self._problem: str | None = None
        self._shift: set[int] = set()
        self._alt: set[int] = set()
        self._ctrl: set[int] = set()
        self._caps = False
        self._last = 0.0
        self._overflow = False

    def feed(self, etype: int, code: int, value: int, now: float) -> list[HidScan]:
        out: list[HidScan] = []
        if etype != EV_KEY:
            return out  # EV_SYN, EV_MSC (scan codes), LEDs: nothing to decode
        if (self._chars or self._problem) and now - self._last >= self.frame_timeout:
            out.extend(self._flush())
        self._last = now
        for group, keys in ((self._shift, _SHIFT), (self._alt, _ALT), (self._ctrl, _CTRL)):
            if code in keys:
                (group.add if value else group.discard)(code)
                return out
        if value == 0:
            return out  # key release
        # value 1 press, 2 autorepeat: a scanner never autorepeats, but a held key would
        if code == _CAPSLOCK:
            self._caps = not self._caps
            return out
        if code in _ENDS:
            out.extend(self._flush())
            return out
        if self._alt and code in _KEYPAD_DIGITS:
            # Alt+keypad digits: how scanners "type" characters beyond ASCII (Windows Alt codes).
            self._problem = self._problem or "alt_sequence"
            return out
        if self._ctrl or self._alt:
            self._problem = self._problem or "unmapped_key"
            return out
        pair = _KEYS.get(code)
        if pair is None:
            self._problem = self._problem or "unmapped_key"
            return out
        ch = pair[1] if self._shift else pair[0]
        if self._caps and ch.isalpha():
            ch = ch.swapcase()
        if len(self._chars) >= self.max_frame:
            self._overflow = True
        else:
            self._chars.append(ch)
        return out

    def poll(self, now: float) -> list[HidScan]:
        if (self._chars or self._problem) and now - self._last >= self.frame_timeout:
            return self._flush()
        return []

    def _flush(self) -> list[HidScan]:
        text, problem, overflow = "".join(self._chars), self._problem, self._overflow
        self._chars, self._problem, self._overflow = [], None, False
        if overflow:
            event(log, "hid_flood_dropped", logging.WARNING, limit=self.max_frame)
            return []
        if not text.strip() and not problem:
            return []
        return [HidScan(text, problem or letters_dropped(text))]


def letters_dropped(text: str) -> str | None:
    """A CCCD QR typed by a keyboard: Vietnamese names and addresses without a single non-ASCII
    letter mean the scanner silently dropped them ("Trần Thị" → "Trn Th")."""
    if not _CCCD.match(text):
        return None
    fields = text.split("|")
    if len(fields) >= 6 and fields[2] and fields[5]:
        return "letters_dropped"  # only ASCII is possible here, and real names/addresses are never all ASCII
    return None


def events_from_recording(lines: Iterable[str]) -> list[tuple[float, int, int, int]]:
    """Parse an `evtest`-style recording: `Event: time 1700000000.123456, type 1 (EV_KEY), code 30 (KEY_A), value 1`."""
    rx = re.compile(r"time (\d+\.\d+), type (\d+) \([^)]*\), code (\d+) \([^)]*\), value (-?\d+)")
    out = []
    for line in lines:
        m = rx.search(line)
        if m:
            out.append((float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))))
    return out


InputDevice = Any  # evdev.InputDevice, or a test's stand-in (fileno, read, grab, ungrab, close, name, info)


def find_device(name: str = "", vid_pid: str = "", list_devices: Callable[[], list[str]] | None = None,
                open_device: Callable[[str], InputDevice] | None = None) -> InputDevice | None:
    """The first input device whose name contains `name` (case-insensitive) or whose VID:PID is `vid_pid`."""
    import evdev  # optional (the `hid` extra): the key decoding above is tested without it
    list_devices = list_devices or evdev.list_devices
    open_device = open_device or evdev.InputDevice
    want = None
    if vid_pid:
        v, _, p = vid_pid.partition(":")
        want = (int(v, 16), int(p, 16))
    for path in list_devices():
        try:
            dev = open_device(path)
        except OSError:
            continue
        info = dev.info
        if (want and (info.vendor, info.product) == want) or (name and name.lower() in dev.name.lower()):
            return dev
        dev.close()
    return None


class HidScanner(ThreadedSource):
    """Reads a keyboard-wedge scanner with evdev. `open_device()` returns an evdev.InputDevice-like
    object (fileno, read, grab, ungrab, close) or None when the scanner is not plugged in."""

    def __init__(self, name: str = "", vid_pid: str = "", frame_timeout: float = 0.1, reopen_interval: float = 1.0,
                 grab: bool = True, open_device: Callable[[], InputDevice | None] | None = None):
        if not name and not vid_pid and open_device is None:
            raise ValueError("HID scanner: configure scanner.hid_name or scanner.hid_vid_pid")
        self.name = name or vid_pid or "hid scanner"
        self.hid_name, self.vid_pid = name, vid_pid
        self.frame_timeout = frame_timeout
        self.reopen_interval = reopen_interval
        self.grab = grab
        self._open = open_device or (lambda: find_device(name, vid_pid))
        super().__init__()
        self.refused = 0
        self._warned = False

    def probe(self, input_dir: str = "/dev/input") -> Probe:
        """Is a matching input device there and readable by this user? Found, it is usable but in keyboard mode
        (problem "keyboard_mode"): it cannot carry Vietnamese, so the doctor says to switch it to serial."""
        details: dict[str, str | int | bool | list[str]] = {"name": self.hid_name, "vid_pid": self.vid_pid}
        try:
            import evdev  # optional (the `hid` extra): only stations with a keyboard-wedge scanner install it
        except ImportError:
            return Probe("scanner", False, False, "not_installed", details=details)
        nodes = glob.glob(f"{input_dir}/event*")
        readable = evdev.list_devices(input_dir)
        dev = find_device(self.hid_name, self.vid_pid, list_devices=lambda: readable)
        if dev is not None:
            details["device"], details["device_name"] = str(dev.path), str(dev.name)
            dev.close()
            return Probe("scanner", True, True, "keyboard_mode", details=details)
        if len(readable) < len(nodes):  # input devices this user may not open: the input group is missing
            details["unreadable_inputs"] = len(nodes) - len(readable)
            return Probe("scanner", False, False, "permission", details=details)
        return Probe("scanner", False, False, "not_found", details=details)

    def _run(self, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        connected: bool | None = None
        while not self._stop.is_set():
            dev = None
            try:
                dev = self._open()
                if dev is None:
                    raise FileNotFoundError("no matching input device")
                if self.grab:
                    dev.grab()  # keystrokes stop reaching the UI (and any console)
                if connected is not True:
                    connected = True
                    event(log, "scanner_connected", kind="hid", grabbed=self.grab)
                    on_status(DeviceStatus("scanner", True, f"hid: {self.name}"))
                self._read(dev, on_scan, on_status)
            except OSError as e:
                _release(dev)
                dev = None
                if connected is not False:
                    connected = False
                    event(log, "scanner_disconnected", logging.WARNING, kind="hid", error=type(e).__name__)
                    on_status(DeviceStatus("scanner", False, f"hid: {self.name}: {type(e).__name__}"))
                self._stop.wait(self.reopen_interval)
            finally:
                _release(dev)

    def _read(self, dev: InputDevice, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        decoder = KeyDecoder(self.frame_timeout)
        fd = dev.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], min(self.frame_timeout / 2, 0.05))
            now = time.monotonic()
            scans: list[HidScan] = []
            if ready:
                for ev in dev.read():  # raises OSError (ENODEV) when unplugged
                    scans += decoder.feed(ev.type, ev.code, ev.value, now)
            else:
                scans += decoder.poll(now)
            for s in scans:
                self._deliver(s, on_scan, on_status)

    def _deliver(self, scan: HidScan, on_scan: ScanCallback, on_status: StatusCallback) -> None:
        if scan.problem:
            self.refused += 1
            event(log, "hid_scan_not_ascii", logging.WARNING, problem=scan.problem, chars=len(scan.text))
            # Nothing goes to the core: the patient sees "ask the receptionist", the receptionist
            # and the technician see why in the status detail.
            on_status(DeviceStatus("scanner", False, SWITCH_TO_SERIAL))
            self._warned = True
            return
        if self._warned:
            self._warned = False
            on_status(DeviceStatus("scanner", True, f"hid: {self.name}"))
        on_scan(ScanEvent(scan.text.encode("ascii"), "hid", datetime.now(timezone.utc)))


def _release(dev: InputDevice | None) -> None:
    if dev is None:
        return
    for fn in ("ungrab", "close"):
        try:
            getattr(dev, fn)()
        except (OSError, AttributeError):
            pass
