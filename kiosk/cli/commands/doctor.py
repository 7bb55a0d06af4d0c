"""`kiosk doctor [--json]`: the technician's first command (see kiosk/doctor/__init__.py)."""

from __future__ import annotations

import argparse

from kiosk.cli import Context, add_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check this kiosk (configuration, database, clock, devices, hub, roster, "
                                      "outbox, watchdog); exit 0 good, 1 warnings, 2 failures")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the report (default vi)")
    p.add_argument("--check", action="append", metavar="NAME",
                   help="run only this check (repeatable); the configuration is always checked")
    add_json(p)
    p.set_defaults(func=doctor)


def doctor(ctx: Context) -> int:
    # Deferred: the doctor loads every driver, requests and the X.509 code; every other command is
    # discovered (imported) at each CLI start and should not pay for that.
    from kiosk import doctor as doc
    # Never touch ctx.config: a broken configuration is a finding, not an error exit.
    report = doc.run(ctx.args.lang, ctx.args.config, ctx.args.data_dir,
                     only=set(ctx.args.check) if ctx.args.check else None)
    ctx.emit(report.to_json(), lambda: doc.render(report, ctx.args.lang))
    return report.exit_code
