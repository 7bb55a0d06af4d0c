"""The kiosk's side of the upstream contract: one HTTPS session to the hub, typed failures.

Every transport failure becomes :class:`HubUnavailable` with a one-line
reason a technician can act on (an untrusted certificate names the CA file
it was checked against). `delivered` on it says whether the request may have
reached the hub: False only when the connection was never made, which is
what lets the outbox put a row back to 'queued' rather than 'sent'.

Nothing the hub sends is trusted (issue 13): a plain http:// URL is refused
unless it is loopback (the token and personal data would cross the network in
clear); an answer body is read only up to :data:`MAX_ANSWER_BYTES` (whatever
Content-Length says) within :data:`ANSWER_DEADLINE` seconds; JSON that is not
JSON, nested too deep, or of the wrong shape becomes :class:`HubUnavailable`
with a log line, never an exception from deep inside the parser.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import requests

from kiosk.config import Config, insecure_url
from kiosk.errors import UnavailableError, UsageError
from kiosk.logs import event

log = logging.getLogger(__name__)

USER_AGENT = "tramyte-kiosk-sync/1"
MAX_ANSWER_BYTES = 4 << 20  # a batch of 500 answers is ~100 KB; anything near this is not an answer
ANSWER_DEADLINE = 120.0  # seconds to read one answer body, however slowly the bytes trickle in


SINGLE_PATHS = {"visit": "/v1/visits", "stay_notification": "/v1/stay-notifications", "audit": "/v1/audit-entries",
                "visit_update": "/v1/visit-updates"}


class HubUnavailable(UnavailableError):
    def __init__(self, message: str, delivered: bool | None = None, status: int | None = None):
        super().__init__(message)
        self.delivered = delivered  # False: surely not received; None: unknown
        self.status = status


class HubAuthError(UsageError):
    """The hub refused this device's token: a provisioning problem, not a network one."""


class DeviceRevoked(HubAuthError):
    """The hub revoked this device's token (stolen or decommissioned): stop syncing, keep every record."""


class DeviceWipeOrdered(DeviceRevoked):
    """The hub revoked the token AND ordered this device wiped (a stolen-device order)."""


@dataclass(frozen=True)
class Answer:
    """The hub's answer to one record: HTTP status, body, and whether it came from the idempotency record."""

    idempotency_key: str
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.status in (200, 201)

    @property
    def permanent_rejection(self) -> bool:
        # 409 (in flight), 408, 429 and 5xx are worth retrying; other 4xx will never succeed as sent.
        return 400 <= self.status < 500 and self.status not in (401, 403, 408, 409, 429)


class BadAnswer(ValueError):
    """An answer body that is too large, too slow, not JSON, or nested too deep."""


