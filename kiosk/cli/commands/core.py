"""`kiosk db migrate`, `kiosk checkin`, `kiosk visits`, `kiosk config check`."""

from __future__ import annotations

import os

from kiosk import store
from kiosk.app import open_database
from kiosk.cli import add_json, parse_date, readable
from kiosk.clock import vn_date
from kiosk.domain import ScanEvent
from kiosk.errors import UsageError
from kiosk.privacy import audit
from kiosk.services.checkin import visits_on
from kiosk.text import both


def register(sub) -> None:
    db = sub.add_parser("db", help="database maintenance")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    mig = dbsub.add_parser("migrate", help="apply pending schema migrations")
    add_json(mig)
    mig.set_defaults(func=db_migrate)

    c = sub.add_parser("checkin", help="process a payload exactly as if it had been scanned; prints the visit")
    c.add_argument("--payload", required=True, help="the scanned text (e.g. a CCCD QR)")
    c.add_argument("--source", default="serial", choices=["serial", "camera", "chip", "manual"],
                   help="which source it came from (default serial)")
    add_json(c)
    c.set_defaults(func=checkin)

    v = sub.add_parser("visits", help="list the visits of a day (default today, Vietnam time)")
    v.add_argument("--date", help="YYYY-MM-DD")
    add_json(v)
    v.set_defaults(func=visits)

    cfg = sub.add_parser("config", help="configuration")
    cfgsub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    chk = cfgsub.add_parser("check", help="validate the configuration and print the values in force")
    add_json(chk)
    chk.set_defaults(func=config_check)


def db_migrate(ctx) -> int:
    db = open_database(ctx.config, migrate_now=False)  # provisioning migrates before any data key exists
    before = store.schema_version(db)
    applied = store.migrate(db)
    after = store.schema_version(db)
    ctx.emit({"database": str(ctx.config.database), "from_version": before, "to_version": after,
              "applied": applied},
             f"database {ctx.config.database}: schema version {before} → {after}"
             + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
    return 0


def describe_visit(v: dict, lang: str = "vi") -> str:
    e = v["eligibility"]
    p = v["patient"]
    again = f" ({both('cli.visit.existing')})" if v.get("existing") else ""
    pct = f" {e['benefit_percent']}%" if e.get("benefit_percent") else ""
    mismatch = ("\n  ! re-scanned with another name or birth date: check the person's card "
                "(identity_mismatch)") if "identity_mismatch" in v.get("flags", []) else ""
    return (f"Số thứ tự {v['queue_number']} — ngày {v['visit_date']}{again}\n"
            f"  {readable(p['full_name'], one_line=True)}  ID {p['masked_id']}\n"
            f"  BHYT [{e['result_code']}]{pct}: {e['reason']} (nguồn: {e['source']}, {e['as_of'] or 'n/a'})\n"
            f"  visit {v['visit_id']}, source {v['source']}{mismatch}")


def checkin(ctx) -> int:
    service = ctx.app.checkin_service()
    # argv bytes as they were given (invalid UTF-8 stays invalid, and the parser says where, as `kiosk parse`)
    outcome = service.handle(ScanEvent(os.fsencode(ctx.args.payload), ctx.args.source))
    if not outcome.ok:
        raise UsageError(outcome.detail) if outcome.reason != "storage" else RuntimeError(outcome.detail)
    data = outcome.to_json()
    ctx.emit(data, lambda: describe_visit(data))
    return 0


def visits(ctx) -> int:
    day = parse_date(ctx.args.date, "--date") if ctx.args.date else vn_date(ctx.app.clock.now())
    db = ctx.db()
    rows = [v.to_json() for v in visits_on(db, day.isoformat())]
    for r in rows:
        r.pop("existing")
    if rows:  # names on the console: an access to personal data (issue 10's audit trail)
        audit.record(db, actor=audit.default_actor(), action="viewed", record_kind="visits_of_day",
                     record_id=day.isoformat(), purpose="kiosk visits (command line)",
                     details={"visit_ids": [r["visit_id"] for r in rows]})

    def human() -> str:
        if not rows:
            return both("cli.visits.none", date=day.isoformat())
        return "\n".join(f"{r['queue_number']:>4}  {r['patient']['masked_id']:<14} "
                         f"{readable(r['patient']['full_name'], one_line=True):<30} "
                         f"BHYT {r['eligibility']['result_code']}  {r['source']}"
                         + ("  ! identity_mismatch" if "identity_mismatch" in r["flags"] else "") for r in rows)
    ctx.emit(rows, human)
    return 0


def config_check(ctx) -> int:
    cfg = ctx.config
    ctx.emit({"source": cfg.source, "values": cfg.values},
             lambda: f"configuration OK ({cfg.source})\n" + "\n".join(f"  {k} = {v!r}" for k, v in cfg.values.items()))
    return 0
