package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"

	"github.com/parleyhq/parley/internal/dialogue"
)

var _ dialogue.ObjectSumLister = (*DB)(nil)

// ObjectSums calls fn with the id, TAXII version and SHA-256 of every
// object version of a collection that is this node's own (not received
// from a peer: those are in the peer's log), in storage order. The sum is computed
// from the stored bytes, not taken from the sha256 column, so that a row
// whose bytes were changed behind the store's back is not vouched for by
// its old sum; one lean scan, without FindObjects' pages and objects. It
// stops at fn's first error and returns it.
func (db *DB) ObjectSums(ctx context.Context, collectionID string, fn func(dialogue.ObjectSum) error) error {
	const op = "sqlite.ObjectSums"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return err
	}
	// NOT INDEXED: a scan of the table in storage order; through an index
	// on collection_pk each row was a random seek into the table.
	// origin IS NULL: a version received from a peer is an entry of the
	// peer's log, not of this node's (migrations/00005).
	rows, err := db.rQuery(ctx, `SELECT id, version, date_added, raw FROM objects NOT INDEXED WHERE collection_pk = ? AND origin IS NULL`, pk)
	if err != nil {
		return dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s       dialogue.ObjectSum
			version sql.NullString
			added   int64
			raw     sql.RawBytes
		)
		if err := rows.Scan(&s.ID, &version, &added, &raw); err != nil {
			return dbErr(op, err)
		}
		s.SHA256 = sha256.Sum256(raw)
		if s.Version, err = parseStamp(version); err != nil {
			return dbErr(op, fmt.Errorf("object %s: version: %w", s.ID, err))
		}
		if s.Version.IsZero() {
			s.Version = fromMicros(added)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr(op, err)
	}
	return nil
}