def parse_json(raw: bytes) -> Any:
    """JSON from an untrusted peer: any failure (bad UTF-8, syntax, nesting deep enough to blow the stack,
    NaN/Infinity) is a BadAnswer."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BadAnswer(f"not JSON ({type(e).__name__})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_bounded(r: requests.Response, limit: int = MAX_ANSWER_BYTES, deadline: float = ANSWER_DEADLINE) -> bytes:
    """The body of a streamed response, refusing more than `limit` bytes (announced or sent) or more than
    `deadline` seconds; the response is closed either way. Transport errors propagate (requests' own)."""
    try:
        announced = r.headers.get("Content-Length")
        if announced is not None:
            try:
                n = int(announced)
            except ValueError:
                raise BadAnswer(f"Content-Length {announced[:40]!r} is not a number") from None
            if n < 0 or n > limit:
                raise BadAnswer(f"it announced {n} bytes, more than the {limit} accepted")
        buf = bytearray()
        end = time.monotonic() + deadline
        for chunk in r.iter_content(1 << 16):
            buf += chunk
            if len(buf) > limit:
                raise BadAnswer(f"it sent more than the {limit} bytes accepted")
            if time.monotonic() > end:
                raise BadAnswer(f"it took more than {deadline:g} s to send")
        return bytes(buf)
    finally:
        r.close()


def _loaded(r: requests.Response) -> Any:
    """The JSON body of a response request() already read (None when it is not JSON)."""
    try:
        return parse_json(r.content)
    except BadAnswer:
        return None


def _error_code(r: requests.Response) -> str | None:
    body = _loaded(r)
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _error_detail(r: requests.Response) -> str:
    body = _loaded(r)
    return str(body.get("detail", ""))[:200] if isinstance(body, dict) else ""


def refuse(what: str, reason: str, **fields: Any) -> "HubUnavailable":
    """A HubUnavailable for an answer that cannot be used, logged (reason: structural, never personal data)."""
    event(log, "hub_answer_refused", logging.WARNING, what=what, reason=reason[:120], **fields)
    return HubUnavailable(f"the hub's answer to {what} cannot be used: {reason}", delivered=None)


def check_hub_url(url: str) -> str:
    """`url` if a token may be sent to it; UsageError (exit 2) before any connection otherwise."""
    if not url:
        raise UsageError("no hub URL: set upstream.url in the configuration or pass --hub URL")
    why = insecure_url(url)
    if why:
        event(log, "hub_url_refused", logging.WARNING, reason=why.split(":")[0][:60])
        raise UsageError(f"hub URL {url!r} refused: {why} (http:// is allowed only to 127.0.0.1, ::1 "
                         "or localhost)")
    return url


def read_token(path: str | Path) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise UsageError(f"cannot read the device token file {path}: {e.strerror} "
                         "(create it with `kiosk-hub enrol` on the hub)") from None
    if not token:
        raise UsageError(f"the device token file {path} is empty")
    return token


class HubClient:
    def __init__(self, url: str, token: str, *, ca_file: str | None = None, client_cert: str | None = None,
                 client_key: str | None = None, timeout: tuple[float, float] = (3.05, 30.0)):
        self.url = check_hub_url(url).rstrip("/")
        self.ca_file = ca_file or None
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})
        if self.ca_file and not Path(self.ca_file).is_file():
            raise UsageError(f"upstream.ca_file: no such file {self.ca_file}")
        self.session.verify = self.ca_file or True
        if client_cert:
            self.session.cert = (client_cert, client_key) if client_key else client_cert

    @classmethod
    def from_config(cls, cfg: Config, hub: str | None = None, token_file: str | None = None) -> "HubClient":
        def get(k: str) -> str:
            try:
                value: str = cfg[k]
                return value
            except KeyError:
                return ""
        url = check_hub_url(hub or get("upstream.url"))  # before the token is even read
        return cls(url, read_token(token_file or get("upstream.token_file")),
                   ca_file=get("upstream.ca_file") or None, client_cert=get("upstream.client_cert") or None,
                   client_key=get("upstream.client_key") or None)

    def close(self) -> None:
        self.session.close()

    # transport
    def request(self, method: str, path: str, *, limit: int = MAX_ANSWER_BYTES, **kw: Any) -> requests.Response:
        """One request; unless `stream=True`, the body is read (at most `limit` bytes) before returning."""
        if not path.startswith("/") or "@" in path or "\\" in path or any(ord(c) < 33 for c in path):
            raise refuse("a request", "a path that would leave the hub's URL")
        streamed = kw.pop("stream", False)
        kw["stream"] = True
        kw.setdefault("timeout", self.timeout)
        # Per request: a session-level `verify` path loses to $REQUESTS_CA_BUNDLE in requests' env merge.
        kw.setdefault("verify", self.session.verify)
        try:
            r = self.session.request(method, self.url + path, **kw)
        except requests.exceptions.SSLError as e:
            where = f"the CA file {self.ca_file}" if self.ca_file else "the system's trusted CAs"
            text = str(e)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                why = _short_tls_reason(text)
                raise HubUnavailable(f"the hub's TLS certificate at {self.url} is not trusted: {why} "
                                     f"(checked against {where}; set upstream.ca_file to the hub's CA)",
                                     delivered=False) from None
            raise HubUnavailable(f"TLS with the hub at {self.url} failed: {_short_tls_reason(text)}",
                                 delivered=False) from None
        except requests.exceptions.ConnectTimeout:
            raise HubUnavailable(f"the hub at {self.url} did not accept a connection in time",
                                 delivered=False) from None
        except requests.exceptions.ReadTimeout:
            raise HubUnavailable(f"the hub at {self.url} did not answer in time", delivered=None) from None
        except requests.exceptions.ConnectionError as e:
            text = repr(e)
            refused = any(s in text for s in ("NewConnectionError", "Connection refused", "Name or service not known",
                                              "No route to host", "Network is unreachable"))
            raise HubUnavailable(f"cannot reach the hub at {self.url}: "
                                 + ("connection refused or no route" if refused else "the connection was cut"),
                                 delivered=False if refused else None) from None
        except requests.exceptions.RequestException as e:
            raise HubUnavailable(f"request to the hub failed: {type(e).__name__}", delivered=None) from None
        if not streamed or r.status_code in (401, 403):
            try:
                r._content = read_bounded(r, limit)  # what requests itself does with stream=False
            except BadAnswer as e:
                raise refuse(f"{method} {path.split('?')[0]}", str(e), status=r.status_code) from None
            except requests.exceptions.RequestException as e:
                raise HubUnavailable(f"the hub's answer was cut ({type(e).__name__})", delivered=None) from None
        if r.status_code == 403 and _error_code(r) == "device_wipe_ordered":
            raise DeviceWipeOrdered(f"the hub has revoked this kiosk's token and ordered it wiped ({_error_detail(r)})")
        if r.status_code == 403 and _error_code(r) == "device_revoked":
            raise DeviceRevoked("the hub has revoked this kiosk's token "
                                f"({_error_detail(r)}); syncing is stopped and nothing was deleted: every "
                                "record waits in the outbox until the device is re-enrolled (kiosk-hub enrol) "
                                "and upstream.token_file is updated")
        if r.status_code in (401, 403):
            raise HubAuthError(f"the hub refused this device's token ({r.status_code}); "
                               "enrol the device again (kiosk-hub enrol) and update upstream.token_file")
        return r

    def _json(self, r: requests.Response) -> dict[str, Any]:
        try:
            data = parse_json(r.content)
        except BadAnswer as e:
            data = {"error": "not_json", "detail": str(e)}
        return data if isinstance(data, dict) else {"error": "unexpected", "detail": type(data).__name__}

    def health(self) -> dict[str, Any]:
        return self._json(self.request("GET", "/v1/health"))

    # writes
    def send_one(self, kind: str, key: str, body: dict[str, Any]) -> Answer:
        path = SINGLE_PATHS[kind]
        r = self.request("POST", path, json=body, headers={"Idempotency-Key": key})
        if r.status_code >= 500:
            raise HubUnavailable(f"the hub answered {r.status_code}", delivered=False if r.status_code == 503 else None,
                                 status=r.status_code)
        return Answer(key, r.status_code, self._json(r), r.headers.get("Idempotent-Replayed") == "true")

    def send_batch(self, items: list[tuple[str, str, dict[str, Any]]]) -> list[Answer]:
        """Several records in one request; each keeps its own idempotency key and gets its own answer."""
        batch_key = hashlib.sha256("\n".join(k for _, k, _ in items).encode()).hexdigest()
        payload = {"items": [{"kind": kind, "idempotency_key": key, "body": body} for kind, key, body in items]}
        r = self.request("POST", "/v1/batch", json=payload, headers={"Idempotency-Key": batch_key})
        if r.status_code >= 500:
            raise HubUnavailable(f"the hub answered {r.status_code}", delivered=False if r.status_code == 503 else None,
                                 status=r.status_code)
        data = self._json(r)
        if r.status_code != 200:
            raise HubUnavailable(f"the hub answered the batch with {r.status_code}: {data.get('detail', '')}"[:300],
                                 delivered=None, status=r.status_code)
        return batch_answers(data, [key for _, key, _ in items])

    # roster and eligibility
    def roster_updates(self, since: int | None) -> dict[str, Any]:
        """The hub's raw answer: sync.roster_download.parse_plan checks its shape before anything uses it."""
        params = {} if since is None else {"since": since}
        r = self.request("GET", "/v1/roster/updates", params=params, limit=1 << 20)
        if r.status_code != 200:
            raise HubUnavailable(f"the hub answered {r.status_code} to the roster query", status=r.status_code)
        try:
            data = parse_json(r.content)
        except BadAnswer as e:
            raise refuse("the roster query", str(e)) from None
        if not isinstance(data, dict):
            raise refuse("the roster query", f"a JSON {type(data).__name__}, not an object")
        return data

    def eligibility(self, query: dict[str, Any]) -> dict[str, Any]:
        r = self.request("POST", "/v1/eligibility", json=query)
        data = self._json(r)
        if r.status_code != 200:
            raise HubUnavailable(f"the hub's eligibility relay answered {r.status_code}: "
                                 f"{data.get('detail', data.get('error', ''))}", status=r.status_code)
        return data


