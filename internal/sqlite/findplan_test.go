package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// A look-up by id goes through the id_hash index, whatever else the
// filter asks: the planner, left to itself, walked the collection's
// date_added index for the ORDER BY, a scan of every object per look-up.
func TestFindByIDUsesIDIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &dialogue.Collection{Title: "c"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	pk, err := db.pk(ctx, db.r, "test", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	id := "indicator--00000000-0000-4000-8000-000000000001"
	for _, f := range []dialogue.ObjectFilter{
		{IDs: []string{id}},
		{IDs: []string{id, "report--00000000-0000-4000-8000-000000000002"}, Types: []string{"indicator", "observed-data"}},
		{IDs: []string{id}, Versions: dialogue.VersionMatch{First: true}, MetaOnly: true},
		{IDs: []string{id}, Versions: dialogue.VersionMatch{All: true}, SpecVersions: []string{"2.1"}},
	} {
		q, args := findQuery(pk, f, -1, 10)
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.HasPrefix(p, "SEARCH o USING INDEX objects_id_hash") {
			t.Errorf("filter %+v: plan %q, want a search of objects_id_hash first", f, p)
		}
	}
	// And it answers.
	if _, err := db.FindObjects(ctx, c.ID, dialogue.ObjectFilter{IDs: []string{id}, Types: []string{"indicator"}}); err != nil {
		t.Fatal(err)
	}
}
