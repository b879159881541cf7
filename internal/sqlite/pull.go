package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parleyhq/parley/internal/dialogue"
)

// PullCursor returns where the pull named key stopped ("" if never).
func (db *DB) PullCursor(ctx context.Context, key string) (string, error) {
	const op = "sqlite.PullCursor"
	var c string
	err := db.rQueryRow(ctx, "SELECT cursor FROM pull_cursors WHERE key = ?", key).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, dbErr(op, err)
}

// SetPullCursor records where the pull named key stopped.
func (db *DB) SetPullCursor(ctx context.Context, key, cursor string) error {
	const op = "sqlite.SetPullCursor"
	if key == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "a pull cursor needs a key")
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pull_cursors (key, cursor) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET cursor = excluded.cursor`, key, cursor)
		return err
	})
}
