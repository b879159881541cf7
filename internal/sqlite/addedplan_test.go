package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The versions added since a stamp are read from the objects_type index
// by type and date_added (the bounds searched, not filtered), and each
// one's other versions by objects_id_hash: a fold extended on a node
// holding 40,000 dialogue objects reads the few added, not the
// collection.
func TestVersionsAddedPlan(t *testing.T) {
	_, plan := planOf(t)
	for _, types := range [][]string{{"parley-hotline"}, {"parley-hotline", "parley-check", "parley-receipt", "parley-event"}} {
		args := []any{int64(1), int64(10), int64(20)}
		for _, ty := range types {
			args = append(args, ty)
		}
		p := plan(addedQuery(len(types)), args...)
		if !strings.Contains(p, "SEARCH o USING INDEX objects_type (collection_pk=? AND type=? AND date_added>? AND date_added<?)") ||
			!strings.Contains(p, "SEARCH v USING INDEX objects_id_hash (collection_pk=? AND id_hash=?)") {
			t.Errorf("%d types: plan %q, want objects_type searched by type and date_added, objects_id_hash by hash", len(types), p)
		}
	}
}

// A stamp counts over the objects_type index and the received indexes
// by their key's range of ids, never a scan of the collection.
func TestObjectStampPlan(t *testing.T) {
	_, plan := planOf(t)
	for _, types := range [][]string{{"parley-request"}, {"parley-hotline", "parley-check", "parley-receipt", "parley-event"}} {
		p := plan(stampQuery(len(types)), stampArgs(1, types)...)
		if strings.Contains(strings.ReplaceAll(p, "SCAN CONSTANT ROW", ""), "SCAN") || !strings.Contains(p, "SEARCH o USING COVERING INDEX objects_type (collection_pk=? AND type=?)") ||
			strings.Count(p, "SEARCH r USING PRIMARY KEY (collection_pk=? AND id>? AND id<?)") != len(types) {
			t.Errorf("%d types: plan %q, want objects_type searched by type and received_index by id range, once a type", len(types), p)
		}
	}
}

// planOf opens a store and returns a function giving a query's plan.
func planOf(t *testing.T) (*DB, func(q string, args ...any) string) {
	t.Helper()

	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, func(q string, args ...any) string {
		t.Helper()
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		return strings.Join(plan, "; ")
	}
}
