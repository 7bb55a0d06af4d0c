"""Issue 13 item 5: a hostile hub or network. Real HTTP on loopback to a hub that lies (tests/sync/rogue_hub.py).

Whatever the hub sends — traversal in names, wrong types, negative or huge sizes, a file longer or shorter than
announced, a wrong checksum, a file whose own header disagrees, JSON nested to blow the stack — the kiosk says
what is wrong, logs it, exits 3 (or 2 for a refused plain-http URL), and applies nothing.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from sync import roster_download as rd
from sync.client import BadAnswer, HubClient, HubUnavailable, batch_answers, parse_json
from sync.roster_download import RosterDownloadError, download_updates, parse_plan
from tests.conftest import kiosk_cmd
from tests.sync.rogue_hub import RogueHub, file_entry, json_answer, listing, raw_answer


def roster_bytes(version=1, n=50, kind="snapshot", since=None):
    head = {"roster": kind, "version": version} if kind == "snapshot" else {"roster": "delta", "since": since,
                                                                            "until": version}
    lines = [json.dumps(head)] + [json.dumps({"card_number": f"HS40{i:011d}", "id_number": f"0401{i:08d}",
                                              "full_name": "A B", "status": "active"}) for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def rogue():
    with RogueHub() as h:
        yield h


@pytest.fixture
def client(rogue):
    c = HubClient(rogue.url, "tok")
    yield c
    c.close()


def serve(rogue, data, entry=None, fid=1):
    entry = entry or file_entry(data, fid=fid)
    rogue.routes["/v1/roster/updates"] = json_answer(listing(entry))
    rogue.routes[f"/v1/roster/files/{fid}"] = raw_answer(200, {"Content-Length": str(len(data))}, data)
    return entry


def files_in(d):
    return sorted(p.name for p in d.rglob("*")) if d.exists() else []


# --- path traversal -------------------------------------------------------------------------------------------------

def test_a_kind_with_a_path_is_refused_and_nothing_is_written_outside(rogue, client, tmp_path):
    data = roster_bytes()
    outside = tmp_path / "outside"
    outside.mkdir()
    serve(rogue, data, file_entry(data, kind=f"../../../../{outside}/x"))
    with pytest.raises(RosterDownloadError, match="kind"):
        download_updates(client, None, tmp_path / "dl")
    assert files_in(outside) == [] and files_in(tmp_path / "dl") == []
    assert "/v1/roster/files/1" not in rogue.hits  # refused before the first byte


def test_a_resolved_path_outside_the_directory_is_refused(rogue, client, tmp_path):
    """Names come from a fixed set; the resolved path is checked too (a symlink planted in the download
    directory must not carry the download elsewhere)."""
    data = roster_bytes()
    entry = serve(rogue, data)
    dl = tmp_path / "dl"
    dl.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    name = f"snapshot-1-{entry['sha256'][:12]}.jsonl"
    (dl / name).symlink_to(victim)
    with pytest.raises(RosterDownloadError, match="leaves the download directory"):
        download_updates(client, None, dl)
    assert victim.read_text() == "keep"


@pytest.mark.parametrize("url", ["http://evil.example/x", "//evil.example/x", "/v1/roster/files/1/../../../etc",
                                 "@evil.example/x", "/v1/roster/files/-1", "/v1/roster/files/1?x=1"])
def test_file_urls_of_any_other_form_are_refused(rogue, client, tmp_path, url):
    data = roster_bytes()
    serve(rogue, data, file_entry(data, url=url))
    with pytest.raises(RosterDownloadError, match="url"):
        download_updates(client, None, tmp_path / "dl")


# --- wrong shapes in the listing ------------------------------------------------------------------------------------

BAD_LISTINGS = {
    "not an object": [1, 2],
    "files not a list": {"latest_version": 1, "up_to_date": False, "files": {"a": 1}},
    "version a string": {"latest_version": "1", "up_to_date": False, "files": []},
    "negative latest": {"latest_version": -1, "up_to_date": False, "files": []},
    "up_to_date a string": {"latest_version": 1, "up_to_date": "yes", "files": []},
    "up to date with files": {"latest_version": 1, "up_to_date": True, "files": [{}]},
    "negative size": listing(file_entry(b"x", size=-5)),
    "size a string": listing(file_entry(b"x", size="100")),
    "size a bool": listing(file_entry(b"x", size=True)),
    "huge size": listing(file_entry(b"x", size=1 << 60)),
    "negative version": listing(file_entry(b"x", version=-3), latest=-3),
    "version a float": listing(file_entry(b"x", version=1.5), latest=1.5),
    "bad sha": listing(file_entry(b"x", sha256="../" * 20)),
    "gzip a string": listing(file_entry(b"x", gzip="no")),
    "delta that does not chain": listing(file_entry(b"x", kind="delta", since=4, version=7)),
    "versions going back": listing(file_entry(b"x", version=5), file_entry(b"y", kind="delta", since=5, version=3)),
    "snapshot in the middle": listing(file_entry(b"x", version=1), file_entry(b"y", version=2)),
    "wrong latest": listing(file_entry(b"x", version=1), latest=9),
    "too many files": {"latest_version": 1, "up_to_date": False, "files": [{}] * (rd.MAX_FILES + 1)},
}


@pytest.mark.parametrize("name", BAD_LISTINGS)
def test_wrong_shapes_in_the_listing_are_refused(rogue, client, tmp_path, name):
    rogue.routes["/v1/roster/updates"] = json_answer(BAD_LISTINGS[name])
    with pytest.raises(HubUnavailable if name == "not an object" else RosterDownloadError):
        download_updates(client, None, tmp_path / "dl")
    assert not any(h.startswith("/v1/roster/files/") for h in rogue.hits)


def test_json_nested_deep_enough_to_blow_the_stack_is_refused(rogue, client, tmp_path):
    rogue.routes["/v1/roster/updates"] = json_answer(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(HubUnavailable, match="not JSON"):
        download_updates(client, None, tmp_path / "dl")
    rogue.routes["/v1/batch"] = json_answer(b'{"results": ' + b"[" * 200_000)
    with pytest.raises(HubUnavailable):
        client.send_batch([("visit", "k1", {"a": 1})])
    rogue.routes["/v1/visits"] = json_answer(b"{" * 100_000, status=403)  # the 403 path reads an error code
    with pytest.raises(Exception) as e:
        client.send_one("visit", "k1", {"a": 1})
    assert not isinstance(e.value, RecursionError) and "refused" in str(e.value)


def test_a_huge_content_length_is_refused_before_reading(rogue, client, tmp_path):
    rogue.routes["/v1/roster/updates"] = raw_answer(200, {"Content-Length": str(1 << 40)}, b"{}")
    with pytest.raises(HubUnavailable, match="announced 1099511627776 bytes"):
        download_updates(client, None, tmp_path / "dl")


def test_an_endless_answer_without_a_length_is_cut(rogue, client, tmp_path):
    rogue.routes["/v1/roster/updates"] = raw_answer(200, {}, b'{"files": [' + b"0," * (1 << 20) + b"0]}")
    with pytest.raises(HubUnavailable, match="more than"):
        download_updates(client, None, tmp_path / "dl")


def test_batch_answers_of_the_wrong_shape_are_refused(rogue, client):
    items = [("visit", "k1", {}), ("visit", "k2", {})]
    for bad in ({"results": [{"idempotency_key": "k1", "status": "201"}, {"idempotency_key": "k2", "status": 201}]},
                {"results": [{"idempotency_key": "k1", "status": 201, "body": []},
                             {"idempotency_key": "k2", "status": 201}]},
                {"results": [{"idempotency_key": "k1", "status": -1}, {"idempotency_key": "k2", "status": 201}]},
                {"results": [{"idempotency_key": "k1", "status": 201}]}):
        rogue.routes["/v1/batch"] = json_answer(bad)
        with pytest.raises(HubUnavailable, match="cannot be used"):
            client.send_batch(items)


# --- roster files that lie about themselves -------------------------------------------------------------------------

def test_a_file_announcing_more_bytes_than_listed_is_refused_before_reading(rogue, client, tmp_path):
    data = roster_bytes()
    serve(rogue, data)
    rogue.routes["/v1/roster/files/1"] = raw_answer(200, {"Content-Length": str(len(data) + 10)}, data + b"x" * 10)
    with pytest.raises(RosterDownloadError, match="listing says"):
        download_updates(client, None, tmp_path / "dl")
    assert files_in(tmp_path / "dl") == []


def test_a_file_longer_than_announced_without_a_length_is_refused(rogue, client, tmp_path):
    data = roster_bytes()
    serve(rogue, data)
    rogue.routes["/v1/roster/files/1"] = raw_answer(200, {}, data + b"\n" * 100_000)
    with pytest.raises(RosterDownloadError, match="longer than"):
        download_updates(client, None, tmp_path / "dl")
    assert files_in(tmp_path / "dl") == []


def test_a_file_cut_short_is_kept_for_resuming_and_exits_3(rogue, client, tmp_path):
    data = roster_bytes(n=2000)
    entry = serve(rogue, data)
    rogue.routes["/v1/roster/files/1"] = raw_answer(200, {"Content-Length": str(len(data))}, data[:5000])
    with pytest.raises(HubUnavailable) as e:
        download_updates(client, None, tmp_path / "dl")
    assert e.value.exit_code == 3
    part = tmp_path / "dl" / f"snapshot-1-{entry['sha256'][:12]}.jsonl.part"
    assert data.startswith(part.read_bytes()) and part.stat().st_mode & 0o077 == 0


def test_a_short_file_without_a_length_says_so(rogue, client, tmp_path):
    data = roster_bytes()
    serve(rogue, data)
    rogue.routes["/v1/roster/files/1"] = raw_answer(200, {}, data[:100])
    with pytest.raises(HubUnavailable, match=f"ended after 100 of {len(data)} bytes"):
        download_updates(client, None, tmp_path / "dl")


def test_a_checksum_mismatch_discards_the_file(rogue, client, tmp_path):
    data = roster_bytes()
    serve(rogue, data, file_entry(data, sha256="0" * 64))
    with pytest.raises(RosterDownloadError, match="checksum"):
        download_updates(client, None, tmp_path / "dl")
    assert files_in(tmp_path / "dl") == []


def test_a_wrong_content_range_on_resume_is_refused(rogue, client, tmp_path):
    data = roster_bytes(n=500)
    entry = serve(rogue, data)
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / f"snapshot-1-{entry['sha256'][:12]}.jsonl.part").write_bytes(data[:1000])
    rogue.routes["/v1/roster/files/1"] = raw_answer(206, {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
                                                          "Content-Length": str(len(data))}, data)
    with pytest.raises(RosterDownloadError, match="Content-Range"):
        download_updates(client, None, dl)


def test_a_file_whose_header_disagrees_with_the_listing_is_refused(rogue, client, tmp_path):
    data = roster_bytes(version=9)
    serve(rogue, data, file_entry(data, version=1))
    with pytest.raises(RosterDownloadError, match="header says snapshot 9"):
        download_updates(client, None, tmp_path / "dl")
    assert files_in(tmp_path / "dl") == []


def test_a_gzip_bomb_and_an_endless_line_are_refused(rogue, client, tmp_path, monkeypatch):
    monkeypatch.setattr(rd, "MIN_INFLATE_CAP", 1 << 20)
    bomb = gzip.compress(roster_bytes() + b"{}\n" * 2_000_000)  # ~6 MB from a few KB
    serve(rogue, bomb)
    with pytest.raises(RosterDownloadError, match="inflates"):
        download_updates(client, None, tmp_path / "dl")
    monkeypatch.undo()
    line = gzip.compress(roster_bytes() + b"x" * (rd.MAX_LINE_BYTES + 10))
    serve(rogue, line)
    with pytest.raises(RosterDownloadError, match="line longer"):
        download_updates(client, None, tmp_path / "dl2")


def test_a_good_file_from_the_same_server_is_fetched(rogue, client, tmp_path):
    """The rogue hub's honest answer goes through: the checks refuse lies, not rosters."""
    data = gzip.compress(roster_bytes())
    serve(rogue, data)
    plan = download_updates(client, None, tmp_path / "dl")
    assert [(f.kind, f.version) for f in plan.files] == [("snapshot", 1)]
    assert plan.files[0].path.read_bytes() == data and plan.files[0].path.stat().st_mode & 0o077 == 0


