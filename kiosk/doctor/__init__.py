"""`kiosk doctor`: what a technician on the phone needs to know about a kiosk, check by check.

Every check returns a :class:`Finding` — what it found and what to do about
it — and never raises: a check that cannot run is itself a finding. The
configuration is checked first and a broken one does not stop the rest
(they fall back to the built-in defaults and say so). Status per check:
``ok``, ``warning``, ``failure``, or ``skipped`` (not configured on purpose,
or not available in this version); the exit status is 0 / 1 / 2 for the
worst of ok / warning / failure.

Nothing here writes to the database; opening it read-only as root must not
leave root-owned `-wal`/`-shm` files behind (they would lock the kiosk user
out), so those are handed back to the database's owner.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from kiosk import __version__, config as config_mod, store
from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

OK, WARNING, FAILURE, SKIPPED = "ok", "warning", "failure", "skipped"
_RANK = {OK: 0, SKIPPED: 0, WARNING: 1, FAILURE: 2}

# Thresholds a technician can reason about.
DISK_FAIL_BYTES = 200 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024
CERT_WARN_DAYS = 30
ROSTER_WARN_DAYS = 2      # the roster timer runs nightly
ROSTER_FAIL_DAYS = 30
OUTBOX_WARN_HOURS = 24
NET_TIMEOUT = 5.0


@dataclass
class Finding:
    check: str
    status: str
    found: str
    action: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    findings: list[Finding]
    version: str = __version__
    host: str = field(default_factory=socket.gethostname)
    checked_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
                            .replace("+00:00", "Z"))

    @property
    def status(self) -> str:
        worst = max((_RANK[f.status] for f in self.findings), default=0)
        return {0: OK, 1: WARNING, 2: FAILURE}[worst]

    @property
    def exit_code(self) -> int:
        return _RANK[self.status]

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "version": self.version, "checked_at": self.checked_at,
                "status": self.status, "exit_code": self.exit_code,
                "checks": [asdict(f) for f in self.findings]}


class Env:
    """What the checks share: the language, the configuration (or the fallback) and how it was obtained."""

    def __init__(self, lang: str, config_file: str | None, data_dir: str | None, environ: dict[str, str]):
        self.lang = lang
        self.config_file = config_file
        self.data_dir_override = data_dir
        self.environ = environ
        self.config: config_mod.Config | None = None
        self.config_error: str | None = None

    def t(self, vi: str, en: str) -> str:
        return vi if self.lang == "vi" else en


# --- the checks -------------------------------------------------------------------------------

def check_config(env: Env) -> Finding:
    t = env.t
    try:
        cfg = config_mod.load(env.config_file, env.data_dir_override, env.environ)
    except ConfigError as e:
        env.config_error = str(e)
        # Go on with the defaults so the other checks still tell what they can.
        defaults = {k.dotted: k.default for k in config_mod.SCHEMA}
        chosen = env.data_dir_override or env.environ.get("KIOSK_DATA_DIR") or (
            "/var/lib/kiosk" if Path("/var/lib/kiosk").is_dir() else str(config_mod.default_data_dir()))
        defaults["storage.data_dir"] = chosen
        env.config = config_mod.Config(defaults, "built-in defaults (configuration broken)")
        return Finding("config", FAILURE, t(f"Cấu hình sai: {e}", f"The configuration is broken: {e}"),
                       t("Sửa tệp cấu hình (thường là /etc/kiosk/kiosk.toml) rồi chạy `kiosk config check`; "
                         "các kiểm tra dưới đây dùng giá trị mặc định.",
                         "Fix the configuration file (usually /etc/kiosk/kiosk.toml), then run `kiosk config check`; "
                         "the checks below used the built-in defaults."),
                       {"error": str(e)})
    env.config = cfg
    details = {"source": cfg.source, "facility_code": cfg["facility.code"], "data_dir": str(cfg.data_dir)}
    if cfg.source == "built-in defaults":
        return Finding("config", WARNING,
                       t("Không có tệp cấu hình: máy chưa được cài đặt (đang dùng giá trị mặc định, mã cơ sở demo).",
                         "No configuration file: this device is not provisioned (built-in defaults, demo facility)."),
                       t("Cài đặt máy bằng deploy/provision.sh hoặc playbook Ansible.",
                         "Provision the device with deploy/provision.sh or the Ansible playbook."), details)
    return Finding("config", OK, t(f"Cấu hình hợp lệ ({cfg.source}), cơ sở {cfg['facility.code']}.",
                                   f"Configuration valid ({cfg.source}), facility {cfg['facility.code']}."),
                   details=details)


def _secret_state(path: str) -> tuple[str, str] | None:
    """None when the file is fine; else (status, problem-code)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return FAILURE, "missing"
    except PermissionError:
        return FAILURE, "unreadable"
    if st.st_mode & 0o007:
        return FAILURE, "world_accessible"
    if not os.access(p, os.R_OK):
        return FAILURE, "unreadable"
    return None


