"""A local stand-in for the BHXH gateway: real HTTP on 127.0.0.1, the documented shapes, every result code.

For tests and demos only. Cards are registered with the answer to give
(`add_card`); knobs make it misbehave the ways the real one does: expire or
revoke tokens (401), answer slowly, drop the connection without answering,
or fail with a 5xx.

    with FakeGateway() as gw:
        gw.add_card("HS4401234567890", {"maKetQua": "000", ...})
        lookup = NationalLookup(gw.url, gw.username, gw.password, staff_name=..., staff_id_number=...)
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ANSWER_FIELDS = ("maKetQua", "ghiChu", "maThe", "hoTen", "ngaySinh", "gioiTinh", "diaChi", "maDKBD", "cqBHXH",
                 "gtTheTu", "gtTheDen", "maKV", "ngayDu5Nam", "maSoBHXH", "maTheCu", "maTheMoi", "gtTheTuMoi",
                 "gtTheDenMoi", "maDKBDMoi", "tenDKBDMoi")


class FakeGateway:
    def __init__(self, username: str = "40123_BV", password: str = "secret", token_ttl: int = 3600,
                 staff: dict[str, str] | None = None):
        self.username = username
        self.password = password
        self.token_ttl = token_ttl
        self.staff = staff if staff is not None else {"001090000001": "Nguyễn Thị Tiếp Đón"}
        self.cards: dict[str, dict[str, Any]] = {}  # maThe, 10-digit number or 12-digit ID → answer
        self.tokens: dict[str, float] = {}
        self.delay = 0.0
        self.drop_next = 0
        self.fail_next = 0
        self.logins = 0
        self.checks: list[dict[str, Any]] = []  # bodies received (tests look at the staff fields)
        self._server: ThreadingHTTPServer | None = None

    # --- set-up ---
    def add_card(self, *numbers: str, answer: dict[str, Any]) -> None:
        full = {k: "" for k in ANSWER_FIELDS}
        full.update(answer)
        for n in numbers:
            self.cards[n.upper()] = full

    def expire_tokens(self) -> None:
        self.tokens.clear()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeGateway":
        gw = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                gw._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeGateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving ---
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if self.drop_next > 0:
            self.drop_next -= 1
            h.close_connection = True
            h.connection.shutdown(2)  # no answer at all
            return
        if self.delay:
            time.sleep(self.delay)
        if self.fail_next > 0:
            self.fail_next -= 1
            return self._send(h, 503, {"message": "Service Unavailable"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send(h, 200, {"maKetQua": "205", "ghiChu": "Sai định dạng tham số"})
        url = urlparse(h.path)
        if url.path == "/api/token/take":
            return self._token(h, body)
        if url.path == "/api/egw/KQNhanLichSuKCB2024":
            return self._check(h, body, {k: v[0] for k, v in parse_qs(url.query).items()})
        return self._send(h, 404, {"message": "not found"})

    def _token(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if body.get("username") != self.username or \
                body.get("password") != hashlib.md5(self.password.encode()).hexdigest():
            return self._send(h, 200, {"maKetQua": "401", "APIKey": None})
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + self.token_ttl
        self.logins += 1
        return self._send(h, 200, {"maKetQua": "200", "APIKey": {
            "access_token": token, "id_token": secrets.token_hex(8), "token_type": "Bearer",
            "username": self.username, "expires_in": self.token_ttl}})

    def _check(self, h: BaseHTTPRequestHandler, body: dict[str, Any], q: dict[str, str]) -> None:
        expiry = self.tokens.get(q.get("token", ""))
        if expiry is None or expiry < time.monotonic() or q.get("username") != self.username:
            return self._send(h, 401, {"maKetQua": "401", "ghiChu": "Lỗi xác thực"})
        self.checks.append(body)
        if not isinstance(body.get("maThe"), str) or not body.get("hoTenCb") or not body.get("cccdCb"):
            return self._send(h, 200, {"maKetQua": "205", "ghiChu": "Sai định dạng tham số"})
        staff = self.staff.get(body["cccdCb"])
        if staff is None:
            return self._send(h, 200, {"maKetQua": "054"})
        if staff != body["hoTenCb"]:
            return self._send(h, 200, {"maKetQua": "055"})
        answer = self.cards.get(body["maThe"].upper())
        if answer is None:
            return self._send(h, 200, {**{k: "" for k in ANSWER_FIELDS}, "maKetQua": "050",
                                       "ghiChu": "Không có thông tin thẻ"})
        return self._send(h, 200, answer)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def main() -> None:  # python -m kiosk.simulated.fake_gateway: serve an empty fake until interrupted
    gw = FakeGateway().start()
    print(gw.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        gw.stop()


if __name__ == "__main__":
    main()
