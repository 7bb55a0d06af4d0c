"""Import a roster file (docs/roster-format.md) into the minimised roster cache.

Streaming: lines are read, validated and reduced to keyed hashes one batch
at a time, so memory does not grow with the file. Each batch commits in its
own transaction together with the import's progress (byte offset, line
number, bad lines), so after a crash or a power cut a re-run of the same file
continues exactly where the last commit ended: nothing twice, nothing lost.

A snapshot loads into a staging table while lookups keep using the current
roster, then one transaction swaps it in and builds the indexes. A delta
(`since` must equal the current version) upserts and deletes in place; the
version moves to `until` only in its final transaction.

Public API: :func:`import_file` (→ :class:`ImportReport`), :func:`status`,
:func:`upsert`, :func:`current_version`, :func:`parse_header`,
:func:`fingerprint`, :func:`default_workers`. No SQL here
(kiosk.store.roster_import).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO

import orjson

from kiosk import store
from kiosk.clock import iso_utc, vn_date
from kiosk.eligibility import roster
from kiosk.eligibility.cards import BadCard, CardRow, RosterCard, minimise_row
from kiosk.errors import UsageError
from kiosk.logs import event
from kiosk.store import roster_import as rows_
from kiosk.store.roster_import import CardKey

log = logging.getLogger(__name__)

BATCH = 20_000
MAX_BAD_KEPT = 1000  # bad line numbers kept with their reason; the count is always exact

Progress = Callable[[int, int], None]  # (bytes read of the file as stored, total bytes)


@dataclass
class Header:
    kind: str  # "snapshot" | "delta"
    version: int  # snapshot version, or the delta's `until`
    since: int | None = None
    as_of: str | None = None
    present: bool = True


@dataclass
class ImportReport:
    file: str
    kind: str
    version: int
    since: int | None
    cards: int = 0
    deleted: int = 0
    bad_count: int = 0
    bad_lines: list[dict[str, object]] = field(default_factory=list)
    resumed_from_line: int = 0
    already_applied: bool = False
    rows: int = 0
    seconds: float = 0.0
    finish_seconds: float = 0.0  # the final transaction (snapshot: swap, de-duplicate, build the indexes)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


# --- the file --------------------------------------------------------------------

def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def fingerprint(path: Path) -> str:
    """Size plus the first and last MiB: tells a re-run of the same file from a different one, cheaply."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(size - (1 << 20))
            h.update(f.read())
    return h.hexdigest()


class RosterFile:
    """A roster file opened for streaming, plain or gzip; positions are offsets in the decompressed text."""

    def __init__(self, path: Path):
        self.path = path
        self.raw = open(path, "rb")
        self.size = os.fstat(self.raw.fileno()).st_size
        self.stream = gzip.GzipFile(fileobj=self.raw, mode="rb") if _is_gzip(path) else self.raw
        self.header, self.data_start, self.first_line_no = self._read_header()

    def _read_header(self) -> tuple[Header, int, int]:
        try:
            first = self.stream.readline()
        except (OSError, EOFError) as e:
            raise UsageError(f"{self.path}: cannot read ({e})") from None
        try:
            obj = orjson.loads(first) if first.strip() else None
        except orjson.JSONDecodeError:
            obj = None
        if not (isinstance(obj, dict) and "roster" in obj):
            self.stream.seek(0)
            return Header("snapshot", 0, present=False), 0, 1  # no header: a snapshot of version 0
        return parse_header(obj, self.path), len(first), 2

    def lines(self, offset: int) -> Iterator[tuple[int, bytes]]:
        """(offset after the line, line) from `offset` on."""
        self.stream.seek(offset)
        pos = offset
        for line in self.stream:
            pos += len(line)
            yield pos, line

    def raw_position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()


