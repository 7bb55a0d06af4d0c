"""`kiosk card-sim`: the CCCD card emulator on the vpcd virtual reader (tests, demos, benchmarks)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from kiosk.errors import UnavailableError, UsageError
from kiosk.cli import ascii_float, ascii_int


def register(sub) -> None:
    p = sub.add_parser("card-sim", help="run the CCCD chip emulator as a card in pcscd's Virtual PCD reader")
    p.add_argument("--profile", required=True, metavar="FILE",
                   help="person + card behaviour JSON (see drivers/cccd_emulator/profiles/)")
    p.add_argument("--vpcd-port", type=ascii_int, default=35963, metavar="PORT",
                   help="vpcd port on 127.0.0.1 (default 35963 = reader 'Virtual PCD 00 00')")
    p.add_argument("--pki", metavar="DIR", help="test CSCA/document-signer folder: used if it exists, else created "
                   "there; DIR/csca is the trust folder for read-card --csca-dir (default: a throw-away PKI)")
    p.add_argument("--latency-ms", type=ascii_float, metavar="MS", help="per-command latency (overrides the profile)")
    p.set_defaults(func=card_sim)


def card_sim(ctx) -> int:
    # The emulator needs the optional `chip` extra (ecdsa, the vpcd protocol): loaded when this command runs.
    from drivers.cccd_emulator import CccdCard, load_profile
    from drivers.cccd_emulator.pki import TestPki
    from drivers.cccd_emulator.profile import ProfileError
    from drivers.cccd_emulator.vpcd import serve
    try:
        profile = load_profile(ctx.args.profile)
    except ProfileError as e:
        raise UsageError(str(e)) from None
    if ctx.args.latency_ms is not None:
        profile = profile.with_card(latency_ms=ctx.args.latency_ms)
    pki = None
    if ctx.args.pki:
        d = Path(ctx.args.pki)
        if (d / "ds.key.pem").exists():
            pki = TestPki.load(d)
        else:
            pki = TestPki.generate()
            pki.save(d)
    card = CccdCard(profile, pki)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    state = {"last": None}

    def on_state(s: str) -> None:
        if s != state["last"] and s in ("dropped", "closed"):
            print(f"card-sim: {'card taken off the reader' if s == 'dropped' else 'vpcd closed the connection'}",
                  file=sys.stderr, flush=True)
        state["last"] = s

    print(f"card-sim: card with access {profile.card['access']} waiting on vpcd 127.0.0.1:{ctx.args.vpcd_port}"
          + (f", trust folder {Path(ctx.args.pki) / 'csca'}" if ctx.args.pki else "") + " (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        serve(card, "127.0.0.1", ctx.args.vpcd_port, stop, on_state)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        raise UnavailableError(f"card-sim: {e}") from None
    return 0
