"""`kiosk decode IMAGE... [--backend NAME] [--json]`: the QR codes in image files, as the camera decodes them."""

from __future__ import annotations

import json
import os
import time

from kiosk.cli import add_json, readable
from kiosk.errors import UnavailableError, UsageError
from kiosk.logs import redact

BACKENDS = ("default", "zxing", "zbar", "opencv")


def register(sub) -> None:
    p = sub.add_parser("decode", help="decode the QR codes in image files (camera decoders)",
                       description="Decode QR codes in image files with the camera's decoders. Text is the "
                                   "code's raw bytes as strict UTF-8 (never guessed). Readable output masks ID "
                                   "and card numbers; --json prints one JSON line per image: "
                                   '{"image", "results": [{"text", "format"}], "ms"}.')
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--backend", default="default", choices=BACKENDS,
                   help="decoder (default: the pipeline chosen by bench/qr_decode.py)")
    add_json(p)
    p.set_defaults(func=decode_cmd)


def decode_cmd(ctx) -> int:
    # OpenCV and the decoders are the optional `camera` extra: loaded when this command runs.
    import cv2
    from drivers.decoders import DecoderUnavailable, get_decoder
    try:
        decoder = get_decoder(ctx.args.backend)
    except DecoderUnavailable as e:
        raise UnavailableError(str(e)) from None
    cv2.setNumThreads(1)
    bad = 0
    for path in ctx.args.images:
        frame = cv2.imread(path, cv2.IMREAD_COLOR) if os.path.isfile(path) else None
        if frame is None:
            bad += 1
            line = {"image": path, "results": [], "ms": None, "error": "not a readable image file"}
            _out(ctx, line, f"{path}: error: not a readable image file")
            continue
        if hasattr(decoder, "reset"):
            decoder.reset()  # each image stands alone: no region of interest from the last one
        t0 = time.perf_counter()
        found = decoder.decode(frame)
        ms = round((time.perf_counter() - t0) * 1000, 2)
        results = []
        for r in found:
            item = {"text": r.text, "format": r.format}
            if r.text is None:
                item["error"] = "not UTF-8"
                item["hex"] = r.raw.hex()
            results.append(item)
        human = [f"{path}: {len(results)} code(s) in {ms:.1f} ms"]
        human += [f"  [{r['format']}] " + (redact(r["text"]) if r["text"] is not None else
                                          f"(not UTF-8, {len(r['hex']) // 2} bytes)") for r in results]
        _out(ctx, {"image": path, "results": results, "ms": ms}, "\n".join(human))
    if bad:
        raise UsageError(f"{bad} of {len(ctx.args.images)} file(s) could not be read as images")
    return 0


def _out(ctx, data: dict, human: str) -> None:
    if ctx.args.json:
        print(json.dumps(data, ensure_ascii=False), file=ctx.stdout, flush=True)
    else:
        print(readable(human), file=ctx.stdout, flush=True)  # a QR can hold terminal escapes
