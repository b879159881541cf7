package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

func TestSizeOfHashes(t *testing.T) {
	for n := range int64(300) {
		c := tlog.StoredHashCount(n)
		if got := sizeOfHashes(c); got != n {
			t.Errorf("sizeOfHashes(StoredHashCount(%d) = %d) = %d", n, c, got)
		}
	}
}

// logObject is a small indicator, the usual object of a stream of
// appends (~330 bytes).
func logObject(n int) *dialogue.Object {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012d", uint32(n)*2654435761, n)
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '203.0.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","name":"appended %d"}`,
		id, n/256%256, n%256, n)
	return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: t, Modified: t, Raw: []byte(raw)}
}

// benchSigner returns a LogSigner with a fresh Ed25519 key.
func benchSigner(b *testing.B) dialogue.LogSigner {
	skey, _, err := tlog.GenerateKey("node.example")
	if err != nil {
		b.Fatal(err)
	}
	s, err := tlog.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	return func(coll string, size int64, root [32]byte) ([]byte, error) {
		return tlog.Sign(tlog.Checkpoint{Origin: "node.example/parley/" + coll, Size: size, Hash: root}, s)
	}
}

// BenchmarkAppend measures appends to a collection's log with durable
// commits: AddObjects calls of `batch` new small indicators each, every
// call one transaction (objects, entries, stored hashes and one signed
// checkpoint) committed with synchronous=FULL. Each b.N is one call.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, batch := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, coll := benchOpen(b, filepath.Join(b.TempDir(), "parley.db"))
			defer db.Close()
			db.SetLogSigner(benchSigner(b))
			calls := make([][]*dialogue.Object, b.N)
			n := 0
			for i := range calls {
				calls[i] = make([]*dialogue.Object, batch)
				for j := range calls[i] {
					calls[i][j] = logObject(n)
					n++
				}
			}
			b.ResetTimer()
			start := time.Now()
			for _, objs := range calls {
				if _, err := db.AddObjects(ctx, coll, objs); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			size, err := db.LogSize(ctx, coll)
			if err != nil || size != int64(n) {
				b.Fatalf("log size %d, %v; want %d", size, err, n)
			}
			cps, err := db.Checkpoints(ctx, coll)
			if err != nil || len(cps) != b.N {
				b.Fatalf("%d checkpoints, %v; want %d", len(cps), err, b.N)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "checkpoints/s")
		})
	}
}

// BenchmarkLeafIndex measures LeafIndex's scan of the level-0 stored
// hashes for the last entry of a log of 100,000 entries (the worst case).
func BenchmarkLeafIndex(b *testing.B) {
	ctx := context.Background()
	const size, batch = 100_000, 10_000
	db, coll := benchOpen(b, filepath.Join(b.TempDir(), "parley.db"))
	defer db.Close()
	var last *dialogue.Object
	for i := 0; i < size; i += batch {
		objs := make([]*dialogue.Object, batch)
		for j := range objs {
			objs[j] = logObject(i + j)
		}
		if _, err := db.AddObjects(ctx, coll, objs); err != nil {
			b.Fatal(err)
		}
		last = objs[batch-1]
	}
	leaf := tlog.LeafHash(last.Raw)
	b.ResetTimer()
	for b.Loop() {
		i, err := db.LeafIndex(ctx, coll, leaf)
		if err != nil || i != size-1 {
			b.Fatalf("LeafIndex = %d, %v; want %d", i, err, size-1)
		}
	}
}
