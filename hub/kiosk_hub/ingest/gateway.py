"""The national BHXH gateway, as the hub's eligibility relay uses it (the facility's account, one token).

The same two calls as the kiosk's own adapter (sync/national_lookup.py), kept here because the hub
imports nothing from the kiosk: log in for a token, then check a card; one re-login on a 401.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"


class GatewayFailed(Exception):
    """The gateway did not answer usefully (timeout, refused, 5xx, unreadable, login refused)."""


class AccountError(ValueError):
    """The account file is unusable."""


@dataclass(frozen=True)
class Answer:
    result_code: str
    body: dict[str, Any]
    received_at: datetime


def load_account(path: str | Path) -> dict[str, Any]:
    try:
        a = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AccountError(f"cannot read the gateway account file {path}: {type(e).__name__}") from None
    need = ("base_url", "username", "password", "staff_name", "staff_id_number")
    if not isinstance(a, dict) or any(not isinstance(a.get(k), str) or not a[k].strip() for k in need):
        raise AccountError(f"the gateway account file {path} needs {', '.join(need)}")
    return a


class Gateway:
    def __init__(self, account: dict[str, Any]):
        self.base_url = account["base_url"].rstrip("/")
        self.username = account["username"]
        pw = account["password"]
        is_md5 = len(pw) == 32 and all(c in "0123456789abcdef" for c in pw)
        self.password_md5 = pw if is_md5 else hashlib.md5(pw.encode("utf-8")).hexdigest()
        self.staff_name = account["staff_name"]
        self.staff_id_number = account["staff_id_number"]
        self.timeout = float(account.get("timeout", 5))
        self.session = requests.Session()
        self._token: dict[str, str] | None = None
        self._expires = 0.0
        self.lock = threading.Lock()   # one token, one login at a time

    def _post(self, path: str, body: dict, params: dict | None = None) -> tuple[int, dict]:
        try:
            r = self.session.post(self.base_url + path, json=body, params=params,
                                  timeout=(min(3.0, self.timeout), self.timeout))
        except requests.Timeout:
            raise GatewayFailed(f"the BHXH gateway did not answer within {self.timeout:g} s") from None
        except requests.RequestException as e:
            raise GatewayFailed(f"the BHXH gateway is unreachable ({type(e).__name__})") from None
        if r.status_code >= 500:
            raise GatewayFailed(f"the BHXH gateway failed (HTTP {r.status_code})")
        if r.status_code == 401:
            return 401, {}
        try:
            data = r.json()
        except ValueError:
            raise GatewayFailed(f"the BHXH gateway sent an unreadable answer (HTTP {r.status_code})") from None
        if not isinstance(data, dict):
            raise GatewayFailed("the BHXH gateway sent an answer that is not a JSON object")
        return r.status_code, data

    def _login(self) -> None:
        status, data = self._post(TOKEN_PATH, {"username": self.username, "password": self.password_md5})
        key = data.get("APIKey") if isinstance(data.get("APIKey"), dict) else None
        if status == 401 or str(data.get("maKetQua")) != "200" or not key or not key.get("access_token"):
            raise GatewayFailed("the BHXH gateway refused the facility account")
        self._token = {"token": key["access_token"], "id_token": key.get("id_token", "")}
        try:
            ttl = float(key.get("expires_in", 0))
        except (TypeError, ValueError):
            ttl = 0.0
        self._expires = time.monotonic() + (max(0.0, ttl - 60) if ttl else 300)

    def check(self, number: str, full_name: str, birth: str) -> Answer:
        body = {"maThe": number.strip().upper(), "hoTen": full_name, "ngaySinh": _birth(birth),
                "hoTenCb": self.staff_name, "cccdCb": self.staff_id_number}
        with self.lock:
            for attempt in (1, 2):
                if self._token is None or time.monotonic() >= self._expires:
                    self._login()
                params = {**self._token, "username": self.username, "password": self.password_md5}
                status, data = self._post(CHECK_PATH, body, params)
                code = str(data.get("maKetQua", "")) if status != 401 else "401"
                if code == "401":
                    self._token = None
                    if attempt == 1:
                        continue
                    raise GatewayFailed("the BHXH gateway refused a fresh token")
                if not code:
                    raise GatewayFailed("the BHXH gateway answered without maKetQua")
                return Answer(code, data, datetime.now(timezone.utc))
        raise AssertionError("unreachable")


def _birth(birth: str | None) -> str:
    if not birth:
        return ""
    if len(birth) == 4:
        return birth
    y, m, d = birth[:10].split("-")
    return f"{d}/{m}/{y}"


_gateway: Gateway | None = None
_gateway_lock = threading.Lock()


def configured() -> Gateway | None:
    """The process's gateway client, from KIOSK_HUB_GATEWAY_ACCOUNT (set by `serve --gateway-account`)."""
    global _gateway
    if not settings.HUB_GATEWAY_ACCOUNT:
        return None
    with _gateway_lock:
        if _gateway is None:
            _gateway = Gateway(load_account(settings.HUB_GATEWAY_ACCOUNT))
        return _gateway
