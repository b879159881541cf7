package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
)

var _ dialogue.StampedLister = (*DB)(nil)

// IndexedObjects calls fn with the latest version of each object of the
// given types in a collection, in ascending date_added order, each with
// its log index: for this node's own versions their entry in this node's
// log (log_entries by object_seq), for received ones the index the
// exchange recorded in received_index (Indexed false when none). One
// query per type over the objects_type index, where the workflows asked
// OwnLogIndex or ReceivedIndex once per object. It stops at fn's first
// error and returns it.
func (db *DB) IndexedObjects(ctx context.Context, collectionID string, types []string, fn func(dialogue.IndexedObject) error) error {
	const op = "sqlite.IndexedObjects"
	if len(types) == 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "types: name at least one object type")
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(types)+1)
	args = append(args, pk)
	for _, t := range types {
		args = append(args, t)
	}
	rows, err := db.rQuery(ctx, `SELECT o.id, o.type, o.spec_version, o.created, o.modified, o.date_added, o.raw, o.origin,
		CASE WHEN o.origin IS NULL
			THEN (SELECT e.idx FROM log_entries e WHERE e.object_seq = o.seq AND e.collection_pk = o.collection_pk)
			ELSE (SELECT r.idx FROM received_index r WHERE r.collection_pk = o.collection_pk AND r.id = o.id AND r.version = o.version)
		END
		FROM objects o WHERE o.collection_pk = ? AND o.type IN (`+placeholders(len(types))+`) AND o.superseded = 0
		ORDER BY o.date_added`, args...)
	if err != nil {
		return dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var origin sql.NullString
		var idx sql.NullInt64
		o, _, err := scanObject(rows, &origin, &idx)
		if err != nil {
			return dbErr(op, err)
		}
		if err := fn(dialogue.IndexedObject{Object: o, Origin: origin.String, LogIndex: idx.Int64, Indexed: idx.Valid}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr(op, err)
	}
	return nil
}

// ObjectStamp returns the count and the largest date_added of the
// versions of the given types in a collection (over the objects_type
// index, which holds both), and the count of the received log indexes of
// objects of those types (over received_index's key, by the ids' type
// prefix: the store keeps every id starting with its type), read in one
// statement. date_added strictly increases over the store and is never
// given out twice (store_state), so any version added moves LastAdded;
// with none added, any removed lowers Versions; received_index only
// grows. An index recorded for an object of another type leaves the
// stamp as it was: a node receiving the peer's hotline traffic does not
// make the readers of its requests compute them again.
func (db *DB) ObjectStamp(ctx context.Context, collectionID string, types []string) (dialogue.ObjectStamp, error) {
	const op = "sqlite.ObjectStamp"
	var s dialogue.ObjectStamp
	if len(types) == 0 {
		return s, dialogue.Errorf(op, dialogue.KindInvalid, "types: name at least one object type")
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return s, err
	}
	err = db.rQueryRow(ctx, stampQuery(len(types)), stampArgs(pk, types)...).Scan(&s.Versions, &s.LastAdded, &s.Received)
	if err != nil {
		return s, dbErr(op, err)
	}
	return s, nil
}

// stampQuery is ObjectStamp's statement for n types: ?1 the collection,
// ?2.. the types, then each type's range of ids (stampArgs).
func stampQuery(n int) string {
	var b strings.Builder
	b.WriteString(`SELECT count(*), coalesce(max(o.date_added), 0), (SELECT 0`)
	for i := range n {
		lo, hi := 2+n+2*i, 3+n+2*i
		fmt.Fprintf(&b, ` + (SELECT count(*) FROM received_index r WHERE r.collection_pk = ?1 AND r.id >= ?%d AND r.id < ?%d)`, lo, hi)
	}
	b.WriteString(`) FROM objects o WHERE o.collection_pk = ?1 AND o.type IN (`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "?%d", 2+i)
	}
	b.WriteString(")")
	return b.String()
}

// stampArgs are stampQuery's arguments: the ids of type t are those from
// "t--" (included) to "t-." (excluded), '.' following '-'.
func stampArgs(pk int64, types []string) []any {
	args := make([]any, 0, 1+3*len(types))
	args = append(args, pk)
	for _, t := range types {
		args = append(args, t)
	}
	for _, t := range types {
		args = append(args, t+"--", t+"-.")
	}
	return args
}
