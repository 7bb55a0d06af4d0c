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
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from kiosk import store
from kiosk.eligibility import roster
from kiosk.clock import iso_utc, vn_date
from kiosk.eligibility.cards import COLUMNS, BadCard, RosterCard, minimise_row
from kiosk.errors import UsageError
from kiosk.logs import event

log = logging.getLogger(__name__)

BATCH = 20_000
MAX_BAD_KEPT = 1000  # bad line numbers kept with their reason; the count is always exact
_STAGING = "roster_cards_next"
_INSERT = f"INSERT INTO {{table}}({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

_DELETE = "DELETE FROM roster_cards WHERE sin_key = ? AND card_prefix IS ?"

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
    bad_lines: list[dict] = field(default_factory=list)
    resumed_from_line: int = 0
    already_applied: bool = False
    rows: int = 0
    seconds: float = 0.0
    finish_seconds: float = 0.0  # the final transaction (snapshot: swap, de-duplicate, build the indexes)

    def to_json(self) -> dict:
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


def parse_header(obj: dict, where: object = "header") -> Header:
    def version(name: str) -> int:
        v = obj.get(name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise UsageError(f"{where}: header field {name!r}: expected a non-negative integer, got {v!r}")
        return v

    as_of = obj.get("as_of")
    if as_of is not None:
        try:
            as_of = date.fromisoformat(as_of).isoformat()
        except (TypeError, ValueError):
            raise UsageError(f"{where}: header field 'as_of': expected YYYY-MM-DD, got {as_of!r}") from None
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

def current_version(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'roster.version'").fetchone()
    return int(row[0]) if row else None


def _state(conn: sqlite3.Connection) -> dict | None:
    cur = conn.execute("SELECT * FROM roster_import WHERE id = 1")
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def status(conn: sqlite3.Connection) -> dict:
    """Version, rows, age and the state of the last import, for `kiosk roster status`."""
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'roster.%'").fetchall())
    as_of = meta.get("roster.as_of")
    rows = meta.get("roster.rows")
    if rows is None:
        rows = conn.execute("SELECT count(*) FROM roster_cards").fetchone()[0]
    today = vn_date(datetime.now(timezone.utc))
    st = _state(conn)
    return {
        "version": int(meta["roster.version"]) if "roster.version" in meta else None,
        "rows": int(rows),
        "as_of": as_of,
        "age_days": (today - date.fromisoformat(as_of)).days if as_of else None,
        "imported_at": meta.get("roster.imported_at"),
        "import": None if st is None else {
            "state": st["state"], "kind": st["kind"], "version": st["version"], "since": st["since"],
            "line": st["line_no"], "cards": st["cards"], "deleted": st["deleted"], "bad_count": st["bad_count"]},
    }


# --- applying -------------------------------------------------------------------

def upsert(conn: sqlite3.Connection, cards: Iterable[RosterCard]) -> int:
    """Insert or replace cards in the live roster (inside the caller's transaction)."""
    rows = [c.row() for c in cards]
    conn.executemany(_DELETE, [(r[0], r[1]) for r in rows])
    conn.executemany(_INSERT.format(table="roster_cards"), rows)
    return len(rows)


class ParsedBatch(tuple):
    """(rows, deletes, bad) plus the line counts of a delta's upserts and deletes."""

    upserts: int
    removals: int


def _parse_batch(key: bytes, lines: list[tuple[int, bytes]], delta: bool):
    """(rows, deletes, bad lines) of one batch.

    A snapshot's rows are in file order (duplicates go at the end of the import). A delta's lines act in
    file order — an upsert then a delete of the same card leaves it deleted, and the other way round — so
    its rows are the cards present at the end of the batch and its deletes every card the batch touched,
    both sorted by key for locality in the indexes; `_commit_batch` deletes, then inserts.
    """
    rows, deletes, bad = [], [], []
    final: dict[tuple, tuple | None] = {}
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
        order = sorted(final, key=lambda k: (k[0], k[1] or ""))
        rows = [final[k] for k in order if final[k] is not None]
        deletes = order
    out = ParsedBatch((rows, deletes, bad))
    out.upserts, out.removals = (upserts, removals) if delta else (len(rows), 0)
    return out


def import_file(db, key: bytes, path: str | Path, *, batch_size: int = BATCH, force: bool = False,
                progress: Progress | None = None, now: Callable[[], datetime] | None = None,
                workers: int | None = None) -> ImportReport:
    """Apply a snapshot or delta file; resumes an interrupted import of the same file.

    `workers` processes parse and hash batches while this one writes them, in file order (None:
    `default_workers()`; 0: all in this process).
    """
    import time
    t0 = time.monotonic()
    path = Path(path)
    now = now or (lambda: datetime.now(timezone.utc))
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    conn = db.conn
    rf = RosterFile(path)
    try:
        hdr = rf.header
        # Bounded page cache: a snapshot's index builds sort in it; a delta's random index updates hit it.
        conn.execute(f"PRAGMA cache_size={-32768 if hdr.kind == 'snapshot' else -65536}")
        fp = fingerprint(path)
        state = _state(conn)
        version = current_version(conn)
        report = ImportReport(str(path), hdr.kind, hdr.version, hdr.since)
        resuming = state is not None and state["fingerprint"] == fp
        if resuming and state["state"] == "done":
            report.already_applied = True
            report.rows = status(conn)["rows"]
            return report
        if not resuming:
            _check_start(conn, state, version, hdr, force, path)
            _start(conn, hdr, fp, now())
            state = _state(conn)
        report.resumed_from_line = state["line_no"]
        report.cards, report.deleted, report.bad_count = state["cards"], state["deleted"], state["bad_count"]
        if resuming:
            event(log, "roster_import_resumed", kind=hdr.kind, version=hdr.version, line=state["line_no"])
        offset = state["offset"] or rf.data_start
        line_no = state["line_no"] or rf.first_line_no - 1
        delta = hdr.kind == "delta"
        target = "roster_cards" if delta else _STAGING
        last = 0
        if workers is None:
            workers = default_workers(rf.size)
        batches = _batches(rf, offset, line_no, batch_size)
        for end, last_line, parsed in _parsed(key, batches, delta, workers):
            _commit_batch(conn, parsed, delta, target, end, last_line, report)
            if progress and (last_line - last) >= batch_size:
                progress(rf.raw_position(), rf.size)
                last = last_line
        if progress:
            progress(rf.size, rf.size)
            note = getattr(progress, "note", None)
            if note and hdr.kind == "snapshot":
                note("building the indexes and swapping the new roster in…")
        t1 = time.monotonic()
        _finish(db, hdr, now(), report, fp)
        report.finish_seconds = round(time.monotonic() - t1, 3)
    finally:
        rf.close()
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass  # a reader holds the WAL; it is checkpointed later
    st = _state(conn)
    report.bad_lines = json.loads(st["bad_lines"])
    report.rows = status(conn)["rows"]
    report.seconds = round(time.monotonic() - t0, 3)
    event(log, "roster_imported", kind=hdr.kind, version=hdr.version, cards=report.cards, deleted=report.deleted,
          bad=report.bad_count, rows=report.rows, seconds=report.seconds)
    return report


def _check_start(conn, state, version, hdr: Header, force: bool, path) -> None:
    if state is not None and state["state"] == "loading" and state["kind"] == "delta" and hdr.kind == "delta":
        raise UsageError(f"an import of the delta {state['since']}→{state['version']} is unfinished: re-run that "
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


def _start(conn, hdr: Header, fp: str, at: datetime) -> None:
    with _tx(conn):
        conn.execute(f"DROP TABLE IF EXISTS {_STAGING}")
        if hdr.kind == "snapshot":
            conn.execute(f"CREATE TABLE {_STAGING} AS SELECT * FROM roster_cards WHERE 0")
        conn.execute("INSERT OR REPLACE INTO roster_import(id, fingerprint, kind, version, since, as_of, state, "
                     "started_at) VALUES (1, ?, ?, ?, ?, ?, 'loading', ?)",
                     [fp, hdr.kind, hdr.version, hdr.since, hdr.as_of, iso_utc(at)])
    event(log, "roster_import_started", kind=hdr.kind, version=hdr.version)


def default_workers(size: int) -> int:
    """Parser processes for a file of `size` bytes: one fewer than the CPUs (at most 3) on 3 CPUs or more.

    With 2 CPUs one worker plus the writer gains nothing measurable (the pickling costs what the parallel
    parse saves, docs/benchmarks.md), so small machines parse in-process; a Raspberry Pi 4 has 4.
    """
    cpus = os.cpu_count() or 1
    return 0 if size < (1 << 20) or cpus <= 2 else min(3, cpus - 1)


def _batches(rf: RosterFile, offset: int, line_no: int, size: int):
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


def _parsed(key: bytes, batches, delta: bool, workers: int):
    """Parsed batches in file order; with workers, at most 2 per worker are in flight (memory stays bounded)."""
    if workers <= 0:
        for end, last, batch in batches:
            yield end, last, _parse_batch(key, batch, delta)
        return
    import multiprocessing
    from collections import deque
    # fork: the workers only run _parse_batch (no SQLite, no threads), and start in milliseconds.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque = deque()
        for end, last, batch in batches:
            pending.append((end, last, pool.apply_async(_parse_batch, (key, batch, delta))))
            if len(pending) >= 2 * workers:
                e, n, res = pending.popleft()
                yield e, n, res.get()
        while pending:
            e, n, res = pending.popleft()
            yield e, n, res.get()


def _commit_batch(conn, parsed, delta, target, end_offset, line_no, report: ImportReport) -> None:
    rows, deletes, bad = parsed
    with _tx(conn):
        if delta:
            conn.executemany(_DELETE, deletes)
        conn.executemany(_INSERT.format(table=target), rows)
        kept = []
        if bad:
            (old,) = conn.execute("SELECT bad_lines FROM roster_import WHERE id = 1").fetchone()
            kept = json.loads(old)
            kept.extend(bad[:max(0, MAX_BAD_KEPT - len(kept))])
        conn.execute("UPDATE roster_import SET offset = ?, line_no = ?, cards = cards + ?, deleted = deleted + ?, "
                     "bad_count = bad_count + ?, bad_lines = coalesce(?, bad_lines) WHERE id = 1",
                     [end_offset, line_no, parsed.upserts, parsed.removals, len(bad),
                      json.dumps(kept) if bad else None])
    report.cards += parsed.upserts
    report.deleted += parsed.removals
    report.bad_count += len(bad)


def _finish(db, hdr: Header, at: datetime, report: ImportReport, fp: str) -> None:
    conn = db.conn
    as_of = hdr.as_of or vn_date(at).isoformat()
    if hdr.kind == "snapshot":
        # Index and de-duplicate the staging table in steps, each its own (idempotent) transaction, so a
        # check-in waiting for the write lock waits seconds, not the whole build. Index names carry the
        # file's fingerprint: they move with the table when it is renamed into place.
        tag = fp[:12]
        with _tx(conn):
            conn.execute(f"CREATE INDEX IF NOT EXISTS roster_sin_{tag} ON {_STAGING}(sin_key)")
        with _tx(conn):
            # The same card twice in a snapshot: the last line wins (highest rowid, file order).
            conn.execute(f"DELETE FROM {_STAGING} WHERE rowid IN (SELECT r.rowid FROM {_STAGING} r JOIN "
                         f"(SELECT sin_key, card_prefix, max(rowid) AS keep FROM {_STAGING} "
                         "GROUP BY sin_key, card_prefix HAVING count(*) > 1) d ON r.sin_key = d.sin_key "
                         "AND r.card_prefix IS d.card_prefix AND r.rowid != d.keep)")
        with _tx(conn):
            conn.execute(f"CREATE INDEX IF NOT EXISTS roster_id_{tag} ON {_STAGING}(id_key)")
    with _tx(conn):
        if hdr.kind == "snapshot":
            conn.execute("DROP TABLE roster_cards")
            conn.execute(f"ALTER TABLE {_STAGING} RENAME TO roster_cards")
        (rows,) = conn.execute("SELECT count(*) FROM roster_cards").fetchone()
        store.set_meta(conn, "roster.version", str(hdr.version))
        store.set_meta(conn, "roster.as_of", as_of)
        store.set_meta(conn, "roster.rows", str(rows))
        store.set_meta(conn, "roster.imported_at", iso_utc(at))
        conn.execute("UPDATE roster_import SET state = 'done', finished_at = ? WHERE id = 1", [iso_utc(at)])


class _tx:
    """BEGIN IMMEDIATE … COMMIT on a raw connection (store.transaction wants the sqlite-utils wrapper)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, etype, e, tb):
        if etype is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        return False
