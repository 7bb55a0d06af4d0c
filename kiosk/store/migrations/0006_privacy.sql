-- Privacy (issue 10): the append-only, hash-chained audit trail of access to personal data.
-- No personal data is written here: records are named by kind and row id, never by name or number.

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,          -- 1, 2, 3 … with no gaps: a gap is a deleted entry
    at           TEXT NOT NULL,                -- ISO-8601 UTC
    actor        TEXT NOT NULL,                -- staff account, or "system:<process>"
    action       TEXT NOT NULL,                -- viewed, printed, exported, corrected, sent_upstream, purged, …
    record_kind  TEXT NOT NULL,                -- patient, visit, stay_notification, database, …
    record_id    TEXT NOT NULL,                -- the row id (or a count/range for bulk actions)
    purpose      TEXT NOT NULL,
    details      TEXT NOT NULL DEFAULT '{}',   -- JSON, non-personal
    prev_hash    TEXT NOT NULL,                -- entry_hash of seq-1 ("0"*64 for the first)
    entry_hash   TEXT NOT NULL                 -- SHA-256 over prev_hash and this entry's canonical form
);

-- Append-only at the SQL level; editing the file directly is what `kiosk audit verify` catches.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- What retention leaves of purged visits: counts per day, source and eligibility result, nothing identifying.
CREATE TABLE retention_counts (
    visit_date   TEXT NOT NULL,
    source       TEXT NOT NULL,
    result_code  TEXT NOT NULL,
    visits       INTEGER NOT NULL CHECK (visits >= 0),
    PRIMARY KEY (visit_date, source, result_code)
) WITHOUT ROWID;

-- One line per retention run, for the data-protection officer: when, what cutoffs, how much went.
CREATE TABLE retention_runs (
    id                    INTEGER PRIMARY KEY,
    at                    TEXT NOT NULL,
    visits_purged         INTEGER NOT NULL,
    patients_purged       INTEGER NOT NULL,
    stays_purged          INTEGER NOT NULL,
    outbox_purged         INTEGER NOT NULL,
    cache_purged          INTEGER NOT NULL,
    kept_unsynced         INTEGER NOT NULL,
    details               TEXT NOT NULL DEFAULT '{}'
);
