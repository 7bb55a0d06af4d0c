"""Download what is new in the roster from the hub: a chain of deltas, or a snapshot and the deltas after it.

For `kiosk roster sync` (the eligibility issue): ::

    from sync.client import HubClient
    from sync.roster_download import download_updates

    client = HubClient.from_config(cfg)
    plan = download_updates(client, since=current_version_or_None, dest=cfg.data_dir / "roster-downloads")
    for f in plan.files:            # apply in this order
        import_roster_file(f.path)  # your importer; f.kind is "snapshot" or "delta"
        f.path.unlink()             # once applied

`since=None` asks for the newest snapshot (and deltas after it). The hub
answers with a chain of deltas when it has one from `since`, otherwise with
the newest snapshot first. Each file is fetched into `<dest>/<name>.part`
and resumed with an HTTP Range request after a dropped connection or a power
cut, then checked against the SHA-256 the hub announced and renamed to its
final name. Raises :class:`sync.client.HubUnavailable` (exit 3) when the hub
cannot be reached, and :class:`RosterDownloadError` (exit 3) when what it
sends cannot be used.

Nothing the hub sends is trusted (issue 13). The listing is checked whole
before the first byte is fetched (:func:`parse_plan`): types, non-negative
versions that chain from `since` to `latest_version`, sizes, checksums, and
file URLs of the one fixed form. File names are built only from a fixed set
of kinds and suffixes plus those checked numbers, and the resolved path must
stay in `dest`. Each file is refused when the hub's Content-Length or
Content-Range disagrees with the listing, when it sends more bytes than
announced, or when the checksum differs; and, once every file is here, when
its own header disagrees with the listing, a line is absurdly long, or it
decompresses to far more than a roster compresses from. Nothing is applied
until every file has passed, so a lying hub leaves the roster as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import requests

from kiosk.errors import UnavailableError, UsageError
from kiosk.logs import event
from kiosk.services.roster_import import parse_header
from sync.client import BadAnswer, HubClient, HubUnavailable, parse_json

log = logging.getLogger(__name__)

PREFIXES = {"snapshot": "snapshot", "delta": "delta"}  # the only kinds, and the only file-name prefixes
KINDS = tuple(PREFIXES)
SUFFIXES = {False: ".jsonl", True: ".jsonl.gz"}  # by the listing's `gzip`
FILE_URL = re.compile(r"/v1/roster/files/[0-9]{1,18}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_FILES = 5000  # a delta a day for over a decade
MAX_FILE_BYTES = 8 << 30
MAX_VERSION = (1 << 63) - 1  # SQLite's INTEGER
MAX_LINE_BYTES = 1 << 20  # a roster line is ~200 bytes
MAX_INFLATE_RATIO = 200  # JSON Lines compress ~5-10x; a gzip bomb ~1000x
MIN_INFLATE_CAP = 256 << 20
SPACE_MARGIN = 64 << 20  # left free on the data partition after the download


class RosterDownloadError(UnavailableError):
    """What the hub sent cannot be used (exit 3): nothing was applied."""


@dataclass(frozen=True)
class RosterFile:
    kind: str  # "snapshot" | "delta"
    version: int  # the version after applying it
    since: int | None  # a delta's starting version
    path: Path
    sha256: str
    size: int


@dataclass
class DownloadPlan:
    latest_version: int | None
    up_to_date: bool
    files: list[RosterFile] = field(default_factory=list)
    resumed_bytes: int = 0  # bytes of partial files kept and resumed with Range


@dataclass(frozen=True)
class FileSpec:
    """One file of the hub's listing, checked."""

    kind: str
    version: int
    since: int | None
    size: int
    sha256: str
    gzip: bool
    url: str

    @property
    def name(self) -> str:
        versions = f"{self.since}-{self.version}" if self.kind == "delta" else f"{self.version}"
        return f"{PREFIXES[self.kind]}-{versions}-{self.sha256[:12]}{SUFFIXES[self.gzip]}"


@dataclass(frozen=True)
class Listing:
    latest_version: int | None
    up_to_date: bool
    files: list[FileSpec]


def _refused(what: str, **fields: Any) -> RosterDownloadError:
    event(log, "roster_download_refused", logging.WARNING, reason=what[:120], **fields)
    return RosterDownloadError(f"the hub's roster answer cannot be used: {what}; nothing was applied")


