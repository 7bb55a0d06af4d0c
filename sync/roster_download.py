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
the newest snapshot first. Each file is fetched into `<dest>/<sha256>.part`
and resumed with an HTTP Range request after a dropped connection or a power
cut, then checked against the SHA-256 the hub announced and renamed to its
final name. Raises :class:`sync.client.HubUnavailable` (exit 3) when the hub
cannot be reached, and :class:`RosterDownloadError` when a file is corrupt.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import KioskError
from sync.client import HubClient, HubUnavailable


class RosterDownloadError(KioskError):
    pass


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    headers = {"If-Range": f'"{sha256}"'}
    if have:
        headers["Range"] = f"bytes={have}-"
    if have < size:
        r = client.request("GET", url_path, headers=headers, stream=True)
        if r.status_code == 200:
            have = resumed = 0  # the hub sent the whole file
        elif r.status_code != 206:
            r.close()
            raise HubUnavailable(f"the hub answered {r.status_code} for roster file {url_path}", status=r.status_code)
        try:
            with open(part, "r+b" if have else "wb") as f:
                f.seek(have)
                for chunk in r.iter_content(chunk_size):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
        except Exception as e:
            if isinstance(e, OSError) and not isinstance(e, ConnectionError):
                raise
            raise HubUnavailable(f"the roster download was cut ({type(e).__name__}); run it again to resume",
                                 delivered=None) from None
        finally:
            r.close()
    if part.stat().st_size != size or _sha256(part) != sha256:
        part.unlink()
        raise RosterDownloadError(f"roster file {url_path} does not match the hub's checksum; it was discarded, "
                                  "run the download again")
    os.replace(part, dest)
    return dest, resumed


def download_updates(client: HubClient, since: int | None, dest: Path | str) -> DownloadPlan:
    """Ask the hub what is new since `since` and fetch every file, in apply order (see the module doc)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    info = client.roster_updates(since)
    plan = DownloadPlan(info.get("latest_version"), bool(info.get("up_to_date")))
    for f in info.get("files", []):
        suffix = ".jsonl.gz" if f.get("gzip") else ".jsonl"
        name = f"{f['kind']}-{f.get('since') if f['kind'] == 'delta' else ''}{'-' if f['kind'] == 'delta' else ''}" \
               f"{f['version']}-{f['sha256'][:12]}{suffix}"
        path, resumed = fetch_file(client, f["url"], f["sha256"], f["size"], dest / name)
        plan.resumed_bytes += resumed
        plan.files.append(RosterFile(f["kind"], f["version"], f.get("since"), path, f["sha256"], f["size"]))
    return plan
