package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
)

// detail is how one StatusDetail is kept in a statuses row (JSON).
type detail struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	Message string `json:"message,omitempty"`
}

func encodeDetails(ds []dialogue.StatusDetail) (string, error) {
	out := make([]detail, len(ds))
	for i, d := range ds {
		out[i] = detail{ID: d.ID, Message: d.Message}
		if !d.Version.IsZero() {
			out[i].Version = d.Version.UTC().Format(time.RFC3339Nano)
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeDetails(s string) ([]dialogue.StatusDetail, error) {
	var in []detail
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]dialogue.StatusDetail, len(in))
	for i, d := range in {
		out[i] = dialogue.StatusDetail{ID: d.ID, Message: d.Message}
		if d.Version != "" {
			t, err := time.Parse(time.RFC3339Nano, d.Version)
			if err != nil {
				return nil, err
			}
			out[i].Version = t
		}
	}
	return out, nil
}

// CreateStatus stores a TAXII status resource. An empty s.ID is filled
// with a new UUID, a zero RequestTimestamp with now and an empty Status
// with "complete" when nothing is pending, else "pending".
func (db *DB) CreateStatus(ctx context.Context, s *dialogue.Status) error {
	const op = "sqlite.CreateStatus"
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	if s.RequestTimestamp.IsZero() {
		s.RequestTimestamp = db.now()
	}
	s.RequestTimestamp = fromMicros(micros(s.RequestTimestamp))
	if s.Status == "" {
		s.Status = "complete"
		if len(s.Pendings) > 0 {
			s.Status = "pending"
		}
	}
	var enc [3]string
	for i, ds := range [][]dialogue.StatusDetail{s.Successes, s.Failures, s.Pendings} {
		var err error
		if enc[i], err = encodeDetails(ds); err != nil {
			return dialogue.E(op, dialogue.KindOther, err)
		}
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO statuses (id, collection_id, status, request_timestamp, successes, failures, pendings)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, s.ID, s.CollectionID, s.Status, micros(s.RequestTimestamp), enc[0], enc[1], enc[2])
		if isUnique(err) {
			return dialogue.Errorf(op, dialogue.KindConflict, "status %s exists already", s.ID)
		}
		return err
	})
}

// Status finds a status resource by id.
func (db *DB) Status(ctx context.Context, id string) (*dialogue.Status, error) {
	const op = "sqlite.Status"
	s := &dialogue.Status{}
	var ts int64
	var enc [3]string
	err := db.rQueryRow(ctx, `SELECT id, collection_id, status, request_timestamp, successes, failures, pendings
		FROM statuses WHERE id = ?`, id).Scan(&s.ID, &s.CollectionID, &s.Status, &ts, &enc[0], &enc[1], &enc[2])
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "status %q does not exist", id)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	s.RequestTimestamp = fromMicros(ts)
	for i, dst := range []*[]dialogue.StatusDetail{&s.Successes, &s.Failures, &s.Pendings} {
		if *dst, err = decodeDetails(enc[i]); err != nil {
			return nil, dbErr(op, err)
		}
	}
	return s, nil
}