def check_secrets(env: Env) -> Finding:
    t = env.t
    cfg = env.config
    files = {"upstream.token_file": cfg["upstream.token_file"] if cfg["upstream.url"] else "",
             "roster.key_file": cfg["roster.key_file"]}
    if "privacy.data_key_file" in cfg.values:
        files["privacy.data_key_file"] = cfg["privacy.data_key_file"]
    problems: dict[str, str] = {}
    for key, path in files.items():
        if path:
            bad = _secret_state(path)
            if bad:
                problems[key] = f"{path}: {bad[1]}"
    if not problems and cfg["roster.key_file"]:
        try:
            from kiosk.eligibility import roster
            roster.load_key(cfg["roster.key_file"])
        except ConfigError as e:
            problems["roster.key_file"] = str(e)
    unset = [k for k, v in files.items() if not v]
    details = {"files": {k: v for k, v in files.items() if v}, "problems": problems, "not_set": unset}
    if problems:
        return Finding("secrets", FAILURE,
                       t("Tệp bí mật có vấn đề: ", "Secret files have problems: ") + "; ".join(
                           f"{k} ({v})" for k, v in problems.items()),
                       t("Cài lại bằng provision.sh (--token-file/--roster-key-file); tệp phải thuộc root, nhóm kiosk, "
                         "quyền 0640.",
                         "Re-provision (--token-file/--roster-key-file); files must be owned by root, group kiosk, "
                         "mode 0640."), details)
    if "roster.key_file" in unset:
        return Finding("secrets", WARNING,
                       t("Chưa có khóa danh sách BHYT của tỉnh: đang dùng khóa demo, không tra được thẻ thật.",
                         "No provincial roster key: the demo key is in use and real cards will not match."),
                       t("Cài đặt với --roster-key-file.", "Provision with --roster-key-file."), details)
    return Finding("secrets", OK, t("Tệp bí mật có mặt và được bảo vệ.", "Secret files present and protected."),
                   details=details)


