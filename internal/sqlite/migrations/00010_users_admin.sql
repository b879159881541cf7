-- Administration that takes effect at once: a user can be disabled, its
-- password changed and its tokens listed and revoked by id.
--
-- users.disabled_at is NULL while the user may sign in. users.generation
-- grows by one with every change of the password or of disabled_at; a
-- server that remembers a successful password check or a web session
-- remembers the generation it saw and checks it against the store on
-- each request, so a change made by another process (the CLI) counts at
-- the next request. A user deleted and made again has another created_at.
--
-- tokens gets an id to name it by (list, revoke); the hash stays unique.
-- The table is made anew: SQLite cannot add a primary key. The ids of
-- existing tokens are their rowids.

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;

CREATE TABLE tokens_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	hash       TEXT NOT NULL UNIQUE,    -- hex SHA-256 of the token
	user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	label      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used  INTEGER                  -- NULL until first used
) STRICT;
INSERT INTO tokens_new (id, hash, user, label, created_at, last_used)
	SELECT rowid, hash, user, label, created_at, last_used FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user);

-- +goose Down
CREATE TABLE tokens_old (
	hash       TEXT PRIMARY KEY,
	user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	label      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used  INTEGER
) STRICT;
INSERT INTO tokens_old (hash, user, label, created_at, last_used)
	SELECT hash, user, label, created_at, last_used FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user);
ALTER TABLE users DROP COLUMN generation;
ALTER TABLE users DROP COLUMN disabled_at;
