"""The contactless link model the chip benchmarks use (drivers/chip/link.py)."""

import pytest

from drivers.chip.link import LinkModel, TracingConnection, air_bytes


def test_air_bytes_adds_block_framing_and_chaining_acks():
    assert air_bytes(5) == 5 + 3  # one I-block: PCB + CRC
    assert air_bytes(253) == 256
    assert air_bytes(254) == 254 + 2 * 3 + 3  # two I-blocks and one R(ACK)
    assert air_bytes(1000, framing=False) == 1000


def test_time_is_overhead_plus_bytes_at_the_bit_rate():
    slow, fast = LinkModel(106, 10), LinkModel(424, 10)
    # A short READ BINARY under SM (~20-byte command, ~240-byte answer): 10 ms + 266 bytes × 10 bits at 106 kbit/s.
    assert slow.seconds(20, 240) == pytest.approx(0.010 + (23 + 243) * 10 / 106_000)
    assert fast.seconds(20, 240) == pytest.approx(0.010 + (23 + 243) * 10 / 424_000)
    assert LinkModel(106, 0).seconds(0, 2000) == pytest.approx(4 * LinkModel(424, 0).seconds(0, 2000))
    assert slow.total([(20, 240)] * 3) == pytest.approx(3 * slow.seconds(20, 240))


def test_tracing_connection_records_and_sleeps_the_model():
    class Echo:
        def transmit(self, apdu):
            return apdu + b"\x90\x00"

        def close(self):
            pass

    slept = []
    c = TracingConnection(Echo(), LinkModel(106, 10), sleep=slept.append)
    assert c.transmit(b"\x00" * 5) == b"\x00" * 5 + b"\x90\x00"
    assert c.trace == [(5, 7)] and slept == [pytest.approx(LinkModel(106, 10).seconds(5, 7))]
