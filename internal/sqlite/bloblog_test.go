package sqlite_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

func TestBlobInLog(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	a := &dialogue.Collection{Title: "a"}
	b := &dialogue.Collection{Title: "b"}
	for _, c := range []*dialogue.Collection{a, b} {
		if err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte("evidence"))
	other := sha256.Sum256([]byte("other"))
	if _, err := db.AppendBlob(ctx, a.ID, sum, 8); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		coll string
		sum  [32]byte
		want bool
	}{{a.ID, sum, true}, {b.ID, sum, false}, {a.ID, other, false}} {
		got, err := db.BlobInLog(ctx, tc.coll, tc.sum)
		if err != nil || got != tc.want {
			t.Errorf("BlobInLog(%s, %x) = %v, %v; want %v", tc.coll, tc.sum[:4], got, err, tc.want)
		}
	}
	if _, err := db.BlobInLog(ctx, "no-such-collection", sum); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown collection: %v", err)
	}
}
