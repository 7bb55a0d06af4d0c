"""`kiosk audit verify` and `kiosk audit list`: the audit trail of access to personal data."""

from __future__ import annotations

import json

from kiosk.cli import add_json, ascii_int
from kiosk.errors import KioskError, UsageError
from kiosk.privacy import audit


class AuditBroken(KioskError):
    exit_code = 1


def register(sub) -> None:
    a = sub.add_parser("audit", help="the audit trail of access to personal data")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="check the hash chain; names the first broken entry (exit 1 if broken)")
    v.add_argument("--anchors", metavar="FILE",
                   help="also compare with the hub's copies (the JSON `kiosk-hub audit --name NAME --json` prints)")
    add_json(v)
    v.set_defaults(func=verify)
    ls = asub.add_parser("list", help="show audit entries (no personal data is stored in them)")
    ls.add_argument("--since", type=ascii_int, default=0, metavar="SEQ", help="only entries after this sequence number")
    ls.add_argument("--limit", type=ascii_int, default=50, help="at most this many entries (default 50)")
    add_json(ls)
    ls.set_defaults(func=list_entries)


def verify(ctx) -> int:
    anchors, links, highest = {}, {}, None
    if ctx.args.anchors:
        anchors, links, highest = _read_anchors(ctx.args.anchors)
    verdict = audit.verify(ctx.db(), anchors, links, highest)
    data = verdict.to_json()
    if verdict.ok:
        ctx.emit(data, f"audit log intact: {verdict.entries} entries, head {verdict.head or '(empty)'}")
        return 0
    ctx.emit(data, f"AUDIT LOG BROKEN at entry {verdict.first_broken}: {verdict.problem}")
    return 1


def _read_anchors(path: str) -> tuple[dict[int, str], dict[int, str], int | None]:
    """The hub's view (`kiosk-hub audit --json`): anchors, links and `highest_seq`, all checked."""
    hexhash = lambda v: isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)
    try:
        data = json.loads(open(path, encoding="utf-8").read())
        anchors = {int(k): v for k, v in data.get("anchors", data).items() if k != "highest_seq"}
        links = {int(k): v for k, v in data.get("links", {}).items()}
        highest = data.get("highest_seq")
    except (OSError, ValueError, AttributeError, TypeError) as e:
        raise UsageError(f"--anchors: not the JSON of `kiosk-hub audit --json` ({type(e).__name__})") from None
    if highest is not None and (not isinstance(highest, int) or isinstance(highest, bool) or highest < 0):
        raise UsageError("--anchors: highest_seq must be a whole number >= 0")
    if not all(k > 0 and hexhash(v) for m in (anchors, links) for k, v in m.items()):
        raise UsageError("--anchors: every anchor is a positive sequence number and a SHA-256 hex hash")
    return anchors, links, highest


def list_entries(ctx) -> int:
    rows = [e.to_json() for e in audit.entries(ctx.db(), ctx.args.since, ctx.args.limit)]
    ctx.emit(rows, lambda: "\n".join(
        f"{r['seq']:>6} {r['at']} {r['actor']:<16} {r['action']:<13} {r['record_kind']}:{r['record_id']}  "
        f"({r['purpose']})" for r in rows) or "no audit entries")
    return 0
