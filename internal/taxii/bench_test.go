package taxii_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// benchObjects is the number of objects in the benchmark's store:
// PARLEY_BENCH_OBJECTS, one million by default.
func benchObjects(b *testing.B) int {
	if s := os.Getenv("PARLEY_BENCH_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2000 {
			b.Fatalf("PARLEY_BENCH_OBJECTS=%q: want a number of at least 2000", s)
		}
		return n
	}
	return 1_000_000
}

// benchStore opens (building it the first time, which takes a while) a
// store under os.TempDir() with n indicators in one collection, granted
// to every user.
func benchStore(b *testing.B, n int) (*sqlite.DB, string) {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-taxii-bench-%d", n))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(done); err == nil {
		c, err := db.FindCollection(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		return db, c.ID
	}
	b.Logf("building a store of %d objects in %s (once)", n, dir)
	start := time.Now()
	c := &dialogue.Collection{Title: "bench"}
	if err := db.CreateCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	if err := db.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "*", Read: true}); err != nil {
		b.Fatal(err)
	}
	h, err := dialogue.HashPassword(users[1].password)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, &dialogue.User{Name: users[1].name, Role: users[1].role}, h); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 5000
	for i := 0; i < n; i += batch {
		objs := make([]*dialogue.Object, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			ts := base.Add(time.Duration(j) * time.Second)
			stamp := ts.Format("2006-01-02T15:04:05.000Z")
			id := "indicator--" + uuid.NewString()
			raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"bench indicator %d","description":"An indicator of the TAXII benchmark, about as long as a real one with a sentence of text.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"%s","labels":["bench"]}`,
				id, stamp, stamp, j, j>>16&255, j>>8&255, j&255, stamp)
			objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
		}
		if _, err := db.AddObjects(ctx, c.ID, objs); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	return db, c.ID
}

// BenchmarkGetObjectsPage measures a TAXII objects GET of a 1,000-object
// page with added_after, over HTTPS on loopback, in a collection of
// PARLEY_BENCH_OBJECTS objects. Each iteration starts at a random point of
// the collection. It reports the median and 95th percentile.
func BenchmarkGetObjectsPage(b *testing.B) {
	n := benchObjects(b)
	db, colID := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()

	// Starting points spread over the whole collection.
	var starts []string
	after := ""
	for {
		p, err := db.FindObjects(ctx, colID, dialogue.ObjectFilter{Limit: 10000, After: after, MetaOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Objects) > 1000 {
			starts = append(starts, taxii.FormatDateAdded(p.Objects[0].DateAdded))
		}
		if !p.More {
			break
		}
		after = p.Next
	}

	api := httpapi.New(httpapi.Config{Store: db, Logger: discardLogger()})
	api.Mount("/taxii2", taxii.NewServer(taxii.Config{Store: db}))
	srv := newTLSServer(api.Handler())
	defer srv.Close()
	client := srv.Client()
	base := srv.URL + "/taxii2/parley/collections/" + colID + "/objects/?limit=1000&added_after="

	get := func(start string) {
		req, _ := http.NewRequest("GET", base+url.QueryEscape(start), nil)
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		req.SetBasicAuth(users[1].name, users[1].password)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(body) < 1000*300 {
			b.Fatalf("%d, %d bytes, %v", resp.StatusCode, len(body), err)
		}
	}
	get(starts[0]) // authenticate once: the password check is cached after
	rng := rand.New(rand.NewPCG(1, 2))
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		get(starts[rng.IntN(len(starts))])
		durations = append(durations, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(durations[len(durations)*95/100].Microseconds())/1000, "ms-p95")
	b.ReportMetric(float64(n), "objects-stored")
}
