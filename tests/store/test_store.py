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
