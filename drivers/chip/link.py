"""How long a command takes on a contactless link: per-command overhead plus per-byte air time.

The benches' model of a real reader (bench/chip_read.py prints it, bench/ui_latency.py and the demo's
emulated reader sleep it), replacing the flat "25 ms per command":

    t(command) = overhead + bytes_on_air × bit_times_per_byte / rate

- rate: ISO/IEC 14443 bit rates 106 kbit/s (every card and reader) and 424 kbit/s (negotiated by
  PPS when both support it; the ACR122U's PN533 and most current readers do).
- bit_times_per_byte: 10 — a Type B character (start, 8 data, stop bit); a Type A byte is 9 (8 data +
  parity), so this is up to ~11 % pessimistic for Type A chips.
- bytes_on_air: the command APDU and the response APDU (secure-messaging wrapping included: they are
  counted as sent), plus ISO 14443-4 block framing — PCB + CRC (3 bytes) per I-block of at most
  `FSC - 3` information bytes, and for a chained message one R(ACK) block (3 bytes) per extra block.
- overhead: 10 ms per command by default. Not measured here (no physical reader on the build
  machine); it is the sum of a USB CCID round trip (a full-speed bulk OUT and IN, ≥ 1 ms each, ~2 ms),
  the reader firmware's frame handling and frame delay times (~1 ms), and the card's own processing of
  a secure-messaging command (MAC check, decipher, read, encipher, MAC: typically 3–8 ms on a
  contactless secure element). Public-key steps on the card (PACE mapping and key agreement, Chip
  Authentication) take longer than that on a real chip and are not modelled separately: the bench also
  prints 5 and 20 ms so the reader can see how the conclusion moves with this one assumption.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

RATES_KBPS = (106, 424)
BITS_PER_BYTE = 10
FSC = 256  # frame size the card accepts; readers usually match it (ISO 14443-4 FSCI 8)
BLOCK_FRAMING = 3  # PCB + CRC_A/B


def air_bytes(apdu_len: int, framing: bool = True) -> int:
    """Bytes on air for one APDU (command or response) in ISO 14443-4 blocks, chaining acknowledgements included."""
    if not framing:
        return apdu_len
    info = FSC - BLOCK_FRAMING
    blocks = max(1, -(-apdu_len // info))
    return apdu_len + blocks * BLOCK_FRAMING + (blocks - 1) * BLOCK_FRAMING  # I-block framing + R(ACK)s


@dataclass(frozen=True)
class LinkModel:
    rate_kbps: float = 106.0
    overhead_ms: float = 10.0

    def seconds(self, command_len: int, response_len: int) -> float:
        on_air = air_bytes(command_len) + air_bytes(response_len)
        return self.overhead_ms / 1000 + on_air * BITS_PER_BYTE / (self.rate_kbps * 1000)

    def total(self, trace: list[tuple[int, int]]) -> float:
        return sum(self.seconds(c, r) for c, r in trace)

    def describe(self) -> str:
        return f"{self.overhead_ms:g} ms/command + {BITS_PER_BYTE} bits/byte at {self.rate_kbps:g} kbit/s"


class TracingConnection:
    """A Connection that records (command bytes, response bytes) of each APDU and, with a model, sleeps its time."""

    def __init__(self, inner, model: LinkModel | None = None, sleep=time.sleep):
        self.inner, self.model, self.sleep = inner, model, sleep
        self.trace: list[tuple[int, int]] = []

    def transmit(self, apdu: bytes) -> bytes:
        out = self.inner.transmit(apdu)
        self.trace.append((len(apdu), len(out)))
        if self.model is not None:
            self.sleep(self.model.seconds(len(apdu), len(out)))
        return out

    def close(self) -> None:
        self.inner.close()
