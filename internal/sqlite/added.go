package sqlite

import (
	"context"
	"database/sql"

	"github.com/parleyhq/parley/internal/dialogue"
)

var _ dialogue.VersionLister = (*DB)(nil)

// VersionsAdded calls fn with every version of the given types in a
// collection added in (after, upTo] (date_added, µs), superseded ones
// too, in ascending date_added order, each with whether it is its
// object's latest and how many versions of the object the collection
// holds (objects_id_hash). It searches the objects_type index from after,
// so a reader extending a fold pays for the versions added since, not for
// the collection. It stops at fn's first error and returns it.
func (db *DB) VersionsAdded(ctx context.Context, collectionID string, types []string, after, upTo int64, fn func(dialogue.AddedVersion) error) error {
	const op = "sqlite.VersionsAdded"
	if len(types) == 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "types: name at least one object type")
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(types)+3)
	args = append(args, pk, after, upTo)
	for _, t := range types {
		args = append(args, t)
	}
	rows, err := db.rQuery(ctx, addedQuery(len(types)), args...)
	if err != nil {
		return dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			origin     sql.NullString
			superseded bool
			versions   int
		)
		o, _, err := scanObject(rows, &origin, &superseded, &versions)
		if err != nil {
			return dbErr(op, err)
		}
		if err := fn(dialogue.AddedVersion{Object: o, Origin: origin.String, Latest: !superseded, Versions: versions}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr(op, err)
	}
	return nil
}

// addedQuery is VersionsAdded's statement for n types: ?1 the collection,
// ?2 and ?3 the bounds, then the types.
func addedQuery(n int) string {
	return `SELECT o.id, o.type, o.spec_version, o.created, o.modified, o.date_added, o.raw, o.origin, o.superseded,
		(SELECT count(*) FROM objects v WHERE v.collection_pk = o.collection_pk AND v.id_hash = o.id_hash AND v.id = o.id)
		FROM objects o INDEXED BY objects_type
		WHERE o.collection_pk = ? AND o.date_added > ? AND o.date_added <= ? AND o.type IN (` + placeholders(n) + `)
		ORDER BY o.date_added`
}
