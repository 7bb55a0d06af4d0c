"""The reference provincial hub: the upstream contract (sync/openapi/v1.json) over HTTP(S), on SQLite.

Used by `make demo` and every sync test over loopback. Writes are idempotent
per device and key: a replay gets the original answer, the same key with a
different body gets 422, a key whose first request is still being processed
gets 409. The record and its idempotency entry commit in one transaction, so
an answer lost on the wire (``--drop-after-commit``) is answered again on the
retry, never written twice.

Fault injection (tests): ``fail_rate`` answers 503 before doing anything,
``delay`` holds each request (the key is "in flight" meanwhile),
``drop_after_commit`` cuts the connection after a write committed, before the
answer.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
import re
import secrets
import shutil
import socket
import sqlite3
import ssl
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk.logs import event

log = logging.getLogger(__name__)

API_VERSION = "1"
KINDS = {"visit": "visits", "stay_notification": "stay_notifications", "audit": "audit_entries"}
PATHS = {"/v1/visits": "visit", "/v1/stay-notifications": "stay_notification", "/v1/audit-entries": "audit"}
MAX_BODY = 8 * 1024 * 1024
MAX_BATCH = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    device_id INTEGER NOT NULL REFERENCES devices(id), key TEXT NOT NULL, kind TEXT NOT NULL,
    request_hash TEXT NOT NULL, status INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (device_id, key));
CREATE TABLE IF NOT EXISTS visits (
    id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, idempotency_key TEXT NOT NULL, record_id INTEGER NOT NULL,
    payload TEXT NOT NULL, received_at TEXT NOT NULL, UNIQUE (device_id, idempotency_key));
CREATE TABLE IF NOT EXISTS stay_notifications (
    id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, idempotency_key TEXT NOT NULL, record_id INTEGER NOT NULL,
    payload TEXT NOT NULL, received_at TEXT NOT NULL, UNIQUE (device_id, idempotency_key));
CREATE TABLE IF NOT EXISTS audit_entries (
    id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, idempotency_key TEXT NOT NULL, record_id INTEGER NOT NULL,
    payload TEXT NOT NULL, received_at TEXT NOT NULL, UNIQUE (device_id, idempotency_key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_devices (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id), revoked_at TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wipe_orders (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id), ordered_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roster_files (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('snapshot', 'delta')),
    version INTEGER NOT NULL, since INTEGER, filename TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, gzip INTEGER NOT NULL, published_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heartbeats (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id), body TEXT NOT NULL, received_at TEXT NOT NULL);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def token_hash(token: str) -> str:
    # Tokens are 256-bit random: a plain SHA-256 is enough to make the stored form useless to a thief.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def request_hash(kind: str, body: Any) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + canonical(body)).hexdigest()


class BadRequest(Exception):
    """The body does not follow the contract: a permanent rejection (400)."""


# --- validation (the contract's schemas, checked by hand to keep the hub dependency-free) ----------

_FACILITY = re.compile(r"\d{5}", re.ASCII)
_ISO_DT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_ISO_D = re.compile(r"\d{4}(-\d{2}-\d{2})?", re.ASCII)
VISIT_REQUIRED = ("visit_id", "facility_code", "visit_date", "queue_number", "created_at")
STAY_FIELDS = {"notification_id", "facility_code", "full_name", "date_of_birth", "id_number", "passport_number",
               "reason", "stay_from", "stay_until", "address_of_stay", "deadline_at", "created_at", "clock_synced"}


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise BadRequest(message)


def validate(kind: str, body: Any) -> int:
    """Check a record against the contract; returns the kiosk's own id for it."""
    _need(kind in KINDS, f"unknown record kind {kind!r} (expected one of {', '.join(KINDS)})")
    _need(isinstance(body, dict), "the body must be a JSON object")
    if kind == "audit":
        # A copy of one entry of the kiosk's hash-chained audit trail (issue 10); no personal data in it.
        seq = body.get("seq")
        _need(isinstance(seq, int) and not isinstance(seq, bool) and seq > 0, "seq: expected a positive integer")
        for k in ("entry_hash", "prev_hash"):
            _need(isinstance(body.get(k), str) and bool(re.fullmatch(r"[0-9a-f]{64}", body[k])),
                  f"{k}: expected 64 hex digits")
        return seq
    _need(isinstance(body.get("facility_code"), str) and bool(_FACILITY.fullmatch(body["facility_code"])),
          "facility_code: expected 5 digits")
    _need(isinstance(body.get("created_at"), str) and bool(_ISO_DT.fullmatch(body["created_at"])),
          "created_at: expected an ISO date-time with offset")
    if kind == "visit":
        for k in VISIT_REQUIRED:
            _need(k in body, f"{k}: required")
        _need(isinstance(body["visit_id"], int) and not isinstance(body["visit_id"], bool) and body["visit_id"] > 0,
              "visit_id: expected a positive integer")
        _need(isinstance(body["visit_date"], str) and bool(_ISO_D.fullmatch(body["visit_date"])),
              "visit_date: expected YYYY-MM-DD")
        return body["visit_id"]
    extra = set(body) - STAY_FIELDS
    _need(not extra, f"fields outside the statutory list: {', '.join(sorted(extra))}")
    nid = body.get("notification_id")
    _need(isinstance(nid, int) and not isinstance(nid, bool) and nid > 0, "notification_id: expected a positive integer")
    for k in ("full_name", "reason", "address_of_stay"):
        _need(isinstance(body.get(k), str) and bool(body[k].strip()), f"{k}: required text")
    _need(bool(body.get("id_number") or body.get("passport_number")), "id_number or passport_number: one is required")
    if body.get("id_number") is not None:
        _need(isinstance(body["id_number"], str) and bool(re.fullmatch(r"\d{12}", body["id_number"], re.ASCII)),
              "id_number: expected 12 digits")
    _need(body.get("date_of_birth") is None or (isinstance(body["date_of_birth"], str)
                                                and bool(_ISO_D.fullmatch(body["date_of_birth"]))),
          "date_of_birth: expected YYYY-MM-DD or YYYY")
    for k in ("stay_from", "deadline_at"):
        _need(isinstance(body.get(k), str) and bool(_ISO_DT.fullmatch(body[k])), f"{k}: expected an ISO date-time")
    _need(body.get("stay_until") is None or (isinstance(body["stay_until"], str)
                                             and bool(_ISO_DT.fullmatch(body["stay_until"]))),
          "stay_until: expected an ISO date-time or null")
    return nid


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`bytes=START-[END]` or `bytes=-SUFFIX` → inclusive (start, end); None for no/unsupported range.

    Raises ValueError when the range cannot be satisfied (416).
    """
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header, re.ASCII)
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multi-range or garbage: answer the whole file, as RFC 9110 allows
    if not m.group(1):
        suffix = int(m.group(2))
        if suffix == 0 or size == 0:
            raise ValueError("unsatisfiable")
        return max(0, size - suffix), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        raise ValueError("unsatisfiable")
    return start, min(end, size - 1)


def read_roster_header(path: Path) -> dict[str, Any]:
    """The first line of a roster file (issue 6 format), gzip or not; no header means snapshot version 0."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 16)
    except (OSError, EOFError) as e:
        raise BadRequest(f"cannot read {path.name}: {e}") from None
    try:
        head = json.loads(first) if first.strip() else {}
    except ValueError:
        raise BadRequest(f"{path.name}: the first line is not JSON") from None
    if not isinstance(head, dict) or "roster" not in head:
        return {"roster": "snapshot", "version": 0, "gzip": gz}
    kind = head.get("roster")
    ints = lambda *ks: all(isinstance(head.get(k), int) and not isinstance(head.get(k), bool) and head[k] >= 0
                           for k in ks)
    if kind == "snapshot" and ints("version"):
        return {"roster": "snapshot", "version": head["version"], "gzip": gz}
    if kind == "delta" and ints("since", "until") and head["until"] > head["since"]:
        return {"roster": "delta", "since": head["since"], "until": head["until"], "gzip": gz}
    raise BadRequest(f"{path.name}: bad roster header {first[:120]!r} (expected {{\"roster\": \"snapshot\", "
                     f"\"version\": N}} or {{\"roster\": \"delta\", \"since\": N, \"until\": M}} with M > N)")


