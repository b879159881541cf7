package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/dialogue"
)

// WitnessCheckpoint returns the latest checkpoint this node cosigned for
// another log's origin: its size and root, the signed note as the log
// sent it, and when it was cosigned here (CreatedAt). KindNotFound when
// none was. The web UI's Record page shows it as the peer's log received.
func (db *DB) WitnessCheckpoint(ctx context.Context, origin string) (*dialogue.Checkpoint, error) {
	const op = "sqlite.WitnessCheckpoint"
	c := &dialogue.Checkpoint{}
	var root []byte
	var at int64
	err := db.rQueryRow(ctx, `SELECT size, root, note, updated_at FROM witness_state WHERE origin = ?`, origin).Scan(&c.Size, &root, &c.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no checkpoint of %s was cosigned here", origin)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	if len(root) != len(c.Root) {
		return nil, dbErr(op, fmt.Errorf("witness state of %q: root of %d bytes", origin, len(root)))
	}
	c.Root = [32]byte(root)
	c.CreatedAt = fromMicros(at)
	return c, nil
}

// CheckpointPage returns the checkpoints of a collection's log newest
// first, from offset (at most limit), and how many there are in all: a
// page of the web UI's checkpoint history, without reading the others.
func (db *DB) CheckpointPage(ctx context.Context, collectionID string, offset, limit int) ([]*dialogue.Checkpoint, int, error) {
	const op = "sqlite.CheckpointPage"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.rQueryRow(ctx, `SELECT count(*) FROM log_checkpoints WHERE collection_pk = ?`, pk).Scan(&total); err != nil {
		return nil, 0, dbErr(op, err)
	}
	rows, err := db.rQuery(ctx, `SELECT size, root, note, created_at FROM log_checkpoints WHERE collection_pk = ? ORDER BY size DESC LIMIT ? OFFSET ?`,
		pk, max(limit, 0), max(offset, 0))
	if err != nil {
		return nil, 0, dbErr(op, err)
	}
	defer rows.Close()
	var out []*dialogue.Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows, collectionID)
		if err != nil {
			return nil, 0, dbErr(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbErr(op, err)
	}
	return out, total, nil
}