# --- the CLI: exit 3, a clear line, nothing applied -----------------------------------------------------------------

def kiosk(env, *args):
    return subprocess.run(kiosk_cmd(*args), capture_output=True, text=True, env=env, timeout=120)


def config_env(tmp_path, kiosk_env, url):
    (tmp_path / "tok").write_text("tok")
    (tmp_path / "kiosk.toml").write_text(f'[upstream]\nurl = "{url}"\ntoken_file = "{tmp_path / "tok"}"\n')
    return dict(kiosk_env, KIOSK_CONFIG=str(tmp_path / "kiosk.toml"))


def test_roster_sync_from_a_lying_hub_applies_nothing(rogue, tmp_path, kiosk_env):
    env = config_env(tmp_path, kiosk_env, rogue.url)
    snap = roster_bytes(version=1)
    delta = roster_bytes(version=2, n=3, kind="delta", since=1)
    rogue.routes["/v1/roster/updates"] = json_answer(listing(file_entry(snap, fid=1),
                                                             file_entry(delta, kind="delta", since=1, version=2,
                                                                        fid=2, sha256="f" * 64)))
    rogue.routes["/v1/roster/files/1"] = raw_answer(200, {"Content-Length": str(len(snap))}, snap)
    rogue.routes["/v1/roster/files/2"] = raw_answer(200, {"Content-Length": str(len(delta))}, delta)
    out = kiosk(env, "roster", "sync")
    assert out.returncode == 3, out.stderr
    error = [ln for ln in out.stderr.splitlines() if ln.startswith("error: ")]
    assert len(error) == 1 and "checksum" in error[0] and "Traceback" not in out.stderr
    assert "event=roster_download_refused reason=checksum" in out.stderr  # the log line
    status = json.loads(kiosk(env, "roster", "status", "--json").stdout)
    assert status["version"] is None and status["rows"] == 0  # not even the good snapshot was applied
    # A traversal attempt through the CLI: exit 3, nothing outside the data directory.
    rogue.routes["/v1/roster/updates"] = json_answer(listing(file_entry(snap, kind=f"../../../../{tmp_path}/x")))
    out = kiosk(env, "roster", "sync")
    assert out.returncode == 3 and "kind" in out.stderr and not list(tmp_path.glob("x*"))


