package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

var _ dialogue.EnrichmentStore = (*DB)(nil)

// maxTail is the largest page TailObjects returns.
const maxTail = 10000

// TailObjects lists up to limit object versions (every version, received
// ones too) of a collection added after after, in DateAdded order; Raw is
// read only for the types in withRaw (see migrations/00006).
func (db *DB) TailObjects(ctx context.Context, collectionID string, after time.Time, limit int, withRaw []string) ([]*dialogue.Object, error) {
	const op = "sqlite.TailObjects"
	if limit <= 0 || limit > maxTail {
		limit = maxTail
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	lower := int64(-1 << 63)
	if !after.IsZero() {
		lower = after.UnixMicro()
	}
	raw := "NULL"
	args := []any{pk, lower}
	if len(withRaw) > 0 {
		raw = "CASE WHEN o.type IN (" + placeholders(len(withRaw)) + ") THEN o.raw END"
		args = []any{}
		for _, t := range withRaw {
			args = append(args, t)
		}
		args = append(args, pk, lower)
	}
	args = append(args, limit)
	// No condition on the type: the walk goes through objects_date_added
	// in order and stops at limit (a type condition could make the
	// planner take objects_type and sort the whole tail first).
	q := "SELECT o.id, o.type, o.spec_version, o.created, o.modified, o.date_added, " + raw +
		" FROM objects o WHERE o.collection_pk = ? AND o.date_added > ? ORDER BY o.date_added LIMIT ?"
	rows, err := db.rQuery(ctx, q, args...)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []*dialogue.Object
	for rows.Next() {
		o, _, err := scanObject(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}

// EnrichCursor returns how far the enrichment of a collection has got.
func (db *DB) EnrichCursor(ctx context.Context, collectionID string) (dialogue.EnrichCursor, error) {
	const op = "sqlite.EnrichCursor"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return dialogue.EnrichCursor{}, err
	}
	var c dialogue.EnrichCursor
	var after int64
	err = db.rQueryRow(ctx, `SELECT after, databases FROM enrich_cursors WHERE collection_pk = ?`, pk).Scan(&after, &c.Databases)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return dialogue.EnrichCursor{}, nil
	case err != nil:
		return dialogue.EnrichCursor{}, dbErr(op, err)
	}
	if after != 0 {
		c.After = fromMicros(after)
	}
	return c, nil
}

// SaveEnrichments stores a step of enrichment in one transaction.
func (db *DB) SaveEnrichments(ctx context.Context, collectionID string, b *dialogue.EnrichBatch) error {
	const op = "sqlite.SaveEnrichments"
	for _, e := range b.Enrichments {
		if e.ObjectID == "" {
			return dialogue.Errorf(op, dialogue.KindInvalid, "enrichment without object id")
		}
		if !stampable(e.Version) {
			return dialogue.Errorf(op, dialogue.KindInvalid, "enrichment of %s: version is outside the years 0000-9999", e.ObjectID)
		}
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, collectionID)
		if err != nil {
			return err
		}
		if len(b.Enrichments) > 0 {
			put, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO enrichments (collection_pk, object_id, version, record, computed_at) VALUES (?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer put.Close()
			del, err := tx.PrepareContext(ctx, `DELETE FROM enrichments WHERE collection_pk = ? AND object_id = ? AND version = ?`)
			if err != nil {
				return err
			}
			defer del.Close()
			for _, e := range b.Enrichments {
				v := versionText(e.Version)
				if e.Record == nil {
					_, err = del.ExecContext(ctx, pk, e.ObjectID, v)
				} else {
					_, err = put.ExecContext(ctx, pk, e.ObjectID, v, string(e.Record), micros(e.Computed))
				}
				if err != nil {
					return err
				}
			}
		}
		if len(b.Links) > 0 {
			link, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO enrich_links (collection_pk, dependent_id, ref_id) VALUES (?, ?, ?)`)
			if err != nil {
				return err
			}
			defer link.Close()
			for _, l := range b.Links {
				if _, err := link.ExecContext(ctx, pk, l.DependentID, l.RefID); err != nil {
					return err
				}
			}
		}
		if c := b.Cursor; c != nil {
			var after int64
			if !c.After.IsZero() {
				after = micros(c.After)
			}
			// Forward only while the databases are the same: two
			// processes enriching one collection never move it back.
			_, err := tx.ExecContext(ctx, `INSERT INTO enrich_cursors (collection_pk, after, databases) VALUES (?, ?, ?)
				ON CONFLICT (collection_pk) DO UPDATE SET
					after = CASE WHEN databases = excluded.databases THEN max(after, excluded.after) ELSE excluded.after END,
					databases = excluded.databases`, pk, after, c.Databases)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// versionText is an object version as the objects table keeps it.
func versionText(v time.Time) string {
	if v.IsZero() {
		return ""
	}
	return stamp(v)
}

// Enrichment returns the enrichment of one object version (KindNotFound
// when it has none).
func (db *DB) Enrichment(ctx context.Context, collectionID, id string, version time.Time) (*dialogue.Enrichment, error) {
	const op = "sqlite.Enrichment"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	if !stampable(version) {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "object %s: version is outside the years 0000-9999", id)
	}
	e := &dialogue.Enrichment{ObjectID: id, Version: version}
	var record string
	var computed int64
	err = db.rQueryRow(ctx, `SELECT record, computed_at FROM enrichments WHERE collection_pk = ? AND object_id = ? AND version = ?`,
		pk, id, versionText(version)).Scan(&record, &computed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "object %s has no enrichment in collection %s", id, collectionID)
	case err != nil:
		return nil, dbErr(op, err)
	}
	e.Record = []byte(record)
	e.Computed = fromMicros(computed)
	return e, nil
}

// maxIDsPerQuery bounds the ids of one query (each is a placeholder).
const maxIDsPerQuery = 500

// EnrichDependents lists the ids whose links name one of refIDs.
func (db *DB) EnrichDependents(ctx context.Context, collectionID string, refIDs []string) ([]string, error) {
	const op = "sqlite.EnrichDependents"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var out []string
	for len(refIDs) > 0 {
		chunk := refIDs[:min(len(refIDs), maxIDsPerQuery)]
		refIDs = refIDs[len(chunk):]
		args := make([]any, 0, 1+len(chunk))
		args = append(args, pk)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := db.rQuery(ctx, `SELECT DISTINCT dependent_id FROM enrich_links WHERE collection_pk = ? AND ref_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, dbErr(op, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, dbErr(op, err)
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, dbErr(op, err)
		}
	}
	return out, nil
}

// EnrichRefs lists the ids that the links of dependentID name, in order.
func (db *DB) EnrichRefs(ctx context.Context, collectionID, dependentID string) ([]string, error) {
	const op = "sqlite.EnrichRefs"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	rows, err := db.rQuery(ctx, `SELECT ref_id FROM enrich_links WHERE collection_pk = ? AND dependent_id = ? ORDER BY ref_id`, pk, dependentID)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}
