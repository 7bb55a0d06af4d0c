"""The national BHYT lookup (the BHXH gateway): login, card check, and the answer as an Eligibility.

Calls, from Phụ lục 03, Công văn 1923/BHXH-CNTT (shared/reference/bhyt-eligibility.md):

- `POST /api/token/take` `{"username", "password": md5 hex}` → `{"maKetQua": "200", "APIKey": {...}}`
- `POST /api/egw/KQNhanLichSuKCB2024?token=&id_token=&username=&password=`
  `{"maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb"}` → `{"maKetQua", "maThe", "gtTheTu", ...}`

The token is kept until shortly before `expires_in` runs out and taken again
after a 401 (once per call). `maThe` may be the 15-character code, the
10-digit number or the 12-digit ID number (the last is used by integrations
though not in the annex: the real card number is read back from the answer).
Every network failure (timeout, refused, dropped, 5xx, unreadable body)
raises :class:`GatewayUnavailable`; callers turn it into "cannot verify now".

It serves the hub's eligibility relay (the hub holds the facility's account)
and a station that has its own account (`[gateway]` in the configuration).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol

import requests

from kiosk import eligibility, store
from kiosk.clock import iso_utc
from kiosk.config import Config, insecure_url
from kiosk.domain import Eligibility, PersonIdentity
from kiosk.eligibility.cards import RosterCard
from kiosk.eligibility.rules import Facility, Presented, decide
from kiosk.errors import UnavailableError, UsageError
from kiosk.logs import event
from kiosk.masking import mask_id
from kiosk.privacy.datakey import reveal
from kiosk.store import eligibility_results
from sync.client import BadAnswer, HubClient, HubUnavailable, parse_json, read_bounded

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"

# Vietnamese one-liners for the gateway's codes (the vocabulary staff know).
REASONS = {
    "000": "Thông tin thẻ chính xác", "001": "Thẻ do BHXH Bộ Quốc phòng quản lý: kiểm tra thẻ và giấy tờ tùy thân",
    "002": "Thẻ do BHXH Bộ Công an quản lý: kiểm tra thẻ và giấy tờ tùy thân",
    "003": "Thẻ cũ hết giá trị sử dụng, đã được cấp thẻ mới", "004": "Thẻ cũ còn giá trị sử dụng, đã được cấp thẻ mới",
    "010": "Thẻ hết giá trị sử dụng", "050": "Không có thông tin thẻ", "051": "Mã thẻ không đúng",
    "052": "Mã tỉnh cấp thẻ không đúng", "053": "Mã quyền lợi thẻ không đúng",
    "054": "Cán bộ tra cứu chưa được đăng ký cho cơ sở này", "055": "Họ tên cán bộ tra cứu không khớp với số CCCD",
    "060": "Họ tên không đúng", "061": "Họ tên không đúng (đúng ký tự đầu)", "070": "Ngày sinh không đúng",
    "100": "Lỗi khi đọc dữ liệu thẻ", "101": "Lỗi máy chủ", "110": "Thẻ đã bị thu hồi", "120": "Thẻ đã báo giảm",
    "121": "Thẻ đã báo giảm: chuyển ngoại tỉnh", "122": "Thẻ đã báo giảm: chuyển nội tỉnh",
    "123": "Thẻ đã báo giảm: tham gia lại tại cùng đơn vị", "124": "Thẻ đã báo giảm: dừng tham gia",
    "130": "Trẻ em không xuất trình thẻ", "205": "Sai định dạng tham số", "401": "Lỗi xác thực tài khoản",
}
# Answers that say nothing about the card: the lookup failed, so the honest answer is "cannot verify now".
NOT_AN_ANSWER = {"054", "055", "100", "101", "205", "401"}
_RESULT_CODE = re.compile(r"[0-9]{3}")


class GatewayUnavailable(UnavailableError):
    """The gateway did not answer usefully (timeout, dropped, refused, 5xx, bad body)."""


class GatewayAuthError(GatewayUnavailable):
    """Login refused, or a fresh token refused again: the account needs a technician."""


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GatewayAnswer:
    result_code: str
    body: dict[str, Any]
    received_at: datetime


class NationalLookup:
    def __init__(self, base_url: str, username: str, password: str, *, staff_name: str, staff_id_number: str,
                 timeout: float = 5.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if not staff_name.strip() or not staff_id_number.strip():
            raise UsageError("the gateway needs the looking-up staff member's name and ID number")
        why = insecure_url(base_url)
        if why:
            raise UsageError(f"gateway URL refused: {why} (http:// is allowed only to 127.0.0.1, ::1 or localhost)")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password_md5 = password if _is_md5(password) else md5_hex(password)
        self.staff_name = staff_name
        self.staff_id_number = staff_id_number
        self.timeout = timeout
        self.session = session or requests.Session()
        self.clock = clock
        self._token: dict[str, str] | None = None
        self._expires = 0.0
        self.logins = 0

    # --- transport ---
    def _post(self, path: str, body: dict[str, Any],
              params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        try:
            r = self.session.post(self.base_url + path, json=body, params=params,
                                  timeout=(min(3.0, self.timeout), self.timeout), stream=True)
            raw = read_bounded(r, 1 << 20, deadline=self.timeout * 2)  # an answer is ~1 KB
        except requests.Timeout:
            raise GatewayUnavailable(f"the BHXH gateway did not answer within {self.timeout:g} s") from None
        except requests.RequestException as e:
            raise GatewayUnavailable(f"the BHXH gateway is unreachable ({type(e).__name__})") from None
        except BadAnswer as e:
            event(log, "gateway_answer_refused", logging.WARNING, reason=str(e)[:80])
            raise GatewayUnavailable(f"the BHXH gateway's answer cannot be used: {e}") from None
        if r.status_code >= 500:
            raise GatewayUnavailable(f"the BHXH gateway failed (HTTP {r.status_code})")
        if r.status_code == 401:
            return 401, {}
        try:
            data = parse_json(raw)
        except BadAnswer:
            raise GatewayUnavailable(f"the BHXH gateway sent an unreadable answer (HTTP {r.status_code})") from None
        if not isinstance(data, dict):
            raise GatewayUnavailable("the BHXH gateway sent an answer that is not a JSON object")
        return r.status_code, data

    # --- calls ---
    def login(self) -> None:
        status, data = self._post(TOKEN_PATH, {"username": self.username, "password": self.password_md5})
        key = data.get("APIKey") if isinstance(data.get("APIKey"), dict) else None
        if status == 401 or str(data.get("maKetQua")) != "200" or not key or not key.get("access_token") \
                or not isinstance(key["access_token"], str) or not isinstance(key.get("id_token", ""), str):
            event(log, "gateway_login_refused", logging.WARNING, status=status, code=data.get("maKetQua", "-"))
            raise GatewayAuthError("the BHXH gateway refused the facility account (check gateway.username "
                                   "and the password file)")
        self._token = {"token": key["access_token"], "id_token": key.get("id_token", "")}
        try:
            ttl = float(key.get("expires_in", 0))
        except (TypeError, ValueError, OverflowError):
            ttl = 0.0
        ttl = min(ttl, 86400.0) if math.isfinite(ttl) and ttl > 0 else 0.0  # a day at most; nonsense: none
        # Renew a minute early (or after 5 minutes when the gateway gives no lifetime).
        self._expires = self.clock() + (max(0.0, ttl - 60) if ttl else 300)
        self.logins += 1
        event(log, "gateway_login", expires_in=int(ttl))

    def check(self, number: str, full_name: str, birth: str) -> GatewayAnswer:
        """Card check by card code, 10-digit number or 12-digit ID; `birth` is ISO date or year."""
        body = {"maThe": number.strip().upper(), "hoTen": full_name, "ngaySinh": _gateway_birth(birth),
                "hoTenCb": self.staff_name, "cccdCb": self.staff_id_number}
        for attempt in (1, 2):
            if self._token is None or self.clock() >= self._expires:
                self.login()
            params = {**(self._token or {}), "username": self.username, "password": self.password_md5}
            status, data = self._post(CHECK_PATH, body, params)
            code = str(data.get("maKetQua", ""))[:8] if status != 401 else "401"
            if code == "401":
                self._token = None  # expired or revoked early: take a new token, once
                if attempt == 1:
                    continue
                raise GatewayAuthError("the BHXH gateway refused a fresh token")
            if not code:
                raise GatewayUnavailable("the BHXH gateway answered without maKetQua")
            event(log, "gateway_checked", code=code)
            return GatewayAnswer(code, data, datetime.now(timezone.utc))
        raise AssertionError("unreachable")


def _is_md5(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def _gateway_birth(birth: str | None) -> str:
    if not birth:
        return ""
    if len(birth) == 4:
        return birth
    y, m, d = birth[:10].split("-")
    return f"{d}/{m}/{y}"


def _day(text: Any) -> date | None:
    if not isinstance(text, str) or not text.strip() or text.strip() == "-":
        return None
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def _answer_card(body: dict[str, Any], new: bool = False) -> RosterCard:
    """The gateway's card fields as a RosterCard (no hashes), so the same rules give the percentage."""
    suffix = "Moi" if new else ""
    number = str(body.get("maTheMoi" if new else "maThe") or body.get("maThe") or "").strip().upper()
    level = int(number[2]) if len(number) == 15 and "1" <= number[2] <= "5" else None
    area = str(body.get("maKV") or "").strip().upper() or None
    return RosterCard(0, number[:5] or None, None, None, None, number[:2] if len(number) == 15 else None, level,
                      number[3:5] if len(number) == 15 else None, str(body.get(f"maDKBD{suffix}") or "") or None,
                      _day(body.get(f"gtTheTu{suffix}")), _day(body.get(f"gtTheDen{suffix}")),
                      _day(body.get("ngayDu5Nam")), area if area in ("K1", "K2", "K3") else None, "active", None)


