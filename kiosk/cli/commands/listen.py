"""`kiosk listen --serial PORT | --camera INDEX|FILE | --hid NAME|VID:PID`: scan events as JSON lines.

For technicians testing a device: every scan prints one JSON line with the
parse result (a parse error is reported in the line, not a crash), and every
device change (plugged, unplugged) a status line. Identifiers are masked
unless --full.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time

from kiosk import documents
from kiosk.cli import ascii_float, ascii_int
from kiosk.errors import UnavailableError, UsageError
from kiosk.logs import redact
from kiosk.masking import mask_id

_MASK = ("id_number", "old_id_number", "card_number", "social_insurance_number", "management_code",
         "document_number")


def register(sub) -> None:
    p = sub.add_parser("listen", help="print every scan from a scanner or camera as a JSON line (device testing)",
                       description="Read a scanner or a camera and print one JSON line per scan event with the "
                                   "parse result, and one per device status change. Runs until Ctrl-C, the end "
                                   "of a video file, --count scans or --timeout seconds.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", metavar="PORT", help="serial scanner port, e.g. /dev/kiosk-scanner or /dev/ttyACM0")
    src.add_argument("--camera", metavar="INDEX|FILE", help="camera index, /dev/videoN, or a video file")
    src.add_argument("--hid", metavar="NAME|VID:PID", help="keyboard-wedge scanner by input-device name or USB ID")
    p.add_argument("--baud", type=ascii_int, default=None, help="serial speed (default: scanner.baud)")
    p.add_argument("--suffix", default=None, help="serial suffix: auto, cr, lf, crlf, tab, none (default: scanner.suffix)")
    p.add_argument("--decoder", default=None, choices=["default", "zxing", "zbar", "opencv"],
                   help="camera decoder (default: camera.decoder)")
    p.add_argument("--count", type=ascii_int, default=0, help="stop after this many scans")
    p.add_argument("--timeout", type=ascii_float, default=0, help="stop after this many seconds")
    p.add_argument("--full", action="store_true", help="print ID and card numbers and the scanned text in full")
    p.add_argument("--json", action="store_true", help="accepted for uniformity: the output is always JSON lines")
    p.set_defaults(func=listen_cmd)


def make_source(ctx):
    # A technician's device test: the one driver named on the command line, built from its options (not from
    # the configuration, as kiosk.app does). Each driver needs its own optional extra: imported when chosen.
    a, cfg = ctx.args, ctx.config
    if a.serial:
        from drivers.serial_scanner import SUFFIXES, SerialScanner  # pyserial
        suffix = a.suffix or cfg["scanner.suffix"]
        if suffix not in SUFFIXES:
            raise UsageError(f"--suffix: expected one of {', '.join(SUFFIXES)}, got {suffix!r}")
        baud = a.baud or cfg["scanner.baud"]
        if not 1200 <= baud <= 921600:
            raise UsageError(f"--baud: expected 1200 to 921600, got {baud}")
        return SerialScanner(a.serial, baud, cfg["scanner.frame_timeout_ms"] / 1000,
                             max_frame=cfg["scanner.max_scan_bytes"], suffix=suffix)
    if a.camera is not None:
        from drivers.camera import CameraSource  # OpenCV and the decoders: the `camera` extra
        dev = int(a.camera) if a.camera.isascii() and a.camera.isdigit() else a.camera
        return CameraSource(dev, decoder=a.decoder or cfg["camera.decoder"], cooldown=cfg["camera.cooldown_seconds"],
                            width=cfg["camera.width"], height=cfg["camera.height"])
    from drivers.hid_scanner import HidScanner  # python-evdev: the `hid` extra
    try:
        import evdev  # noqa: F401
    except ImportError:
        raise UnavailableError("python-evdev is not installed (the `hid` extra)") from None
    if re.fullmatch(r"[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}", a.hid):
        return HidScanner(vid_pid=a.hid, frame_timeout=cfg["scanner.frame_timeout_ms"] / 1000)
    return HidScanner(name=a.hid, frame_timeout=cfg["scanner.frame_timeout_ms"] / 1000)


def scan_line(scan, full: bool = False) -> dict:
    """The JSON line for one scan event: what was read and what the core makes of it."""
    payload = scan.payload
    line = {"event": "scan", "source": scan.source,
            "received_at": scan.received_at.isoformat() if scan.received_at else None,
            "bytes": len(payload), "utf8": True, "ok": False, "kind": None, "document": None, "error": None}
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as e:
        line["utf8"] = False
        line["error"] = f"payload: expected UTF-8 text, invalid byte at offset {e.start}"
        return line
    if full:
        line["text"] = text
    try:
        doc = documents.parse(payload)
    except documents.ParseError as e:
        line["error"] = str(e)
        if not full:
            line["error"] = redact(line["error"])
        return line
    data = doc.to_json()
    if not full:
        for k in _MASK:
            if data.get(k):
                data[k] = mask_id(data[k])
    line.update(ok=True, kind=doc.kind, document=data)
    return line


def listen_cmd(ctx) -> int:
    a = ctx.args
    if a.count < 0 or a.timeout < 0:
        raise UsageError("--count and --timeout must not be negative")
    source = make_source(ctx)
    q: queue.Queue = queue.Queue()
    ever_connected = threading.Event()

    def on_status(st) -> None:
        if st.connected:
            ever_connected.set()
        q.put(("status", st))

    try:
        source.start(lambda s: q.put(("scan", s)), on_status)
    except Exception as e:  # e.g. a decoder backend missing
        raise UnavailableError(f"cannot start {source.name}: {e}") from None
    deadline = time.monotonic() + a.timeout if a.timeout else None
    scans = 0
    finished = getattr(source, "finished", None)
    try:
        while True:
            if deadline and time.monotonic() >= deadline:
                break
            try:
                kind, item = q.get(timeout=0.1)
            except queue.Empty:
                if finished is not None and finished.is_set() and q.empty():
                    break
                continue
            if kind == "status":
                line = {"event": "status", "device": item.device, "connected": item.connected,
                        "detail": item.detail}
            else:
                line = scan_line(item, a.full)
                scans += 1
            print(json.dumps(line, ensure_ascii=False), file=ctx.stdout, flush=True)
            if a.count and scans >= a.count:
                break
    finally:
        source.stop()
    if not ever_connected.is_set():
        raise UnavailableError(f"{source.name}: device not available")
    return 0
