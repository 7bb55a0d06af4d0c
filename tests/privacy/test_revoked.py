"""Acceptance: a revoked device token stops sync with a clear message and no data loss;
re-enrolling delivers everything exactly once. Also: audit entries reach the hub with the outbox."""

import json
import sqlite3
import subprocess

from tests.conftest import kiosk_cmd
from tests.hubproc import hub, kiosk_hub_server  # noqa: F401  (fixtures: a device of each test's own on the hub)
from tests.privacy.conftest import person


def run(env, *args):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True)


def test_revoked_token_stops_sync_clearly_and_loses_nothing(cli_env, privacy_cfg, tmp_path, hub):
    h = hub
    sync = ("sync", "once", "--hub", h.url, "--token-file", str(h.token_file), "--backoff-max", "0.05")
    for i in range(3):
        assert run(cli_env, "checkin", "--payload", person(i)["payload"]).returncode == 0
    first = run(cli_env, *sync, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["acknowledged"] == 3

    assert h.revoke("stolen")["revoked_at"]
    for i in range(3, 8):
        assert run(cli_env, "checkin", "--payload", person(i)["payload"]).returncode == 0
    # An audit entry too (an export by root), so three kinds wait.
    assert run(cli_env, "person", "export", "--id-number", person(0)["id_number"]).returncode == 0

    refused = run(cli_env, *sync)
    assert refused.returncode == 2
    assert "revoked" in refused.stderr and "nothing was deleted" in refused.stderr and "stolen" in refused.stderr
    db = sqlite3.connect(privacy_cfg.database)
    states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    assert states.get("queued") == 6 and states.get("sent") is None  # 5 visits + 1 audit entry, all kept
    status = json.loads(run(cli_env, "sync", "status", "--json").stdout)
    assert "revoked" in status["token_refused"] and status["queued"] == 6
    assert h.stats()["visits"] == 3

    # Re-provisioned: a new token; everything waiting goes, once.
    r = h.cli("enrol", "--facility", h.facility, "--name", h.name, "--token-out", str(h.token_file))
    assert r.returncode == 0, r.stderr
    again = run(cli_env, *sync, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["acknowledged"] == 6
    assert h.stats()["visits"] == 8
    names = sorted(v["patient"]["full_name"] for v in h.records("visit"))
    assert names == sorted(person(i)["name"] for i in range(8))  # the hub gets clear data, opened by the sender
    (copy,) = h.records("auditentry")
    local = db.execute("SELECT entry_hash, action FROM audit_log WHERE seq = ?", [copy["seq"]]).fetchone()
    assert copy["entry_hash"] == local[0] and local[1] == "exported"
    # Every visit the hub acknowledged is in the local trail as sent upstream, by the sync process.
    sent = db.execute("SELECT record_id FROM audit_log WHERE action = 'sent_upstream' AND record_kind = 'visit' "
                      "AND actor = 'system:sync'").fetchall()
    assert sorted(int(r[0]) for r in sent) == list(range(1, 9))
    from kiosk.privacy import audit
    assert audit.verify(db).ok
    assert json.loads(run(cli_env, "sync", "status", "--json").stdout)["token_refused"] is None


def test_local_rewrite_after_sync_is_caught_with_the_hubs_copies(cli_env, privacy_cfg, tmp_path, hub):
    from kiosk import store
    from kiosk.privacy import audit
    h = hub
    assert run(cli_env, "checkin", "--payload", person(0)["payload"]).returncode == 0
    for _ in range(4):  # four exports by root: audit entries queued to the hub
        assert run(cli_env, "person", "export", "--id-number", person(0)["id_number"]).returncode == 0
    sync = run(cli_env, "sync", "once", "--hub", h.url, "--token-file", str(h.token_file), "--json")
    assert sync.returncode == 0, sync.stderr
    hub_view = h.cli("audit", "--name", h.name, "--json")
    assert hub_view.returncode == 0, hub_view.stderr
    anchors = json.loads(hub_view.stdout)
    assert anchors["ok"] and anchors["entries"] == 4
    (tmp_path / "anchors.json").write_text(hub_view.stdout)
    # Root rewrites the purpose of the 2nd export and recomputes everything after it, head included.
    db = store.connect(privacy_cfg.database)
    db.conn.execute("DROP TRIGGER audit_log_no_update")
    entries = audit.entries(db.conn)
    target = [e for e in entries if e.action == "exported"][1].seq
    prev = None
    for e in entries:
        if e.seq < target:
            prev = e.entry_hash
            continue
        purpose = "routine check" if e.seq == target else e.purpose
        h2 = audit.entry_hash(prev, e.seq, e.at, e.actor, e.action, e.record_kind, e.record_id, purpose,
                              e.details)
        db.conn.execute("UPDATE audit_log SET purpose = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                        [purpose, prev, h2, e.seq])
        prev = h2
    db.conn.execute("UPDATE meta SET value = ? WHERE key = 'audit.head'", [f"{entries[-1].seq}:{prev}"])
    db.conn.close()
    local = run(cli_env, "audit", "verify", "--json")
    assert local.returncode == 0  # a perfect local forgery...
    caught = run(cli_env, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"), "--json")
    verdict = json.loads(caught.stdout)
    assert caught.returncode == 1 and verdict["first_broken"] == target, verdict  # ...is not, with the hub


def test_a_wipe_order_from_the_hub_crypto_shreds_a_kiosk_that_connects(cli_env, privacy_cfg, tmp_path, hub):
    from kiosk.privacy import datakey
    h = hub
    for i in range(3):
        assert run(cli_env, "checkin", "--payload", person(i)["payload"]).returncode == 0
    assert h.revoke("stolen", wipe=True)["wipe_ordered"] is True
    r = run(cli_env, "sync", "once", "--hub", h.url, "--token-file", str(h.token_file))
    assert r.returncode == 3 and "ordered it wiped" in r.stderr and "data key shredded" in r.stderr, r.stderr
    assert not datakey.key_path(privacy_cfg).exists()
    assert sorted(p.name for p in privacy_cfg.data_dir.rglob("*")) == [".wiped"]
    blob = (privacy_cfg.data_dir / ".wiped").read_bytes()
    assert all(person(i)["name"].encode() not in blob for i in range(3))
    again = run(cli_env, "checkin", "--payload", person(0)["payload"])
    assert again.returncode == 3 and "wiped" in again.stderr
    assert h.stats()["visits"] == 0  # nothing was accepted after revocation
