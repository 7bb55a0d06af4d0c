-- Staff birth dates (issue 13): a PIN may not be the staff member's birth date
-- in any usual form, and a PIN reset must be checked against it too. Sealed at
-- rest under the device data key, like staff.id_number; NULL for accounts made
-- before this (their PINs are still checked against the birth year in the ID).
ALTER TABLE staff ADD COLUMN birth_date TEXT;
