"""The kiosk's side of the upstream contract: one HTTPS session to the hub, typed failures.

Every transport failure becomes :class:`HubUnavailable` with a one-line
reason a technician can act on (an untrusted certificate names the CA file
it was checked against). `delivered` on it says whether the request may have
reached the hub: False only when the connection was never made, which is
what lets the outbox put a row back to 'queued' rather than 'sent'.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from kiosk.errors import UnavailableError, UsageError

USER_AGENT = "tramyte-kiosk-sync/1"


SINGLE_PATHS = {"visit": "/v1/visits", "stay_notification": "/v1/stay-notifications", "audit": "/v1/audit-entries"}


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


def _error_code(r) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _error_detail(r) -> str:
    try:
        return str(r.json().get("detail", ""))[:200]
    except (ValueError, AttributeError):
        return ""


def read_token(path: str | Path) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise UsageError(f"cannot read the device token file {path}: {e.strerror} "
                         "(create it with `kiosk hub enrol` on the hub)") from None
    if not token:
        raise UsageError(f"the device token file {path} is empty")
    return token


class HubClient:
    def __init__(self, url: str, token: str, *, ca_file: str | None = None, client_cert: str | None = None,
                 client_key: str | None = None, timeout: tuple[float, float] = (3.05, 30.0)):
        if not url:
            raise UsageError("no hub URL: set upstream.url in the configuration or pass --hub URL")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"hub URL must start with http:// or https://, got {url!r}")
        self.url = url.rstrip("/")
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
    def from_config(cls, cfg, hub: str | None = None, token_file: str | None = None) -> "HubClient":
        def get(k: str) -> str:
            try:
                return cfg[k]
            except KeyError:
                return ""
        return cls(hub or get("upstream.url"), read_token(token_file or get("upstream.token_file")),
                   ca_file=get("upstream.ca_file") or None, client_cert=get("upstream.client_cert") or None,
                   client_key=get("upstream.client_key") or None)

    def close(self) -> None:
        self.session.close()

    # transport
    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
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
        if r.status_code == 403 and _error_code(r) == "device_wipe_ordered":
            raise DeviceWipeOrdered(f"the hub has revoked this kiosk's token and ordered it wiped ({_error_detail(r)})")
        if r.status_code == 403 and _error_code(r) == "device_revoked":
            raise DeviceRevoked("the hub has revoked this kiosk's token "
                                f"({_error_detail(r)}); syncing is stopped and nothing was deleted: every "
                                "record waits in the outbox until the device is re-enrolled (kiosk hub enrol) "
                                "and upstream.token_file is updated")
        if r.status_code in (401, 403):
            raise HubAuthError(f"the hub refused this device's token ({r.status_code}); "
                               "enrol the device again (kiosk hub enrol) and update upstream.token_file")
        return r

    def _json(self, r: requests.Response) -> dict[str, Any]:
        try:
            data = r.json()
        except ValueError:
            data = {"error": "not_json", "detail": r.text[:200]}
        return data if isinstance(data, dict) else {"error": "unexpected", "detail": str(data)[:200]}

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
        if r.status_code != 200 or not isinstance(data.get("results"), list) or len(data["results"]) != len(items):
            raise HubUnavailable(f"the hub answered the batch with {r.status_code}: {data.get('detail', '')}"[:300],
                                 delivered=None, status=r.status_code)
        out = []
        for (_, key, _), res in zip(items, data["results"]):
            if not isinstance(res, dict) or res.get("idempotency_key") != key:
                raise HubUnavailable("the hub's batch answer does not match the request", delivered=None)
            out.append(Answer(key, int(res.get("status", 0)), res.get("body") or {}, bool(res.get("replayed"))))
        return out

    # roster and eligibility
    def roster_updates(self, since: int | None) -> dict[str, Any]:
        params = {} if since is None else {"since": since}
        r = self.request("GET", "/v1/roster/updates", params=params)
        if r.status_code != 200:
            raise HubUnavailable(f"the hub answered {r.status_code} to the roster query", status=r.status_code)
        return self._json(r)

    def eligibility(self, query: dict[str, Any]) -> dict[str, Any]:
        r = self.request("POST", "/v1/eligibility", json=query)
        data = self._json(r)
        if r.status_code != 200:
            raise HubUnavailable(f"the hub's eligibility relay answered {r.status_code}: "
                                 f"{data.get('detail', data.get('error', ''))}", status=r.status_code)
        return data


def _short_tls_reason(text: str) -> str:
    for marker in ("self-signed certificate in certificate chain", "self signed certificate in certificate chain",
                   "unable to get local issuer certificate", "self-signed certificate", "self signed certificate",
                   "certificate has expired", "Hostname mismatch", "IP address mismatch"):
        if marker.lower() in text.lower():
            return {"unable to get local issuer certificate": "it was issued by an unknown CA"}.get(marker, marker)
    return "certificate verification failed"
