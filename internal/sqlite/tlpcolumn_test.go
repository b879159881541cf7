package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// TestStoredTLP: FindObjects gives each version's TLP as objects.tlp kept
// it when the version was added, which is stix.ReadMarking's level of the
// stored JSON; a version naming RED recipients, or added before the column
// was kept (NULL, as migrations/00013 leaves old rows), has none, and the
// gate reads its JSON.
func TestStoredTLP(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var objs []*dialogue.Object
	add := func(extra string) {
		id := fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", len(objs)+1)
		objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: mod, Modified: mod,
			Raw: fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z"%s}`, id, extra)})
	}
	add("")
	for _, m := range stix.TLP2Markings {
		add(fmt.Sprintf(`,"object_marking_refs":[%q]`, m.ID))
	}
	add(fmt.Sprintf(`,"object_marking_refs":[%q,%q]`, stix.TLPGreen.ID, stix.TLPAmber.ID))     // the strictest counts
	add(`,"object_marking_refs":["marking-definition--00000000-0000-4000-8000-000000000000"]`) // not TLP
	add(fmt.Sprintf(`,"object_marking_refs":[%q],"extensions":{%q:{"extension_type":"property-extension","recipients":["alice"]}}`, stix.TLPRed.ID, stix.ParleyExtensionID))
	res, err := db.AddObjects(ctx, "c", objs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != dialogue.Added {
			t.Fatalf("object %d: %+v", i, r)
		}
	}
	// A row as a store before the column kept it.
	if _, err := db.w.ExecContext(ctx, `UPDATE objects SET tlp = NULL WHERE id = ?`, objs[2].ID); err != nil {
		t.Fatal(err)
	}
	page, err := db.FindObjects(ctx, "c", dialogue.ObjectFilter{Limit: 100})
	if err != nil || len(page.Objects) != len(objs) {
		t.Fatalf("%d objects, %v", len(page.Objects), err)
	}
	known := 0
	for i, o := range page.Objects {
		level, recipients := stix.ReadMarking(o.Raw)
		switch {
		case i == 2 || len(recipients) > 0:
			if o.TLPKnown {
				t.Errorf("%s: stored TLP %q known, want it read from the JSON", o.Raw, o.TLP)
			}
		case !o.TLPKnown || o.TLP != level:
			t.Errorf("%s: stored TLP %q (known %v), want %q", o.Raw, o.TLP, o.TLPKnown, level)
		default:
			known++
		}
	}
	if known != len(objs)-2 {
		t.Errorf("%d stored TLPs known, want %d", known, len(objs)-2)
	}
}
