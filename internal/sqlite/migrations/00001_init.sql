-- The first schema of a Parley node.
--
-- Timestamps that are STIX versions (created, modified, version) are text
-- in one fixed width, "2006-01-02T15:04:05.000000000Z", so that text order
-- is time order for every year a STIX timestamp can name. Timestamps the
-- node sets itself (date_added, created_at, last_used) are integer
-- microseconds since the Unix epoch.

-- +goose Up
CREATE TABLE collections (
	pk          INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	title       TEXT NOT NULL UNIQUE,
	alias       TEXT UNIQUE,            -- NULL when unset
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE grants (
	collection_pk INTEGER NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,
	principal     TEXT NOT NULL,        -- a user name, or "*"
	can_read      INTEGER NOT NULL,
	can_write     INTEGER NOT NULL,
	PRIMARY KEY (collection_pk, principal)
) STRICT, WITHOUT ROWID;

-- objects holds one row per version of a STIX object in a collection.
-- seq only grows (AUTOINCREMENT: never reused after a delete); date_added
-- strictly increases over the whole store, in the same order as seq
-- (store_state keeps the last one given out, deletes notwithstanding).
-- Indexes: by (id, version) within a collection (also the idempotency
-- key, and what version first/last/exact look up per id), by date_added
-- (pages, added_after) and by type then date_added (match[type]). Every
-- index costs every import; a further one needs a query that uses it.
CREATE TABLE objects (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	collection_pk INTEGER NOT NULL REFERENCES collections(pk),
	id            TEXT NOT NULL,
	version       TEXT NOT NULL,        -- Object.Version(); '' when unversioned
	type          TEXT NOT NULL,
	spec_version  TEXT NOT NULL,
	created       TEXT,
	modified      TEXT,
	date_added    INTEGER NOT NULL,
	sha256        BLOB NOT NULL,
	raw           BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX objects_id_version ON objects (collection_pk, id, version);
CREATE UNIQUE INDEX objects_date_added ON objects (collection_pk, date_added);
CREATE INDEX objects_type ON objects (collection_pk, type, date_added);

CREATE TABLE store_state (
	one             INTEGER PRIMARY KEY CHECK (one = 1),
	last_date_added INTEGER NOT NULL    -- µs; the next object gets more
) STRICT;
INSERT INTO store_state (one, last_date_added) VALUES (1, 0);

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,        -- hex SHA-256 of the token
	user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	label      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used  INTEGER                  -- NULL until first used
) STRICT;
CREATE INDEX tokens_user ON tokens (user);

CREATE TABLE statuses (
	id                TEXT PRIMARY KEY,
	collection_id     TEXT NOT NULL,
	status            TEXT NOT NULL,
	request_timestamp INTEGER NOT NULL,
	successes         TEXT NOT NULL,    -- JSON arrays of details
	failures          TEXT NOT NULL,
	pendings          TEXT NOT NULL
) STRICT;

CREATE TABLE pull_cursors (
	key    TEXT PRIMARY KEY,
	cursor TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE pull_cursors;
DROP TABLE statuses;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE store_state;
DROP TABLE objects;
DROP TABLE grants;
DROP TABLE collections;
