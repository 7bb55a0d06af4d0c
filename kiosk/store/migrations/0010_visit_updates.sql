-- Contract 1.2.0 `visit_update`: each queue action (called, done, left, cancelled,
-- a service added) is sent to the hub as a numbered update. update_seq is the
-- number of the visit's last update, so the next one is update_seq + 1 in the
-- same transaction as the change; it never goes back, even when old outbox
-- rows are purged.
ALTER TABLE visits ADD COLUMN update_seq INTEGER NOT NULL DEFAULT 0;
-- The facility the visit was recorded for (the hub binds each update to it);
-- NULL for visits recorded before this migration: the update then names none
-- and the hub takes the device's own.
ALTER TABLE visits ADD COLUMN facility_code TEXT;