# --- plain http -----------------------------------------------------------------------------------------------------

def _outward_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("198.51.100.1", 9))  # UDP: picks the outward interface, sends nothing
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_sync_once_refuses_plain_http_to_another_host_before_connecting(tmp_path, kiosk_env):
    ip = _outward_address()
    if ip is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    with RogueHub(host="0.0.0.0") as rogue:
        url = f"http://{ip}:{rogue.port}"
        out = kiosk(kiosk_env, "sync", "once", "--hub", url, "--token-file", str(tmp_path / "no-such-token"))
        assert out.returncode == 2, out.stderr
        assert "unencrypted" in out.stderr and "https://" in out.stderr and "Traceback" not in out.stderr
        assert rogue.connections == 0
        # The same host over loopback is fine (the tests and the demo): it connects, and the token is read.
        out = kiosk(kiosk_env, "sync", "once", "--hub", f"http://127.0.0.1:{rogue.port}", "--token-file",
                    str(tmp_path / "no-such-token"))
        assert out.returncode == 2 and "token" in out.stderr


def test_config_refuses_plain_http_hub_and_gateway(tmp_path, kiosk_env):
    for key in ("upstream", "gateway"):
        (tmp_path / "k.toml").write_text(f'[{key}]\nurl = "http://hub.example.org"\n')
        out = kiosk(dict(kiosk_env, KIOSK_CONFIG=str(tmp_path / "k.toml")), "config", "check")
        assert out.returncode == 2 and f"{key}.url" in out.stderr and "https://" in out.stderr, out.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.3.4.5/", "http://[::1]:9", "http://localhost:1",
                                 "http://LOCALHOST", "https://hub.example.org", "https://10.0.0.1:8443/x"])