def parse_header(obj: dict[str, object], where: object = "header") -> Header:
    def version(name: str) -> int:
        v = obj.get(name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise UsageError(f"{where}: header field {name!r}: expected a non-negative integer, got {v!r}")
        return v

    given = obj.get("as_of")
    as_of = None
    if given is not None:
        try:
            as_of = date.fromisoformat(given).isoformat() if isinstance(given, str) else None
        except ValueError:
            pass
        if as_of is None:
            raise UsageError(f"{where}: header field 'as_of': expected YYYY-MM-DD, got {given!r}")
    kind = obj.get("roster")
    if kind == "snapshot":
        return Header("snapshot", version("version"), as_of=as_of)
    if kind == "delta":
        since, until = version("since"), version("until")
        if until <= since:
            raise UsageError(f"{where}: delta header: 'until' ({until}) must be greater than 'since' ({since})")
        return Header("delta", until, since, as_of)
    raise UsageError(f"{where}: header 'roster': expected \"snapshot\" or \"delta\", got {kind!r}")


# --- state -----------------------------------------------------------------------

def current_version(db: store.Executor) -> int | None:
    return rows_.current_version(db)


def status(db: store.Executor) -> dict[str, object]:
    """Version, rows, age and the state of the last import, for `kiosk roster status`."""
    meta = rows_.meta(db)
    as_of = meta.get("roster.as_of")
    count = int(meta["roster.rows"]) if "roster.rows" in meta else rows_.card_count(db)
    today = vn_date(db.clock.now())
    st = rows_.state(db)
    return {
        "version": int(meta["roster.version"]) if "roster.version" in meta else None,
        "rows": count,
        "as_of": as_of,
        "age_days": (today - date.fromisoformat(as_of)).days if as_of else None,
        "imported_at": meta.get("roster.imported_at"),
        "import": None if st is None else {
            "state": st.state, "kind": st.kind, "version": st.version, "since": st.since,
            "line": st.line_no, "cards": st.cards, "deleted": st.deleted, "bad_count": st.bad_count},
    }


# --- applying -------------------------------------------------------------------

def upsert(tx: store.Tx, cards: Iterable[RosterCard]) -> int:
    """Insert or replace cards in the live roster (inside the caller's transaction)."""
    rows = [c.row() for c in cards]
    rows_.upsert_cards(tx, rows)
    return len(rows)


@dataclass
class ParsedBatch:
    """One batch parsed: rows to insert, cards to delete first (a delta), bad lines, and the line counts of
    a delta's upserts and deletes. Built in a worker process: plain data, picklable."""

    rows: list[CardRow]
    deletes: list[CardKey]
    bad: list[dict[str, object]]
    upserts: int
    removals: int


def _parse_batch(key: bytes, lines: list[tuple[int, bytes]], delta: bool) -> ParsedBatch:
    """One batch's rows, deletes and bad lines.

    A snapshot's rows are in file order (duplicates go at the end of the import). A delta's lines act in
    file order — an upsert then a delete of the same card leaves it deleted, and the other way round — so
    its rows are the cards present at the end of the batch and its deletes every card the batch touched,
    both sorted by key for locality in the indexes; the store deletes, then inserts.
    """
    rows: list[CardRow] = []
    deletes: list[CardKey] = []
    bad: list[dict[str, object]] = []
    final: dict[CardKey, CardRow | None] = {}
    upserts = removals = 0
    for line_no, line in lines:
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
            if delta and isinstance(rec, dict) and "delete" in rec:
                card = rec["delete"]
                if not isinstance(card, str) or not card.strip() or len(rec) != 1:
                    raise BadCard("delete: expected {\"delete\": \"<card_number>\"}")
                final[roster.card_identity(key, card)] = None
                removals += 1
                continue
            row = minimise_row(key, rec)
            if delta:
                final[(row[0], row[1])] = row
                upserts += 1
            else:
                rows.append(row)
        except orjson.JSONDecodeError as e:
            bad.append({"line": line_no, "error": f"not JSON ({str(e).split(':')[0]})"})
        except BadCard as e:
            bad.append({"line": line_no, "error": str(e)})
    if delta:
        deletes = sorted(final, key=lambda k: (k[0], k[1] or ""))
        rows = [r for r in (final[k] for k in deletes) if r is not None]
        return ParsedBatch(rows, deletes, bad, upserts, removals)
    return ParsedBatch(rows, deletes, bad, len(rows), 0)


def import_file(db: store.Database, key: bytes, path: str | Path, *, batch_size: int = BATCH, force: bool = False,
                progress: Progress | None = None, now: Callable[[], datetime] | None = None,
                workers: int | None = None) -> ImportReport:
    """Apply a snapshot or delta file; resumes an interrupted import of the same file.

    `workers` processes parse and hash batches while this one writes them, in file order (None:
    `default_workers()`; 0: all in this process). `now`: the database's clock unless given.
    """
    t0 = time.monotonic()
    path = Path(path)
    now = now or db.clock.now
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    rf = RosterFile(path)
    try:
        hdr = rf.header
        # Bounded page cache: a snapshot's index builds sort in it; a delta's random index updates hit it.
        rows_.set_cache_size(db, 32768 if hdr.kind == "snapshot" else 65536)
        fp = fingerprint(path)
        state = rows_.state(db)
        version = rows_.current_version(db)
        report = ImportReport(str(path), hdr.kind, hdr.version, hdr.since)
        resuming = state is not None and state.fingerprint == fp
        if state is not None and resuming and state.state == "done":
            report.already_applied = True
            report.rows = rows_.card_count(db) if "roster.rows" not in rows_.meta(db) else \
                int(rows_.meta(db)["roster.rows"])
            return report
        if state is None or not resuming:
            _check_start(state, version, hdr, force, path)
            with store.transaction(db) as tx:
                rows_.start(tx, fingerprint=fp, kind=hdr.kind, version=hdr.version, since=hdr.since,
                            as_of=hdr.as_of, at=iso_utc(now()))
            event(log, "roster_import_started", kind=hdr.kind, version=hdr.version)
            state = rows_.state(db)
            assert state is not None, "written just above"
        report.resumed_from_line = state.line_no
        report.cards, report.deleted, report.bad_count = state.cards, state.deleted, state.bad_count
        if resuming:
            event(log, "roster_import_resumed", kind=hdr.kind, version=hdr.version, line=state.line_no)
        offset = state.offset or rf.data_start
        line_no = state.line_no or rf.first_line_no - 1
        delta = hdr.kind == "delta"
        last = 0
        if workers is None:
            workers = default_workers(rf.size)
        batches = _batches(rf, offset, line_no, batch_size)
        for end, last_line, parsed in _parsed(key, batches, delta, workers):
            _commit_batch(db, parsed, delta, end, last_line, report)
            if progress and (last_line - last) >= batch_size:
                progress(rf.raw_position(), rf.size)
                last = last_line
        if progress:
            progress(rf.size, rf.size)
            note = getattr(progress, "note", None)
            if note and hdr.kind == "snapshot":
                note("building the indexes and swapping the new roster in…")
        t1 = time.monotonic()
        _finish(db, hdr, now(), fp)
        report.finish_seconds = round(time.monotonic() - t1, 3)
    finally:
        rf.close()
    rows_.checkpoint(db)
    st = rows_.state(db)
    report.bad_lines = st.bad_lines if st is not None else []
    report.rows = int(rows_.meta(db).get("roster.rows", rows_.card_count(db)))
    report.seconds = round(time.monotonic() - t0, 3)
    event(log, "roster_imported", kind=hdr.kind, version=hdr.version, cards=report.cards, deleted=report.deleted,
          bad=report.bad_count, rows=report.rows, seconds=report.seconds)
    return report


def _check_start(state: rows_.ImportState | None, version: int | None, hdr: Header, force: bool,
                 path: Path) -> None:
    if state is not None and state.state == "loading" and state.kind == "delta" and hdr.kind == "delta":
        raise UsageError(f"an import of the delta {state.since}→{state.version} is unfinished: re-run that "
                         "file to finish it, or import a snapshot")
    if hdr.kind == "delta":
        if version is None:
            raise UsageError(f"{path}: a delta needs a roster to apply to: import a snapshot first")
        if hdr.since != version:
            raise UsageError(f"{path}: the delta starts at version {hdr.since} but the roster is at version "
                             f"{version}: import the deltas in order, or a snapshot")
    elif version is not None and hdr.version < version and not force:
        raise UsageError(f"{path}: snapshot version {hdr.version} is older than the roster's version {version} "
                         "(use --force to go back)")


def default_workers(size: int) -> int:
    """Parser processes for a file of `size` bytes: one fewer than the CPUs (at most 3) on 3 CPUs or more.

    With 2 CPUs one worker plus the writer gains nothing measurable (the pickling costs what the parallel
    parse saves, docs/benchmarks.md), so small machines parse in-process; a Raspberry Pi 4 has 4.
    """
    cpus = os.cpu_count() or 1
    return 0 if size < (1 << 20) or cpus <= 2 else min(3, cpus - 1)


Batch = tuple[int, int, list[tuple[int, bytes]]]  # (offset after the batch, its last line number, its lines)


def _batches(rf: RosterFile, offset: int, line_no: int, size: int) -> Iterator[Batch]:
    """(offset after the batch, its last line number, [(line number, line)]) from `offset` on."""
    batch: list[tuple[int, bytes]] = []
    end = offset
    for end, line in rf.lines(offset):
        line_no += 1
        batch.append((line_no, line))
        if len(batch) >= size:
            yield end, line_no, batch
            batch = []
    if batch:
        yield end, line_no, batch


def _parsed(key: bytes, batches: Iterable[Batch], delta: bool,
            workers: int) -> Iterator[tuple[int, int, ParsedBatch]]:
    """Parsed batches in file order; with workers, at most 2 per worker are in flight (memory stays bounded)."""
    if workers <= 0:
        for end, last, batch in batches:
            yield end, last, _parse_batch(key, batch, delta)
        return
    # fork: the workers only run _parse_batch (no SQLite, no threads), and start in milliseconds.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque[tuple[int, int, AsyncResult[ParsedBatch]]] = deque()
        for end, last, batch in batches:
            pending.append((end, last, pool.apply_async(_parse_batch, (key, batch, delta))))
            if len(pending) >= 2 * workers:
                e, n, res = pending.popleft()
                yield e, n, res.get()
        while pending:
            e, n, res = pending.popleft()
            yield e, n, res.get()


def _commit_batch(db: store.Database, parsed: ParsedBatch, delta: bool, end_offset: int, line_no: int,
                  report: ImportReport) -> None:
    """One batch and the import's progress in one transaction: a crash leaves either both or neither."""
    with store.transaction(db) as tx:
        rows_.write_batch(tx, delta=delta, rows=parsed.rows, deletes=parsed.deletes, bad=parsed.bad,
                          max_bad_kept=MAX_BAD_KEPT, end_offset=end_offset, line_no=line_no,
                          upserts=parsed.upserts, removals=parsed.removals)
    report.cards += parsed.upserts
    report.deleted += parsed.removals
    report.bad_count += len(parsed.bad)


def _finish(db: store.Database, hdr: Header, at: datetime, fp: str) -> None:
    as_of = hdr.as_of or vn_date(at).isoformat()
    if hdr.kind == "snapshot":
        # Each step its own (idempotent) transaction: a check-in waiting for the write lock waits seconds.
        tag = fp[:12]
        with store.transaction(db) as tx:
            rows_.index_staging_by_sin(tx, tag)
        with store.transaction(db) as tx:
            rows_.dedupe_staging(tx)
        with store.transaction(db) as tx:
            rows_.index_staging_by_id(tx, tag)
    with store.transaction(db) as tx:
        rows_.finish(tx, swap_in=hdr.kind == "snapshot", version=hdr.version, as_of=as_of, at=iso_utc(at))
