-- An INSERT of many rows into objects (AddObjects adds 50 per statement)
-- no longer needs a statement journal. SQLite opens one for a statement
-- that writes several rows and may abort half-way, and then copies every
-- page the statement changes the first time (16 KiB each: for a batch of
-- re-issued ids, a page of objects_id_hash per row) into it, so that it
-- could undo the statement alone: a seventh of AddObjects' CPU in a profile
-- of 300,000 re-issued ATT&CK objects (2.0 of 14.0 s). Three
-- things made the INSERT one that "may abort":
--
--   - the foreign key on collection_pk, an immediate one: it is now
--     DEFERRABLE INITIALLY DEFERRED, checked at commit (collections are
--     never deleted, and AddObjects looks the collection up in its own
--     transaction). The table's text in sqlite_schema is changed in place
--     (PRAGMA writable_schema, as sqlite.org/lang_altertable.html allows
--     for constraint changes that leave the stored rows as they are);
--     RESET reloads this connection's schema and the CREATE/DROP moves
--     the schema cookie on for any other;
--   - the NOT NULL constraints: AddObjects inserts with INSERT OR FAIL
--     (it rolls back the whole transaction on any error anyway);
--   - the partial index objects_large, whose condition length(raw) > 65535
--     was a function call: it now reads the column large, which
--     AddObjects sets to 1 for an object over 65535 bytes
--     (tlog.MaxEntrySize) and which this migration fills in.

-- +goose Up
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'REFERENCES collections(pk),', 'REFERENCES collections(pk) DEFERRABLE INITIALLY DEFERRED,')
WHERE type = 'table' AND name = 'objects';
PRAGMA writable_schema = RESET;
CREATE TABLE parley_schema_cookie (x INTEGER);
DROP TABLE parley_schema_cookie;

ALTER TABLE objects ADD COLUMN large INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET large = 1 WHERE length(raw) > 65535;
DROP INDEX objects_large;
CREATE INDEX objects_large ON objects (collection_pk, sha256) WHERE large = 1;

-- +goose Down
DROP INDEX objects_large;
CREATE INDEX objects_large ON objects (collection_pk, sha256) WHERE length(raw) > 65535;
ALTER TABLE objects DROP COLUMN large;

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'REFERENCES collections(pk) DEFERRABLE INITIALLY DEFERRED,', 'REFERENCES collections(pk),')
WHERE type = 'table' AND name = 'objects';
PRAGMA writable_schema = RESET;
CREATE TABLE parley_schema_cookie (x INTEGER);
DROP TABLE parley_schema_cookie;
