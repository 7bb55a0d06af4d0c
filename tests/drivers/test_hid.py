"""The HID (keyboard-wedge) scanner: key decoding from recorded event sequences, fed through
the same reader thread as a real evdev device (this machine has no /dev/uinput)."""

from __future__ import annotations

import os
import queue
import struct
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from drivers.hid_scanner import (EV_KEY, EV_MSC, EV_SYN, SWITCH_TO_SERIAL, HidScanner, KeyDecoder, _KEYS,
                                 events_from_recording, find_device)

# Recorded with `evtest` from a keyboard-wedge 2D scanner typing "Ab1|" then Enter (trimmed: the
# scanner sends MSC_SCAN before each key and a SYN_REPORT after each state change).
RECORDING = """\
Event: time 1732600000.100000, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1732600000.100000, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1732600000.100000, -------------- SYN_REPORT ------------
Event: time 1732600000.100900, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1732600000.100900, type 1 (EV_KEY), code 30 (KEY_A), value 1
Event: time 1732600000.101800, type 1 (EV_KEY), code 30 (KEY_A), value 0
Event: time 1732600000.101800, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1732600000.102700, type 1 (EV_KEY), code 48 (KEY_B), value 1
Event: time 1732600000.103600, type 1 (EV_KEY), code 48 (KEY_B), value 0
Event: time 1732600000.104500, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1732600000.105400, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1732600000.106300, type 1 (EV_KEY), code 54 (KEY_RIGHTSHIFT), value 1
Event: time 1732600000.107200, type 1 (EV_KEY), code 43 (KEY_BACKSLASH), value 1
Event: time 1732600000.108100, type 1 (EV_KEY), code 43 (KEY_BACKSLASH), value 0
Event: time 1732600000.109000, type 1 (EV_KEY), code 54 (KEY_RIGHTSHIFT), value 0
Event: time 1732600000.109900, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1732600000.110800, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
"""

# The same scanner typing "Lê" with "Alt+keypad" emulation on: L, then Alt held, KP0 KP2 KP3 KP4, Alt up.
ALT_RECORDING = """\
Event: time 1732600001.000000, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1732600001.000900, type 1 (EV_KEY), code 38 (KEY_L), value 1
Event: time 1732600001.001800, type 1 (EV_KEY), code 38 (KEY_L), value 0
Event: time 1732600001.002700, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1732600001.003600, type 1 (EV_KEY), code 56 (KEY_LEFTALT), value 1
Event: time 1732600001.004500, type 1 (EV_KEY), code 82 (KEY_KP0), value 1
Event: time 1732600001.005400, type 1 (EV_KEY), code 82 (KEY_KP0), value 0
Event: time 1732600001.006300, type 1 (EV_KEY), code 80 (KEY_KP2), value 1
Event: time 1732600001.007200, type 1 (EV_KEY), code 80 (KEY_KP2), value 0
Event: time 1732600001.008100, type 1 (EV_KEY), code 81 (KEY_KP3), value 1
Event: time 1732600001.009000, type 1 (EV_KEY), code 81 (KEY_KP3), value 0
Event: time 1732600001.009900, type 1 (EV_KEY), code 75 (KEY_KP4), value 1
Event: time 1732600001.010800, type 1 (EV_KEY), code 75 (KEY_KP4), value 0
Event: time 1732600001.011700, type 1 (EV_KEY), code 56 (KEY_LEFTALT), value 0
Event: time 1732600001.012600, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1732600001.013500, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
"""

_BY_CHAR = {}
for _code, (_lo, _hi) in _KEYS.items():
    if _code < 71 or _code > 83:  # main block, not keypad
        _BY_CHAR.setdefault(_lo, (_code, False))
        _BY_CHAR.setdefault(_hi, (_code, True))


def typed(text: str, t0: float = 0.0, dt: float = 0.0008, suffix: bool = True):
    """Events a US-layout keyboard-wedge scanner sends for ASCII `text` (with MSC/SYN noise)."""
    ev, t = [], t0
    for ch in text:
        code, shift = _BY_CHAR[ch]
        if shift:
            ev.append((t, EV_KEY, 42, 1))
        ev += [(t, EV_MSC, 4, 0x70000 + code), (t, EV_KEY, code, 1), (t, EV_SYN, 0, 0), (t + dt / 2, EV_KEY, code, 0)]
        if shift:
            ev.append((t + dt / 2, EV_KEY, 42, 0))
        t += dt
    if suffix:
        ev += [(t, EV_KEY, 28, 1), (t, EV_KEY, 28, 0)]
    return ev


def decode_all(events, timeout=0.1):
    d = KeyDecoder(frame_timeout=timeout)
    out = []
    for t, ty, code, val in events:
        out += d.feed(ty, code, val, t)
    out += d.poll((events[-1][0] if events else 0) + 10)
    return out


def test_recorded_sequence_decodes_with_shift_and_enter():
    ev = events_from_recording(RECORDING.splitlines())
    assert len(ev) == 16  # the SYN_REPORT line has no type/code/value and is skipped
    (scan,) = decode_all(ev)
    assert scan.text == "Ab1|" and scan.problem is None


def test_alt_keypad_sequence_is_flagged_not_passed_as_text():
    (scan,) = decode_all(events_from_recording(ALT_RECORDING.splitlines()))
    assert scan.problem == "alt_sequence"


