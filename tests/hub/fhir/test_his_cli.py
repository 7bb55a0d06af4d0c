"""`kiosk-hub his add|revoke|list` and `kiosk-hub push once` as an operator runs them (docs/cli.md: --json, exit
0 done / 2 bad input / 3 unavailable), on the hub's own database; the pushes reach a test HIS on loopback."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.hub.conftest import FACILITY, OTHER_FACILITY
from tests.hub.fhir.his_stub import HisStub
from tests.hub.test_api import visit


@pytest.fixture
def hub(request, tmp_path):
    from tests.hub.conftest import new_hub_env
    return new_hub_env("sqlite", tmp_path, request)


def test_his_add_list_revoke_and_push_once(hub, tmp_path):
    with HisStub(token="from-the-his") as his:
        tok = tmp_path / "his.token"
        tok.write_text("from-the-his\n")
        r = hub.cli("his", "add", "--facility", f"{FACILITY},{OTHER_FACILITY}", "--name", "his-tram-1",
                    "--push-url", his.url, "--push-token-file", str(tok), "--json")
        assert r.returncode == 0, r.stderr
        added = json.loads(r.stdout)
        assert added["name"] == "his-tram-1" and added["facilities"] == sorted([FACILITY, OTHER_FACILITY])
        # the token is shown once: only its hash is stored
        assert hub.query("SELECT token_hash FROM fhir_hisclient WHERE name = 'his-tram-1'") == [
            (hashlib.sha256(added["token"].encode()).hexdigest(),)]
        assert added["token"] not in hub.cli("his", "list", "--json").stdout
        # refused: plain http to another host, an unknown facility, a name taken, a token file missing
        for args in (["--facility", FACILITY, "--name", "x1", "--push-url", "http://his.example.vn/fhir"],
                     ["--facility", "99999", "--name", "x2"],
                     ["--facility", FACILITY, "--name", "his-tram-1"],
                     ["--facility", FACILITY, "--name", "x3", "--push-url", his.url, "--push-token-file",
                      str(tmp_path / "none")]):
            r = hub.cli("his", "add", *args)
            assert r.returncode == 2 and r.stderr.startswith("error: "), (args, r.stderr)
        assert [n for (n,) in hub.query("SELECT name FROM fhir_hisclient")] == ["his-tram-1"]

        # a visit stored through the device API's write path is queued, `push once` delivers it
        name, token = hub.enrol()
        env = hub.env
        import os
        import subprocess
        import sys
        code = ("import os,django,json,sys;django.setup();"
                "from kiosk_hub.ingest import writes;from kiosk_hub.registry.models import Device;"
                "d=Device.objects.get(name=sys.argv[1]);"
                "print(writes.write_many(d,[('visit','k1',json.loads(sys.argv[2]))])[0][0])")
        r = subprocess.run([sys.executable, "-c", code, name, json.dumps(visit(7))], capture_output=True, text=True,
                           env={**env, "DJANGO_SETTINGS_MODULE": "kiosk_hub.settings"}, cwd=os.getcwd())
        assert r.stdout.strip() == "201", r.stderr
        listed = hub.cli_json("his", "list")
        assert listed[0]["push"]["pending"] == 1 and listed[0]["push"]["url"] == his.url
        once = hub.cli_json("push", "once")
        assert once["pushed"] == 1 and once["failed"] == 0
        assert len(his.encounters()) == 1 and his.invalid == []
        assert hub.cli_json("his", "list")[0]["push"]["pending"] == 0

        r = hub.cli("his", "revoke", "--name", "his-tram-1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["name"] == "his-tram-1"
        assert hub.cli_json("his", "list")[0]["revoked_at"]
        assert hub.cli("his", "revoke", "--name", "nobody").returncode == 2


def test_his_commands_exit_3_when_the_database_is_unavailable(hub):
    hub.db_url = "postgres://kiosk@127.0.0.1:9/nowhere"
    r = hub.cli("his", "list", "--json")
    assert r.returncode == 3 and r.stderr.startswith("error: ")