def test_loopback_http_and_any_https_are_allowed(url):
    HubClient(url, "tok").close()


@pytest.mark.parametrize("url", ["http://hub.example.org", "http://10.0.0.1:8080", "http://192.168.1.10",
                                 "http://127.0.0.1.evil.example", "http://127.0.0.1@evil.example/",
                                 "http://localhost.evil.example", "http://[fd00::1]/", "ftp://127.0.0.1",
                                 "http://", "http://127.0.0.1:99999", "http://exa mple.org"])
def test_plain_http_elsewhere_and_non_urls_are_refused(url):
    from kiosk.errors import UsageError
    with pytest.raises(UsageError):
        HubClient(url, "tok")


# --- property tests over what the client parses ---------------------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=6),
                           max_leaves=30)
file_like = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["snapshot", "delta", "../x", ""]) | json_values,
    "version": st.integers(-2, 5) | json_values, "since": st.integers(-2, 5) | st.none() | json_values,
    "size": st.integers(-2, 1 << 34) | json_values, "sha256": st.just("a" * 64) | json_values,
    "gzip": st.booleans() | json_values,
    "url": st.sampled_from(["/v1/roster/files/1", "/../x", "http://e/x"]) | json_values})
listings = st.fixed_dictionaries({}, optional={
    "latest_version": st.integers(-2, 6) | st.none() | json_values, "up_to_date": st.booleans() | json_values,
    "files": st.lists(file_like, max_size=4) | json_values}) | json_values


