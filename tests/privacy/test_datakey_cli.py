"""`kiosk datakey` through the real command line: it never leaves a wrong key in place, and says when the key on
disk is not the database's (issue 13, item 7)."""

import json
import os
import subprocess

from kiosk.privacy import datakey
from tests.conftest import kiosk_cmd
from tests.privacy.conftest import person


def run(env, *args):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True)


def test_init_on_a_sealed_database_refuses_before_writing_a_key(cli_env, privacy_cfg):
    assert run(cli_env, "checkin", "--payload", person(0)["payload"]).returncode == 0
    key_file = datakey.key_path(privacy_cfg)
    original = key_file.read_bytes()
    key_file.unlink()  # a technician "starting over" on a device that holds data
    r = run(cli_env, "datakey", "init")
    assert r.returncode == 2, r.stderr
    assert "already sealed under data key" in r.stderr
    assert not key_file.exists()  # nothing written: putting the real key back still works
    key_file.write_bytes(original)
    key_file.chmod(0o600)
    assert run(cli_env, "visits").returncode == 0


def test_status_with_a_key_that_is_not_the_databases_exits_3(cli_env, privacy_cfg):
    assert run(cli_env, "checkin", "--payload", person(0)["payload"]).returncode == 0
    good = run(cli_env, "datakey", "status", "--json")
    assert good.returncode == 0, good.stderr
    info = json.loads(good.stdout)
    assert info["ok"] and info["key_id"] == info["database_key_id"]

    key_file = datakey.key_path(privacy_cfg)
    key_file.unlink()
    datakey.create(key_file)  # another device's key, or a fresh one
    bad = run(cli_env, "datakey", "status", "--json")
    assert bad.returncode == 3
    info = json.loads(bad.stdout)
    assert info["ok"] is False and info["key_id"] != info["database_key_id"]
    assert "not the key the database was sealed with" in bad.stderr

    key_file.unlink()
    gone = run(cli_env, "datakey", "status")
    assert gone.returncode == 3 and "is missing" in gone.stderr


def test_a_deleted_default_key_is_not_silently_replaced(tmp_path):
    """No privacy.data_key_file: the demo/development default beside the data directory."""
    data = tmp_path / "data"
    env = dict(os.environ)
    env.pop("KIOSK_CONFIG", None)
    env["KIOSK_DATA_DIR"] = str(data)
    assert run(env, "checkin", "--payload", person(0)["payload"]).returncode == 0
    key_file = tmp_path / "data.data-key"
    assert key_file.exists()  # made on first use, as documented
    key_file.unlink()
    for args in (("visits",), ("checkin", "--payload", person(1)["payload"])):
        r = run(env, *args)
        assert r.returncode == 3, (args, r.stderr)
        assert "is missing" in r.stderr and "sealed under key" in r.stderr, r.stderr
        assert not key_file.exists(), args  # refused before writing
