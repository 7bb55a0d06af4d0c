"""Chip-reading benchmark: APDUs, bytes and time for a full identity read of the emulated CCCD over pcscd.

    python bench/chip_read.py               # needs pcscd with vsmartcard-vpcd (tests/services.d/pcscd.sh)
    python bench/chip_read.py --runs 9

A full identity read = access (PACE-CAN) + EF.COM + DG1 + DG13 + DG14 + DG15 +
EF.SOD + Chip Authentication. Three strategies in the same run, each against
`kiosk card-sim` in "Virtual PCD 00 00" through the real PC/SC stack:

- short:    this reader, short APDUs (first chunk at 223 bytes by short EF id, length from its TLV header)
- extended: this reader, extended-length APDUs (one READ BINARY per file)
- naive:    SELECT each file, a 4-byte probe read, then 223-byte chunks (what the issue calls naive)

Counts are taken with no emulator latency; times with the emulator's
per-command latency at 25 ms (a typical contactless exchange), median of
--runs reads, each a fresh PC/SC connection and a fresh access.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.chip import lds  # noqa: E402
from drivers.chip.apdu import Command  # noqa: E402
from drivers.chip.reader import ChipReader, Credentials, SHORT_CHUNK  # noqa: E402

READER = "Virtual PCD 00 00"
PROFILE = ROOT / "drivers/cccd_emulator/profiles/pace-card.json"


class NaiveReader(ChipReader):
    """SELECT by FID, read 4 bytes to learn the length, then 223-byte chunks."""

    def read_file(self, name: str) -> bytes:
        fid = lds.FILES[name][1]
        self.send(Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")), f"SELECT {name}")
        head = self.send(Command(0x00, 0xB0, 0, 0, le=4), "READ BINARY").data
        _, n, vpos = lds.tlv.read_header(head)
        data, total = head, vpos + n
        while len(data) < total:
            want = min(SHORT_CHUNK[self.session.cipher], total - len(data))
            data += self.send(Command(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, le=want), "READ BINARY",
                              ok=(0x9000, 0x6282)).data
        return data[:total]


def kiosk(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("kiosk")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "kiosk", *args]


def reader_state() -> str:
    """"present", "empty" or "other", as pcscd sees the Virtual PCD slot (no connect)."""
    from drivers.chip.connection import slot_state
    return slot_state(READER)


class Sim:
    def __init__(self, pki: Path, latency_ms: float):
        self.p = subprocess.Popen(kiosk("card-sim", "--profile", str(PROFILE), "--pki", str(pki),
                                        "--latency-ms", str(latency_ms)), stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while reader_state() != "present":
            if time.monotonic() > end:
                self.close()
                sys.exit("bench: card-sim did not show up in the Virtual PCD reader (is pcscd running?)")
            time.sleep(0.1)

    def close(self):
        self.p.terminate()
        self.p.wait(5)
        end = time.monotonic() + 5
        while reader_state() != "empty" and time.monotonic() < end:  # pcscd must see the card go
            time.sleep(0.05)


def one_read(cls, extended: str, trust):
    from drivers.chip.connection import PcscConnection
    conn = PcscConnection(READER)
    try:
        t0 = time.perf_counter()
        r = cls(conn, extended=extended).read_identity(Credentials(can="012345"), trust=trust)
        return r, time.perf_counter() - t0
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=25.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from drivers.chip.passive import load_trust_store
    from drivers.cccd_emulator.pki import TestPki
    import fcntl
    lock = open("/tmp/tramyte-kiosk-vpcd.lock", "w")  # the same lock the PC/SC tests take
    fcntl.flock(lock, fcntl.LOCK_EX)
    tmp = Path(tempfile.mkdtemp(prefix="chip-bench-"))
    TestPki.generate().save(tmp)
    trust = load_trust_store(tmp / "csca")
    strategies = [("short", ChipReader, "no"), ("extended", ChipReader, "yes"), ("naive", NaiveReader, "no")]
    rows = {}
    sim = Sim(tmp, 0)
    for name, cls, ext in strategies:
        r, t = one_read(cls, ext, trust)
        assert r.passive_authentication == "verified" and r.chip_authentication == "genuine", r
        rows[name] = {"apdus": r.apdus, "apdus_after_access": r.apdus_after_access, "bytes": r.bytes,
                      "bytes_after_access": r.bytes_after_access, "seconds_no_latency": round(t, 4),
                      "file_sizes": r.file_sizes}
    sim.close()
    sim = Sim(tmp, args.latency_ms)
    for name, cls, ext in strategies:
        times = [one_read(cls, ext, trust)[1] for _ in range(args.runs)]
        rows[name]["seconds_at_latency"] = round(statistics.median(times), 3)
        rows[name]["seconds_at_latency_max"] = round(max(times), 3)
    sim.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    out = {"machine": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
           "date": time.strftime("%Y-%m-%d"), "latency_ms": args.latency_ms, "runs": args.runs, "results": rows}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    sizes = rows["short"]["file_sizes"]
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {out['date']}")
    print("file sizes (bytes): " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print(f"{'strategy':<10}{'APDUs':>7}{'after access':>14}{'bytes':>8}{'after access':>14}"
          f"{'s @0ms':>9}{f's @{args.latency_ms:g}ms median':>18}{'max':>7}")
    for name, r in rows.items():
        print(f"{name:<10}{r['apdus']:>7}{r['apdus_after_access']:>14}{r['bytes']:>8}{r['bytes_after_access']:>14}"
              f"{r['seconds_no_latency']:>9.3f}{r['seconds_at_latency']:>18.3f}{r['seconds_at_latency_max']:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