@settings(max_examples=300, deadline=None)
@given(listings, st.none() | st.integers(0, 5))
def test_parse_plan_accepts_only_a_consistent_listing(info, since):
    try:
        plan = parse_plan(info, since)
    except RosterDownloadError:
        return
    at = since
    for i, f in enumerate(plan.files):
        assert f.kind in ("snapshot", "delta") and f.version >= 0 and 0 <= f.size <= rd.MAX_FILE_BYTES
        assert "/" not in f.name and ".." not in f.name and rd.FILE_URL.fullmatch(f.url)
        if f.kind == "delta":
            assert f.since == at and f.version > f.since
        else:
            assert i == 0
        at = f.version
    if plan.files:
        assert plan.files[-1].version == plan.latest_version


@settings(max_examples=300, deadline=None)
@given(json_values | st.fixed_dictionaries({"results": st.lists(st.fixed_dictionaries(
    {"idempotency_key": st.sampled_from(["k0", "k1", "x"])},
    optional={"status": st.integers(-5, 700) | json_values, "body": json_values, "replayed": json_values}),
    max_size=3)}))
def test_batch_answers_are_checked_or_refused(data):
    keys = ["k0", "k1"]
    try:
        answers = batch_answers(data, keys)
    except HubUnavailable:
        return
    assert [a.idempotency_key for a in answers] == keys
    for a in answers:
        assert isinstance(a.status, int) and 100 <= a.status <= 599 and isinstance(a.body, dict)
        assert isinstance(a.replayed, bool)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.integers(1, 50_000).map(lambda n: b"[" * n) | json_values.map(
    lambda v: json.dumps(v).encode()))
def test_parse_json_never_raises_anything_but_bad_answer(raw):
    try:
        parse_json(raw)
    except BadAnswer:
        pass


@settings(max_examples=200, deadline=None)
@given(json_values | st.fixed_dictionaries({}, optional={"result_code": json_values | st.just("000"),
                                                         "gateway": json_values, "received_at": json_values}))
def test_the_hub_relay_answer_is_checked(resp):
    from sync.national_lookup import GatewayUnavailable, HubRelay

    class Fake:
        def eligibility(self, query):
            return resp if isinstance(resp, dict) else {"error": "unexpected"}

    try:
        answer = HubRelay(Fake()).check("040088007777", "A", "1990-01-01")
    except GatewayUnavailable:
        return
    assert isinstance(answer.result_code, str) and answer.result_code.isdigit() and len(answer.result_code) == 3
    assert isinstance(answer.body, dict) and answer.received_at.tzinfo is not None