def test_cccd_with_vietnamese_letters_dropped_is_flagged():
    # What a keyboard-wedge scanner typically types for "Trần Thị Lan Anh" etc.: the letters vanish.
    mangled = "040195001234|186543210|Trn Th Lan Anh|12051995|N|Xm 3, X Nghi Phong, Nghi Lc, Ngh An|03062021"
    (scan,) = decode_all(typed(mangled))
    assert scan.text == mangled and scan.problem == "letters_dropped"


def test_ascii_only_bhyt_new_layout_passes():
    # New-layout BHYT QRs carry names as hex UTF-8: ASCII end to end, so HID mode can read them.
    text = "4012345678|5068e1baa16d205468e1bb8b20486f61|07/08/1960|2|-|40 - 123|01/01/2026|-|15/12/2025|$"
    (scan,) = decode_all(typed(text))
    assert scan.text == text and scan.problem is None


def test_unmapped_key_is_flagged():
    ev = typed("abc", suffix=False) + [(0.01, EV_KEY, 183, 1), (0.01, EV_KEY, 183, 0)] + typed("d", 0.02)
    (scan,) = decode_all(ev)
    assert scan.problem == "unmapped_key"


def test_no_suffix_ends_on_timeout_and_two_scans_split():
    ev = typed("first", 0.0, suffix=False) + typed("second", 1.0, suffix=False)
    assert [s.text for s in decode_all(ev)] == ["first", "second"]


def test_capslock_inverts_letters():
    ev = [(0, EV_KEY, 58, 1), (0, EV_KEY, 58, 0)] + typed("aB1", 0.001)
    assert decode_all(ev)[0].text == "Ab1"


@given(st.text(alphabet=st.sampled_from(sorted(c for c in _BY_CHAR if c not in "\t")), min_size=1, max_size=200)
       .filter(lambda s: s.strip() and not s[:13].replace("|", "").isdigit()))
@settings(max_examples=200, deadline=None)
def test_any_ascii_text_round_trips(text):
    (scan,) = decode_all(typed(text))
    assert scan.text == text and scan.problem is None


# --- the reader thread, fed recorded events through a real file descriptor -------------------

_FMT = "dHHi"


class RecordedDevice:
    """evdev.InputDevice-like: fileno() is a pipe's read end; read() yields events written to it."""

    def __init__(self):
        self.r, self.w = os.pipe()
        self.grabbed = False
        self.closed = False
        self.gone = False

    def fileno(self):
        return self.r

    def grab(self):
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def close(self):
        self.closed = True

    def play(self, events):
        os.write(self.w, b"".join(struct.pack(_FMT, t, ty, c, v) for t, ty, c, v in events))

    def unplug(self):
        self.gone = True
        os.write(self.w, b"!")  # wake select()

    def read(self):
        if self.gone:
            raise OSError(19, "No such device")
        size = struct.calcsize(_FMT)
        data = os.read(self.r, size * 256)
        for i in range(0, len(data) - len(data) % size, size):
            t, ty, c, v = struct.unpack(_FMT, data[i:i + size])
            yield SimpleNamespace(type=ty, code=c, value=v)


def test_reader_thread_grabs_decodes_refuses_and_survives_unplug():
    devices = [RecordedDevice()]
    plugged = {"on": True}
    scans, statuses = queue.Queue(), queue.Queue()
    sc = HidScanner(open_device=lambda: devices[-1] if plugged["on"] else None, frame_timeout=0.05,
                    reopen_interval=0.05)
    sc.start(scans.put, statuses.put)
    try:
        assert statuses.get(timeout=3).connected
        time.sleep(0.05)
        assert devices[0].grabbed
        devices[0].play(events_from_recording(RECORDING.splitlines()))
        ev = scans.get(timeout=3)
        assert ev.payload == b"Ab1|" and ev.source == "hid"
        # A Vietnamese scan: nothing reaches the core; the status says what to do.
        devices[0].play(events_from_recording(ALT_RECORDING.splitlines()))
        st_ = statuses.get(timeout=3)
        assert not st_.connected and st_.detail == SWITCH_TO_SERIAL
        time.sleep(0.2)
        assert scans.empty() and sc.refused == 1
        # Next good scan clears the warning.
        devices[0].play(typed("OK123"))
        assert scans.get(timeout=3).payload == b"OK123"
        assert statuses.get(timeout=3).connected
        # Unplugged: disconnected once, ungrabbed; plugged back: connected and grabbed again.
        plugged["on"] = False
        devices[0].unplug()
        assert statuses.get(timeout=3).connected is False
        assert not devices[0].grabbed and devices[0].closed
        devices.append(RecordedDevice())
        plugged["on"] = True
        assert statuses.get(timeout=3).connected
        devices[1].play(typed("again"))
        assert scans.get(timeout=3).payload == b"again"
        assert devices[1].grabbed
    finally:
        sc.stop()


def test_find_device_by_name_and_vid_pid():
    devs = {
        "/dev/input/event0": SimpleNamespace(name="AT Translated Set 2 keyboard", info=SimpleNamespace(vendor=1, product=1)),
        "/dev/input/event5": SimpleNamespace(name="Honeywell Imaging 2D Scanner", info=SimpleNamespace(vendor=0x0C2E, product=0x0B61)),
    }
    for d in devs.values():
        d.close = lambda: None
    lst = lambda: list(devs)  # noqa: E731
    assert find_device("honeywell", "", lst, devs.__getitem__).name.startswith("Honeywell")
    assert find_device("", "0c2e:0b61", lst, devs.__getitem__).info.product == 0x0B61
    assert find_device("zebra", "", lst, devs.__getitem__) is None


def test_needs_a_name_or_vid_pid():
    with pytest.raises(ValueError, match="hid_name"):
        HidScanner()
