-- Sync (issue 7): patient-stay notifications and outbox bookkeeping.
-- A stay notification carries exactly the statutory fields (full name, date of
-- birth, ID or passport number, reason, time of stay, address of stay) copied
-- at the moment it was raised, plus the deadline computed in Vietnam time and
-- whether the clock was synchronised when it was made.

CREATE TABLE stay_notifications (
    id               INTEGER PRIMARY KEY,
    visit_id         INTEGER NOT NULL UNIQUE REFERENCES visits(id),
    patient_id       INTEGER NOT NULL REFERENCES patients(id),
    full_name        TEXT NOT NULL,
    date_of_birth    TEXT,
    id_number        TEXT,
    passport_number  TEXT,
    reason           TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    stay_from        TEXT NOT NULL,
    stay_until       TEXT,
    address_of_stay  TEXT NOT NULL,
    deadline_at      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'acknowledged', 'needs_manual', 'receipt_recorded')),
    outbox_id        INTEGER REFERENCES outbox(id),
    created_at       TEXT NOT NULL,
    clock_synced     INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
    sent_at          TEXT,
    acknowledged_at  TEXT,
    hub_reference    TEXT,
    manual_reason    TEXT,
    receipt_text     TEXT,
    receipt_at       TEXT,
    flags            TEXT NOT NULL DEFAULT '[]',
    CHECK (id_number IS NOT NULL OR passport_number IS NOT NULL)
);
CREATE INDEX stay_notifications_state ON stay_notifications(state, deadline_at);

-- The sender's bookkeeping per row: when it was last tried and what the hub called it.
ALTER TABLE outbox ADD COLUMN last_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN hub_reference TEXT;
CREATE INDEX outbox_kind_record ON outbox(kind, record_id);

-- One row per fact the sender keeps across restarts: last_success_at, last_error, last_error_at.
CREATE TABLE sync_status (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
