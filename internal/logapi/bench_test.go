package logapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// benchLogEntries is the size of the benchmark's log:
// PARLEY_BENCH_LOG_ENTRIES, 4 million by default (what this 2-core
// machine builds in about three minutes; see docs/performance.md).
func benchLogEntries(b *testing.B) int {
	if s := os.Getenv("PARLEY_BENCH_LOG_ENTRIES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("PARLEY_BENCH_LOG_ENTRIES=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 4_000_000
}

// schemaTag names the store's schema (the migrations' files), so that a
// cached benchmark store is rebuilt when they change.
func schemaTag(b *testing.B) string {
	files, err := filepath.Glob(filepath.Join("..", "sqlite", "migrations", "*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no migrations in ../sqlite/migrations: %v", err)
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

const (
	benchNode  = "bench.example"
	benchUser  = "reader"
	benchBatch = 20000
)

// benchLog is the cached store of the benchmark: a collection whose log
// has n entries, a reader with a token, the log key.
type benchLog struct {
	db     *sqlite.DB
	coll   string
	token  string
	origin string
	size   int64
}

// openBenchLog opens (building it the first time, which takes minutes) a
// store under os.TempDir() with one collection of n small indicators, so
// n log entries, appended by AddObjects in calls of 20,000 with a signed
// checkpoint each, as an import makes them.
func openBenchLog(b *testing.B, n int) *benchLog {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-log-bench-%d-%s", n, schemaTag(b)))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		buildBenchLog(b, dir, n)
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := db.FindCollection(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		b.Fatal(err)
	}
	size, err := db.LogSize(ctx, c.ID)
	if err != nil || size != int64(n) {
		b.Fatalf("log size %d, %v; want %d", size, err, n)
	}
	origin, err := tlog.Origin(benchNode, c.ID)
	if err != nil {
		b.Fatal(err)
	}
	return &benchLog{db: db, coll: c.ID, token: string(token), origin: origin, size: size}
}

func buildBenchLog(b *testing.B, dir string, n int) {
	ctx := context.Background()
	b.Logf("building a log of %d entries in %s (once; later runs reuse it)", n, dir)
	start := time.Now()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	skey, _, err := tlog.GenerateKey(benchNode)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	db.SetLogSigner(func(coll string, size int64, root [32]byte) ([]byte, error) {
		origin, err := tlog.Origin(benchNode, coll)
		if err != nil {
			return nil, err
		}
		return tlog.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root}, signer)
	})
	c := &dialogue.Collection{Title: "bench"}
	if err := db.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	if err := db.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "*", Read: true}); err != nil {
		b.Fatal(err)
	}
	// The password is never used (the benchmark sends the token), but a
	// user has one.
	h, err := dialogue.HashPassword("Password1-reader")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, &dialogue.User{Name: benchUser, Role: dialogue.RoleExpert}, h); err != nil {
		b.Fatal(err)
	}
	token, err := dialogue.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateToken(ctx, benchUser, dialogue.HashToken(token), "bench"); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i += benchBatch {
		objs := make([]*dialogue.Object, 0, benchBatch)
		for j := i; j < min(i+benchBatch, n); j++ {
			ts := base.Add(time.Duration(j) * time.Second)
			stamp := ts.Format("2006-01-02T15:04:05.000Z")
			id := "indicator--" + uuid.NewString()
			raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"log bench %d","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"%s"}`,
				id, stamp, stamp, j, j>>16&255, j>>8&255, j&255, stamp)
			objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
		}
		res, err := db.AddObjects(ctx, c.ID, objs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Status != dialogue.Added {
				b.Fatalf("%s: %v %v", r.ID, r.Status, r.Err)
			}
		}
		if (i/benchBatch)%25 == 24 {
			b.Logf("%d entries, %v", i+len(objs), time.Since(start).Round(time.Second))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d entries in %v", n, time.Since(start).Round(time.Second))
}

func newTLSServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	return srv
}

// BenchmarkInclusionProof measures an inclusion proof of a random entry
// at the latest tree size of a log of PARLEY_BENCH_LOG_ENTRIES entries.
// "https" asks for it over HTTPS on loopback through the node's handler
// stack (httpapi with a bearer token, logapi), as a client would, and
// checks the proof; "store" builds it with tlog.Prove from the store's
// LogHashes, without HTTP. Both report the median and 95th percentile.
func BenchmarkInclusionProof(b *testing.B) {
	n := benchLogEntries(b)
	l := openBenchLog(b, n)
	defer l.db.Close()
	ctx := context.Background()
	cp, err := l.db.LatestCheckpoint(ctx, l.coll)
	if err != nil || cp.Size != l.size {
		b.Fatalf("latest checkpoint %+v, %v", cp, err)
	}
	root, err := tlog.TreeHash(l.size, logapi.Hashes(ctx, l.db, l.coll))
	if err != nil {
		b.Fatal(err)
	}

	report := func(b *testing.B, times []time.Duration) {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1e6, "ms-median")
		b.ReportMetric(float64(times[len(times)*95/100].Nanoseconds())/1e6, "ms-p95")
		b.ReportMetric(float64(l.size), "entries")
	}

	b.Run("https", func(b *testing.B) {
		api := httpapi.New(httpapi.Config{Store: l.db, Logger: slog.New(slog.DiscardHandler)})
		api.Mount("/log", logapi.NewHandler(logapi.Config{Store: l.db, Log: l.db, FindLeaf: l.db.LeafIndex, Gate: dialogue.NewGate(l.db, stix.ReadTLP), LargeObject: l.db.LargeObject}))
		srv := newTLSServer(api.Handler())
		defer srv.Close()
		client := srv.Client()
		base := srv.URL + "/log/" + l.coll + "/proof/inclusion?size=" + strconv.FormatInt(l.size, 10) + "&index="
		get := func(i int64) *tlog.InclusionProof {
			req, _ := http.NewRequest("GET", base+strconv.FormatInt(i, 10), nil)
			req.Header.Set("Authorization", "Bearer "+l.token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%d %s, %v", resp.StatusCode, body, err)
			}
			p, err := tlog.ParseInclusionProof(body)
			if err != nil {
				b.Fatal(err)
			}
			return p
		}
		// Check a few proofs against the entries before timing.
		rng := rand.New(rand.NewPCG(1, 2))
		for range 3 {
			i := rng.Int64N(l.size)
			es, err := l.db.LogEntries(ctx, l.coll, i, i+1)
			if err != nil {
				b.Fatal(err)
			}
			if err := get(i).Verify(tlog.LeafHash(es[0]), root); err != nil {
				b.Fatalf("proof of entry %d: %v", i, err)
			}
		}
		times := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			i := rng.Int64N(l.size)
			t0 := time.Now()
			get(i)
			times = append(times, time.Since(t0))
		}
		b.StopTimer()
		report(b, times)
	})

	b.Run("store", func(b *testing.B) {
		hr := logapi.Hashes(ctx, l.db, l.coll)
		rng := rand.New(rand.NewPCG(3, 4))
		times := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			i := rng.Int64N(l.size)
			t0 := time.Now()
			p, err := tlog.Prove(i, l.size, hr)
			times = append(times, time.Since(t0))
			if err != nil || len(p.Hashes) == 0 {
				b.Fatalf("proof of entry %d: %v", i, err)
			}
		}
		b.StopTimer()
		report(b, times)
	})
}
