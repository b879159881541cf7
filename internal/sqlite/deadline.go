package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// ChannelDeadlines returns the deadlines set for the requests this node
// files on a channel: normally and when an agreed off-limits sector is
// hit. A zero Deadlines means none is set (the workflow's default
// applies). KindNotFound for no such channel.
func (db *DB) ChannelDeadlines(ctx context.Context, channelID string) (normal, offLimits dialogue.Deadlines, err error) {
	const op = "sqlite.ChannelDeadlines"
	var ack, answer, offAck, offAnswer sql.NullInt64
	err = db.rQueryRow(ctx, `SELECT ack_seconds, answer_seconds, off_limits_ack_seconds, off_limits_answer_seconds FROM channels WHERE id = ?`, channelID).
		Scan(&ack, &answer, &offAck, &offAnswer)
	if err == sql.ErrNoRows {
		return normal, offLimits, dialogue.Errorf(op, dialogue.KindNotFound, "channel %q does not exist", channelID)
	}
	if err != nil {
		return normal, offLimits, dbErr(op, err)
	}
	secs := func(v sql.NullInt64) time.Duration {
		if !v.Valid {
			return 0
		}
		return time.Duration(v.Int64) * time.Second
	}
	normal = dialogue.Deadlines{Ack: secs(ack), Answer: secs(answer)}
	offLimits = dialogue.Deadlines{Ack: secs(offAck), Answer: secs(offAnswer)}
	return normal, offLimits, nil
}

// SetChannelDeadlines sets the deadlines of the requests this node files
// on a channel, in whole seconds; a zero duration goes back to the
// default. The workflow checks them; a negative one is KindInvalid here.
// KindNotFound for no such channel.
func (db *DB) SetChannelDeadlines(ctx context.Context, channelID string, normal, offLimits dialogue.Deadlines) error {
	const op = "sqlite.SetChannelDeadlines"
	var args []any
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"ack", normal.Ack}, {"answer", normal.Answer}, {"off-limits ack", offLimits.Ack}, {"off-limits answer", offLimits.Answer}} {
		switch s := int64(f.d / time.Second); {
		case f.d < 0:
			return dialogue.Errorf(op, dialogue.KindInvalid, "%s deadline %s: negative", f.name, f.d)
		case s == 0:
			args = append(args, nil)
		default:
			args = append(args, s)
		}
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := txChannel(ctx, tx, op, channelID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE channels SET ack_seconds = ?, answer_seconds = ?, off_limits_ack_seconds = ?, off_limits_answer_seconds = ? WHERE id = ?`,
			append(args, channelID)...)
		return err
	})
}
