-- id_hash replaces the unique index on (collection_pk, id, version) with a
-- compact one on (collection_pk, id_hash): the first 8 bytes of the
-- SHA-256 of the id, as a signed big-endian integer (idHash in object.go;
-- the migration calls it as parley_id_hash, which Open registers).
--
-- Re-issued STIX ids are random, so every import inserts into that index
-- at random places, and a batch dirties nearly every page of it: each
-- commit writes the whole index to the WAL and each checkpoint writes it
-- again. Its entries were ~90 bytes (id and version text); they are ~20
-- now, so the index is a fifth of the pages. The index is not unique (two
-- ids may share a hash): AddObjects keeps (collection, id, version) unique
-- itself, in its write transaction, by probing the index and comparing
-- the ids it finds.

-- +goose Up
ALTER TABLE objects ADD COLUMN id_hash INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET id_hash = parley_id_hash(id);
DROP INDEX objects_id_version;
CREATE INDEX objects_id_hash ON objects (collection_pk, id_hash);

DROP TRIGGER objects_unsupersede;
-- +goose StatementBegin
CREATE TRIGGER objects_unsupersede AFTER DELETE ON objects WHEN OLD.superseded = 0 BEGIN
	UPDATE objects SET superseded = 0
	WHERE seq = (
		SELECT seq FROM objects
		WHERE collection_pk = OLD.collection_pk AND id_hash = OLD.id_hash AND id = OLD.id
		ORDER BY version DESC LIMIT 1);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER objects_unsupersede;
-- +goose StatementBegin
CREATE TRIGGER objects_unsupersede AFTER DELETE ON objects WHEN OLD.superseded = 0 BEGIN
	UPDATE objects SET superseded = 0
	WHERE seq = (
		SELECT seq FROM objects
		WHERE collection_pk = OLD.collection_pk AND id = OLD.id
		ORDER BY version DESC LIMIT 1);
END;
-- +goose StatementEnd
DROP INDEX objects_id_hash;
CREATE UNIQUE INDEX objects_id_version ON objects (collection_pk, id, version);
ALTER TABLE objects DROP COLUMN id_hash;
