-- superseded marks every version of an object but the latest in its
-- collection, so that match[version]=last (the TAXII default, the most
-- common query) reads a column instead of looking up each object's
-- versions. AddObjects sets it for each batch in one statement (a trigger
-- per inserted row doubled the cost of an import); a trigger keeps it
-- right when the latest version is deleted.

-- +goose Up
ALTER TABLE objects ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;

UPDATE objects SET superseded = 1 WHERE EXISTS (
	SELECT 1 FROM objects x
	WHERE x.collection_pk = objects.collection_pk AND x.id = objects.id AND x.version > objects.version);

-- +goose StatementBegin
CREATE TRIGGER objects_unsupersede AFTER DELETE ON objects WHEN OLD.superseded = 0 BEGIN
	UPDATE objects SET superseded = 0
	WHERE seq = (
		SELECT seq FROM objects
		WHERE collection_pk = OLD.collection_pk AND id = OLD.id
		ORDER BY version DESC LIMIT 1);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER objects_unsupersede;
ALTER TABLE objects DROP COLUMN superseded;