class HubStore:
    """The hub's SQLite database: devices, idempotency record, received records, roster files."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.conn.executescript(_SCHEMA)

    @property
    def files_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".files")

    @property
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")  # an answered write must survive the hub's power cut
            c.execute("PRAGMA busy_timeout=30000")
            self._local.conn = c
        return c

    def _tx(self):
        store = self

        class _T:
            def __enter__(self):
                store.conn.execute("BEGIN IMMEDIATE")
                return store.conn

            def __exit__(self, et, ev, tb):
                store.conn.execute("ROLLBACK" if et else "COMMIT")
                return False
        return _T()

    # devices
    def enrol(self, name: str) -> str:
        name = name.strip()
        if not name:
            raise BadRequest("the device name is empty")
        token = secrets.token_urlsafe(32)
        with self._tx() as c:
            if c.execute("SELECT 1 FROM devices WHERE name = ?", [name]).fetchone():
                c.execute("UPDATE devices SET token_hash = ?, created_at = ? WHERE name = ?",
                          [token_hash(token), _now(), name])
                # Re-enrolling (re-provisioning) a revoked device gives it a new token that works.
                c.execute("DELETE FROM revoked_devices WHERE device_id = (SELECT id FROM devices WHERE name = ?)",
                          [name])
                c.execute("DELETE FROM wipe_orders WHERE device_id = (SELECT id FROM devices WHERE name = ?)",
                          [name])
            else:
                c.execute("INSERT INTO devices(name, token_hash, created_at) VALUES (?, ?, ?)",
                          [name, token_hash(token), _now()])
        return token

    def revoke(self, name: str, reason: str, wipe: bool = False) -> dict[str, Any]:
        """Revoke a device's token (stolen or decommissioned kiosk): its requests get 403 device_revoked.

        With `wipe`, they get 403 device_wipe_ordered instead, and a kiosk that still reaches the hub
        crypto-shreds itself (`kiosk wipe`), unsynced records included: that is what the order means.
        """
        reason = " ".join((reason or "").split()) or "revoked by the hub operator"
        with self._tx() as c:
            r = c.execute("SELECT id FROM devices WHERE name = ?", [name.strip()]).fetchone()
            if r is None:
                raise BadRequest(f"no device named {name!r}")
            at = _now()
            c.execute("INSERT INTO revoked_devices(device_id, revoked_at, reason) VALUES (?, ?, ?) "
                      "ON CONFLICT(device_id) DO UPDATE SET revoked_at = excluded.revoked_at, reason = excluded.reason",
                      [r[0], at, reason])
            if wipe:
                c.execute("INSERT OR REPLACE INTO wipe_orders(device_id, ordered_at) VALUES (?, ?)", [r[0], at])
        return {"device": name.strip(), "revoked_at": at, "reason": reason, "wipe_ordered": wipe}

    def audit_copies(self, name: str) -> list[dict[str, Any]]:
        """The copies of one device's audit entries this hub received (issue 10), in sequence order."""
        rows = self.conn.execute("SELECT a.payload FROM audit_entries a JOIN devices d ON d.id = a.device_id "
                                 "WHERE d.name = ? ORDER BY a.record_id", [name.strip()]).fetchall()
        return [json.loads(r[0]) for r in rows]

    def audit_highest_seq(self, name: str) -> int:
        """The highest audit sequence number held for one device (0 for none): a kiosk whose local log
        ends before it was cut short (`kiosk audit verify --anchors`)."""
        r = self.conn.execute("SELECT MAX(a.record_id) FROM audit_entries a JOIN devices d ON d.id = a.device_id "
                              "WHERE d.name = ?", [name.strip()]).fetchone()
        return int(r[0] or 0)

    def revocation(self, device_id: int) -> tuple[str, str, bool] | None:
        """(revoked_at, reason, wipe ordered) for a revoked device, else None."""
        r = self.conn.execute("SELECT r.revoked_at, r.reason, w.ordered_at FROM revoked_devices r "
                              "LEFT JOIN wipe_orders w ON w.device_id = r.device_id WHERE r.device_id = ?",
                              [device_id]).fetchone()
        return (r[0], r[1], r[2] is not None) if r else None

    def device_for(self, token: str) -> tuple[int, str] | None:
        r = self.conn.execute("SELECT id, name FROM devices WHERE token_hash = ?", [token_hash(token)]).fetchone()
        return (r[0], r[1]) if r else None

    def set_setting(self, key: str, value: str) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", [key, value])

    def setting(self, key: str) -> str | None:
        r = self.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return r[0] if r else None

    # writes
    def write_many(self, device_id: int, items: list[tuple[str, str, Any]]) -> list[tuple[int, dict, bool]]:
        """(kind, key, body) each → (status, response, replayed), all in one transaction."""
        out = []
        replays = 0
        with self._tx() as c:
            for kind, key, body in items:
                h = request_hash(kind, body)
                prior = c.execute("SELECT request_hash, status, response FROM idempotency WHERE device_id = ? AND key = ?",
                                  [device_id, key]).fetchone()
                if prior:
                    if prior[0] != h:
                        out.append((422, {"error": "idempotency_key_reused",
                                          "detail": "this Idempotency-Key was used with a different body"}, False))
                    else:
                        replays += 1
                        out.append((prior[1], json.loads(prior[2]), True))
                    continue
                try:
                    record_id = validate(kind, body)
                except BadRequest as e:
                    status, resp = 400, {"error": "invalid", "detail": str(e)}
                else:
                    at = _now()
                    cur = c.execute(f"INSERT INTO {KINDS[kind]}(device_id, idempotency_key, record_id, payload, "
                                    "received_at) VALUES (?, ?, ?, ?, ?)",
                                    [device_id, key, record_id, canonical(body).decode("utf-8"), at])
                    status, resp = 201, {"id": f"{kind[0].upper()}{cur.lastrowid}",
                                         "kind": kind, "received_at": at}
                # A rejection is remembered too: the same request gets the same answer.
                c.execute("INSERT INTO idempotency(device_id, key, kind, request_hash, status, response, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)", [device_id, key, kind, h, status, json.dumps(resp), _now()])
                out.append((status, resp, False))
            if replays:
                c.execute("INSERT INTO counters(name, value) VALUES ('replays_answered', ?) "
                          "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", [replays])
        return out

    def stats(self) -> dict[str, int]:
        c = self.conn
        r = c.execute("SELECT value FROM counters WHERE name = 'replays_answered'").fetchone()
        return {"visits": c.execute("SELECT count(*) FROM visits").fetchone()[0],
                "stay_notifications": c.execute("SELECT count(*) FROM stay_notifications").fetchone()[0],
                "replays_answered": r[0] if r else 0,
                "devices": c.execute("SELECT count(*) FROM devices").fetchone()[0]}

    # roster
    def publish_roster(self, src: Path) -> dict[str, Any]:
        head = read_roster_header(src)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        sha = digest.hexdigest()
        version = head["version"] if head["roster"] == "snapshot" else head["until"]
        with self._tx() as c:
            dup = c.execute("SELECT id FROM roster_files WHERE sha256 = ?", [sha]).fetchone()
            if dup:
                raise BadRequest(f"this roster file is already published (file {dup[0]})")
            latest = c.execute("SELECT max(version) FROM roster_files").fetchone()[0]
            if head["roster"] == "delta" and latest is not None and head["since"] > latest:
                raise BadRequest(f"the delta starts at version {head['since']} but the newest published is {latest}")
            cur = c.execute("INSERT INTO roster_files(kind, version, since, filename, size, sha256, gzip, published_at) "
                            "VALUES (?, ?, ?, '', ?, ?, ?, ?)",
                            [head["roster"], version, head.get("since"), src.stat().st_size, sha, int(head["gzip"]),
                             _now()])
            fid = cur.lastrowid
            name = f"{fid:06d}-{head['roster']}-{version}.jsonl" + (".gz" if head["gzip"] else "")
            shutil.copyfile(src, self.files_dir / name)
            c.execute("UPDATE roster_files SET filename = ? WHERE id = ?", [name, fid])
        return {"file_id": fid, "kind": head["roster"], "version": version, "since": head.get("since"),
                "size": src.stat().st_size, "sha256": sha}

    def _file_json(self, r) -> dict[str, Any]:
        fid, kind, version, since, _, size, sha, gz = r
        return {"file_id": fid, "kind": kind, "version": version, "since": since, "size": size, "sha256": sha,
                "gzip": bool(gz), "url": f"/v1/roster/files/{fid}"}

    def roster_updates(self, since: int | None) -> dict[str, Any]:
        """What a kiosk at version `since` needs: a chain of deltas when one exists, else the newest snapshot
        and the deltas after it."""
        rows = self.conn.execute("SELECT id, kind, version, since, filename, size, sha256, gzip FROM roster_files "
                                 "ORDER BY version, id").fetchall()
        if not rows:
            return {"latest_version": None, "up_to_date": False, "files": []}
        latest = max(r[2] for r in rows)
        if since is not None and since >= latest:
            return {"latest_version": latest, "up_to_date": True, "files": []}
        deltas = {}
        for r in rows:
            if r[1] == "delta":
                deltas.setdefault(r[3], r)  # first published delta from each version
        if since is not None:
            chain, v = [], since
            while v in deltas and v < latest:
                chain.append(deltas[v])
                v = deltas[v][2]
            if v == latest:
                return {"latest_version": latest, "up_to_date": False, "files": [self._file_json(r) for r in chain]}
        snaps = [r for r in rows if r[1] == "snapshot"]
        if not snaps:
            return {"latest_version": latest, "up_to_date": False, "files": [], "error": "no snapshot published"}
        snap = max(snaps, key=lambda r: (r[2], r[0]))
        chain, v = [snap], snap[2]
        while v in deltas and v < latest:
            chain.append(deltas[v])
            v = deltas[v][2]
        return {"latest_version": latest, "up_to_date": False, "files": [self._file_json(r) for r in chain]}

    def roster_file(self, fid: int) -> tuple[Path, dict[str, Any]] | None:
        r = self.conn.execute("SELECT id, kind, version, since, filename, size, sha256, gzip FROM roster_files "
                              "WHERE id = ?", [fid]).fetchone()
        return (self.files_dir / r[4], self._file_json(r)) if r else None


