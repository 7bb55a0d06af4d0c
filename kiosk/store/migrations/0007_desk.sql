-- The front desk (issue 9): staff accounts, services chosen per visit, every
-- change a staff member makes to a visit, and explicit exports.

-- PINs only as slow-KDF hashes ("scrypt$n$r$p$salt$hash"); id_number is the
-- officer's own ID (the national lookup requires it), never shown in full.
CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    full_name       TEXT NOT NULL,
    id_number       TEXT NOT NULL UNIQUE,
    pin_hash        TEXT NOT NULL,
    is_admin        INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    must_change_pin INTEGER NOT NULL DEFAULT 0 CHECK (must_change_pin IN (0, 1)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Account changes (add, disable, enable, reset, lockout): who did what to whom, when.
CREATE TABLE staff_events (
    id        INTEGER PRIMARY KEY,
    staff_id  INTEGER NOT NULL REFERENCES staff(id),
    by_staff  INTEGER REFERENCES staff(id),
    action    TEXT NOT NULL,
    at        TEXT NOT NULL
);

-- Services of a visit: the patient's choice at the kiosk (added_by NULL) and
-- any the receptionist adds.
CREATE TABLE visit_services (
    id        INTEGER PRIMARY KEY,
    visit_id  INTEGER NOT NULL REFERENCES visits(id),
    service   TEXT NOT NULL,
    added_by  INTEGER REFERENCES staff(id),
    added_at  TEXT NOT NULL,
    UNIQUE (visit_id, service)
);
CREATE INDEX visit_services_visit ON visit_services(visit_id);

-- Every change made to a visit from the console (status, correction, service,
-- reprint, manual entry), with the staff member who made it.
CREATE TABLE visit_changes (
    id         INTEGER PRIMARY KEY,
    visit_id   INTEGER NOT NULL REFERENCES visits(id),
    staff_id   INTEGER REFERENCES staff(id),
    action     TEXT NOT NULL,
    field      TEXT,
    old_value  TEXT,
    new_value  TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX visit_changes_visit ON visit_changes(visit_id);

-- Explicit exports and views of personal data from the console.
CREATE TABLE desk_exports (
    id         INTEGER PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id),
    kind       TEXT NOT NULL,
    visit_date TEXT NOT NULL,
    rows       INTEGER NOT NULL,
    path       TEXT NOT NULL,
    at         TEXT NOT NULL
);
