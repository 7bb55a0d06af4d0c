"""`kiosk stay start|list|receipt`: patient-stay notifications (kiosk/services/stay_notification.py)."""

from __future__ import annotations

from kiosk.cli import add_json, ascii_int, readable
from kiosk.privacy import audit
from kiosk.services import stay_notification as sn


def register(sub) -> None:
    s = sub.add_parser("stay", help="patient-stay notifications (thông báo lưu trú)")
    ss = s.add_subparsers(dest="stay_command", metavar="ACTION", required=True)

    st = ss.add_parser("start", help="raise the notification for a visit's patient and queue it for the hub")
    st.add_argument("visit_id", type=ascii_int, metavar="VISIT_ID")
    st.add_argument("--reason", required=True, help="reason for the stay (lý do lưu trú)")
    st.add_argument("--from", dest="stay_from", metavar="ISO",
                    help="start of the stay (default now); without an offset it is Vietnam time")
    st.add_argument("--until", metavar="ISO", help="expected end of the stay")
    st.add_argument("--passport", metavar="NUMBER", help="passport number, for a patient without a personal ID number")
    add_json(st)
    st.set_defaults(func=start)

    ls = ss.add_parser("list", help="every notification with its deadline and state")
    ls.add_argument("--open", action="store_true", help="only those not yet acknowledged or receipted")
    add_json(ls)
    ls.set_defaults(func=list_)

    r = ss.add_parser("receipt", help="record the receipt of a submission made by hand (VNeID, the portal)")
    r.add_argument("notification_id", type=ascii_int, metavar="ID")
    r.add_argument("text", metavar="TEXT", help="the receipt or case number")
    add_json(r)
    r.set_defaults(func=receipt)


def _clock_note(synced: bool) -> str:
    return "" if synced else ("\n  ! the system clock is NOT synchronised: the start time and deadline come from "
                              "an untrusted clock — check them against a watch")


def _left(seconds: int | None) -> str:
    if seconds is None:
        return "done"
    sign = "overdue by " if seconds < 0 else ""
    s = abs(seconds)
    return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m" + ("" if sign else " left")


def describe(n: dict) -> str:
    trust = "" if n.get("deadline_trusted", True) else " (clock not synchronised: time left may be wrong)"
    alarm = " ALARM" if n.get("alarm") else ""
    extra = ""
    if n["receipt_text"]:
        extra += f"\n      receipt by hand: {readable(n['receipt_text'], one_line=True)} at {n['receipt_at']}"
    if n["manual_reason"]:
        extra += f"\n      needs manual submission: {readable(n['manual_reason'], one_line=True)}"
    if "submitted_twice" in n["flags"]:
        extra += "\n      ! submitted twice (hub and by hand): tell the police desk"
    return (f"#{n['id']:<4} {n['state']:<16} visit {n['visit_id']:<5} {n['masked_id']:<14} "
            f"{readable(n['full_name'], one_line=True)}\n"
            f"      due {n['deadline_local']} — {_left(n.get('time_left_seconds'))}{alarm}{trust}; "
            f"reason: {readable(n['reason'], one_line=True)}{extra}")


def start(ctx) -> int:
    cfg = ctx.config
    clock = ctx.app.clock
    begin = sn.parse_when(ctx.args.stay_from, "--from") if ctx.args.stay_from else None
    until = sn.parse_when(ctx.args.until, "--until") if ctx.args.until else None
    n = sn.start(ctx.db(), ctx.args.visit_id, ctx.args.reason, facility_code=cfg["facility.code"],
                 address_of_stay=cfg["facility.address"], stay_from=begin, stay_until=until,
                 passport_number=ctx.args.passport)
    data = n.to_json(clock.now(), n.clock_synced)
    ctx.emit(data, lambda: "stay notification raised and queued for the hub\n" + describe(data)
             + _clock_note(n.clock_synced))
    return 0


def list_(ctx) -> int:
    clock = ctx.app.clock
    now, synced = clock.now(), clock.synchronised()
    db = ctx.db()
    rows = [n.to_json(now, synced) for n in sn.list_all(db, sn.OPEN_STATES if ctx.args.open else None)]
    if rows:  # names on the console: an access to personal data (issue 10's audit trail)
        audit.record(db, actor=audit.default_actor(), action="viewed", record_kind="stay_notifications",
                     record_id="open" if ctx.args.open else "all", purpose="kiosk stay list (command line)",
                     details={"ids": [r["id"] for r in rows]})

    def human() -> str:
        if not rows:
            return "no stay notifications"
        note = "" if synced else "\n(the system clock is not synchronised: times left are approximate)"
        return "\n".join(describe(r) for r in rows) + note
    ctx.emit(rows, human)
    return 0


def receipt(ctx) -> int:
    clock = ctx.app.clock
    n, outcome = sn.record_receipt(ctx.db(), ctx.args.notification_id, ctx.args.text)
    data = n.to_json(clock.now(), clock.synchronised())
    data["outcome"] = outcome
    words = {"withdrawn": "receipt recorded; the queued notification was withdrawn from the outbox",
             "recorded": "receipt recorded",
             "kept_both": "receipt recorded; the notification had ALREADY been sent to the hub — both are kept "
                          "and flagged: tell the police desk it was submitted twice"}[outcome]
    ctx.emit(data, lambda: words + "\n" + describe(data))
    return 0
