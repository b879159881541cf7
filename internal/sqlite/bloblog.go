package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
)

// BlobInLog reports whether a collection's log has an entry for the
// evidence blob with this SHA-256 (AppendBlob, whatever its size): the
// peer protocol serves a blob only to the peer of a channel that names it.
func (db *DB) BlobInLog(ctx context.Context, collectionID string, sum [32]byte) (bool, error) {
	const op = "sqlite.BlobInLog"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return false, err
	}
	// The entry is "parley/blob sha256:<hex> <size>\n" (tlog.BlobEntry):
	// a range of the partial index log_entries_blob, from the prefix up to
	// the prefix with its last byte, ' ', raised by one.
	lo := []byte("parley/blob sha256:" + hex.EncodeToString(sum[:]) + " ")
	hi := append([]byte(nil), lo...)
	hi[len(hi)-1]++
	var one int
	err = db.rQueryRow(ctx, `SELECT 1 FROM log_entries
		WHERE collection_pk = ? AND object_seq IS NULL AND data >= ? AND data < ? LIMIT 1`, pk, lo, hi).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbErr(op, err)
	}
	return true, nil
}
