package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// WitnessCheckpoint reads back the latest note cosigned for an origin,
// with when; an origin never cosigned is KindNotFound.
func TestWitnessCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	const origin = "node-b/parley/00000000-0000-4000-8000-000000000001"
	if _, err := db.WitnessCheckpoint(ctx, origin); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Fatalf("no checkpoint cosigned yet: %v, want KindNotFound", err)
	}
	before := time.Now().Add(-time.Second)
	if err := db.WitnessStore(ctx, origin, 0, 5, [32]byte{5}, []byte("note 5")); err != nil {
		t.Fatal(err)
	}
	if err := db.WitnessStore(ctx, origin, 5, 9, [32]byte{9}, []byte("note 9")); err != nil {
		t.Fatal(err)
	}
	c, err := db.WitnessCheckpoint(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != 9 || c.Root != [32]byte{9} || string(c.Note) != "note 9" || c.CreatedAt.Before(before) || c.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("WitnessCheckpoint = size %d root %x note %q at %v", c.Size, c.Root, c.Note, c.CreatedAt)
	}
}
