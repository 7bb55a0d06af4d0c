"""`kiosk roster import FILE`, `kiosk roster status`, `kiosk roster sync`."""

from __future__ import annotations

import sys
import time

from kiosk.cli import add_json, ascii_int
from kiosk.errors import UsageError
from kiosk.services import roster_import as ri
from sync.client import HubClient
from sync.roster_download import download_updates


def register(sub) -> None:
    r = sub.add_parser("roster", help="the BHYT roster cache: import, status, sync from the hub")
    rsub = r.add_subparsers(dest="roster_command", metavar="ACTION", required=True)

    imp = rsub.add_parser("import", help="apply a roster snapshot or delta file (JSON Lines, optionally gzip); "
                          "re-run the same file to resume an interrupted import")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--force", action="store_true", help="accept a snapshot older than the current roster")
    imp.add_argument("--batch-size", type=ascii_int, default=20_000, metavar="N",
                     help="cards per transaction (default 20000)")
    imp.add_argument("--workers", type=ascii_int, metavar="N", help="processes that parse and hash while this one writes "
                     "(default: one fewer than the CPUs, at most 3; 0: none)")
    add_json(imp)
    imp.set_defaults(func=roster_import)

    st = rsub.add_parser("status", help="roster version, row count and age")
    add_json(st)
    st.set_defaults(func=roster_status)

    sy = rsub.add_parser("sync", help="download what is new from the hub (snapshot or deltas) and apply it")
    add_json(sy)
    sy.set_defaults(func=roster_sync)


class _Bar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.t0 = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(1.0, done / total)
        width = 30
        fill = int(frac * width)
        rate = done / max(1e-6, time.monotonic() - self.t0) / 1e6
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {frac * 100:5.1f}%  {rate:5.1f} MB/s ")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"\n{text}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def roster_import(ctx) -> int:
    if ctx.args.batch_size < 1:
        raise UsageError("--batch-size: expected a positive integer")
    if ctx.args.workers is not None and not 0 <= ctx.args.workers <= 16:
        raise UsageError("--workers: expected 0 to 16")
    bar = _Bar()
    try:
        report = ri.import_file(ctx.db(), ctx.roster_key(), ctx.args.file, batch_size=ctx.args.batch_size,
                                force=ctx.args.force, progress=bar, workers=ctx.args.workers)
    finally:
        bar.close()
    data = report.to_json()

    def human() -> str:
        if report.already_applied:
            return f"{report.file}: already applied (roster version {report.version}, {report.rows} cards)"
        what = (f"snapshot version {report.version}" if report.kind == "snapshot"
                else f"delta {report.since} → {report.version}")
        lines = [f"{what}: {report.cards} cards applied, {report.deleted} deleted, {report.bad_count} bad lines; "
                 f"roster now {report.rows} cards ({report.seconds:.1f} s"
                 + (f", resumed at line {report.resumed_from_line}" if report.resumed_from_line else "") + ")"]
        for b in report.bad_lines[:20]:
            lines.append(f"  line {b['line']}: {b['error']}")
        if report.bad_count > 20:
            lines.append(f"  … {report.bad_count - 20} more (all line numbers: --json, up to {ri.MAX_BAD_KEPT})")
        return "\n".join(lines)
    ctx.emit(data, human)
    return 0


def roster_status(ctx) -> int:
    data = ri.status(ctx.db())

    def human() -> str:
        if data["version"] is None and not data["rows"]:
            return "no roster imported yet: every check is \"cannot verify now\" until one is (kiosk roster import)"
        age = f", {data['age_days']} days old" if data["age_days"] is not None else ""
        version = "(no version: seeded, not imported)" if data["version"] is None else f"version {data['version']}"
        text = f"roster {version}: {data['rows']} cards, as of {data['as_of'] or 'unknown'}{age}"
        imp = data["import"]
        if imp and imp["state"] == "loading":
            text += (f"\nunfinished {imp['kind']} import (version {imp['version']}) at line {imp['line']}: "
                     "re-run `kiosk roster import` with the same file to finish it")
        return text
    ctx.emit(data, human)
    return 0


def roster_sync(ctx) -> int:
    """Download what is new from the hub (sync/roster_download.py) and apply each file in order.

    Both halves resume: a cut download continues with an HTTP Range request,
    a cut import continues after its last committed batch (same file, same
    fingerprint). A file is deleted once applied.
    """
    db = ctx.db()
    key = ctx.roster_key()
    before = ri.current_version(db)
    client = HubClient.from_config(ctx.config)
    try:
        plan = download_updates(client, before, ctx.config.data_dir / "roster-downloads")
    finally:
        client.close()
    applied = []
    for f in plan.files:
        bar = _Bar()
        try:
            rep = ri.import_file(db, key, f.path, progress=bar)
        finally:
            bar.close()
        applied.append({"kind": f.kind, "since": f.since, "version": f.version, "cards": rep.cards,
                        "deleted": rep.deleted, "bad_count": rep.bad_count,
                        "resumed_from_line": rep.resumed_from_line, "already_applied": rep.already_applied})
        f.path.unlink(missing_ok=True)
    after = ri.status(db)
    data = {"from_version": before, "to_version": after["version"], "latest_version": plan.latest_version,
            "up_to_date": after["version"] is not None and after["version"] == plan.latest_version,
            "downloaded_resumed_bytes": plan.resumed_bytes, "files": applied, "rows": after["rows"]}

    def human() -> str:
        if not applied:
            return (f"roster up to date (version {before}, {after['rows']} cards)" if plan.up_to_date
                    else "the hub has no roster to offer yet")
        lines = [f"roster {before} → {after['version']}: {len(applied)} file(s), {after['rows']} cards"]
        for a in applied:
            what = f"snapshot {a['version']}" if a["kind"] == "snapshot" else f"delta {a['since']} → {a['version']}"
            lines.append(f"  {what}: {a['cards']} cards, {a['deleted']} deleted, {a['bad_count']} bad lines")
        return "\n".join(lines)
    ctx.emit(data, human)
    return 0