class _HandBack:
    """Give -wal/-shm files that this (root) process creates back to the database file's owner."""

    def __init__(self, db: Path):
        self.db = db
        self.extra = [Path(f"{db}-wal"), Path(f"{db}-shm")]
        self.before = {p: p.exists() for p in self.extra}

    def restore(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            st = self.db.stat()
        except OSError:
            return
        for p in self.extra:
            if not self.before[p] and p.exists():
                try:
                    os.chown(p, st.st_uid, st.st_gid)
                except OSError:
                    pass


def _open_ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def check_database(env: Env) -> Finding:
    t = env.t
    path = env.config.database
    if not path.exists():
        return Finding("database", FAILURE, t(f"Không có cơ sở dữ liệu {path}.", f"No database at {path}."),
                       t("Chạy `kiosk db migrate` với người dùng kiosk (provision.sh làm việc này).",
                         "Run `kiosk db migrate` as the kiosk user (provision.sh does this)."), {"path": str(path)})
    hand_back = _HandBack(path)
    try:
        conn = _open_ro(path)
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return Finding("database", FAILURE, t(f"Không mở được cơ sở dữ liệu {path}: {e}",
                                              f"Cannot open the database {path}: {e}"),
                       t("Kiểm tra quyền của thư mục dữ liệu (chủ sở hữu kiosk) và chạy lại với sudo.",
                         "Check the data directory's ownership (user kiosk) and run again with sudo."),
                       {"path": str(path), "error": str(e)})
    finally:
        hand_back.restore()
    from kiosk.store import all_migrations
    latest = max((v for v, _, _ in all_migrations()), default=0)
    details = {"path": str(path), "quick_check": result[:10], "schema_version": version,
               "latest_version": latest, "journal_mode": journal, "size_bytes": path.stat().st_size}
    if result != ["ok"]:
        return Finding("database", FAILURE,
                       t(f"Cơ sở dữ liệu hỏng (quick_check: {result[0]}).",
                         f"The database is damaged (quick_check: {result[0]})."),
                       t("Dừng kiosk, sao lưu tệp, gọi hỗ trợ tuyến trên; không xóa tệp — dữ liệu chưa gửi nằm trong đó.",
                         "Stop the kiosk, back the file up and escalate; do not delete it — unsent records are in it."),
                       details)
    if version < latest:
        return Finding("database", WARNING,
                       t(f"Cơ sở dữ liệu ở phiên bản {version}, bản cài đặt cần {latest}.",
                         f"Database schema {version}, this version needs {latest}."),
                       t("Chạy `kiosk db migrate` (kiosk tự làm khi khởi động).",
                         "Run `kiosk db migrate` (the kiosk does it at start)."), details)
    return Finding("database", OK, t(f"Cơ sở dữ liệu nguyên vẹn (quick_check ok, phiên bản {version}).",
                                     f"Database intact (quick_check ok, schema {version})."), details=details)


def check_disk(env: Env) -> Finding:
    t = env.t
    where = env.config.data_dir
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free_mb = usage.free // (1024 * 1024)
    details = {"path": str(where), "free_bytes": usage.free, "total_bytes": usage.total}
    text = t(f"Còn trống {free_mb} MB / {usage.total // (1024 * 1024)} MB tại {probe}.",
             f"{free_mb} MB free of {usage.total // (1024 * 1024)} MB at {probe}.")
    if usage.free < DISK_FAIL_BYTES:
        return Finding("disk", FAILURE, text, t("Giải phóng dung lượng ngay: kiosk sẽ không lưu được lượt khám.",
                                                "Free space now: the kiosk will not be able to save visits."),
                       details)
    if usage.free < DISK_WARN_BYTES:
        return Finding("disk", WARNING, text, t("Sắp đầy: xóa nhật ký cũ (`journalctl --vacuum-size=50M`).",
                                                "Getting full: trim old logs (`journalctl --vacuum-size=50M`)."),
                       details)
    return Finding("disk", OK, text, details=details)


def check_clock(env: Env) -> Finding:
    from kiosk.clock import kernel_clock_synchronised
    t = env.t
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if kernel_clock_synchronised():
        return Finding("clock", OK, t(f"Đồng hồ đã đồng bộ ({now}).", f"Clock synchronised ({now})."),
                       details={"now": now})
    return Finding("clock", WARNING,
                   t(f"Đồng hồ CHƯA đồng bộ (máy đang chỉ {now} UTC); lượt khám sẽ bị đánh dấu clock_unsynced.",
                     f"The clock is NOT synchronised (it says {now} UTC); visits are flagged clock_unsynced."),
                   t("Kiểm tra mạng và `timedatectl timesync-status`; Pi 4 không có đồng hồ pin.",
                     "Check the network and `timedatectl timesync-status`; a Pi 4 has no battery clock."),
                   {"now": now})


def _with_timeout(fn: Callable[[], Any], seconds: float) -> Any:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # carried back to the caller
            box["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(seconds)
    if th.is_alive():
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def check_pcscd(env: Env) -> Finding:
    t = env.t
    try:
        from smartcard.System import readers as list_readers
    except ImportError:
        sock = Path("/run/pcscd/pcscd.comm")
        status = WARNING if sock.exists() else FAILURE
        return Finding("pcscd", status,
                       t("Không có pyscard trong bản cài đặt nên không liệt kê được đầu đọc; "
                         + ("pcscd có socket." if sock.exists() else "không thấy socket của pcscd."),
                         "pyscard is not installed, so readers cannot be listed; "
                         + ("pcscd's socket exists." if sock.exists() else "pcscd's socket is absent.")),
                       t("Cài python3-pyscard (provision.sh làm việc này).", "Install python3-pyscard (provision.sh does)."),
                       {"socket": sock.exists()})
    try:
        names = [str(r) for r in _with_timeout(list_readers, NET_TIMEOUT)]
    except Exception as e:  # pyscard raises its own EstablishContextException and friends
        return Finding("pcscd", FAILURE, t(f"pcscd không trả lời ({type(e).__name__}: {e}).",
                                           f"pcscd does not answer ({type(e).__name__}: {e})."),
                       t("`sudo systemctl restart pcscd.socket pcscd`; kiểm tra quy tắc polkit "
                         "/etc/polkit-1/rules.d/60-kiosk-pcscd.rules.",
                         "`sudo systemctl restart pcscd.socket pcscd`; check the polkit rule "
                         "/etc/polkit-1/rules.d/60-kiosk-pcscd.rules."), {"error": type(e).__name__})
    wanted = env.config["reader.name"]
    details = {"readers": names, "configured": wanted}
    if not names:
        return Finding("pcscd", WARNING, t("pcscd chạy nhưng không thấy đầu đọc thẻ nào.",
                                           "pcscd runs but sees no reader."),
                       t("Cắm đầu đọc NFC; với ACR122U kiểm tra pn533 đã bị chặn (`lsmod | grep pn533`).",
                         "Plug the NFC reader in; for an ACR122U check pn533 is blacklisted (`lsmod | grep pn533`)."),
                       details)
    if wanted and not any(wanted in n for n in names):
        return Finding("pcscd", WARNING, t(f"Không có đầu đọc tên chứa '{wanted}'; thấy: {', '.join(names)}.",
                                           f"No reader named like '{wanted}'; found: {', '.join(names)}."),
                       t("Sửa reader.name trong cấu hình.", "Fix reader.name in the configuration."), details)
    return Finding("pcscd", OK, t(f"pcscd chạy; đầu đọc: {', '.join(names)}.", f"pcscd runs; readers: {', '.join(names)}."),
                   details=details)


def check_scanner(env: Env) -> Finding:
    t = env.t
    cfg = env.config
    kind = cfg["scanner.kind"]
    if kind == "none":
        return Finding("scanner", SKIPPED, t("Không dùng máy quét (scanner.kind = none).",
                                             "No scanner configured (scanner.kind = none)."))
    if kind != "serial":
        return Finding("scanner", WARNING, t(f"Máy quét giả lập đang được cấu hình ({kind}).",
                                             f"A simulated scanner is configured ({kind})."),
                       t("Đặt scanner.kind = \"serial\" trên máy thật.", "Set scanner.kind = \"serial\" on a device."))
    port = cfg["scanner.port"]
    details: dict[str, Any] = {"port": port}
    if not os.path.exists(port):
        return Finding("scanner", FAILURE, t(f"Không thấy cổng máy quét {port}.", f"Scanner port {port} is not present."),
                       t("Cắm máy quét (chế độ cổng COM/CDC-ACM); kiểm tra `lsusb` và VID:PID trong "
                         "/etc/udev/rules.d/70-kiosk-scanner.rules.",
                         "Plug the scanner in (COM/CDC-ACM mode); check `lsusb` and the VID:PID in "
                         "/etc/udev/rules.d/70-kiosk-scanner.rules."), details)
    details["device"] = os.path.realpath(port)
    try:
        import serial
        s = serial.Serial(port, cfg["scanner.baud"], timeout=0)
        s.close()
    except ImportError:
        try:
            fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            os.close(fd)
        except OSError as e:
            return _port_error(env, port, e, details)
    except Exception as e:  # serial.SerialException wraps the OSError
        return _port_error(env, port, e, details)
    return Finding("scanner", OK, t(f"Cổng máy quét {port} ({details['device']}) mở được.",
                                    f"Scanner port {port} ({details['device']}) opens."), details=details)


def _port_error(env: Env, port: str, e: Exception, details: dict) -> Finding:
    t = env.t
    details["error"] = type(e).__name__
    text = str(e)
    if "ermission" in text:
        action = t("Người dùng kiosk phải ở nhóm dialout (provision.sh làm việc này).",
                   "The kiosk user must be in group dialout (provision.sh does this).")
    else:
        action = t("Cổng bận: ModemManager có thể đang giữ nó — kiểm tra ID_MM_DEVICE_IGNORE trong quy tắc udev.",
                   "The port is busy: ModemManager may hold it — check ID_MM_DEVICE_IGNORE in the udev rule.")
    return Finding("scanner", FAILURE, t(f"Không mở được {port}: {text}", f"Cannot open {port}: {text}"), action, details)


def check_camera(env: Env) -> Finding:
    t = env.t
    cfg = env.config
    if not cfg["camera.enabled"]:
        return Finding("camera", SKIPPED, t("Không dùng camera (camera.enabled = false).",
                                            "Camera not used (camera.enabled = false)."))
    index = cfg["camera.index"]
    node = f"/dev/video{index}"
    details: dict[str, Any] = {"device": node}
    if not os.path.exists(node):
        return Finding("camera", FAILURE, t(f"Không thấy camera {node}.", f"No camera at {node}."),
                       t("Cắm camera USB; kiểm tra `ls /dev/video*` và camera.index.",
                         "Plug the USB camera in; check `ls /dev/video*` and camera.index."), details)
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        try:
            def grab() -> bool:
                cap = cv2.VideoCapture(index)
                try:
                    return bool(cap.isOpened() and cap.read()[0])
                finally:
                    cap.release()
            ok = _with_timeout(grab, NET_TIMEOUT)
        except Exception as e:
            ok, details["error"] = False, type(e).__name__
        if not ok:
            return Finding("camera", FAILURE, t(f"Camera {node} không cho khung hình.", f"Camera {node} gives no frame."),
                           t("Người dùng kiosk phải ở nhóm video; thử cắm lại camera.",
                             "The kiosk user must be in group video; re-plug the camera."), details)
        return Finding("camera", OK, t(f"Camera {node} mở được và cho khung hình.", f"Camera {node} opens and gives a frame."),
                       details=details)
    try:
        fd = os.open(node, os.O_RDWR | os.O_NONBLOCK)
        os.close(fd)
    except OSError as e:
        details["error"] = type(e).__name__
        return Finding("camera", FAILURE, t(f"Không mở được {node}: {e.strerror}", f"Cannot open {node}: {e.strerror}"),
                       t("Người dùng kiosk phải ở nhóm video.", "The kiosk user must be in group video."), details)
    return Finding("camera", OK, t(f"Camera {node} mở được (không có OpenCV để thử khung hình).",
                                   f"Camera {node} opens (no OpenCV to grab a frame)."), details=details)


def _cert_expiry(host: str, port: int, ca_file: str) -> datetime:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    # Judge the certificate as the sync client (urllib3) does: Python 3.13's strict X.509 mode
    # would refuse some CAs that the client accepts.
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    with socket.create_connection((host, port), timeout=NET_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            cert = tls.getpeercert()
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), timezone.utc)


def check_hub(env: Env) -> list[Finding]:
    t = env.t
    cfg = env.config
    url = cfg["upstream.url"]
    if not url:
        return [Finding("hub", WARNING, t("Chưa cấu hình máy chủ tỉnh (upstream.url trống): dữ liệu không được gửi đi.",
                                          "No provincial hub configured (upstream.url empty): nothing is sent."),
                        t("Cài đặt với --hub URL --token-file FILE.", "Provision with --hub URL --token-file FILE."))]
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    base = url.rstrip("/")
    ca = cfg["upstream.ca_file"]
    details: dict[str, Any] = {"url": url}
    findings: list[Finding] = []
    try:
        import requests
    except ImportError:
        return [Finding("hub", FAILURE, t("Thiếu thư viện requests.", "The requests library is missing."),
                        t("Cài lại ứng dụng.", "Reinstall the application."))]
    verify: bool | str = ca or True
    try:
        started = time.monotonic()
        r = requests.get(f"{base}/v1/health", timeout=NET_TIMEOUT, verify=verify)
        details["latency_ms"] = round((time.monotonic() - started) * 1000)
        details["http_status"] = r.status_code
    except requests.exceptions.SSLError as e:
        findings.append(Finding("hub", FAILURE, t(f"Chứng chỉ TLS của máy chủ {host} không hợp lệ: {e}",
                                                  f"The hub {host}'s TLS certificate is not valid: {e}"),
                                t("Kiểm tra upstream.ca_file (--hub-ca) và đồng hồ máy.",
                                  "Check upstream.ca_file (--hub-ca) and the device clock."), details))
        return findings
    except requests.exceptions.RequestException as e:
        details["error"] = type(e).__name__
        return [Finding("hub", FAILURE, t(f"Không kết nối được máy chủ tỉnh {host}:{port} ({type(e).__name__}).",
                                          f"Cannot reach the hub {host}:{port} ({type(e).__name__})."),
                        t("Kiểm tra mạng (`ping`, DNS, cáp/4G); hồ sơ vẫn được giữ trong hàng đợi.",
                          "Check the network (ping, DNS, cable/4G); records wait safely in the outbox."), details)]
    if r.status_code >= 500 or r.status_code == 404:
        findings.append(Finding("hub", WARNING, t(f"Máy chủ tỉnh trả lời HTTP {r.status_code}.",
                                                  f"The hub answered HTTP {r.status_code}."),
                                t("Báo cho người quản trị máy chủ tỉnh.", "Tell the hub's administrator."), details))
    else:
        findings.append(Finding("hub", OK, t(f"Máy chủ tỉnh trả lời ({details['latency_ms']} ms).",
                                             f"The hub answers ({details['latency_ms']} ms)."), details=details))
    if parts.scheme == "https":
        try:
            expires = _cert_expiry(host, port, ca)
            days = (expires - datetime.now(timezone.utc)).days
            d = {"not_after": expires.isoformat(), "days_left": days}
            if days < 0:
                findings.append(Finding("hub_tls", FAILURE, t("Chứng chỉ TLS của máy chủ đã hết hạn.",
                                                              "The hub's TLS certificate has expired."),
                                        t("Báo người quản trị máy chủ tỉnh.", "Tell the hub's administrator."), d))
            elif days < CERT_WARN_DAYS:
                findings.append(Finding("hub_tls", WARNING, t(f"Chứng chỉ TLS hết hạn sau {days} ngày.",
                                                              f"The TLS certificate expires in {days} days."),
                                        t("Báo người quản trị máy chủ tỉnh để gia hạn.", "Ask the hub's administrator to renew it."), d))
            else:
                findings.append(Finding("hub_tls", OK, t(f"Chứng chỉ TLS hợp lệ, còn {days} ngày.",
                                                         f"TLS certificate valid, {days} days left."), details=d))
        except (OSError, ssl.SSLError, ValueError, KeyError) as e:
            findings.append(Finding("hub_tls", FAILURE, t(f"Không kiểm tra được chứng chỉ TLS: {e}",
                                                          f"Cannot check the TLS certificate: {e}"),
                                    t("Kiểm tra upstream.ca_file.", "Check upstream.ca_file.")))
    else:
        findings.append(Finding("hub_tls", WARNING, t("Kết nối máy chủ không mã hóa (http://).",
                                                      "The hub connection is not encrypted (http://)."),
                                t("Dùng https:// với --hub-ca trên máy thật.", "Use https:// with --hub-ca on a device.")))
    findings.append(_check_token(env, base, verify))
    return findings


def _check_token(env: Env, base: str, verify: bool | str) -> Finding:
    import requests
    t = env.t
    path = env.config["upstream.token_file"]
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        return Finding("hub_token", FAILURE, t(f"Không đọc được mã thiết bị {path}: {e.strerror}",
                                               f"Cannot read the device token {path}: {e.strerror}"),
                       t("Chạy với sudo; hoặc cài lại với --token-file.", "Run with sudo, or re-provision with --token-file."))
    if not token:
        return Finding("hub_token", FAILURE, t("Tệp mã thiết bị trống.", "The device token file is empty."),
                       t("Cấp mã mới bằng `kiosk-hub enrol` và cài lại.", "Enrol again (`kiosk-hub enrol`) and re-provision."))
    try:
        r = requests.get(f"{base}/v1/roster/updates", params={"since": 0}, timeout=NET_TIMEOUT, verify=verify,
                         headers={"Authorization": f"Bearer {token}"}, stream=True)
        r.close()
    except requests.exceptions.RequestException as e:
        return Finding("hub_token", WARNING, t(f"Không thử được mã thiết bị ({type(e).__name__}).",
                                               f"Could not try the device token ({type(e).__name__})."), "")
    if r.status_code in (401, 403):
        return Finding("hub_token", FAILURE, t("Máy chủ tỉnh từ chối mã thiết bị.", "The hub refuses the device token."),
                       t("Cấp mã mới bằng `kiosk-hub enrol` trên máy chủ và cài lại với --token-file.",
                         "Enrol the device again (`kiosk-hub enrol` on the hub) and re-provision with --token-file."),
                       {"http_status": r.status_code})
    if r.status_code < 400:
        return Finding("hub_token", OK, t("Máy chủ tỉnh chấp nhận mã thiết bị.", "The hub accepts the device token."),
                       details={"http_status": r.status_code})
    return Finding("hub_token", WARNING, t(f"Không xác nhận được mã thiết bị (HTTP {r.status_code}).",
                                           f"Could not confirm the device token (HTTP {r.status_code})."), "",
                   {"http_status": r.status_code})


def _age_days(iso: str) -> float:
    from kiosk.clock import parse_iso
    return (datetime.now(timezone.utc) - parse_iso(iso)).total_seconds() / 86400


def _with_db(env: Env, check: str, fn: Callable[[sqlite3.Connection], Finding]) -> Finding:
    path = env.config.database
    if not path.exists():
        return Finding(check, SKIPPED, env.t("Không có cơ sở dữ liệu.", "No database."))
    hand_back = _HandBack(path)
    try:
        conn = _open_ro(path)
        try:
            return fn(conn)
        finally:
            conn.close()
    except sqlite3.Error as e:
        return Finding(check, FAILURE, env.t(f"Không đọc được cơ sở dữ liệu: {e}", f"Cannot read the database: {e}"),
                       env.t("Xem kiểm tra database.", "See the database check."))
    finally:
        hand_back.restore()


def check_roster(env: Env) -> Finding:
    t = env.t

    def fn(conn: sqlite3.Connection) -> Finding:
        tables = store.tables(conn)
        cards = conn.execute("SELECT count(*) FROM roster_cards").fetchone()[0] if "roster_cards" in tables else 0
        if "roster_import" not in tables:
            return Finding("roster", SKIPPED if cards else WARNING,
                           t(f"Danh sách BHYT: {cards} thẻ; phiên bản này không ghi ngày nhập danh sách.",
                             f"BHYT roster: {cards} cards; this version does not record when it was imported."),
                           "" if cards else t("Nhập danh sách: `kiosk roster sync`.", "Load a roster: `kiosk roster sync`."),
                           {"cards": cards})
        row = conn.execute("SELECT kind, version, state, as_of, finished_at, started_at FROM roster_import "
                           "WHERE id = 1").fetchone()
        if row is None:
            return Finding("roster", WARNING, t("Chưa nhập danh sách BHYT nào: chỉ tra cứu trực tuyến được.",
                                                "No BHYT roster imported yet: only online checks work."),
                           t("Chạy `kiosk roster sync` (hoặc chờ bộ hẹn giờ hằng đêm).",
                             "Run `kiosk roster sync` (or wait for the nightly timer)."), {"cards": cards})
        kind, version, state, as_of, finished, started = row
        details = {"cards": cards, "version": version, "state": state, "as_of": as_of, "finished_at": finished}
        if state != "done":
            return Finding("roster", WARNING, t(f"Lần nhập danh sách (phiên bản {version}) chưa xong.",
                                                f"A roster import (version {version}) has not finished."),
                           t("Chạy lại `kiosk roster sync`; việc nhập tiếp tục từ chỗ dừng.",
                             "Run `kiosk roster sync` again; the import resumes where it stopped."), details)
        when = finished or as_of or started
        age = _age_days(when)
        details["age_days"] = round(age, 1)
        text = t(f"Danh sách BHYT phiên bản {version}, {cards} thẻ, cập nhật {age:.1f} ngày trước.",
                 f"BHYT roster version {version}, {cards} cards, updated {age:.1f} days ago.")
        if cards == 0:
            return Finding("roster", WARNING, text, t("Danh sách trống: kiểm tra tệp danh sách của tỉnh và `kiosk roster status`.",
                                                      "The roster is empty: check the province's file and `kiosk roster status`."),
                           details)
        if age > ROSTER_FAIL_DAYS:
            return Finding("roster", FAILURE, text, t("Danh sách quá cũ: kiểm tra kết nối và `kiosk roster sync`.",
                                                      "The roster is far too old: check the network and `kiosk roster sync`."),
                           details)
        if age > ROSTER_WARN_DAYS:
            return Finding("roster", WARNING, text, t("Kiểm tra `systemctl status kiosk-roster-sync.timer`.",
                                                      "Check `systemctl status kiosk-roster-sync.timer`."), details)
        return Finding("roster", OK, text, details=details)
    return _with_db(env, "roster", fn)


def check_outbox(env: Env) -> Finding:
    t = env.t

    def fn(conn: sqlite3.Connection) -> Finding:
        counts = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        backlog = counts.get("queued", 0) + counts.get("sent", 0)
        oldest = conn.execute("SELECT min(created_at) FROM outbox WHERE state IN ('queued', 'sent')").fetchone()[0]
        details: dict[str, Any] = {"counts": counts, "backlog": backlog, "oldest": oldest}
        if "stay_notifications" in store.tables(conn):
            now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
            details["stay_overdue"] = conn.execute(
                "SELECT count(*) FROM stay_notifications WHERE state IN ('pending', 'sent', 'needs_manual') "
                "AND deadline_at < ?", [now]).fetchone()[0]
        manual = counts.get("needs_manual", 0)
        age_h = _age_days(oldest) * 24 if oldest else 0.0
        details["oldest_age_hours"] = round(age_h, 1)
        text = t(f"Hàng đợi gửi: {backlog} hồ sơ chờ" + (f", cũ nhất {age_h:.1f} giờ" if oldest else "")
                 + (f", {manual} cần xử lý tay" if manual else "") + ".",
                 f"Outbox: {backlog} waiting" + (f", oldest {age_h:.1f} h" if oldest else "")
                 + (f", {manual} need manual handling" if manual else "") + ".")
        if details.get("stay_overdue"):
            return Finding("outbox", FAILURE, text + t(f" {details['stay_overdue']} thông báo lưu trú quá hạn.",
                                                       f" {details['stay_overdue']} stay notifications are overdue."),
                           t("Lễ tân nộp tay thông báo lưu trú và ghi biên nhận (`kiosk stay receipt`).",
                             "The receptionist submits the stay notifications by hand and records the receipt "
                             "(`kiosk stay receipt`)."), details)
        if manual or age_h > OUTBOX_WARN_HOURS:
            return Finding("outbox", WARNING, text,
                           t("Kiểm tra `systemctl status kiosk-sync` và mạng; hồ sơ cần xử lý tay: `kiosk sync status`.",
                             "Check `systemctl status kiosk-sync` and the network; manual rows: `kiosk sync status`."),
                           details)
        return Finding("outbox", OK, text, details=details)
    return _with_db(env, "outbox", fn)


def _systemctl_show(unit: str | None, props: list[str]) -> dict[str, str]:
    cmd = ["systemctl", "show", *([unit] if unit else []), "-p", ",".join(props)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=NET_TIMEOUT).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def check_watchdog(env: Env) -> Finding:
    t = env.t
    if not systemd_running() or not shutil.which("systemctl"):
        return Finding("watchdog", WARNING, t("systemd không chạy (chroot/container?): không có watchdog.",
                                              "systemd is not running (chroot/container?): no watchdog."),
                       t("Chạy doctor trên máy kiosk đã khởi động.", "Run doctor on the booted kiosk."))
    manager = _systemctl_show(None, ["RuntimeWatchdogUSec"])
    ui = _systemctl_show("kiosk-ui.service", ["ActiveState", "SubState", "WatchdogUSec", "NRestarts", "LoadState"])
    details = {"runtime_watchdog": manager.get("RuntimeWatchdogUSec", ""), "kiosk_ui": ui}
    hw_on = manager.get("RuntimeWatchdogUSec", "0") not in ("0", "infinity", "")
    if ui.get("LoadState") != "loaded":
        return Finding("watchdog", FAILURE, t("Chưa cài kiosk-ui.service.", "kiosk-ui.service is not installed."),
                       t("Chạy provision.sh.", "Run provision.sh."), details)
    ui_ok = ui.get("ActiveState") == "active" and ui.get("WatchdogUSec", "0") not in ("0", "infinity", "")
    if not ui_ok:
        return Finding("watchdog", FAILURE,
                       t(f"Giao diện kiosk không chạy dưới watchdog (kiosk-ui: {ui.get('ActiveState')}).",
                         f"The kiosk UI is not running under the watchdog (kiosk-ui: {ui.get('ActiveState')})."),
                       t("`journalctl -u kiosk-ui -b` để xem lý do; `sudo systemctl restart kiosk-ui`.",
                         "`journalctl -u kiosk-ui -b` for why; `sudo systemctl restart kiosk-ui`."), details)
    if not hw_on:
        return Finding("watchdog", WARNING, t("Watchdog phần cứng đang tắt.", "The hardware watchdog is off."),
                       t("Chạy lại provision.sh (RuntimeWatchdogSec) rồi khởi động lại.",
                         "Re-run provision.sh (RuntimeWatchdogSec) and reboot."), details)
    return Finding("watchdog", OK, t(f"Watchdog phần cứng bật ({manager['RuntimeWatchdogUSec']}); kiosk-ui chạy, "
                                     f"đã khởi động lại {ui.get('NRestarts', '?')} lần.",
                                     f"Hardware watchdog on ({manager['RuntimeWatchdogUSec']}); kiosk-ui running, "
                                     f"restarted {ui.get('NRestarts', '?')} times."), details=details)


CHECKS: list[tuple[str, Callable[[Env], Finding | list[Finding]]]] = [
    ("config", check_config), ("secrets", check_secrets), ("database", check_database), ("disk", check_disk),
    ("clock", check_clock), ("pcscd", check_pcscd), ("scanner", check_scanner), ("camera", check_camera),
    ("hub", check_hub), ("roster", check_roster), ("outbox", check_outbox), ("watchdog", check_watchdog),
]


def run(lang: str = "vi", config_file: str | None = None, data_dir: str | None = None,
        environ: dict[str, str] | None = None, only: set[str] | None = None) -> Report:
    env = Env(lang, config_file, data_dir, dict(os.environ) if environ is None else environ)
    findings: list[Finding] = []
    for name, fn in CHECKS:
        if only and name != "config" and name not in only:
            continue
        try:
            got = fn(env)
        except Exception as e:  # a broken check is a finding, never a crash
            log.warning("event=doctor_check_crashed check=%s exc=%s", name, type(e).__name__)
            got = Finding(name, FAILURE, env.t(f"Không chạy được kiểm tra này ({type(e).__name__}).",
                                               f"This check could not run ({type(e).__name__})."),
                          env.t("Báo lỗi này cho nhóm phát triển kèm `kiosk doctor --json`.",
                                "Report this to the developers with `kiosk doctor --json`."),
                          {"error": type(e).__name__})
        findings.extend(got if isinstance(got, list) else [got])
    return Report(findings)


_MARK = {OK: "✔", WARNING: "!", FAILURE: "✘", SKIPPED: "–"}
_WORD = {"vi": {OK: "TỐT", WARNING: "CẢNH BÁO", FAILURE: "LỖI", SKIPPED: "BỎ QUA"},
         "en": {OK: "OK", WARNING: "WARNING", FAILURE: "FAILURE", SKIPPED: "SKIPPED"}}


def render(report: Report, lang: str = "vi") -> str:
    words = _WORD[lang]
    lines = [("Kiểm tra kiosk" if lang == "vi" else "Kiosk check") + f" — {report.host}, kiosk {report.version}"]
    for f in report.findings:
        lines.append(f"{_MARK[f.status]} [{words[f.status]}] {f.check}: {f.found}")
        if f.action and f.status != OK:
            lines.append(("    → Cần làm: " if lang == "vi" else "    → To do: ") + f.action)
    summary = {"vi": {OK: "Mọi kiểm tra đều tốt.", WARNING: "Có cảnh báo.", FAILURE: "Có lỗi cần sửa."},
               "en": {OK: "All checks passed.", WARNING: "There are warnings.", FAILURE: "There are failures to fix."}}
    lines.append(summary[lang][report.status])
    return "\n".join(lines)
