"""The emulator as a vpcd client, so pcscd + vsmartcard-vpcd show it as a card in "Virtual PCD 00 00".

vpcd protocol: each message is a 2-byte big-endian length, then either a
1-byte control code (0 power off, 1 power on, 2 reset, 4 get ATR) or a
command APDU; answers are framed the same way. Closing the socket is the
card leaving the field; connecting again is the card placed again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from drivers.cccd_emulator.card import CardGone, CccdCard

log = logging.getLogger(__name__)

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4


def _quickack(sock: socket.socket) -> None:
    # vpcd writes the length and the APDU in two segments; without an immediate ACK, Nagle on its side
    # and delayed ACK on ours add ~40 ms to every command. Linux clears QUICKACK after use: set it each time.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        _quickack(sock)
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(len(data).to_bytes(2, "big") + data)


def serve_once(card: CccdCard, host: str, port: int, stop: threading.Event) -> str:
    """One card presence: connect, answer until vpcd closes or the card 'leaves'. Returns why it ended."""
    with socket.create_connection((host, port), timeout=2) as sock:
        sock.settimeout(0.5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("event=card_sim_connected port=%d", port)
        card.reset()
        while not stop.is_set():
            try:
                head = _recv_exact(sock, 2)
            except socket.timeout:
                continue
            if head is None:
                return "closed"
            sock.settimeout(5)
            msg = _recv_exact(sock, int.from_bytes(head, "big"))
            sock.settimeout(0.5)
            if msg is None:
                return "closed"
            if len(msg) == 1:
                log.debug("event=card_sim_control code=%d", msg[0])
                if msg[0] in (POWER_ON, RESET, POWER_OFF):
                    card.reset()
                elif msg[0] == GET_ATR:
                    _send(sock, card.atr)
                continue
            try:
                _send(sock, card.process(msg))
            except CardGone:
                log.info("event=card_sim_drop commands=%s", card.profile.card.get("drop_after_commands"))
                return "dropped"
    return "stopped"


def serve(card: CccdCard, host: str = "127.0.0.1", port: int = 35963, stop: threading.Event | None = None,
          on_state=None) -> None:
    """Keep the card 'on the reader' until `stop` is set; reconnect when vpcd goes away (pcscd restarted)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            if on_state:
                on_state("connecting")
            why = serve_once(card, host, port, stop)
        except OSError as e:
            log.debug("event=card_sim_wait reason=%s", e)
            stop.wait(0.5)
            continue
        if on_state:
            on_state(why)
        if why == "dropped":
            stop.wait(float(card.profile.card.get("return_after_ms") or 0) / 1000)
        elif why == "closed":
            stop.wait(0.3)


def start_in_thread(card: CccdCard, port: int = 35963) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    t = threading.Thread(target=serve, args=(card, "127.0.0.1", port, stop), name="card-sim", daemon=True)
    t.start()
    return t, stop


def wait_until(pred, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
