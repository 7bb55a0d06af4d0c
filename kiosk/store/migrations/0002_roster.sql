-- The roster cache at province scale (issue 6). Replaces 0001's first cut.
-- Identifiers, name and birth date are keyed hashes stored as signed 64-bit
-- integers (kiosk/roster.py); dates are day numbers (Python date.toordinal);
-- status is a small code (kiosk/eligibility/cards.py STATUS). Nothing in
-- this table is readable without the roster key.
DROP INDEX IF EXISTS roster_cards_id;
DROP INDEX IF EXISTS roster_cards_sin;
DROP TABLE IF EXISTS roster_cards;

-- A card is (sin_key, card_prefix): the keyed 10-digit BHXH number and the
-- clear 5-character prefix of its code (group, level, province; NULL for a
-- card printed with the 10-digit number). See kiosk/roster.py card_identity.
CREATE TABLE roster_cards (
    sin_key            INTEGER NOT NULL,
    card_prefix        TEXT,
    id_key             INTEGER,
    name_key           INTEGER,
    birth_key          INTEGER,
    beneficiary_group  TEXT,
    benefit_level      INTEGER,
    province_code      TEXT,
    facility_code      TEXT,
    valid_from         INTEGER,
    valid_to           INTEGER,
    five_year_date     INTEGER,
    living_area        TEXT,
    status             INTEGER NOT NULL DEFAULT 0,
    replaced_by_key    INTEGER,
    replaced_by_prefix TEXT
);
-- Not UNIQUE: a snapshot is loaded in file order and de-duplicated (last line
-- wins) before the indexes are built; deltas delete before they insert.
CREATE INDEX roster_cards_sin ON roster_cards(sin_key);
CREATE INDEX roster_cards_id ON roster_cards(id_key);

-- The one import in progress (or the last one finished): what file, how far,
-- and its bad lines, updated in the same transaction as each batch so a
-- re-run after a crash continues exactly where the last commit ended.
CREATE TABLE roster_import (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint   TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('snapshot', 'delta')),
    version       INTEGER NOT NULL,
    since         INTEGER,
    as_of         TEXT,
    state         TEXT NOT NULL CHECK (state IN ('loading', 'done')),
    offset        INTEGER NOT NULL DEFAULT 0,
    line_no       INTEGER NOT NULL DEFAULT 0,
    cards         INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    bad_count     INTEGER NOT NULL DEFAULT 0,
    bad_lines     TEXT NOT NULL DEFAULT '[]',
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);
