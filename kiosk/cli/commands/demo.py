"""`kiosk demo` and `kiosk run`: the kiosk window, on simulated or configured devices."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.errors import UnavailableError, UsageError


def register(sub) -> None:
    d = sub.add_parser("demo", help="run the kiosk on simulated devices with a demo roster")
    d.add_argument("--headless", action="store_true",
                   help="run the scenario offscreen, print a transcript and save screenshots "
                        "(automatic when there is no DISPLAY/WAYLAND_DISPLAY)")
    d.add_argument("--out", default="demo-out", metavar="DIR", help="where screenshots go (default demo-out/)")
    d.add_argument("--lang", choices=["vi", "en"], help="screen language (default: ui.language, Vietnamese)")
    d.set_defaults(func=demo)

    r = sub.add_parser("run", help="run the kiosk with the configured devices")
    r.set_defaults(func=run)


def _ui():
    # The touch UI needs PySide6 (the optional `ui` extra): imported by the two commands that show it.
    try:
        import ui.demo  # noqa: F401  (imports PySide6)
    except ImportError as e:
        raise UnavailableError(f"the touch UI needs PySide6, which is not installed ({e.name})") from None
    return ui.demo


def demo(ctx) -> int:
    mod = _ui()
    return mod.run(ctx.config, headless=ctx.args.headless, out_dir=Path(ctx.args.out),
                   lang=ctx.args.lang or ctx.config["ui.language"])


def run(ctx) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        raise UnavailableError("no display: set DISPLAY/WAYLAND_DISPLAY or QT_QPA_PLATFORM (eglfs on a device)")
    _ui()
    from ui.run import run as run_kiosk  # PySide6, checked just above
    cfg = ctx.config
    if cfg["scanner.kind"] not in ("serial", "simulated", "none"):
        raise UsageError(f"scanner.kind: unsupported {cfg['scanner.kind']!r}")
    return run_kiosk(cfg)