def to_eligibility(answer: GatewayAnswer, identity: PersonIdentity, visit_date: date, facility_code: str,
                   commune_station: bool = True) -> Eligibility:
    """The gateway's answer as the receptionist sees it; our rules give the percentage of a usable card."""
    code = answer.result_code
    at = iso_utc(answer.received_at)
    body = answer.body
    masked = mask_id(str(body.get("maThe") or "") or identity.card_number or identity.id_number)
    if code in NOT_AN_ANSWER:
        return eligibility.cannot_verify(None, f"tra cứu trực tuyến lỗi {code}: {REASONS.get(code, 'không rõ')}",
                                         masked)
    details: dict[str, Any] = {"gateway_code": code}
    if code in ("000", "001", "002", "003", "004"):
        card = _answer_card(body, new=(code == "003" and bool(body.get("maTheMoi"))))
        d = decide(card, Presented(), visit_date, Facility(facility_code, commune_station),
                   eligibility._rules_on(visit_date))
        details.update(d.details)
        if d.result_code != "000":  # e.g. registered in another province (K03), or a date the gateway let pass
            return Eligibility(d.result_code, d.benefit_percent, d.reason, "gateway", at, masked, details)
        return Eligibility(code, d.benefit_percent, f"{REASONS[code]} — {d.reason}" if code != "000" else d.reason,
                           "gateway", at, masked, details)
    return Eligibility(code, 0, REASONS.get(code, f"Mã kết quả {code}"), "gateway", at, masked, details)


