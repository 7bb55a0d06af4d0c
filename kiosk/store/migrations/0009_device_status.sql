-- Device status (issue 14): the UI process, which holds the devices, records
-- each one's state here; `kiosk-sync` reads it into the heartbeat. One row per
-- device kind; a kind never recorded reads as 'absent'. No personal data.
CREATE TABLE device_status (
    device     TEXT PRIMARY KEY CHECK (device IN ('scanner', 'chip', 'camera', 'printer')),
    state      TEXT NOT NULL CHECK (state IN ('ok', 'absent', 'fault')),
    updated_at TEXT NOT NULL
);

-- Which document identified the visit (contract 1.1.0 `document`): chip, cccd_qr,
-- bhyt_qr, mrz or manual. NULL for visits recorded before this migration.
ALTER TABLE visits ADD COLUMN document TEXT
    CHECK (document IS NULL OR document IN ('chip', 'cccd_qr', 'bhyt_qr', 'mrz', 'manual'));
CREATE INDEX visits_date_document ON visits(visit_date, document);
