-- Enrichment: what a node works out about its objects from
-- outside data (country and autonomous system of the addresses they
-- name), kept beside them; the objects' bytes never change.
--
-- enrichments holds one JSON record per enriched object version, keyed as
-- objects are (collection, id, version as in objects.version). Versions
-- that name no address have no row. A trigger removes the row when the
-- version is deleted; nothing else writes objects' rows for it.
--
-- enrich_links holds which objects an enrichment read (an observed-data's
-- object_refs, the objects an infrastructure is related to), so that an
-- object is enriched again when one it names arrives later.
--
-- enrich_cursors holds, per collection, the date_added of the last object
-- version the enrichment looked at and the databases it used.

-- +goose Up
CREATE TABLE enrichments (
	collection_pk INTEGER NOT NULL,
	object_id     TEXT NOT NULL,
	version       TEXT NOT NULL,        -- objects.version: '' when unversioned
	record        TEXT NOT NULL,        -- JSON: the x_parley_enrichment property
	computed_at   INTEGER NOT NULL,     -- µs
	PRIMARY KEY (collection_pk, object_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE enrich_links (
	collection_pk INTEGER NOT NULL,
	dependent_id  TEXT NOT NULL,
	ref_id        TEXT NOT NULL,
	PRIMARY KEY (collection_pk, dependent_id, ref_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX enrich_links_ref ON enrich_links (collection_pk, ref_id);

CREATE TABLE enrich_cursors (
	collection_pk INTEGER PRIMARY KEY REFERENCES collections(pk),
	after         INTEGER NOT NULL,     -- objects.date_added, µs
	databases     TEXT NOT NULL
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER objects_drop_enrichment AFTER DELETE ON objects BEGIN
	DELETE FROM enrichments
	WHERE collection_pk = OLD.collection_pk AND object_id = OLD.id AND version = OLD.version;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER objects_drop_enrichment;
DROP TABLE enrich_cursors;
DROP TABLE enrich_links;
DROP TABLE enrichments;
