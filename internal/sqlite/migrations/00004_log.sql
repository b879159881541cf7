-- The record: one append-only Merkle log per collection.
--
-- log_entries has one row per entry, in index order per collection. An
-- object's entry is its raw bytes (tlog.ObjectEntry): those are not kept
-- twice, data is NULL and readers join on objects by object_seq. data
-- holds the entry itself when it differs from the object's bytes (the
-- "parley/object sha256:..." line of an object over 65535 bytes, the
-- "parley/blob sha256:..." line of an evidence blob, object_seq NULL), or
-- once the object row is deleted: a trigger copies raw into data first,
-- so a TAXII DELETE never breaks the log.
--
-- log_hashes holds the stored hashes of golang.org/x/mod/sumdb/tlog
-- (StoredHashIndex): appended in index order, so both tables grow at the
-- end of their primary key.
--
-- log_checkpoints holds one signed checkpoint per AddObjects call (or
-- AppendBlob) that appended entries; witness_state the latest checkpoint
-- this node cosigned per origin of another node's log.
--
-- Objects stored before this migration become the first entries of their
-- collection's log, in date_added order; Open fills in their hashes
-- (parley_log_entry is registered by the sqlite package).

-- +goose Up
-- No foreign key on the two tables a batch appends to (collections are
-- never deleted): each would look up the collection once per row.
CREATE TABLE log_entries (
	collection_pk INTEGER NOT NULL,
	idx           INTEGER NOT NULL,
	object_seq    INTEGER,              -- objects.seq; NULL for a blob
	data          BLOB,                 -- NULL when the entry is objects.raw
	PRIMARY KEY (collection_pk, idx)
) STRICT, WITHOUT ROWID;
-- Grows at its end too (seq only grows): what the delete trigger looks up.
CREATE INDEX log_entries_object ON log_entries (object_seq) WHERE object_seq IS NOT NULL;
-- A blob is entered once per collection.
CREATE UNIQUE INDEX log_entries_blob ON log_entries (collection_pk, data) WHERE object_seq IS NULL;

CREATE TABLE log_hashes (
	collection_pk INTEGER NOT NULL,
	idx           INTEGER NOT NULL,     -- tlog.StoredHashIndex
	hash          BLOB NOT NULL,
	PRIMARY KEY (collection_pk, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE log_checkpoints (
	collection_pk INTEGER NOT NULL REFERENCES collections(pk),
	size          INTEGER NOT NULL,
	root          BLOB NOT NULL,
	note          BLOB NOT NULL,        -- signed note, with cosignatures
	created_at    INTEGER NOT NULL,     -- µs
	PRIMARY KEY (collection_pk, size)
) STRICT, WITHOUT ROWID;

CREATE TABLE witness_state (
	origin     TEXT PRIMARY KEY,
	size       INTEGER NOT NULL,
	root       BLOB NOT NULL,
	note       BLOB NOT NULL,
	updated_at INTEGER NOT NULL         -- µs
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER objects_keep_log_entry BEFORE DELETE ON objects BEGIN
	UPDATE log_entries SET data = OLD.raw
	WHERE object_seq = OLD.seq AND data IS NULL;
END;
-- +goose StatementEnd

INSERT INTO log_entries (collection_pk, idx, object_seq, data)
SELECT collection_pk,
	row_number() OVER (PARTITION BY collection_pk ORDER BY date_added) - 1,
	seq, parley_log_entry(raw)
FROM objects ORDER BY collection_pk, date_added;

-- +goose Down
DROP TRIGGER objects_keep_log_entry;
DROP TABLE witness_state;
DROP TABLE log_checkpoints;
DROP TABLE log_hashes;
DROP TABLE log_entries;
