package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// OwnLogIndex returns the index, in this node's log of the collection, of
// the entry of one of its own object versions (ok false when there is
// none: a received version, or no such version), through the id_hash and
// log_entries(object_seq) indexes: no scan of the log's hashes, as a
// leaf-hash look-up (LeafIndex) would need.
func (db *DB) OwnLogIndex(ctx context.Context, collectionID, id string, version time.Time) (idx int64, ok bool, err error) {
	const op = "sqlite.OwnLogIndex"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return 0, false, err
	}
	v := ""
	if !version.IsZero() {
		if !stampable(version) {
			return 0, false, nil
		}
		v = stamp(version)
	}
	err = db.rQueryRow(ctx, `SELECT e.idx FROM objects o JOIN log_entries e ON e.object_seq = o.seq
		WHERE o.collection_pk = ? AND o.id_hash = ? AND o.id = ? AND o.version = ? AND o.origin IS NULL AND e.collection_pk = o.collection_pk`,
		pk, idHash(id), id, v).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, dbErr(op, err)
	}
	return idx, true, nil
}
