-- Foundation schema: patients, visits, eligibility results, roster cards, outbox.
-- Times are ISO-8601 UTC ("...Z"); visit_date is the calendar date in Vietnam time.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A person as read from the document they presented. `identity_key` is
-- "id:<12 digits>" or "bhxh:<10 digits>"; masked_id is what screens show.
CREATE TABLE patients (
    id                      INTEGER PRIMARY KEY,
    identity_key            TEXT NOT NULL UNIQUE,
    document_kind           TEXT NOT NULL,
    id_number               TEXT,
    social_insurance_number TEXT,
    card_number             TEXT,
    full_name               TEXT NOT NULL,
    date_of_birth           TEXT,
    sex                     TEXT CHECK (sex IN ('male', 'female') OR sex IS NULL),
    address                 TEXT,
    masked_id               TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients(id),
    visit_date    TEXT NOT NULL,
    queue_number  INTEGER NOT NULL CHECK (queue_number >= 1),
    source        TEXT NOT NULL CHECK (source IN ('serial', 'camera', 'chip', 'manual', 'hid')),
    status        TEXT NOT NULL DEFAULT 'waiting'
                  CHECK (status IN ('waiting', 'being_seen', 'done', 'left', 'cancelled')),
    created_at    TEXT NOT NULL,
    clock_synced  INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
    flags         TEXT NOT NULL DEFAULT '[]',
    UNIQUE (visit_date, queue_number)
);
CREATE INDEX visits_patient_created ON visits(patient_id, created_at);

CREATE TABLE eligibility_results (
    id              INTEGER PRIMARY KEY,
    visit_id        INTEGER NOT NULL REFERENCES visits(id),
    result_code     TEXT NOT NULL,
    benefit_percent INTEGER,
    reason          TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('roster', 'gateway', 'none')),
    as_of           TEXT,
    card_masked     TEXT,
    details         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL
);
CREATE INDEX eligibility_results_visit ON eligibility_results(visit_id);

-- The insurance roster, minimised: identifiers only as keyed hashes
-- (HMAC-SHA256 under the roster key, hex), no names or addresses in clear.
CREATE TABLE roster_cards (
    card_hash          TEXT PRIMARY KEY,
    id_hash            TEXT,
    sin_hash           TEXT,
    name_dob_hash      TEXT,
    beneficiary_group  TEXT,
    benefit_level      INTEGER,
    province_code      TEXT,
    facility_code      TEXT,
    valid_from         TEXT,
    valid_to           TEXT,
    five_year_date     TEXT,
    living_area        TEXT,
    status             TEXT NOT NULL DEFAULT 'active',
    replaced_by_hash   TEXT
) WITHOUT ROWID;
CREATE INDEX roster_cards_id ON roster_cards(id_hash);
CREATE INDEX roster_cards_sin ON roster_cards(sin_hash);

-- Transactional outbox: written in the same transaction as the record it
-- carries; worked by the sync process. idempotency_key is sent with it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    record_id        INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sent', 'acknowledged', 'needs_manual', 'withdrawn')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    acknowledged_at  TEXT
);
CREATE INDEX outbox_state ON outbox(state, id);
