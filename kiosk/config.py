"""Configuration: one TOML file, validated against a declared schema.

Lookup order: ``--config`` → ``$KIOSK_CONFIG`` → ``/etc/kiosk/kiosk.toml`` →
built-in defaults. ``--data-dir`` / ``$KIOSK_DATA_DIR`` override the data
directory whatever the file says. Any unknown key or bad value raises
:class:`ConfigError` naming the key and the expected form: the kiosk never
starts half-configured.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from kiosk.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/kiosk/kiosk.toml")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tramyte-kiosk"


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, the form it must take and what it is for."""

    section: str
    name: str
    default: Any
    expected: str
    doc: str
    check: Callable[[Any], bool] = lambda v: True
    kind: type | tuple[type, ...] = str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


def _regex(pattern: str) -> Callable[[Any], bool]:
    rx = re.compile(pattern, re.ASCII)  # \d means 0-9 only, never other scripts' digits
    return lambda v: bool(rx.fullmatch(v))


def insecure_url(url: str) -> str | None:
    """Why `url` must not carry a token or personal data (None: it may): https://, or http:// to loopback only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises ValueError
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        return "expected an https:// URL"
    if parts.scheme == "https":
        return None
    if host.lower() == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return f"plain http:// to {host} would send the device token and personal data unencrypted: use https://"


def _between(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: lo <= v <= hi


def _one_of(*choices: object) -> Callable[[Any], bool]:
    return lambda v: v in choices


SCHEMA: tuple[Key, ...] = (
    Key("facility", "code", "40999", "5 digits: province (2) + facility (3), e.g. \"40123\"",
        "The station's KCB facility code, as on BHYT cards registered here.", _regex(r"\d{5}")),
    Key("facility", "name", "Trạm Y tế xã Mẫu (demo)", "non-empty text",
        "The station's name, shown on screen and tickets.", lambda v: bool(v.strip())),
    Key("facility", "address", "Xã Mẫu, Nghệ An", "non-empty text",
        "The station's address: the \"address of stay\" in patient-stay notifications.",
        lambda v: bool(v.strip())),
    Key("storage", "data_dir", "", "a directory path, or empty for the default",
        "Where the database and all state live. Empty: `$XDG_DATA_HOME/tramyte-kiosk` "
        "(`~/.local/share/tramyte-kiosk`). Overridden by `--data-dir` and `$KIOSK_DATA_DIR`."),
    Key("storage", "database", "", "a file path, or empty for `<data_dir>/kiosk.db`",
        "The SQLite database file. Relative paths are taken inside the data directory."),
    Key("checkin", "rescan_window_minutes", 10, "an integer from 0 to 1440",
        "A card scanned again within this many minutes returns the existing visit instead of a new queue number.",
        _between(0, 1440), int),
    Key("ui", "language", "vi", "\"vi\" or \"en\"", "Language of the screens.", _one_of("vi", "en")),
    Key("ui", "result_timeout_seconds", 15, "a number from 1 to 600",
        "How long the result screen stays before returning to the idle screen.",
        _between(1, 600), (int, float)),
    Key("ui", "screen_diagonal_inches", 7.0, "a number from 3 to 100",
        "Physical diagonal of the touch screen: touch targets are sized to at least 9 mm on it.",
        _between(3, 100), (int, float)),
    Key("ui", "idle_timeout_seconds", 60, "a number from 5 to 600",
        "A patient screen left untouched this long clears itself and returns to the idle screen.",
        _between(5, 600), (int, float)),
    Key("ui", "services", ["kham_benh|Khám bệnh|General check-up", "tiem_chung|Tiêm chủng|Vaccination",
                           "kham_thai|Khám thai|Antenatal check-up"],
        "a list of \"code|Vietnamese label|English label\" strings",
        "The services a patient can choose after check-in, in screen order.",
        lambda v: bool(v) and all(isinstance(x, str) and len(x.split("|")) == 3 and x.split("|")[0].strip()
                                  for x in v), list),
    Key("ui", "console_lock_seconds", 120, "an integer from 15 to 3600",
        "The receptionist console locks after this many seconds without a touch.", _between(15, 3600), int),
    Key("ui", "console", True, "true or false",
        "Open the receptionist console window next to the patient screen (`kiosk run`).", kind=bool),
    Key("staff", "max_pin_attempts", 5, "an integer from 3 to 20",
        "Wrong PINs in a row that lock a staff account.", _between(3, 20), int),
    Key("staff", "lockout_minutes", 5, "an integer from 1 to 1440",
        "How long a staff account stays locked after too many wrong PINs.", _between(1, 1440), int),
    Key("printer", "kind", "none", "\"usb\", \"serial\", \"simulated\" or \"none\"",
        "The ticket printer: an ESC/POS thermal printer on USB or serial; `simulated` writes PNG tickets "
        "to `<data_dir>/tickets`.", _one_of("usb", "serial", "simulated", "none")),
    Key("printer", "usb_vendor_id", 0x0416, "an integer from 0 to 65535",
        "USB vendor ID of the printer (`lsusb`), e.g. 1046 (0x0416).", _between(0, 0xFFFF), int),
    Key("printer", "usb_product_id", 0x5011, "an integer from 0 to 65535",
        "USB product ID of the printer (`lsusb`), e.g. 20497 (0x5011).", _between(0, 0xFFFF), int),
    Key("printer", "port", "/dev/kiosk-printer", "a device path", "Serial port of a serial printer.",
        lambda v: bool(v.strip())),
    Key("printer", "baud", 9600, "an integer from 1200 to 921600", "Serial speed of a serial printer.",
        _between(1200, 921600), int),
    Key("printer", "paper_width_px", 384, "384 (58 mm paper) or 576 (80 mm paper)",
        "Printable width in dots: the ticket is rendered as an image this wide.", _one_of(384, 576), int),
    Key("voice", "enabled", False, "true or false",
        "Call queue numbers aloud with espeak-ng's Vietnamese voice.", kind=bool),
    Key("voice", "voice", "vi", "an espeak-ng voice name", "The espeak-ng voice (`espeak-ng --voices=vi`).",
        lambda v: bool(re.fullmatch(r"[A-Za-z0-9_+-]+", v))),
    Key("voice", "room", "phòng khám", "non-empty text",
        "Where the called number goes: \"Mời số 12 vào <room>\".", lambda v: bool(v.strip())),
    Key("scanner", "kind", "serial", "\"serial\", \"hid\", \"simulated\" or \"none\"",
        "Which barcode scanner the kiosk reads. `serial`: a 2D scanner in serial (USB COM) mode — the only mode "
        "that carries Vietnamese; `hid`: a keyboard-wedge scanner read with evdev (ASCII only: Vietnamese scans "
        "are refused with a request to switch the scanner to serial mode). A camera is `camera.enabled`.",
        _one_of("serial", "hid", "simulated", "none")),
    Key("scanner", "port", "/dev/kiosk-scanner", "a device path",
        "Serial port of the 2D scanner (a udev symlink such as `/dev/kiosk-scanner`, or `/dev/ttyACM0`).",
        lambda v: bool(v.strip())),
    Key("scanner", "baud", 9600, "an integer from 1200 to 921600", "Serial speed (8N1, no flow control).",
        _between(1200, 921600), int),
    Key("scanner", "frame_timeout_ms", 80, "an integer from 10 to 2000",
        "A pause this long between bytes ends a scan that has no CR/LF suffix.", _between(10, 2000), int),
    Key("scanner", "suffix", "auto", "\"auto\", \"cr\", \"lf\", \"crlf\", \"tab\" or \"none\"",
        "What the scanner sends after each code. `auto`: CR, LF or CR LF; `none`: scans end only on "
        "`frame_timeout_ms` of silence.", _one_of("auto", "cr", "lf", "crlf", "tab", "none")),
    Key("scanner", "max_scan_bytes", 8192, "an integer from 512 to 65536",
        "A scan longer than this is a byte flood (wrong baud rate, stuck trigger) and is dropped with a warning.",
        _between(512, 65536), int),
    Key("scanner", "hid_name", "", "text, or empty",
        "HID scanner: the input device whose name contains this text (`kiosk listen` / `evtest` show names).",),
    Key("scanner", "hid_vid_pid", "", "\"VVVV:PPPP\" in hex (as `lsusb` shows it), or empty",
        "HID scanner: the input device with this USB vendor:product ID (used before `hid_name`).",
        _regex(r"([0-9A-Fa-f]{4}:[0-9A-Fa-f]{4})?")),
    Key("camera", "enabled", False, "true or false", "Read QR codes with a camera as well.", kind=bool),
    Key("camera", "index", 0, "an integer from 0 to 63", "OpenCV camera index (`/dev/videoN`).", _between(0, 63), int),
    Key("camera", "device", "", "a device path or a video file, or empty to use `camera.index`",
        "Camera by path (e.g. a udev symlink `/dev/kiosk-camera`), or a video file to replay (testing)."),
    Key("camera", "width", 1280, "an integer from 320 to 3840", "Capture width asked of the camera.",
        _between(320, 3840), int),
    Key("camera", "height", 720, "an integer from 240 to 2160", "Capture height asked of the camera.",
        _between(240, 2160), int),
    Key("camera", "cooldown_seconds", 3.0, "a number from 0.2 to 60",
        "A code that left the camera's view is accepted again only after this long out of sight; while it stays "
        "in view it gives one scan.", _between(0.2, 60), (int, float)),
    Key("camera", "decoder", "default", "\"default\", \"zxing\", \"zbar\" or \"opencv\"",
        "QR decoder for the camera. `default` is the pipeline chosen by `bench/qr_decode.py` (zxing-cpp with "
        "region of interest, fast pass and unchanged-frame skipping; see docs/benchmarks.md).",
        _one_of("default", "zxing", "zbar", "opencv")),
    Key("reader", "name", "", "text, or empty for the first reader",
        "PC/SC reader to use for chip cards: the first reader whose name contains this text."),
    Key("reader", "enabled", False, "true or false",
        "Read CCCD chips on the PC/SC reader in `kiosk run`: after a card's QR gives the ID number, placing the "
        "card on the reader reads and verifies its chip (docs/chip.md).", kind=bool),
    Key("reader", "extended_length", "auto", "\"auto\", \"yes\" or \"no\"",
        "Extended-length APDUs (a whole data group per command): `auto` tries them and falls back to short "
        "APDUs when the reader refuses (e.g. ACR122U).", _one_of("auto", "yes", "no")),
    Key("reader", "csca_dir", "/etc/kiosk/csca", "a directory path",
        "Trusted CSCA certificates (PEM or DER) for passive authentication of the chip; a document signer "
        "no certificate here issued is reported as `no_trust_anchor`."),
    Key("reader", "card_wait_seconds", 10, "a number from 0 to 300",
        "How long `kiosk read-card` waits for a card to be placed (again) before giving up.",
        _between(0, 300), (int, float)),
    Key("reader", "read_photo", True, "true or false",
        "Also read the face photo (DG2) at check-in, into memory only, for the receptionist's face check on the "
        "console; it adds the photo's size to every chip read (about 15–20 KB).", kind=bool),
    Key("upstream", "url", "", "an https:// URL (http:// only to 127.0.0.1, ::1 or localhost), or empty when "
        "not provisioned", "The provincial hub the kiosk syncs with.", lambda v: v == "" or insecure_url(v) is None),
    Key("upstream", "token_file", "/etc/kiosk/device-token", "a file path",
        "File holding this device's bearer token for the hub."),
    Key("upstream", "ca_file", "", "a file path, or empty for the system CAs",
        "CA certificate(s) that the hub's TLS certificate must chain to."),
    Key("upstream", "client_cert", "", "a file path, or empty for none",
        "PEM client certificate for hubs that require one (mutual TLS); may hold the key too."),
    Key("upstream", "client_key", "", "a file path, or empty when the key is in client_cert",
        "PEM private key for upstream.client_cert."),
    Key("upstream", "backoff_max_seconds", 5.0, "a number from 0.05 to 600",
        "`kiosk sync`: longest wait between retries while the circuit is closed (full jitter, doubling from "
        "0.5 s). Small, so a hub that returns is used again within seconds (docs/sync.md).",
        _between(0.05, 600), (int, float)),
    Key("upstream", "breaker_cooldown_seconds", 5.0, "a number from 0.1 to 600",
        "`kiosk sync`: after 5 failures in a row the circuit opens for this long (±20 % jitter), then one "
        "`GET /v1/health` probes the hub (no records). 5 s: recovery within 10 s of the hub's return, one "
        "small request per 4–6 s per kiosk while it is down (docs/benchmarks.md, \"Outbox sync\").",
        _between(0.1, 600), (int, float)),
    Key("upstream", "heartbeat_seconds", 300, "a number from 10 to 86400",
        "`kiosk sync run`: how often the heartbeat (`POST /v1/heartbeat`: versions, outbox counts, device "
        "states, today's visits by document, open stays; no personal data) goes to the hub; one also follows "
        "each pass that delivered records. The hub marks a kiosk stale after 30 minutes without one.",
        _between(10, 86400), (int, float)),
    Key("roster", "key_file", "", "a file path, or empty for the demo key",
        "The province's roster hashing key (HMAC-SHA256). Empty: a built-in demo key, "
        "which only matches the demo roster."),
    Key("gateway", "url", "", "an https:// URL (http:// only to 127.0.0.1, ::1 or localhost), or empty (no "
        "account of its own)", "The BHXH gateway, when this station has its own account (usually the provincial "
        "hub holds it). Empty: eligibility is offline-only on this device.",
        lambda v: v == "" or insecure_url(v) is None),
    Key("gateway", "username", "", "text, e.g. \"40123_BV\"", "The facility's gateway account (facility code + `_BV`)."),
    Key("gateway", "password_file", "/etc/kiosk/gateway-password", "a file path",
        "File holding the gateway account's password (plain, or its MD5 hex)."),
    Key("gateway", "staff_name", "", "text", "Name of the staff member the gateway is told does the lookups "
        "(mandatory for the gateway)."),
    Key("gateway", "staff_id_number", "", "12 digits, or empty", "That staff member's ID number.",
        _regex(r"(\d{12})?")),
    Key("gateway", "timeout_seconds", 5, "a number from 1 to 60",
        "Longest wait for one gateway call; after it the answer is \"cannot verify now\".",
        _between(1, 60), (int, float)),
    Key("privacy", "data_key_file", "", "a file path outside the data directory, or empty for development",
        "The device data key (AES-GCM field encryption, keyed lookups); provisioned by `kiosk datakey init` as "
        "`/etc/kiosk/key/data.key`, owned by the kiosk user, mode 0640, alone in a 0700 directory (so a remote "
        "wipe order can shred it). Empty: a key beside the data directory (`<data_dir>.data-key`), "
        "created on first use — for development and the demo only."),
    Key("privacy", "visit_retention_days", 90, "an integer from 1 to 3650",
        "Visits (and patient identities no longer needed) older than this many days, once acknowledged by the hub, "
        "are reduced to non-identifying daily counts by `kiosk retention run`.", _between(1, 3650), int),
    Key("privacy", "stay_notification_retention_days", 90, "an integer from 1 to 3650",
        "Acknowledged (or receipted) patient-stay notifications older than this many days are deleted.",
        _between(1, 3650), int),
    Key("privacy", "lookup_cache_hours", 24, "an integer from 1 to 720",
        "Cached answers of the online eligibility lookup expire after this many hours.", _between(1, 720), int),
)

_BY_DOTTED = {k.dotted: k for k in SCHEMA}
SECTIONS = tuple(dict.fromkeys(k.section for k in SCHEMA))


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in defaults"

    def __getitem__(self, dotted: str) -> Any:
        return self.values[dotted]

    @property
    def data_dir(self) -> Path:
        return Path(self.values["storage.data_dir"])

    @property
    def database(self) -> Path:
        db = self.values["storage.database"]
        if not db:
            return self.data_dir / "kiosk.db"
        p = Path(db)
        return p if p.is_absolute() else self.data_dir / p

    def with_data_dir(self, data_dir: Path) -> "Config":
        values = dict(self.values)
        values["storage.data_dir"] = str(data_dir)
        return Config(values, self.source)


def _validate(dotted: str, value: Any) -> Any:
    key = _BY_DOTTED.get(dotted)
    if key is None:
        raise ConfigError(f"unknown configuration key '{dotted}'")
    kinds = key.kind if isinstance(key.kind, tuple) else (key.kind,)
    # TOML booleans are ints in Python: refuse them where a number is expected.
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise ConfigError(f"{dotted}: expected {key.expected}, got {value!r}")
    if not key.check(value):
        raise ConfigError(f"{dotted}: expected {key.expected}, got {value!r}")
    return value


def parse_toml(text: str, source: str = "<string>") -> dict[str, Any]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from None
    flat: dict[str, Any] = {}
    for section, body in raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"unknown configuration key '{section}' (keys live in sections such as [facility])")
        for name, value in body.items():
            if isinstance(value, dict):
                raise ConfigError(f"unknown configuration key '{section}.{name}'")
            flat[f"{section}.{name}"] = _validate(f"{section}.{name}", value)
    return flat


def find_config_file(explicit: str | None, env: dict[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if env.get("KIOSK_CONFIG"):
        return Path(env["KIOSK_CONFIG"])
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    return None


def load(explicit: str | None = None, data_dir: str | None = None, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    values = {k.dotted: k.default for k in SCHEMA}
    source = "built-in defaults"
    path = find_config_file(explicit, env)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read configuration file {path}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        values.update(parse_toml(text, str(path)))
        source = str(path)
    chosen = data_dir or env.get("KIOSK_DATA_DIR") or values["storage.data_dir"]
    values["storage.data_dir"] = str(Path(chosen).expanduser()) if chosen else str(default_data_dir())
    return Config(values, source)
