package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
)

// benchVerifyEntries is the size of the log BenchmarkVerify checks:
// PARLEY_BENCH_VERIFY_ENTRIES, one million by default.
func benchVerifyEntries(b *testing.B) int {
	if s := os.Getenv("PARLEY_BENCH_VERIFY_ENTRIES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("PARLEY_BENCH_VERIFY_ENTRIES=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 1_000_000
}

// benchSchemaTag names the store's schema (its migrations' files), so
// that a cached benchmark node is rebuilt when they change.
func benchSchemaTag(b *testing.B) string {
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "sqlite", "migrations", "*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no migrations in internal/sqlite/migrations: %v", err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// runBench runs one parley command to its end and returns its output.
func runBench(b *testing.B, args ...string) string {
	b.Helper()
	m, stdout, stderr := newMain("")
	err := m.ParseFlags(context.Background(), args)
	if err == nil {
		err = m.Run(context.Background())
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout.String()
}

// benchVerifyNode returns the folder of a node (made once under
// os.TempDir() and reused by later runs) whose collection "local" holds n
// small indicators, so a log of n entries, added by AddObjects in calls
// of 20,000 with a signed checkpoint each, as an import adds them.
func benchVerifyNode(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-verify-bench-%d-%s", n, benchSchemaTag(b)))
	done := filepath.Join(os.TempDir(), filepath.Base(dir)+".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	b.Logf("building a node with a log of %d entries in %s (once; later runs reuse it)", n, dir)
	start := time.Now()
	runBench(b, "init", "--dir", dir, "--name", "bench.example")
	ctx := context.Background()
	nd, err := node.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer nd.Close()
	c, err := nd.Store.FindCollection(ctx, "local")
	if err != nil {
		b.Fatal(err)
	}
	const batch = 20000
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i += batch {
		objs := make([]*dialogue.Object, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			ts := base.Add(time.Duration(j) * time.Second)
			stamp := ts.Format("2006-01-02T15:04:05.000Z")
			id := "indicator--" + uuid.NewString()
			raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"verify bench %d","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"%s"}`,
				id, stamp, stamp, j, j>>16&255, j>>8&255, j&255, stamp)
			objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
		}
		res, err := nd.Store.AddObjects(ctx, c.ID, objs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Status != dialogue.Added {
				b.Fatalf("%s: %v %v", r.ID, r.Status, r.Err)
			}
		}
	}
	if err := nd.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	return dir
}

// BenchmarkVerify runs `parley verify --dir` (the command itself, through
// Main) on a node whose log has PARLEY_BENCH_VERIFY_ENTRIES entries (one
// million by default) and 50 checkpoints: each op is one whole
// verification, reported in seconds.
func BenchmarkVerify(b *testing.B) {
	n := benchVerifyEntries(b)
	dir := benchVerifyNode(b, n)
	want := regexp.MustCompile(fmt.Sprintf(`^ok [0-9a-f-]{36} \(local\): %d entries, \d+ checkpoints, latest size %d root \S+\n$`, n, n))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if out := runBench(b, "verify", "--dir", dir); !want.MatchString(out) {
			b.Fatalf("verify printed %q", out)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/verify")
	b.ReportMetric(float64(n), "entries")
}
