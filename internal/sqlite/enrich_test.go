package sqlite_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

func enrichObject(typ string, n int) *dialogue.Object {
	id := fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
	return &dialogue.Object{ID: id, Type: typ, SpecVersion: "2.1",
		Raw: []byte(fmt.Sprintf(`{"type":%q,"id":%q,"value":"192.0.2.%d"}`, typ, id, n))}
}

func TestTailObjects(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := &dialogue.Collection{Title: "c"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	objs := []*dialogue.Object{enrichObject("ipv4-addr", 1), enrichObject("domain-name", 2), enrichObject("ipv4-addr", 3), enrichObject("url", 4)}
	if _, err := db.AddObjects(ctx, c.ID, objs[:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddObjects(ctx, c.ID, objs[2:]); err != nil {
		t.Fatal(err)
	}
	got, err := db.TailObjects(ctx, c.ID, time.Time{}, 3, []string{"ipv4-addr", "url"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d objects, want 3", len(got))
	}
	for i, o := range got {
		if o.ID != objs[i].ID || o.DateAdded != objs[i].DateAdded {
			t.Errorf("object %d: %s added %v, want %s added %v", i, o.ID, o.DateAdded, objs[i].ID, objs[i].DateAdded)
		}
		if wantRaw := o.Type != "domain-name"; (o.Raw != nil) != wantRaw || (wantRaw && string(o.Raw) != string(objs[i].Raw)) {
			t.Errorf("object %d (%s): raw %q", i, o.Type, o.Raw)
		}
	}
	rest, err := db.TailObjects(ctx, c.ID, got[2].DateAdded, 0, nil)
	if err != nil || len(rest) != 1 || rest[0].ID != objs[3].ID || rest[0].Raw != nil {
		t.Fatalf("the rest: %v, %v", rest, err)
	}
	if none, err := db.TailObjects(ctx, c.ID, rest[0].DateAdded, 0, nil); err != nil || len(none) != 0 {
		t.Fatalf("past the end: %v, %v", none, err)
	}
	if _, err := db.TailObjects(ctx, "no-such", time.Time{}, 0, nil); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("no such collection: %v", err)
	}
}

func TestEnrichments(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := &dialogue.Collection{Title: "c"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	ip := enrichObject("ipv4-addr", 1)
	ind := &dialogue.Object{ID: "indicator--1", Type: "indicator", Modified: time.Date(2024, 1, 1, 0, 0, 0, 5000, time.UTC), Raw: []byte(`{}`)}
	if _, err := db.AddObjects(ctx, c.ID, []*dialogue.Object{ip, ind}); err != nil {
		t.Fatal(err)
	}
	if cur, err := db.EnrichCursor(ctx, c.ID); err != nil || cur != (dialogue.EnrichCursor{}) {
		t.Fatalf("new cursor: %+v, %v", cur, err)
	}
	computed := time.Date(2025, 2, 3, 4, 5, 6, 7000, time.UTC)
	b := &dialogue.EnrichBatch{
		Enrichments: []dialogue.Enrichment{
			{ObjectID: ip.ID, Record: []byte(`{"addresses":[1]}`), Computed: computed},
			{ObjectID: ind.ID, Version: ind.Modified, Record: []byte(`{"addresses":[2]}`), Computed: computed},
		},
		Links:  []dialogue.EnrichLink{{DependentID: "a", RefID: "x"}, {DependentID: "b", RefID: "x"}, {DependentID: "a", RefID: "y"}},
		Cursor: &dialogue.EnrichCursor{After: ind.DateAdded, Databases: "demo@1"},
	}
	if err := db.SaveEnrichments(ctx, c.ID, b); err != nil {
		t.Fatal(err)
	}
	// Saving again changes nothing (links are kept once).
	if err := db.SaveEnrichments(ctx, c.ID, b); err != nil {
		t.Fatal(err)
	}
	e, err := db.Enrichment(ctx, c.ID, ind.ID, ind.Modified)
	if err != nil || string(e.Record) != `{"addresses":[2]}` || !e.Computed.Equal(computed) {
		t.Fatalf("enrichment: %+v, %v", e, err)
	}
	if _, err := db.Enrichment(ctx, c.ID, ind.ID, ind.Modified.Add(time.Second)); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("other version: %v", err)
	}
	deps, err := db.EnrichDependents(ctx, c.ID, []string{"x", "y", "z"})
	if err != nil || !reflect.DeepEqual(deps, []string{"a", "b"}) && !reflect.DeepEqual(deps, []string{"b", "a"}) {
		t.Errorf("dependents: %q, %v", deps, err)
	}
	if refs, err := db.EnrichRefs(ctx, c.ID, "a"); err != nil || !reflect.DeepEqual(refs, []string{"x", "y"}) {
		t.Errorf("refs: %q, %v", refs, err)
	}
	// A nil record removes the enrichment.
	if err := db.SaveEnrichments(ctx, c.ID, &dialogue.EnrichBatch{Enrichments: []dialogue.Enrichment{{ObjectID: ip.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Enrichment(ctx, c.ID, ip.ID, time.Time{}); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("removed: %v", err)
	}

	// The cursor moves forward only while the databases are the same,
	// and anywhere when they change.
	cursor := func(after time.Time, dbs string) dialogue.EnrichCursor {
		t.Helper()
		if err := db.SaveEnrichments(ctx, c.ID, &dialogue.EnrichBatch{Cursor: &dialogue.EnrichCursor{After: after, Databases: dbs}}); err != nil {
			t.Fatal(err)
		}
		cur, err := db.EnrichCursor(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return cur
	}
	if cur := cursor(ip.DateAdded, "demo@1"); !cur.After.Equal(ind.DateAdded) || cur.Databases != "demo@1" {
		t.Errorf("moved back: %+v", cur)
	}
	if cur := cursor(ip.DateAdded, "demo@2"); !cur.After.Equal(ip.DateAdded) || cur.Databases != "demo@2" {
		t.Errorf("other databases: %+v", cur)
	}

	// Bad input and missing collections.
	if err := db.SaveEnrichments(ctx, c.ID, &dialogue.EnrichBatch{Enrichments: []dialogue.Enrichment{{Record: []byte(`{}`)}}}); dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Errorf("no object id: %v", err)
	}
	if err := db.SaveEnrichments(ctx, "no-such", b); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("no such collection: %v", err)
	}
	if _, err := db.EnrichCursor(ctx, "no-such"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("no such collection: %v", err)
	}
}