def _version(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_VERSION


def parse_plan(info: Any, since: int | None) -> Listing:
    """The hub's answer to "what is new since `since`", checked whole; RosterDownloadError otherwise."""
    if not isinstance(info, dict):
        raise _refused(f"expected a JSON object, got {type(info).__name__}")
    latest, up_to_date, files = info.get("latest_version"), info.get("up_to_date"), info.get("files")
    if latest is not None and not _version(latest):
        raise _refused("latest_version is not a non-negative integer")
    if not isinstance(up_to_date, bool):
        raise _refused("up_to_date is not true or false")
    if not isinstance(files, list):
        raise _refused("files is not a list")
    if len(files) > MAX_FILES:
        raise _refused(f"{len(files)} files listed, more than {MAX_FILES}")
    if up_to_date:
        if files:
            raise _refused("up to date, yet files are listed")
        if latest is None or since is None or since < latest:
            raise _refused("up to date, yet the versions say otherwise")
        return Listing(latest, True, [])
    out: list[FileSpec] = []
    at: int | None = since
    for i, f in enumerate(files):
        if not isinstance(f, dict):
            raise _refused(f"file {i} is not a JSON object")
        kind, version, start = f.get("kind"), f.get("version"), f.get("since")
        size, sha, gz, url = f.get("size"), f.get("sha256"), f.get("gzip", False), f.get("url")
        if kind not in KINDS:
            raise _refused(f"file {i}: kind is not one of {', '.join(KINDS)}")
        if not _version(version):
            raise _refused(f"file {i}: version is not a non-negative integer")
        if kind == "snapshot":
            if i != 0:
                raise _refused(f"file {i}: a snapshot after other files")
            start = None
        elif not _version(start) or start >= version or start != at:
            raise _refused(f"file {i}: a delta that does not continue from version {at}")
        if i and at is not None and version <= at:
            raise _refused(f"file {i}: versions do not increase")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
            raise _refused(f"file {i}: size is not an integer from 0 to {MAX_FILE_BYTES}")
        if not isinstance(sha, str) or not SHA256.fullmatch(sha):
            raise _refused(f"file {i}: sha256 is not 64 lowercase hex digits")
        if not isinstance(gz, bool):
            raise _refused(f"file {i}: gzip is not true or false")
        if not isinstance(url, str) or not FILE_URL.fullmatch(url):
            raise _refused(f"file {i}: url is not of the form /v1/roster/files/N")
        out.append(FileSpec(kind, version, start, size, sha, gz, url))
        at = version
    if out and out[-1].version != latest:
        raise _refused("the files do not end at latest_version")
    return Listing(latest, False, out)


def target_path(dest: Path, spec: FileSpec) -> Path:
    """`dest/<name>`, checked to resolve inside `dest` (and its `.part` too)."""
    root = dest.resolve()
    path = dest / spec.name
    for p in (path, path.with_name(path.name + ".part")):
        if p.resolve().parent != root:
            raise _refused(f"the file name {spec.name!r} leaves the download directory")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _content_length(r: requests.Response) -> int | None:
    text = r.headers.get("Content-Length")
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return -1


def fetch_file(client: HubClient, url_path: str, sha256: str, size: int, dest: Path,
               chunk_size: int = 1 << 16) -> tuple[Path, int]:
    """Fetch one file to `dest`, resuming `dest.part` if present; returns (path, bytes resumed)."""
    if dest.exists() and dest.stat().st_size == size and _sha256(dest) == sha256:
        return dest, 0  # already complete from an earlier run
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    resumed = have
    if have < size or not part.exists():
        headers = {"If-Range": f'"{sha256}"'}
        if have:
            headers["Range"] = f"bytes={have}-"
        r = client.request("GET", url_path, headers=headers, stream=True)
        written = have
        try:
            if r.status_code == 200:
                have = resumed = written = 0  # the hub sent the whole file
            elif r.status_code != 206 or not have:
                raise HubUnavailable(f"the hub answered {r.status_code} for roster file {url_path}",
                                     status=r.status_code)
            elif r.headers.get("Content-Range") != f"bytes {have}-{size - 1}/{size}":
                raise _refused(f"roster file {url_path}: Content-Range does not continue the partial file",
                               size=size, have=have)
            announced = _content_length(r)
            if announced is not None and announced != size - have:
                raise _refused(f"roster file {url_path}: the hub sends {announced} bytes where the listing "
                               f"says {size - have}", size=size, have=have)
            # Roster files hold names and ID numbers: owner-only, like the database.
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | (0 if have else os.O_TRUNC), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.seek(have)
                for chunk in r.iter_content(chunk_size):
                    if written + len(chunk) > size:
                        f.close()
                        part.unlink(missing_ok=True)
                        raise _refused(f"roster file {url_path}: longer than the {size} bytes announced",
                                       size=size)
                    f.write(chunk)
                    written += len(chunk)
                f.flush()
                os.fsync(f.fileno())
        except requests.exceptions.RequestException as e:
            raise HubUnavailable(f"the roster download was cut ({type(e).__name__}); run it again to resume",
                                 delivered=None) from None
        except OSError as e:
            raise UnavailableError(f"cannot write the roster download {part}: {e.strerror}") from None
        finally:
            r.close()
        if written < size:
            event(log, "roster_download_short", logging.WARNING, size=size, received=written)
            raise HubUnavailable(f"roster file {url_path} ended after {written} of {size} bytes; run the download "
                                 "again to resume", delivered=None)
    if part.stat().st_size != size or _sha256(part) != sha256:
        part.unlink()
        event(log, "roster_download_refused", logging.WARNING, reason="checksum", size=size)
        raise RosterDownloadError(f"roster file {url_path} does not match the hub's checksum; it was discarded, "
                                  "run the download again")
    os.replace(part, dest)
    return dest, resumed


def check_content(path: Path, spec: FileSpec) -> None:
    """The file's own header says what the listing said, no line is absurdly long, and a gzip file does not
    inflate beyond what a roster could (a bomb). RosterDownloadError (the file is deleted) otherwise."""

    def bad(why: str) -> RosterDownloadError:
        path.unlink(missing_ok=True)
        return _refused(f"{spec.kind} {spec.version}: {why}", size=spec.size)

    with open(path, "rb") as raw:
        is_gz = raw.read(2) == b"\x1f\x8b"
    if is_gz != spec.gzip:
        raise bad("gzip or not, the file is not what the listing says")
    cap = max(MIN_INFLATE_CAP, spec.size * MAX_INFLATE_RATIO) if is_gz else spec.size
    first = bytearray()
    in_first, line, total = True, 0, 0
    try:
        with (gzip.open(path, "rb") if is_gz else open(path, "rb")) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                total += len(chunk)
                if total > cap:
                    raise bad(f"it inflates to more than {cap} bytes")
                pieces = chunk.split(b"\n")
                if in_first:
                    first += pieces[0][:MAX_LINE_BYTES + 1]
                    in_first = len(pieces) == 1
                line += len(pieces[0])
                if len(pieces) > 1:
                    line = max([line] + [len(p) for p in pieces[1:-1]])
                    if line > MAX_LINE_BYTES:
                        raise bad(f"a line longer than {MAX_LINE_BYTES} bytes")
                    line = len(pieces[-1])
                if line > MAX_LINE_BYTES:
                    raise bad(f"a line longer than {MAX_LINE_BYTES} bytes")
    except (OSError, EOFError, zlib.error) as e:
        raise bad(f"it cannot be read ({type(e).__name__})") from None
    try:
        head = parse_json(bytes(first)) if bytes(first).strip() else None
    except BadAnswer:
        head = None
    if isinstance(head, dict) and "roster" in head:
        try:
            h = parse_header(head, "header")
        except UsageError as e:
            raise bad(str(e)) from None
        kind, version, since = h.kind, h.version, h.since
    else:
        kind, version, since = "snapshot", 0, None  # no header: a snapshot of version 0, as the importer reads it
    if (kind, version, since) != (spec.kind, spec.version, spec.since):
        raise bad(f"its header says {kind} {since}→{version}" if kind == "delta" else
                  f"its header says {kind} {version}")


def _check_space(dest: Path, specs: list[FileSpec]) -> None:
    need = 0
    for s in specs:
        p = dest / s.name
        have = p.stat().st_size if p.exists() else 0
        part = p.with_name(p.name + ".part")
        have = max(have, part.stat().st_size if part.exists() else 0)
        need += max(0, s.size - have)
    free = shutil.disk_usage(dest).free
    if need + SPACE_MARGIN > free:
        event(log, "roster_download_no_space", logging.WARNING, need=need, free=free)
        raise UnavailableError(f"not enough free space for the roster download: {need} bytes needed, {free} free "
                               f"in {dest}")


def download_updates(client: HubClient, since: int | None, dest: Path | str) -> DownloadPlan:
    """Ask the hub what is new since `since` and fetch every file, in apply order (see the module doc)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    listing = parse_plan(client.roster_updates(since), since)
    plan = DownloadPlan(listing.latest_version, listing.up_to_date)
    targets = [(spec, target_path(dest, spec)) for spec in listing.files]
    _check_space(dest, listing.files)
    for spec, target in targets:
        path, resumed = fetch_file(client, spec.url, spec.sha256, spec.size, target)
        plan.resumed_bytes += resumed
        plan.files.append(RosterFile(spec.kind, spec.version, spec.since, path, spec.sha256, spec.size))
    for spec, f in zip(listing.files, plan.files):
        check_content(f.path, spec)
    return plan
