package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// OwnLogIndex names the same entry as the leaf-hash look-up.
func TestOwnLogIndex(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := &dialogue.Collection{Title: "c"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	var objs []*dialogue.Object
	for i := range 5 {
		raw, err := stix.NewParleyObject(stix.TypeHotline, time.Date(2030, 1, 1, 0, 0, i, 0, time.UTC), "", map[string]any{"description": "x"})
		if err != nil {
			t.Fatal(err)
		}
		o, _, _ := stix.Parse(raw)
		objs = append(objs, &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Raw: o.Raw})
	}
	if _, err := db.AppendBlob(ctx, c.ID, [32]byte{1}, 1); err != nil { // entry 0 is a blob
		t.Fatal(err)
	}
	if _, err := db.AddObjects(ctx, c.ID, objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		got, ok, err := db.OwnLogIndex(ctx, c.ID, o.ID, o.Version())
		want, lerr := db.LeafIndex(ctx, c.ID, [32]byte(tlog.LeafHash(tlog.ObjectEntry(o.Raw))))
		if err != nil || lerr != nil || !ok || got != want || got < 1 {
			t.Errorf("%s: OwnLogIndex %d %v %v, LeafIndex %d %v", o.ID, got, ok, err, want, lerr)
		}
	}
	if _, ok, err := db.OwnLogIndex(ctx, c.ID, objs[0].ID, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)); ok || err != nil {
		t.Errorf("another version: %v %v", ok, err)
	}
}
