package sqlite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/storetest"
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

// CheckpointPage reads the checkpoints newest first, a page at a time,
// with the total; a page beyond the last is empty; an unknown collection
// is KindNotFound.
func TestCheckpointPage(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	db.SetLogSigner(storetest.NewSigner(t).Sign)
	c := &dialogue.Collection{Title: "pages"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.AddObjects(ctx, c.ID, []*dialogue.Object{pageObject(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		offset, limit int
		want          []int64
	}{
		{0, 2, []int64{5, 4}},
		{2, 2, []int64{3, 2}},
		{4, 2, []int64{1}},
		{5, 2, nil},
		{-1, 2, []int64{5, 4}},
		{0, -1, nil},
	} {
		cps, total, err := db.CheckpointPage(ctx, c.ID, tc.offset, tc.limit)
		var got []int64
		for _, cp := range cps {
			got = append(got, cp.Size)
		}
		if err != nil || total != 5 || !slices.Equal(got, tc.want) {
			t.Errorf("CheckpointPage(%d, %d) = %v, %d, %v; want %v, 5", tc.offset, tc.limit, got, total, err, tc.want)
		}
	}
	if _, _, err := db.CheckpointPage(ctx, "no-such-collection", 0, 10); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("an unknown collection: %v, want KindNotFound", err)
	}
}

// pageObject is a small indicator, one per checkpoint.
func pageObject(n int) *dialogue.Object {
	id := fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", n)
	t := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2036-01-01T00:00:00Z","modified":"2036-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2036-01-01T00:00:00Z"}`, id, n)
	return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: t, Modified: t, Raw: []byte(raw)}
}
