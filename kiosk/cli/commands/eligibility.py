"""`kiosk eligibility (--card NUMBER | --id-number ID) [--date YYYY-MM-DD] [--json]`."""

from __future__ import annotations

import re

from kiosk import eligibility
from kiosk.cli import add_json, parse_date
from kiosk.clock import vn_date
from kiosk.domain import PersonIdentity
from kiosk.eligibility.cards import normalise_birth
from kiosk.errors import UnavailableError, UsageError
from kiosk.store.roster import cards as roster_cards
from sync import national_lookup


def register(sub) -> None:
    e = sub.add_parser("eligibility", help="check a BHYT card against the roster (and the gateway when configured)")
    who = e.add_mutually_exclusive_group(required=True)
    who.add_argument("--card", metavar="NUMBER", help="the 15-character card code or the 10-digit number")
    who.add_argument("--id-number", metavar="ID", help="the 12-digit personal identification number")
    who.add_argument("--recheck-pending", action="store_true",
                     help="ask the gateway about today's and earlier visits still \"cannot verify now\" "
                     "and record its answers")
    e.add_argument("--date", help="visit date YYYY-MM-DD (default today, Vietnam time)")
    e.add_argument("--admitted", metavar="YYYY-MM-DD", help="inpatient admission date (for the 15-day grace)")
    e.add_argument("--name", help="the name on the card or chip, to check it against the roster")
    e.add_argument("--birth-date", metavar="YYYY-MM-DD|YYYY", help="the birth date on the card or chip")
    mode = e.add_mutually_exclusive_group()
    mode.add_argument("--offline", action="store_true", help="never ask the gateway")
    mode.add_argument("--online", action="store_true", help="ask the gateway even when the roster knows the card")
    add_json(e)
    e.set_defaults(func=eligibility_cmd)


def eligibility_cmd(ctx) -> int:
    a = ctx.args
    if a.recheck_pending:
        return recheck(ctx)
    card = sin = idn = None
    if a.card is not None:
        c = a.card.strip().upper()
        if re.fullmatch(r"[0-9]{10}", c, re.ASCII):
            sin = c
        elif re.fullmatch(r"[A-Z]{2}[1-5][0-9]{12}", c, re.ASCII):
            card = c
        else:
            raise UsageError("--card: expected the 15-character code (e.g. HS4401234567890) or the 10-digit number")
    else:
        idn = a.id_number.strip()
        if not re.fullmatch(r"[0-9]{12}", idn, re.ASCII):
            raise UsageError("--id-number: expected 12 digits")
    day = parse_date(a.date, "--date") if a.date else vn_date(ctx.app.clock.now())
    admitted = parse_date(a.admitted, "--admitted") if a.admitted else None
    dob = None
    if a.birth_date:
        dob = normalise_birth(a.birth_date)
        if dob is None:
            raise UsageError("--birth-date: expected YYYY-MM-DD or YYYY")
    identity = PersonIdentity("manual", a.name or "", dob, id_number=idn, social_insurance_number=sin,
                              card_number=card)
    db = ctx.db()
    key = ctx.roster_key()
    cfg = ctx.config
    result = eligibility.check(roster_cards(db), key, identity, day, cfg["facility.code"], admitted_on=admitted)
    if not a.offline and (a.online or result.result_code == eligibility.CANNOT_VERIFY):
        gateway = national_lookup.from_config(cfg)
        if gateway is not None:
            result = national_lookup.check_or_pending(gateway, identity, day, cfg["facility.code"], fallback=result)
        elif a.online:
            raise UsageError("--online: no gateway is configured (gateway.url)")
    card_info = eligibility.matched_card(roster_cards(db), key, identity) if result.source == "roster" else None
    data = {"result_code": result.result_code, "benefit_percent": result.benefit_percent, "reason": result.reason,
            "source": result.source, "as_of": result.as_of, "provenance": eligibility.provenance(result),
            "visit_date": day.isoformat(), "card": {"number_masked": result.card_number, **(card_info or {})},
            "details": result.details}

    def human() -> str:
        pct = f" {result.benefit_percent}%" if result.benefit_percent is not None else ""
        return (f"BHYT [{result.result_code}]{pct}: {result.reason}\n"
                f"  thẻ {result.card_number or '-'}, ngày khám {day.strftime('%d/%m/%Y')} — "
                f"{eligibility.provenance(result)}")
    ctx.emit(data, human)
    return 0


def recheck(ctx) -> int:
    try:
        gateway = ctx.app.national_lookup()  # signed in
    except national_lookup.GatewayUnavailable as e:
        raise UnavailableError(str(e)) from None
    if gateway is None:
        raise UsageError("--recheck-pending: no gateway is configured (gateway.url)")
    done = national_lookup.recheck_pending(ctx.db(), gateway, ctx.config["facility.code"])
    ctx.emit({"rechecked": done}, lambda: f"{len(done)} pending visits checked online: "
             + (", ".join(f"visit {d['visit_id']} → {d['result_code']}" for d in done) or "none"))
    return 0
