package sqlite_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// TestObjectSums lists every stored version of one collection (not of
// another) with the SHA-256 of its bytes and its TAXII version, and stops
// at the callback's error.
func TestObjectSums(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	colls := make([]string, 2)
	for i := range colls {
		c := &dialogue.Collection{Title: fmt.Sprint("c", i)}
		if err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		colls[i] = c.ID
	}
	want := map[[32]byte]string{}
	for i := range 5 {
		ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC)
		id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i%3) // two ids with two versions
		s := ts.Format("2006-01-02T15:04:05.000Z")
		raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","pattern":"[x:y = 'z']","pattern_type":"stix","valid_from":"%s"}`, id, s, s, s)
		o := &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw}
		for _, c := range colls[:1+i%2] {
			if _, err := db.AddObjects(ctx, c, []*dialogue.Object{o}); err != nil {
				t.Fatal(err)
			}
		}
		want[sha256.Sum256(raw)] = id + " " + ts.Format(time.RFC3339)
	}
	got := map[[32]byte]string{}
	err := db.ObjectSums(ctx, colls[0], func(s dialogue.ObjectSum) error {
		got[s.SHA256] = s.ID + " " + s.Version.Format(time.RFC3339)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ObjectSums = %v\nwant %v", got, want)
	}
	n, stop := 0, errors.New("stop")
	if err := db.ObjectSums(ctx, colls[1], func(dialogue.ObjectSum) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stopping: %v after %d calls", err, n)
	}
	if err := db.ObjectSums(ctx, "no-such", func(dialogue.ObjectSum) error { return nil }); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown collection: %v", err)
	}
}