def _http_status(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599


def batch_answers(data: Any, keys: list[str]) -> list[Answer]:
    """The per-record answers of a batch, checked against the keys sent, in order; HubUnavailable otherwise."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(keys):
        got = len(results) if isinstance(results, list) else type(results).__name__
        raise refuse("the batch", f"expected {len(keys)} results, got {got}")
    out = []
    for i, (key, res) in enumerate(zip(keys, results)):
        if not isinstance(res, dict) or res.get("idempotency_key") != key:
            raise refuse("the batch", f"result {i} does not match the record sent")
        status, body, replayed = res.get("status"), res.get("body"), res.get("replayed", False)
        if not _http_status(status):
            raise refuse("the batch", f"result {i}: status is not an HTTP status")
        if body is None:
            body = {}
        if not isinstance(body, dict) or not isinstance(replayed, bool):
            raise refuse("the batch", f"result {i}: body or replayed has the wrong type")
        out.append(Answer(key, status, body, replayed))
    return out


def _short_tls_reason(text: str) -> str:
    for marker in ("self-signed certificate in certificate chain", "self signed certificate in certificate chain",
                   "unable to get local issuer certificate", "self-signed certificate", "self signed certificate",
                   "certificate has expired", "Hostname mismatch", "IP address mismatch"):
        if marker.lower() in text.lower():
            return {"unable to get local issuer certificate": "it was issued by an unknown CA"}.get(marker, marker)
    return "certificate verification failed"
