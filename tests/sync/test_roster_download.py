"""Roster files through the hub: publish, "what is new since N", resumable downloads with Range."""

import gzip
import json
import pytest

from sync.client import HubClient
from sync.roster_download import RosterDownloadError, download_updates
from tests.hubproc import start_hub


def card(n):
    return {"card_number": f"HS40{n:011d}", "id_number": f"0401{n:08d}", "full_name": "A B", "status": "active"}


def write(path, header, cards, gz=False):
    lines = ([json.dumps(header)] if header else []) + [json.dumps(c) for c in cards]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def publish(h, path):
    return h.publish(path)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Roster files are the same for every device: this module publishes into a hub of its own."""
    h = start_hub(tmp_path_factory.mktemp("rosterhub"))
    yield h
    h.stop()


@pytest.fixture(scope="module")
def published(hub, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("roster")
    snap = write(tmp_path / "s1.jsonl.gz", {"roster": "snapshot", "version": 1}, [card(i) for i in range(3000)], True)
    d12 = write(tmp_path / "d12.jsonl", {"roster": "delta", "since": 1, "until": 2}, [card(5), {"delete": "x"}])
    d23 = write(tmp_path / "d23.jsonl", {"roster": "delta", "since": 2, "until": 3}, [card(6)])
    for p in (snap, d12, d23):
        r = publish(hub, p)
        assert r.returncode == 0, r.stderr
    return {"snap": snap, "d12": d12, "d23": d23}


def test_updates_since(hub, published, tmp_path):
    c = HubClient(hub.url, hub.token)
    plan = download_updates(c, None, tmp_path / "dl")
    assert [(f.kind, f.version) for f in plan.files] == [("snapshot", 1), ("delta", 2), ("delta", 3)]
    assert plan.files[0].path.read_bytes() == published["snap"].read_bytes()
    plan = download_updates(c, 1, tmp_path / "dl2")
    assert [(f.kind, f.since, f.version) for f in plan.files] == [("delta", 1, 2), ("delta", 2, 3)]
    assert download_updates(c, 3, tmp_path / "dl3").up_to_date
    # No delta chain from version 0: the snapshot first.
    assert [f.kind for f in download_updates(c, 0, tmp_path / "dl4").files] == ["snapshot", "delta", "delta"]


def test_resume_with_range(hub, published, tmp_path):
    c = HubClient(hub.url, hub.token)
    info = c.roster_updates(None)["files"][0]
    dest = tmp_path / "dl"
    dest.mkdir()
    full = published["snap"].read_bytes()
    # A download cut at 1000 bytes, as after a power cut.
    name = f"snapshot-1-{info['sha256'][:12]}.jsonl.gz"
    (dest / (name + ".part")).write_bytes(full[:1000])
    plan = download_updates(c, 2, dest)  # since 2: only the last delta
    assert [f.version for f in plan.files] == [3]
    plan = download_updates(c, None, dest)
    assert plan.resumed_bytes == 1000
    assert plan.files[0].path.name == name and plan.files[0].path.read_bytes() == full


def test_corrupt_partial_is_discarded(hub, published, tmp_path):
    c = HubClient(hub.url, hub.token)
    info = c.roster_updates(None)["files"][0]
    dest = tmp_path / "dl"
    dest.mkdir()
    part = dest / f"snapshot-1-{info['sha256'][:12]}.jsonl.gz.part"
    part.write_bytes(b"\0" * 500)
    with pytest.raises(RosterDownloadError, match="checksum"):
        download_updates(c, None, dest)
    assert not part.exists()
    assert download_updates(c, None, dest).files[0].path.read_bytes() == published["snap"].read_bytes()


def test_range_requests_over_http(hub, published):
    c = HubClient(hub.url, hub.token)
    f = c.roster_updates(None)["files"][0]
    r = c.request("GET", f["url"], headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == published["snap"].read_bytes()[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{f['size']}"
    assert c.request("GET", f["url"], headers={"Range": f"bytes={f['size']}-"}).status_code == 416


def test_publish_refuses_bad_files(hub, tmp_path, published):
    bad = write(tmp_path / "bad.jsonl", {"roster": "delta", "since": 5, "until": 4}, [])
    r = publish(hub, bad)
    assert r.returncode == 2 and "bad roster header" in r.stderr
    r = publish(hub, published["d12"])
    assert r.returncode == 2 and "already published" in r.stderr
    gap = write(tmp_path / "gap.jsonl", {"roster": "delta", "since": 9, "until": 10}, [])
    assert publish(hub, gap).returncode == 2
    plain = write(tmp_path / "noheader.jsonl", None, [card(1)])
    r = publish(hub, plain)
    assert r.returncode == 0 and json.loads(r.stdout)["version"] == 0
