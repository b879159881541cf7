-- A channel can be declined: an offer declined here (no collection), or a
-- proposal of this node the peer declined (its collection stays). The
-- state's CHECK constraints are widened in place in sqlite_schema (as
-- 00009 does, and as sqlite.org/lang_altertable.html allows for a change
-- that every stored row satisfies already); RESET reloads this
-- connection's schema and the CREATE/DROP moves the schema cookie on for
-- any other.

-- +goose Up
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(replace(sql,
	'CHECK (state IN (''proposed'', ''offered'', ''active''))',
	'CHECK (state IN (''proposed'', ''offered'', ''active'', ''declined''))'),
	'CHECK ((collection_pk IS NULL) = (state = ''offered''))',
	'CHECK ((collection_pk IS NULL) = (state = ''offered'') OR state = ''declined'')')
WHERE type = 'table' AND name = 'channels';
PRAGMA writable_schema = RESET;
CREATE TABLE parley_schema_cookie (x INTEGER);
DROP TABLE parley_schema_cookie;

-- +goose Down
DELETE FROM channels WHERE state = 'declined' AND collection_pk IS NULL;
UPDATE channels SET state = 'proposed' WHERE state = 'declined';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(replace(sql,
	'CHECK (state IN (''proposed'', ''offered'', ''active'', ''declined''))',
	'CHECK (state IN (''proposed'', ''offered'', ''active''))'),
	'CHECK ((collection_pk IS NULL) = (state = ''offered'') OR state = ''declined'')',
	'CHECK ((collection_pk IS NULL) = (state = ''offered''))')
WHERE type = 'table' AND name = 'channels';
PRAGMA writable_schema = RESET;
CREATE TABLE parley_schema_cookie (x INTEGER);
DROP TABLE parley_schema_cookie;
