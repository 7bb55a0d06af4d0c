"""QR decoder benchmark: decode rate, wrong-text rate and ms/frame per backend and category.

    python bench/qr_decode.py                 # full run (a few minutes on 2 cores)
    python bench/qr_decode.py --quick         # a smoke run
    python bench/qr_decode.py --write-doc     # also replace "### Latest run" under "## QR decoding"
                                              # in docs/benchmarks.md (the text above it is edited by hand)

The run reports only what it measured or read from the machine at run time
(date, CPU model, core count, load average at start and end, library
versions); what the numbers mean is written by hand in docs/benchmarks.md.

Corpus: bench/qr_corpus.py (BoofCV's categories, generated; CCCD/BHYT
payloads in Vietnamese). One decoding thread (cv2.setNumThreads(1)); every
backend sees the same frames in the same run. Single frames are decoded by a
fresh decoder; a sequence by one decoder kept across its frames, as a live
camera would. A code counts as decoded when its exact bytes come back; any
other result is "wrong text". Then the "1,500 random Vietnamese full names"
check: each bare name as a QR, decoded by every backend.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench import qr_corpus  # noqa: E402
from drivers.decoders import get_decoder  # noqa: E402

BACKENDS = ("pipeline", "zxing", "zbar", "zbar-text", "opencv")
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}" if b else "-"


def q(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def run_corpus(backends, seed, singles, sequences, seq_len, categories, resolutions):
    # stats[backend][(category, res)] -> dict
    stats = {b: defaultdict(lambda: {"codes": 0, "found": 0, "frames": 0, "wrong": 0, "ms": [], "wall": []}) for b in backends}
    decoders = {b: get_decoder(b) for b in backends}
    warm = np.zeros((480, 640, 3), np.uint8)
    for d in decoders.values():
        d.decode(warm)
    gen_s = 0.0
    t0 = time.perf_counter()
    it = qr_corpus.samples(seed, singles, sequences, seq_len, categories, resolutions)
    while True:
        g0 = time.perf_counter()
        s = next(it, None)
        gen_s += time.perf_counter() - g0
        if s is None:
            break
        truths = set(s.truths)
        res = f"{s.size[0]}x{s.size[1]}"
        for b in backends:
            dec = decoders[b]
            if hasattr(dec, "reset"):
                dec.reset()
            st = stats[b][(s.category, res)]
            for frame in s.frames:
                t, c = time.perf_counter(), time.thread_time()
                got = dec.decode(frame)
                st["ms"].append((time.thread_time() - c) * 1000)
                st["wall"].append((time.perf_counter() - t) * 1000)
                raws = {r.raw for r in got}
                st["frames"] += 1
                st["codes"] += len(truths)
                st["found"] += len(truths & raws)
                st["wrong"] += len(raws - truths)
    return stats, time.perf_counter() - t0, gen_s, decoders


def run_names(backends, n=1500, seed=7):
    rng = random.Random(seed)
    names = [qr_corpus.random_name(rng) for _ in range(n)]
    out = {}
    images = []
    for name in names:
        m = qr_corpus.qr_modules(name, "m")
        img = cv2.resize(m, (m.shape[1] * 4, m.shape[0] * 4), interpolation=cv2.INTER_NEAREST)
        images.append(img)
    for b in backends:
        dec = get_decoder(b)
        ok = wrong = 0
        examples = []
        for name, img in zip(names, images):
            if hasattr(dec, "reset"):
                dec.reset()
            got = dec.decode(img)
            truth = name.encode("utf-8")
            for r in got:
                if r.raw == truth:
                    ok += 1
                else:
                    wrong += 1
                    if len(examples) < 1:
                        examples.append((name, r.text if r.text is not None else repr(r.raw)))
        out[b] = {"decoded": ok, "wrong": wrong, "example": examples}
    return len(names), out


def run_idle(n=20, size=(1280, 720)):
    """What a live camera costs the default pipeline when nobody is presenting a code, and when a
    code is held still: CPU ms per frame (median, max)."""
    rng = np.random.default_rng(3)
    w, h = size
    out = {}
    scenes = {
        "empty, changing": [qr_corpus._background(rng, w, h) for _ in range(n)],
        "empty, still": [qr_corpus._background(np.random.default_rng(4), w, h)] * n,
    }
    held = qr_corpus.render("nominal", size, [qr_corpus.payload(random.Random(5))], rng)[0]
    scenes["code held still"] = [held] * n
    for name, frames in scenes.items():
        dec = get_decoder("pipeline")
        ms = []
        for f in frames:
            # Fresh sensor noise on every frame, as a real camera gives.
            f = np.clip(f + rng.normal(0, 2.5, f.shape), 0, 255).astype(np.uint8)
            c = time.thread_time()
            dec.decode(f)
            ms.append((time.thread_time() - c) * 1000)
        out[name] = (statistics.median(ms), max(ms))
    return out


def table(stats, backends, categories, resolutions):
    lines = []
    res_names = [f"{w}x{h}" for w, h in resolutions]
    for res in res_names:
        lines.append(f"\n**{res}** — decode % / wrong-text % / median ms / p95 ms per frame (CPU time of the "
                     "decoding thread)\n")
        lines.append("| category | " + " | ".join(backends) + " |")
        lines.append("|---|" + "---|" * len(backends))
        for cat in list(categories) + ["ALL"]:
            cells = []
            for b in backends:
                keys = [(c, res) for c in categories] if cat == "ALL" else [(cat, res)]
                codes = sum(stats[b][k]["codes"] for k in keys)
                found = sum(stats[b][k]["found"] for k in keys)
                wrong = sum(stats[b][k]["wrong"] for k in keys)
                ms = [m for k in keys for m in stats[b][k]["ms"]]
                cell = f"{pct(found, codes)} / {pct(wrong, codes)} / {q(ms, 0.5):.1f} / {q(ms, 0.95):.1f}"
                cells.append(f"**{cell}**" if cat == "ALL" else cell)
            lines.append(f"| {cat if cat != 'ALL' else '**all**'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description="QR decoder benchmark")
    ap.add_argument("--backend", action="append", choices=BACKENDS + ("zxing-fast",))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--singles", type=int, default=10, help="single frames per category and resolution")
    ap.add_argument("--sequences", type=int, default=2, help="moving sequences per category and resolution")
    ap.add_argument("--seq-len", type=int, default=8)
    ap.add_argument("--names", type=int, default=1500)
    ap.add_argument("--category", action="append", choices=qr_corpus.CATEGORIES)
    ap.add_argument("--quick", action="store_true", help="2 singles + 1 sequence per cell, 200 names")
    ap.add_argument("--write-doc", action="store_true", help="replace the '## QR decoding' section of docs/benchmarks.md")
    args = ap.parse_args()
    load_start = os.getloadavg()
    if args.quick:
        args.singles, args.sequences, args.names = 2, 1, 200
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    backends = tuple(args.backend or BACKENDS)
    categories = tuple(args.category or qr_corpus.CATEGORIES)
    resolutions = qr_corpus.RESOLUTIONS
    stats, wall, gen_s, decoders = run_corpus(backends, args.seed, args.singles, args.sequences, args.seq_len,
                                              categories, resolutions)
    n_names, names = run_names(backends, args.names) if args.names else (0, {})
    frames = sum(stats[backends[0]][k]["frames"] for k in stats[backends[0]])
    try:
        import zxingcpp
        zx = getattr(zxingcpp, "__version__", None)
        if zx is None:
            from importlib.metadata import version
            zx = version("zxing-cpp")
    except Exception:
        zx = "?"
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version
    load_end = os.getloadavg()
    head = (f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu}, "
            f"{os.cpu_count()} cores, load average (1 min) {load_start[0]:.1f} at start and {load_end[0]:.1f} at "
            f"the end, Python {platform.python_version()}, OpenCV {cv2.__version__}, zxing-cpp {zx}, pyzbar "
            f"{version('pyzbar')} (libzbar {zbar_version()}), one decoding thread. Corpus: seed {args.seed}, "
            f"{len(categories)} categories × 2 resolutions × ({args.singles} single frames + {args.sequences} "
            f"sequences of {args.seq_len}) = {frames} frames; `python bench/qr_decode.py` took {wall:.0f} s "
            f"({gen_s:.0f} s of it generating frames).")
    body = [head, table(stats, backends, categories, resolutions)]
    if names:
        body.append(f"\n**{n_names} random Vietnamese full names** (bare name as a QR, clean image): "
                    "decoded / wrong text\n")
        body.append("| backend | decoded | wrong text | example of a wrong result |")
        body.append("|---|---|---|---|")
        for b in backends:
            r = names[b]
            ex = f"{r['example'][0][0]} → {r['example'][0][1]}" if r["example"] else ""
            body.append(f"| {b} | {r['decoded']} | {r['wrong']} | {ex} |")
    body.append("\nWall-clock ms per frame over all categories (median / p95): " + "; ".join(
                    f"{b} {w}x{h}: {q(walls, 0.5):.1f} / {q(walls, 0.95):.1f}"
                    for b in backends for (w, h) in resolutions
                    for walls in [[m for k, v in stats[b].items() if k[1] == f"{w}x{h}" for m in v["wall"]]]))
    if "pipeline" in backends:
        idle = run_idle()
        body.append("\nLive-camera cost of the default pipeline at 1280×720, CPU ms per frame (median / max over "
                    "20 frames with fresh sensor noise): " + "; ".join(
                        f"{k}: {v[0]:.1f} / {v[1]:.1f}" for k, v in idle.items()))
    if "pipeline" in decoders:
        body.append(f"\nPipeline paths taken over the corpus: {dict(decoders['pipeline'].stats)}")
    text = "\n".join(body)
    print(text)
    if args.write_doc:
        write_doc(text)
    return 0


def zbar_version() -> str:
    """libzbar's own version (zbar_version(major, minor, patch)), or "?"."""
    try:
        import ctypes

        from pyzbar import zbar_library
        lib, _ = zbar_library.load()
        v = [ctypes.c_uint() for _ in range(3)]
        lib.zbar_version(*[ctypes.byref(x) for x in v])
        return ".".join(str(x.value) for x in v)
    except Exception:
        return "?"


def write_doc(text: str) -> None:
    """Replace only the measured "### Latest run" subsection of "## QR decoding"; the rest is hand-written."""
    doc = DOC.read_text(encoding="utf-8")
    section = re.search(r"^## QR decoding\n.*?(?=^## |\Z)", doc, re.S | re.M)
    if section is None:
        raise SystemExit(f"{DOC} has no '## QR decoding' section: add its hand-written text first")
    latest = "### Latest run\n\n" + text.strip() + "\n\n"
    body = section.group(0)
    i = body.find("### Latest run\n")
    body = (body[:i] if i >= 0 else body.rstrip("\n") + "\n\n") + latest
    doc = doc[:section.start()] + body + doc[section.end():]
    DOC.write_text(doc.rstrip("\n") + "\n", encoding="utf-8")
    print(f"\nwrote the measured run to {DOC} (### Latest run)", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