class Faults:
    def __init__(self, fail_rate: float = 0.0, delay: float = 0.0, drop_after_commit: float = 0.0,
                 seed: int | None = None):
        self.fail_rate, self.delay, self.drop_after_commit = fail_rate, delay, drop_after_commit
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._lock:
            return self._rng.random() < p


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tramyte-hub/" + API_VERSION
    hub: "Hub"  # set on the subclass

    _consumed = False

    def parse_request(self) -> bool:
        self._consumed = False  # a new request: its body is still unread
        return super().parse_request()

    def log_message(self, fmt: str, *args: Any) -> None:  # the access log carries no bodies
        pass

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.settimeout(10)
                self.connection.do_handshake()
                self.connection.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                event(log, "tls_handshake_failed", logging.INFO, error=type(e).__name__)
                self.close_connection = True
                return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    # plumbing
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = canonical(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": error, "detail": detail}, headers)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _body(self) -> Any:
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise BadRequest(f"Content-Length must be 0..{MAX_BODY}")
        self._consumed = True
        raw = self.rfile.read(n)
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequest("the body is not JSON") from None

    def _device(self) -> tuple[int, str] | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not (dev := self.hub.store.device_for(auth[7:].strip())):
            self._error(401, "unauthorized", "a valid device bearer token is required (kiosk hub enrol)",
                        {"WWW-Authenticate": 'Bearer realm="tramyte-hub"'})
            return None
        revoked = self.hub.store.revocation(dev[0])
        if revoked:
            self._read_and_discard()
            self._error(403, "device_wipe_ordered" if revoked[2] else "device_revoked",
                        f"this device's token was revoked at {revoked[0]}: {revoked[1]}")
            return None
        return dev

    def _read_and_discard(self) -> None:
        # Once per request: reading a body twice would eat the next keep-alive request.
        if self._consumed:
            return
        self._consumed = True
        try:
            n = int(self.headers.get("Content-Length", "0"))
            if 0 < n <= MAX_BODY:
                self.rfile.read(n)
        except (ValueError, OSError):
            self.close_connection = True

    # routes
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path == "/v1/health":
            return self._send(200, {"status": "ok", "api_version": API_VERSION})
        dev = self._device()
        if dev is None:
            return
        if self.hub.faults.roll(self.hub.faults.fail_rate):
            return self._error(503, "unavailable", "injected failure (--fail-rate)", {"Retry-After": "1"})
        if url.path == "/v1/roster/updates":
            q = parse_qs(url.query)
            since = None
            if "since" in q:
                try:
                    since = int(q["since"][0])
                except ValueError:
                    return self._error(400, "invalid", "since: expected an integer version")
            return self._send(200, self.hub.store.roster_updates(since))
        m = re.fullmatch(r"/v1/roster/files/(\d+)", url.path)
        if m:
            return self._serve_file(int(m.group(1)))
        self._error(404, "not_found", f"no such resource: {url.path}")

    def do_HEAD(self) -> None:  # noqa: N802
        m = re.fullmatch(r"/v1/roster/files/(\d+)", urlsplit(self.path).path)
        if m and self._device():
            return self._serve_file(int(m.group(1)), head=True)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve_file(self, fid: int, head: bool = False) -> None:
        found = self.hub.store.roster_file(fid)
        if not found or not found[0].exists():
            return self._error(404, "not_found", f"no roster file {fid}")
        path, meta = found
        size = path.stat().st_size
        try:
            rng = parse_range(self.headers.get("Range"), size)
        except ValueError:
            return self._error(416, "range_not_satisfiable", f"the file has {size} bytes",
                               {"Content-Range": f"bytes */{size}"})
        if rng and self.headers.get("If-Range") not in (None, f'"{meta["sha256"]}"'):
            rng = None
        start, end = rng if rng else (0, size - 1)
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/gzip" if meta["gzip"] else "application/x-ndjson")
        self.send_header("Content-Length", str(max(0, end - start + 1)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{meta["sha256"]}"')
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head or size == 0:
            return
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        dev = self._device()
        if dev is None:
            self._read_and_discard()
            return
        if path == "/v1/eligibility":
            return self._eligibility()
        if path == "/v1/heartbeat":
            return self._heartbeat(dev)
        kind = PATHS.get(path)
        if kind is None and path != "/v1/batch":
            self._read_and_discard()
            return self._error(404, "not_found", f"no such resource: {path}")
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not (1 <= len(key) <= 200):
            self._read_and_discard()
            return self._error(400, "idempotency_key_required", "every write carries an Idempotency-Key header")
        try:
            body = self._body()
        except BadRequest as e:
            return self._error(400, "invalid", str(e))
        if kind is None:
            try:
                items = _batch_items(body)
            except BadRequest as e:
                return self._error(400, "invalid", str(e))
        else:
            items = [(kind, key, body)]
        hub = self.hub
        keys = [(dev[0], k) for _, k, _ in items]
        busy = hub.claim(keys)
        try:
            if hub.faults.delay:
                time.sleep(hub.faults.delay)
            if hub.faults.roll(hub.faults.fail_rate):
                return self._error(503, "unavailable", "injected failure (--fail-rate)", {"Retry-After": "1"})
            todo = [it for it, b in zip(items, busy) if not b]
            done = iter(hub.store.write_many(dev[0], todo)) if todo else iter(())
            results = []
            for (k_kind, k, _), b in zip(items, busy):
                if b:
                    results.append((409, {"error": "in_flight", "detail": "a request with this key is being processed"},
                                    False))
                else:
                    results.append(next(done))
        except sqlite3.Error as e:
            event(log, "hub_store_error", logging.ERROR, error=type(e).__name__)
            return self._error(503, "unavailable", "the hub's store failed; retry later")
        finally:
            hub.release([k for k, b in zip(keys, busy) if not b])
        new = sum(1 for s, _, r in results if s == 201 and not r)
        event(log, "hub_write", device=dev[1], items=len(items), new=new, path=path)
        if new and hub.faults.roll(hub.faults.drop_after_commit):
            return self._drop()
        if kind is None:
            return self._send(200, {"results": [{"idempotency_key": k, "status": s, "body": r, "replayed": rp}
                                                for (_, k, _), (s, r, rp) in zip(items, results)]})
        status, resp, replayed = results[0]
        self._send(status, resp, {"Idempotent-Replayed": "true"} if replayed else None)

    def _heartbeat(self, dev: tuple[int, str]) -> None:
        """Contract 1.1.0: the device's latest state (no personal data), one row per device, overwritten."""
        try:
            body = self._body()
        except BadRequest as e:
            return self._error(400, "invalid", str(e))
        if not isinstance(body, dict) or not isinstance(body.get("app_version"), str):
            return self._error(400, "invalid", "expected a JSON object with app_version")
        now = _now()
        with self.hub.store._tx() as c:
            c.execute("INSERT INTO heartbeats(device_id, body, received_at) VALUES (?, ?, ?) ON CONFLICT(device_id) "
                      "DO UPDATE SET body = excluded.body, received_at = excluded.received_at",
                      [dev[0], canonical(body).decode("utf-8"), now])
        event(log, "hub_heartbeat", device=dev[1])
        self._send(200, {"status": "ok", "received_at": now})

    def _eligibility(self) -> None:
        try:
            body = self._body()
        except BadRequest as e:
            return self._error(400, "invalid", str(e))
        if not isinstance(body, dict):
            return self._error(400, "invalid", "expected a JSON object")
        lookup = self.hub.gateway()
        if lookup is None:
            return self._error(503, "relay_not_configured",
                               "this hub has no national-gateway account configured; check against the roster")
        number = next((str(body[k]).strip() for k in ("card_number", "id_number", "social_insurance_number")
                       if isinstance(body.get(k), str) and body[k].strip()), "")
        if not number or not isinstance(body.get("full_name"), str) or not body["full_name"].strip():
            return self._error(400, "invalid", "expected card_number, id_number or social_insurance_number, "
                                               "and full_name (and date_of_birth)")
        from sync import national_lookup
        try:
            with self.hub._gateway_lock:  # one token, one login at a time
                answer = lookup.check(number, body["full_name"], str(body.get("date_of_birth") or ""))
        except national_lookup.GatewayUnavailable as e:
            event(log, "relay_failed", logging.WARNING, error=type(e).__name__)
            return self._error(502, "gateway_failed", str(e))
        self._send(200, {"result_code": answer.result_code, "gateway": answer.body,
                         "received_at": answer.received_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                         "source": "gateway"})


def _batch_items(body: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise BadRequest("expected {\"items\": [...]}")
    items = body["items"]
    if not 1 <= len(items) <= MAX_BATCH:
        raise BadRequest(f"a batch holds 1..{MAX_BATCH} items")
    out, seen = [], set()
    for i, it in enumerate(items):
        # An unknown kind is that item's 400 (from validate), not the whole batch's.
        if not isinstance(it, dict) or not isinstance(it.get("kind"), str) or not isinstance(it.get("idempotency_key"), str) \
                or not 1 <= len(it["idempotency_key"]) <= 200 or "body" not in it:
            raise BadRequest(f"items[{i}]: expected {{kind, idempotency_key, body}}")
        if it["idempotency_key"] in seen:
            raise BadRequest(f"items[{i}]: idempotency_key repeated within the batch")
        seen.add(it["idempotency_key"])
        out.append((it["kind"], it["idempotency_key"], it["body"]))
    return out


class Hub:
    """A running hub: the store, the fault settings and the in-flight set, behind a threaded HTTP(S) server."""

    def __init__(self, db: Path | str, *, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None,
                 tls_cert: str | None = None, tls_key: str | None = None, client_ca: str | None = None,
                 gateway_account: dict | None = None):
        self.store = HubStore(db)
        self._gateway_account = gateway_account
        self._gateway = None
        self._gateway_lock = threading.Lock()
        self.faults = faults or Faults()
        self._inflight: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"hub": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that vanished is not the hub's error
        self.tls = bool(tls_cert)
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls_cert, tls_key)
            if client_ca:
                ctx.load_verify_locations(client_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
            # Handshake in the connection's own thread, so one slow client cannot stall accept().
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.httpd.server_address[0]}:{self.port}"

    def gateway(self):
        """The national-lookup adapter under the facility's account (`--gateway-account FILE`), or None.

        The account file: {"base_url", "username", "password" (or its MD5), "staff_name", "staff_id_number",
        "timeout" (optional)}."""
        if not self._gateway_account:
            return None
        if self._gateway is None:
            from sync.national_lookup import NationalLookup
            a = self._gateway_account
            self._gateway = NationalLookup(a["base_url"], a["username"], a["password"], staff_name=a["staff_name"],
                                           staff_id_number=a["staff_id_number"], timeout=float(a.get("timeout", 5)))
        return self._gateway

    def claim(self, keys: list[tuple[int, str]]) -> list[bool]:
        """Mark keys in flight; returns for each whether it was ALREADY in flight (→ 409)."""
        with self._lock:
            busy = [k in self._inflight for k in keys]
            self._inflight.update(k for k, b in zip(keys, busy) if not b)
        return busy

    def release(self, keys: list[tuple[int, str]]) -> None:
        with self._lock:
            self._inflight.difference_update(keys)

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "Hub":
        self._thread = threading.Thread(target=self.serve_forever, name="hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
