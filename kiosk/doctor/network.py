"""The provincial hub, reached the way the sync reaches it: through sync.client.HubClient.

So the doctor uses the same CA file, the same client certificate (mutual
TLS) and the same token as `kiosk sync`; a check that passes here is a
connection the sync can make. Findings: `hub` (answers /v1/health), `hub_tls`
(the hub's certificate, and the client certificate when one is configured),
`hub_token` (the hub accepts this device's token).
"""

from __future__ import annotations

import socket
import ssl
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from kiosk.doctor.base import CERT_WARN_DAYS, FAILURE, NET_TIMEOUT, OK, WARNING, Env, Finding
from kiosk.errors import UsageError
from sync.client import DeviceRevoked, HubAuthError, HubClient, HubUnavailable


def _tls_context(ca_file: str, client_cert: str, client_key: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    # Judge the certificate as the sync client (urllib3) does: Python 3.13's strict X.509 mode
    # would refuse some CAs that the client accepts.
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    if client_cert:  # a hub that requires mutual TLS refuses the handshake without it
        ctx.load_cert_chain(client_cert, client_key or None)
    return ctx


def _cert_expiry(host: str, port: int, ctx: ssl.SSLContext) -> datetime:
    with socket.create_connection((host, port), timeout=NET_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            cert = tls.getpeercert()
    if not cert:
        raise ValueError("the hub sent no certificate")
    not_after = cert["notAfter"]
    assert isinstance(not_after, str)
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), timezone.utc)


def _client(env: Env, token: str) -> HubClient:
    cfg = env.config
    return HubClient(cfg["upstream.url"], token, ca_file=cfg["upstream.ca_file"] or None,
                     client_cert=cfg["upstream.client_cert"] or None, client_key=cfg["upstream.client_key"] or None,
                     timeout=(NET_TIMEOUT, NET_TIMEOUT))


def check_hub(env: Env) -> list[Finding]:
    t = env.t
    cfg = env.config
    url = cfg["upstream.url"]
    if not url:
        return [Finding("hub", WARNING, t("hub.none"), t("hub.none_action"))]
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    details: dict[str, Any] = {"url": url}
    if cfg["upstream.client_cert"]:
        details["client_cert"] = cfg["upstream.client_cert"]
    try:
        client = _client(env, "")
    except (UsageError, OSError, ssl.SSLError) as e:  # CA file missing; a client certificate that does not load
        details["error"] = str(e)
        return [Finding("hub", FAILURE, t("hub.client_refused", error=e), t("hub.client_refused_action"), details)]
    try:
        started = time.monotonic()
        r = client.request("GET", "/v1/health")
        details["latency_ms"] = round((time.monotonic() - started) * 1000)
        details["http_status"] = r.status_code
    except HubUnavailable as e:
        details["error"] = str(e)
        return [Finding("hub", FAILURE, t("hub.unreachable", host=host, port=port, error=e),
                        t("hub.unreachable_action"), details)]
    except OSError as e:  # requests' own error for a client certificate or key it cannot read
        details["error"] = str(e)
        return [Finding("hub", FAILURE, t("hub.client_refused", error=e), t("hub.client_refused_action"), details)]
    finally:
        client.close()
    findings: list[Finding] = []
    if r.status_code >= 500 or r.status_code == 404:
        findings.append(Finding("hub", WARNING, t("hub.http_error", status=r.status_code),
                                t("hub.http_error_action"), details))
    else:
        findings.append(Finding("hub", OK, t("hub.ok", ms=details["latency_ms"]), details=details))
    if parts.scheme == "https":
        findings.append(_check_tls(env, host, port))
    else:
        findings.append(Finding("hub_tls", WARNING, t("hub_tls.plain_http"), t("hub_tls.plain_http_action")))
    findings.append(_check_token(env))
    return findings


def _client_cert_days(path: str) -> int:
    """Days until the client certificate HubClient presents expires (its first certificate, PEM)."""
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    return (cert.not_valid_after_utc - datetime.now(timezone.utc)).days


def _check_tls(env: Env, host: str, port: int) -> Finding:
    t = env.t
    cfg = env.config
    try:
        ctx = _tls_context(cfg["upstream.ca_file"], cfg["upstream.client_cert"], cfg["upstream.client_key"])
        expires = _cert_expiry(host, port, ctx)
        client_days = _client_cert_days(cfg["upstream.client_cert"]) if cfg["upstream.client_cert"] else None
    except (OSError, ssl.SSLError, ValueError, KeyError) as e:
        return Finding("hub_tls", FAILURE, t("hub_tls.unchecked", error=e), t("hub_tls.unchecked_action"))
    days = (expires - datetime.now(timezone.utc)).days
    d: dict[str, Any] = {"not_after": expires.isoformat(), "days_left": days}
    if client_days is not None:
        d["client_cert_days_left"] = client_days
        if client_days < 0:
            return Finding("hub_tls", FAILURE, t("hub_tls.client_expired"), t("hub_tls.client_renew_action"), d)
        if client_days < CERT_WARN_DAYS:
            return Finding("hub_tls", WARNING, t("hub_tls.client_expiring", days=client_days),
                           t("hub_tls.client_renew_action"), d)
    if days < 0:
        return Finding("hub_tls", FAILURE, t("hub_tls.expired"), t("hub_tls.tell_admin_action"), d)
    if days < CERT_WARN_DAYS:
        return Finding("hub_tls", WARNING, t("hub_tls.expiring", days=days), t("hub_tls.renew_action"), d)
    if client_days is not None:
        return Finding("hub_tls", OK, t("hub_tls.ok_with_client", days=days, client_days=client_days), details=d)
    return Finding("hub_tls", OK, t("hub_tls.ok", days=days), details=d)


def _check_token(env: Env) -> Finding:
    t = env.t
    path = env.config["upstream.token_file"]
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        return Finding("hub_token", FAILURE, t("hub_token.unreadable", path=path, error=e.strerror),
                       t("hub_token.unreadable_action"))
    if not token:
        return Finding("hub_token", FAILURE, t("hub_token.empty"), t("hub_token.empty_action"))
    try:
        client = _client(env, token)
    except (UsageError, OSError, ssl.SSLError) as e:
        return Finding("hub_token", WARNING, t("hub_token.untried", error=type(e).__name__), "")
    try:
        r = client.request("GET", "/v1/roster/updates", params={"since": 0}, stream=True)
        r.close()
    except DeviceRevoked:
        return Finding("hub_token", FAILURE, t("hub_token.revoked"), t("hub_token.refused_action"),
                       {"http_status": 403})
    except HubAuthError:
        return Finding("hub_token", FAILURE, t("hub_token.refused"), t("hub_token.refused_action"))
    except (HubUnavailable, OSError) as e:
        return Finding("hub_token", WARNING, t("hub_token.untried", error=type(e).__name__), "")
    finally:
        client.close()
    if r.status_code < 400:
        return Finding("hub_token", OK, t("hub_token.ok"), details={"http_status": r.status_code})
    return Finding("hub_token", WARNING, t("hub_token.unconfirmed", status=r.status_code), "",
                   {"http_status": r.status_code})
