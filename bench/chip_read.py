"""Chip-reading benchmark: APDUs, bytes and time to the patient's result and to the full read (with the photo).

    python bench/chip_read.py               # needs pcscd with vsmartcard-vpcd (tests/services.d/pcscd.sh)
    python bench/chip_read.py --runs 7 --overhead-ms 5 10 20 [--json]

What the kiosk reads (drivers/chip/source.py): access (PACE-CAN) + DG14 +
Chip Authentication + EF.COM + DG1 + DG13 + DG15 + EF.SOD with passive
authentication — then the result goes to the patient's screen — then DG2
(the face photo, ~15 KB) on the same session for the console. Four cases,
in the same run, against `kiosk card-sim` in "Virtual PCD 00 00" through the
real PC/SC stack (pyscard → pcscd → vsmartcard-vpcd → TCP → emulator):
short / extended-length APDUs × without / with the photo. "naive" (SELECT
each file, a 4-byte probe read, then 223-byte chunks; no photo) is the
alternative issue 4 named.

Time on a real reader is not measurable here (no reader on this machine), so
it is computed from each read's APDU trace with drivers/chip/link.py's model:
per command an overhead (10 ms by default; also 5 and 20 ms with
--overhead-ms) plus 10 bit times per byte on air (APDU + ISO 14443-4 block
framing) at 106 and 424 kbit/s, plus this machine's own time for the read
(crypto, pcscd and the emulator) measured with no emulator latency, median
of --runs reads, each a fresh PC/SC connection and a fresh PACE.
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


def one_read(cls, extended: str, trust, photo: bool):
    """(ChipRead, trace of (command, response) lengths, APDUs before the result, host s to result, host s total)."""
    from drivers.chip.connection import PcscConnection
    from drivers.chip.link import TracingConnection
    conn = TracingConnection(PcscConnection(READER))
    try:
        t0 = time.perf_counter()
        reader = cls(conn, extended=extended)
        r = reader.read_identity(Credentials(can="012345"), trust=trust)
        t_result, n_result = time.perf_counter() - t0, len(conn.trace)
        if photo:
            fmt, image = reader.read_photo()
            assert len(image) > 1000, fmt
        return r, list(conn.trace), n_result, t_result, time.perf_counter() - t0
    finally:
        conn.close()


CASES = [("short", ChipReader, "no", False), ("short+photo", ChipReader, "no", True),
         ("extended", ChipReader, "yes", False), ("extended+photo", ChipReader, "yes", True),
         ("naive", NaiveReader, "no", False)]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg()[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--overhead-ms", type=float, nargs="+", default=[10.0, 5.0, 20.0],
                    help="per-command overheads to model; the first is the headline figure")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from drivers.chip.link import RATES_KBPS, LinkModel
    from drivers.chip.passive import load_trust_store
    from drivers.cccd_emulator.pki import TestPki
    import fcntl
    lock = open("/tmp/tramyte-kiosk-vpcd.lock", "w")  # the same lock the PC/SC tests take
    fcntl.flock(lock, fcntl.LOCK_EX)
    tmp = Path(tempfile.mkdtemp(prefix="chip-bench-"))
    TestPki.generate().save(tmp)
    trust = load_trust_store(tmp / "csca")
    m = machine()
    rows = {}
    sim = Sim(tmp, 0)
    try:
        for name, cls, ext, photo in CASES:
            reads = [one_read(cls, ext, trust, photo) for _ in range(args.runs)]
            r, trace, n_result, _, _ = reads[0]
            assert r.passive_authentication == "verified" and r.chip_authentication == "genuine", r
            host_result = statistics.median(x[3] for x in reads)
            host_full = statistics.median(x[4] for x in reads)
            row = {"apdus_to_result": n_result, "apdus_total": len(trace),
                   "bytes_to_result": sum(c + a for c, a in trace[:n_result]),
                   "bytes_total": sum(c + a for c, a in trace), "host_s_to_result": round(host_result, 4),
                   "host_s_total": round(host_full, 4), "file_sizes": r.file_sizes, "model": {}}
            for ov in args.overhead_ms:
                for rate in RATES_KBPS:
                    link = LinkModel(rate, ov)
                    row["model"][f"{ov:g}ms@{rate}"] = {
                        "to_result_s": round(host_result + link.total(trace[:n_result]), 3),
                        "full_s": round(host_full + link.total(trace), 3)}
            rows[name] = row
    finally:
        sim.close()
    m["load_average_end"] = os.getloadavg()[0]
    out = {"machine": m, "runs": args.runs, "overheads_ms": args.overhead_ms, "rates_kbps": list(RATES_KBPS),
           "bits_per_byte": 10, "results": rows}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}, "
          f"load average {m['load_average']:.1f} → {m['load_average_end']:.1f}")
    print("file sizes (bytes): " + ", ".join(f"{k} {v}" for k, v in rows["short+photo"]["file_sizes"].items())
          + f"; DG2 (photo) read after the result")
    head = args.overhead_ms[0]
    print(f"\nmodel: {head:g} ms per command + 10 bits per byte on air; host time (median of {args.runs}) added")
    print(f"{'case':<16}{'APDUs to result':>16}{'total':>7}{'bytes to result':>16}{'total':>7}"
          f"{'host s':>8}" + "".join(f"{f'{rate} kbit/s: result / full s':>30}" for rate in RATES_KBPS))
    for name, r in rows.items():
        cells = "".join(f"{'{:.3f} / {:.3f}'.format(r['model'][f'{head:g}ms@{rate}']['to_result_s'], r['model'][f'{head:g}ms@{rate}']['full_s']):>30}"
                        for rate in RATES_KBPS)
        print(f"{name:<16}{r['apdus_to_result']:>16}{r['apdus_total']:>7}{r['bytes_to_result']:>16}"
              f"{r['bytes_total']:>7}{r['host_s_total']:>8.3f}{cells}")
    if len(args.overhead_ms) > 1:
        print("\nsensitivity to the per-command overhead (time to result / full read, s):")
        for name, r in rows.items():
            print(f"  {name:<16}" + "; ".join(
                f"{ov:g} ms @{rate}: {r['model'][f'{ov:g}ms@{rate}']['to_result_s']:.3f} / "
                f"{r['model'][f'{ov:g}ms@{rate}']['full_s']:.3f}" for ov in args.overhead_ms for rate in RATES_KBPS))
    print("\ntarget: result ≤ 1.5 s for the patient (issue 9)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
