package taxii_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/workflow"
)

// gateBenchObjects is the size of the gate benchmark's collection.
const gateBenchObjects = 12_000

// gateBenchStore opens (building it the first time) a store under
// os.TempDir() with gateBenchObjects indicators of mixed TLP in one
// collection, and a report for every 100 of them holding them: per 100
// indicators, 45 GREEN, 35 CLEAR, 10 unmarked (they take their report's
// marking), 5 AMBER+STRICT and 5 RED naming recipients; one report in 5
// is RED. Every RED names users[1] (by name or by role) among others, so
// that users[1] sees every object and a gated page is as long as an
// ungated one: the two differ only by the deciding.
func gateBenchStore(b *testing.B) (*sqlite.DB, string) {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-taxii-gate-bench-%d", gateBenchObjects))
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
		c, err := db.FindCollection(ctx, "gate-bench")
		if err != nil {
			b.Fatal(err)
		}
		return db, c.ID
	}
	c := &dialogue.Collection{Title: "gate-bench"}
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
	recipients := []string{
		`["` + users[1].name + `","analyst-b"]`,
		`["role:` + string(users[1].role) + `"]`,
	}
	marking := func(m *stix.TLPMarking, rcpt string) string {
		s := `,"object_marking_refs":["` + m.ID + `"]`
		if rcpt != "" {
			s += `,"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","recipients":` + rcpt + `}}`
		}
		return s
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < gateBenchObjects; i += 100 {
		objs := make([]*dialogue.Object, 0, 101)
		ids := make([]string, 0, 100)
		for j := i; j < i+100; j++ {
			ts := base.Add(time.Duration(j) * time.Second)
			stamp := ts.Format("2006-01-02T15:04:05.000Z")
			var mark string
			switch k := j % 100; {
			case k < 45:
				mark = marking(stix.TLPGreen, "")
			case k < 80:
				mark = marking(stix.TLPClear, "")
			case k < 90:
			case k < 95:
				mark = marking(stix.TLPAmberStrict, "")
			default:
				mark = marking(stix.TLPRed, recipients[j%2])
			}
			id := "indicator--" + uuid.NewString()
			raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"bench indicator %d","description":"An indicator of the TAXII benchmark, about as long as a real one with a sentence of text.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"%s","labels":["bench"]%s}`,
				id, stamp, stamp, j, j>>16&255, j>>8&255, j&255, stamp, mark)
			objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
			ids = append(ids, `"`+id+`"`)
		}
		ts := base.Add(time.Duration(i+99)*time.Second + time.Millisecond)
		stamp := ts.Format("2006-01-02T15:04:05.000Z")
		mark := marking(stix.TLPGreen, "")
		if i/100%5 == 4 {
			mark = marking(stix.TLPRed, recipients[i/100%2])
		}
		id := "report--" + uuid.NewString()
		raw := fmt.Appendf(nil, `{"type":"report","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"bench report %d","published":"%s","report_types":["threat-report"],"object_refs":[%s]%s}`,
			id, stamp, stamp, i/100, stamp, joinComma(ids), mark)
		objs = append(objs, &dialogue.Object{ID: id, Type: "report", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
		if _, err := db.AddObjects(ctx, c.ID, objs); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return db, c.ID
}

func joinComma(s []string) string {
	var out []byte
	for i, x := range s {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, x...)
	}
	return string(out)
}

// noGateStore is the store as the gate sees it, with the collection's
// grants answered from memory: the baseline's gate queries nothing.
type noGateStore struct {
	*sqlite.DB
	grants []dialogue.Grant
}

func (s noGateStore) Grants(context.Context, string) ([]dialogue.Grant, error) { return s.grants, nil }

// BenchmarkGatePage measures what the gate costs a TAXII objects GET of a
// 1,000-object page (random added_after) for a user, over plain HTTP on
// loopback, through the node's handler stack, in a collection of mixed
// TLP (gateBenchStore). Each iteration asks the same page of two servers
// over the same store, in alternating order:
//
//   - gate: as the node serves it — the workflows' gate (its grant query,
//     its report markings, stix.ReadMarking on each object, the TLP rule);
//   - bare: a gate whose grants come from memory and that reads every
//     object as CLEAR without looking at it (no JSON parse, no report
//     read): what remains is the store, the envelope and HTTP.
//
// Both pages hold the same 1,000 objects (the benchmark checks it). It
// reports the mean of each (gate-ns/op, bare-ns/op) and their ratio, by
// wall time and by the process's CPU time (cpu-gate/bare). The
// gate keeps what it read of each stored version, and the 100 pages of a
// run fall on the same 12,000 objects: this is a polled collection's
// steady state, BenchmarkGatePageCold the first reading of a page.
func BenchmarkGatePage(b *testing.B) { benchGatePage(b, false) }

// BenchmarkGatePageCold is BenchmarkGatePage with a gate that has read
// nothing yet in every iteration: each object of the page is scanned
// (stix.ReadMarking), as when a page is read for the first time since
// the node started, or holds versions that just arrived. The new gate is
// the workflows' gate with its report markings (read once per run: they
// are kept while the collection's reports do not change) and an empty
// cache of what versions say; the bare server gets a new gate too.
func BenchmarkGatePageCold(b *testing.B) { benchGatePage(b, true) }

func benchGatePage(b *testing.B, cold bool) {
	db, colID := gateBenchStore(b)
	defer db.Close()
	ctx := context.Background()

	var starts []string
	after := ""
	for {
		p, err := db.FindObjects(ctx, colID, dialogue.ObjectFilter{Limit: 1000, After: after, MetaOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if p.More {
			starts = append(starts, taxii.FormatDateAdded(p.Objects[0].DateAdded))
		}
		if !p.More {
			break
		}
		after = p.Next
	}
	starts = starts[:len(starts)-1] // every start has 1,000 objects after it

	// each server's TAXII handler can be replaced between requests (a
	// new gate), while the handler stack in front of it, which keeps the
	// user's authentication, stays
	type server struct {
		*httptest.Server
		taxii atomic.Pointer[taxii.Server]
	}
	serve := func(gate *dialogue.Gate) *server {
		s := &server{}
		s.taxii.Store(taxii.NewServer(taxii.Config{Store: db, Gate: gate}))
		api := httpapi.New(httpapi.Config{Store: db, Logger: discardLogger(), Insecure: true})
		api.Mount("/taxii2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.taxii.Load().ServeHTTP(w, r) }))
		s.Server = httptest.NewServer(api.Handler())
		return s
	}
	wf := workflow.New(db, "cert-a.example", "").Gate()
	gated := serve(wf)
	defer gated.Close()
	grants, err := db.Grants(ctx, colID)
	if err != nil {
		b.Fatal(err)
	}
	clear := func([]byte) (string, []string, []string) { return "clear", nil, nil }
	newBare := func() *dialogue.Gate { return dialogue.NewGate(noGateStore{db, grants}, clear) }
	bare := serve(newBare())
	defer bare.Close()
	// a gate as the workflows make it, sharing their report markings,
	// that has read no object yet
	newGated := func() *dialogue.Gate {
		g := dialogue.NewGate(db, stix.ReadTLP)
		g.Markings, g.ReadMarking, g.Evidence, g.Incident = wf.Markings, wf.ReadMarking, wf.Evidence, wf.Incident
		return g
	}

	get := func(srv *server, start string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/taxii2/parley/collections/"+colID+"/objects/?limit=1000&added_after="+url.QueryEscape(start), nil)
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		req.SetBasicAuth(users[1].name, users[1].password)
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(body) < 1000*300 {
			b.Fatalf("%d, %d bytes, %v", resp.StatusCode, len(body), err)
		}
		return len(body)
	}
	for _, s := range []*server{gated, bare} { // authenticate once: cached after
		get(s, starts[0])
	}
	if g, n := get(gated, starts[1]), get(bare, starts[1]); g != n {
		b.Fatalf("the gated page has %d bytes, the bare one %d: users[1] should see everything", g, n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var tGate, tBare, cGate, cBare time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := starts[rng.IntN(len(starts))]
		if cold {
			gated.taxii.Store(taxii.NewServer(taxii.Config{Store: db, Gate: newGated()}))
			bare.taxii.Store(taxii.NewServer(taxii.Config{Store: db, Gate: newBare()}))
		}
		order := []*server{gated, bare}
		if i%2 == 1 {
			order[0], order[1] = bare, gated
		}
		for _, s := range order {
			t0, c0 := time.Now(), cpuTime(b)
			get(s, start)
			t, c := time.Since(t0), cpuTime(b)-c0
			if s == gated {
				tGate, cGate = tGate+t, cGate+c
			} else {
				tBare, cBare = tBare+t, cBare+c
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(tGate.Nanoseconds())/float64(b.N), "gate-ns/op")
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(tGate)/float64(tBare), "gate/bare")
	b.ReportMetric(float64(cGate.Nanoseconds())/float64(b.N), "gate-cpu-ns/op")
	b.ReportMetric(float64(cBare.Nanoseconds())/float64(b.N), "bare-cpu-ns/op")
	b.ReportMetric(float64(cGate)/float64(cBare), "cpu-gate/bare")
}

// cpuTime returns the CPU time the process has used so far (user and
// system, every thread): the client and both servers run in this
// process and the requests one at a time, so the CPU time a request
// takes is what serving it cost, which other processes on a busy
// machine inflate much less than its wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
