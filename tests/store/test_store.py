import sqlite3

import pytest

from kiosk import store


def test_connection_settings(tmp_path):
    db = store.connect(tmp_path / "k.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version(db) == store.all_migrations()[-1][0]
    assert {"patients", "visits", "eligibility_results", "roster_cards", "outbox", "meta"} <= store.tables(db)


def test_migrate_is_idempotent(tmp_path):
    db = store.connect(tmp_path / "k.db")
    assert store.migrate(db) == []


def test_failed_migration_leaves_old_schema(tmp_path, monkeypatch):
    db = store.connect(tmp_path / "k.db")
    version = store.schema_version(db)
    good = store.all_migrations()
    bad = good + [(version + 1, "broken", "CREATE TABLE half_done (x INTEGER);\nALTER TABLE nope ADD COLUMN y;\n")]
    monkeypatch.setattr(store.schema, "all_migrations", lambda: bad)
    with pytest.raises(store.MigrationError, match="broken"):
        store.migrate(db)
    assert store.schema_version(db) == version
    assert "half_done" not in store.tables(db)


def test_foreign_keys_are_enforced(tmp_path):
    db = store.connect(tmp_path / "k.db")
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction(db) as conn:
            conn.execute("INSERT INTO visits(patient_id, visit_date, queue_number, source, created_at, clock_synced) "
                         "VALUES (999, '2026-01-01', 1, 'serial', 'x', 1)")


def test_transaction_rolls_back_on_error(tmp_path):
    db = store.connect(tmp_path / "k.db")
    with pytest.raises(RuntimeError):
        with store.transaction(db) as conn:
            store.set_meta(conn, "a", "1")
            raise RuntimeError("stop")
    assert store.get_meta(db, "a") is None


def test_each_database_seals_under_its_own_key(tmp_path):
    """The key travels with the connection: two databases open in one process never share a key, and a value
    opens only under the key it was sealed with (no global registry to fall back on)."""
    import json
    import os
    from datetime import datetime, timezone
    from kiosk.privacy import datakey
    from kiosk.store import outbox
    k1, k2 = datakey.DataKey(os.urandom(32)), datakey.DataKey(os.urandom(32))
    a, b = store.connect(tmp_path / "a.db", key=k1), store.connect(tmp_path / "b.db", key=k2)
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    for db in (a, b):
        with store.transaction(db) as tx:
            assert tx.key is db.key
            outbox.enqueue(tx, "visit", 1, {"full_name": "Trần Thị Lan", "visit_date": "2026-11-29"}, now)
    (pa,), (pb,) = (db.execute("SELECT payload FROM outbox").fetchone() for db in (a, b))
    sealed_a, sealed_b = json.loads(pa)["full_name"], json.loads(pb)["full_name"]
    assert datakey.is_sealed(sealed_a) and json.loads(pa)["visit_date"] == "2026-11-29"
    assert json.loads(datakey.reveal("outbox.payload", sealed_a, k1)) == "Trần Thị Lan"
    assert json.loads(datakey.reveal("outbox.payload", sealed_b, k2)) == "Trần Thị Lan"
    with pytest.raises(datakey.DecryptError):
        datakey.reveal("outbox.payload", sealed_a, k2)
    with pytest.raises(datakey.DecryptError, match="no data key"):
        datakey.reveal("outbox.payload", sealed_a, None)


def test_enqueue_refuses_outside_a_transaction(tmp_path):
    from datetime import datetime, timezone
    from kiosk.store import outbox
    db = store.connect(tmp_path / "k.db")
    with pytest.raises(RuntimeError, match="inside the record's transaction"):
        outbox.enqueue(db, "visit", 1, {}, datetime(2026, 11, 29, tzinfo=timezone.utc))
    assert outbox.counts(db) == {}


def test_pending_means_not_delivered(tmp_path):
    """queued, sent and needs_manual are pending (the hub does not hold them); the sender's own queue is
    queued and sent."""
    from kiosk.store import outbox
    db = store.connect(tmp_path / "k.db")
    states = ["queued", "queued", "sent", "needs_manual", "acknowledged", "withdrawn"]
    with store.transaction(db) as tx:
        tx.executemany("INSERT INTO outbox(kind, record_id, idempotency_key, payload, created_at, state) "
                       "VALUES ('visit', ?, ?, '{}', ?, ?)",
                       [(i, f"k{i}", f"2026-11-29T0{i}:00:00Z", s) for i, s in enumerate(states)])
    assert outbox.pending_count(db) == 4
    assert outbox.unsent_count(db) == 3
    assert outbox.oldest_unsent(db) == "2026-11-29T00:00:00Z"
    assert outbox.counts(db) == {"queued": 2, "sent": 1, "needs_manual": 1, "acknowledged": 1, "withdrawn": 1}