class EligibilityLookup(Protocol):
    """What a re-check needs: the gateway itself (NationalLookup) or the hub's relay (HubRelay) answer alike."""

    def check(self, number: str, full_name: str, birth: str) -> GatewayAnswer: ...


def check_or_pending(gateway: EligibilityLookup, identity: PersonIdentity, visit_date: date, facility_code: str,
                     fallback: Eligibility) -> Eligibility:
    """Ask the gateway; when it cannot answer, keep `fallback` (the roster's answer or "cannot verify now")."""
    number = identity.card_number or identity.social_insurance_number or identity.id_number
    if not number:
        return fallback
    try:
        answer = gateway.check(number, identity.full_name or "", identity.date_of_birth or "")
    except GatewayUnavailable as e:
        event(log, "gateway_unavailable", logging.WARNING, error=type(e).__name__)
        return fallback
    return to_eligibility(answer, identity, visit_date, facility_code)


class HubRelay:
    """The hub's eligibility relay (`POST /v1/eligibility`), used like a NationalLookup by a kiosk without an
    account of its own: the hub holds the facility's gateway account and whitelisted IP."""

    def __init__(self, client: HubClient):
        self.client = client

    def login(self) -> None:
        pass  # the hub logs in

    def check(self, number: str, full_name: str, birth: str) -> GatewayAnswer:
        query = {"full_name": full_name, "date_of_birth": birth}
        query["id_number" if len(number.strip()) == 12 else "card_number"] = number.strip()
        try:
            resp = self.client.eligibility(query)
        except HubUnavailable as e:
            raise GatewayUnavailable(f"the hub's eligibility relay: {e}") from None
        # The hub answers {"result_code", "gateway": <the gateway's answer>, "received_at", "source"}.
        if not isinstance(resp, dict):
            raise GatewayUnavailable("the hub's eligibility relay answered with something other than an object")
        gateway = resp.get("gateway")
        body: dict[str, Any] = gateway if isinstance(gateway, dict) else {}
        code = resp.get("result_code") or body.get("maKetQua") or ""
        if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 999:
            code = f"{code:03d}"
        if not isinstance(code, str) or not _RESULT_CODE.fullmatch(code):
            event(log, "hub_relay_answer_refused", logging.WARNING, reason="result code")
            raise GatewayUnavailable("the hub's eligibility relay answered without a usable result code")
        try:
            at = datetime.fromisoformat(str(resp["received_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            at = datetime.now(timezone.utc)
        if at.tzinfo is None:
            at = datetime.now(timezone.utc)
        return GatewayAnswer(code, body, at)


def from_config(cfg: Config) -> NationalLookup | HubRelay | None:
    """The station's own gateway account; else the hub's relay when a hub is provisioned; else None."""
    url = cfg["gateway.url"]
    if not url:
        if not cfg["upstream.url"]:
            return None
        try:
            return HubRelay(HubClient.from_config(cfg))
        except UsageError:
            return None  # no device token yet: offline only
    try:
        password = Path(cfg["gateway.password_file"]).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise UsageError(f"gateway.password_file: cannot read {cfg['gateway.password_file']}: {e.strerror}") from None
    return NationalLookup(url, cfg["gateway.username"], password, staff_name=cfg["gateway.staff_name"],
                          staff_id_number=cfg["gateway.staff_id_number"],
                          timeout=float(cfg["gateway.timeout_seconds"]))


def recheck_pending(db: store.Database, gateway: EligibilityLookup, facility_code: str,
                    limit: int = 200) -> list[dict[str, Any]]:
    """Visits whose latest answer is "cannot verify now": ask the gateway and record its answer.

    A new eligibility_results row is added (the visit shows the latest one), stamped by the database's clock;
    the first answer stays as the record of what was known at check-in.
    """
    done = []
    for p in eligibility_results.latest_is(db, eligibility.CANNOT_VERIFY, limit):
        # Identity fields are sealed at rest, under the database's data key.
        idn, sin, card, name, dob = (reveal(f"patients.{c}", v, db.key) for c, v in (
            ("id_number", p.id_number), ("social_insurance_number", p.social_insurance_number),
            ("card_number", p.card_number), ("full_name", p.full_name), ("date_of_birth", p.date_of_birth)))
        identity = PersonIdentity("recheck", name, dob, id_number=idn, social_insurance_number=sin, card_number=card)
        pending = eligibility.cannot_verify(None)
        result = check_or_pending(gateway, identity, date.fromisoformat(p.visit_date), facility_code, pending)
        if result is pending:
            break  # the gateway is down: try again later
        if result.result_code == eligibility.CANNOT_VERIFY:
            continue  # the gateway could not say either: stays pending
        with store.transaction(db) as tx:
            eligibility_results.insert(tx, p.visit_id, result, db.clock.now())
        done.append({"visit_id": p.visit_id, "result_code": result.result_code, "source": result.source})
    return done
