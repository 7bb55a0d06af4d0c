"""Connections only send and receive bytes. Everything else is a processor above them.

`PcscConnection` goes through pyscard (pcscd); `CountingConnection` wraps
any connection to count APDUs and bytes for the CLI and the benchmark.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

from drivers.chip.errors import CardRemoved, NoCard, ProtocolError, ReaderUnavailable

log = logging.getLogger(__name__)

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")  # where pcscd listens (Debian's pcscd.socket)


class Connection(Protocol):
    def transmit(self, apdu: bytes) -> bytes: ...

    def close(self) -> None: ...


class CountingConnection:
    def __init__(self, inner: Connection):
        self.inner = inner
        self.apdus = 0
        self.bytes = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        self.bytes += len(apdu)
        out = self.inner.transmit(apdu)
        self.bytes += len(out)
        return out

    def close(self) -> None:
        self.inner.close()

    def reset_counts(self) -> None:
        self.apdus = self.bytes = 0


def list_readers() -> list[str]:
    try:
        from smartcard.System import readers  # pyscard: the optional `chip` extra
        from smartcard.Exceptions import ListReadersException
        from smartcard.pcsc.PCSCExceptions import EstablishContextException
    except ImportError as e:
        raise ReaderUnavailable(f"pyscard is not installed ({e.name})") from None
    try:
        return [str(r) for r in readers()]
    except (ListReadersException, EstablishContextException) as e:
        raise ReaderUnavailable(f"the PC/SC service (pcscd) is not reachable: {e}") from None
    except Exception as e:  # other pyscard errors when pcscd goes away mid-call
        if not _pcsc_error(e):
            raise
        raise ReaderUnavailable(f"the PC/SC service (pcscd) is not reachable: {e}") from None


def slot_state(reader: str) -> str:
    """"present", "empty" or "other", as pcscd itself sees the reader's slot (no connect, no power-up)."""
    from smartcard import scard  # pyscard: the optional `chip` extra
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        return "other"
    try:
        rc, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if rc != scard.SCARD_S_SUCCESS:
            return "other"
        flags = states[0][1]
        if flags & scard.SCARD_STATE_PRESENT and not flags & scard.SCARD_STATE_MUTE:
            return "present"
        return "empty" if flags & scard.SCARD_STATE_EMPTY else "other"
    finally:
        scard.SCardReleaseContext(ctx)


def choose_reader(name: str = "") -> str:
    names = list_readers()
    if not names:
        raise ReaderUnavailable("no smart-card reader is connected")
    for n in names:
        if name.lower() in n.lower():
            return n
    raise ReaderUnavailable(f"no reader matching {name!r} (connected: {', '.join(names)})")


class PcscConnection:
    """One card session on a named reader (pyscard, T=1 or T=0)."""

    def __init__(self, reader_name: str = "", wait_seconds: float = 0.0):
        # pyscard is the optional `chip` extra: the chip library parses and emulates without it.
        from smartcard.System import readers
        from smartcard.Exceptions import CardConnectionException, NoCardException
        self._exc = (CardConnectionException, NoCardException)
        self.reader_name = choose_reader(reader_name)
        try:
            reader = next(r for r in readers() if str(r) == self.reader_name)
        except Exception as e:  # pcscd went away or the reader was unplugged between the two calls
            raise ReaderUnavailable(f"reader {self.reader_name!r} went away: {_short(e)}") from None
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self.conn = reader.createConnection()
                self.conn.connect()
                break
            except Exception as e:  # NoCard, CardConnection, or pcscd gone (raised as bare pyscard errors)
                if not isinstance(e, self._exc) and not _pcsc_error(e):
                    raise
                if time.monotonic() >= deadline:
                    raise NoCard(f"no card on reader {self.reader_name!r}: {_short(e)}") from None
                time.sleep(0.2)

    @property
    def atr(self) -> bytes:
        return bytes(self.conn.getATR())

    def transmit(self, apdu: bytes) -> bytes:
        try:
            data, sw1, sw2 = self.conn.transmit(list(apdu))
        except self._exc as e:
            raise CardRemoved(f"the card left the reader: {_short(e)}") from None
        except Exception as e:  # pyscard raises bare errors for e.g. oversize APDUs
            raise ProtocolError(f"transmit failed: {_short(e)}") from None
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        try:
            self.conn.disconnect()
        except Exception:  # already gone
            pass


def _pcsc_error(e: Exception) -> bool:
    return type(e).__module__.startswith("smartcard")


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:120] if str(e) else type(e).__name__
