"""`kiosk roster sync` and the eligibility relay, against the real hub (`kiosk-hub serve`) on loopback."""

from __future__ import annotations

import json
import subprocess

import pytest

from kiosk.simulated import synthetic
from kiosk.simulated.fake_gateway import FakeGateway
from tests.conftest import kiosk_cmd
from tests.eligibility.test_crash import snapshot_of
from tests.hubproc import KIOSK_DEFAULT_FACILITY, start_hub


def run(env, *args):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True, timeout=120)


def publish(h, path):
    r = h.publish(path)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def hub_env(tmp_path, kiosk_env):
    h = start_hub(tmp_path / "hub", facility=KIOSK_DEFAULT_FACILITY)  # roster files: a hub of its own
    (tmp_path / "kiosk.toml").write_text(f'[upstream]\nurl = "{h.url}"\ntoken_file = "{h.token_file}"\n')
    yield h, dict(kiosk_env, KIOSK_CONFIG=str(tmp_path / "kiosk.toml"))
    h.stop()


def test_roster_sync_snapshot_then_deltas_equals_importing_the_files(hub_env, tmp_path, data_dir, kiosk_env):
    h, env = hub_env
    files = [synthetic.snapshot(tmp_path / "s1.jsonl.gz", 3000, version=1, gz=True),
             synthetic.delta(tmp_path / "d2.jsonl", 3000, 300, since=1),
             synthetic.delta(tmp_path / "d3.jsonl", 3100, 300, since=2, seed=8)]
    publish(h, files[0])
    out = run(env, "roster", "sync", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["from_version"], data["to_version"], data["up_to_date"]) == (None, 1, True)
    for f in files[1:]:
        publish(h, f)
    data = json.loads(run(env, "roster", "sync", "--json").stdout)
    assert [(f["kind"], f["since"], f["version"]) for f in data["files"]] == [("delta", 1, 2), ("delta", 2, 3)]
    again = json.loads(run(env, "roster", "sync", "--json").stdout)
    assert again["files"] == [] and again["up_to_date"]
    assert not any((data_dir / "roster-downloads").iterdir())  # applied files are removed
    clean = dict(kiosk_env, KIOSK_DATA_DIR=str(tmp_path / "clean"))
    for f in files:
        assert run(clean, "roster", "import", str(f)).returncode == 0
    assert snapshot_of(data_dir / "kiosk.db") == snapshot_of(tmp_path / "clean" / "kiosk.db")


def test_roster_sync_with_the_hub_down_exits_3(tmp_path, kiosk_env):
    (tmp_path / "tok").write_text("x")
    (tmp_path / "kiosk.toml").write_text(f'[upstream]\nurl = "http://127.0.0.1:9"\ntoken_file = "{tmp_path / "tok"}"\n')
    out = run(dict(kiosk_env, KIOSK_CONFIG=str(tmp_path / "kiosk.toml")), "roster", "sync")
    assert out.returncode == 3 and out.stderr.startswith("error: ")


def test_eligibility_through_the_hub_relay(tmp_path, kiosk_env):
    with FakeGateway() as gw:
        gw.add_card("040088007777", answer={"maKetQua": "000", "maThe": "GD4404088007777", "maDKBD": "40123",
                                            "gtTheTu": "01/01/2026", "gtTheDen": "31/12/2026"})
        account = tmp_path / "account.json"
        account.write_text(json.dumps({"base_url": gw.url, "username": gw.username, "password": gw.password,
                                       "staff_name": "Nguyễn Thị Tiếp Đón", "staff_id_number": "001090000001"}))
        h = start_hub(tmp_path / "hub", "--gateway-account", str(account), facility=KIOSK_DEFAULT_FACILITY)
        try:
            (tmp_path / "kiosk.toml").write_text(f'[upstream]\nurl = "{h.url}"\ntoken_file = "{h.token_file}"\n')
            env = dict(kiosk_env, KIOSK_CONFIG=str(tmp_path / "kiosk.toml"))
            out = run(env, "eligibility", "--id-number", "040088007777", "--date", "2026-06-01", "--name",
                      "Nguyễn Văn Cường", "--json")
            assert out.returncode == 0, out.stderr
            data = json.loads(out.stdout)
            assert (data["result_code"], data["source"], data["benefit_percent"]) == ("000", "gateway", 100)
            assert gw.checks[-1]["cccdCb"] == "001090000001"
            gw.drop_next = 5  # the gateway behind the hub is down: "cannot verify now"
            data = json.loads(run(env, "eligibility", "--id-number", "040088007777", "--name", "X", "--json").stdout)
            assert data["result_code"] == "K02"
        finally:
            h.stop()
