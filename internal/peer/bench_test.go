package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// benchEnv reads a positive integer from the environment, def when unset.
func benchEnv(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// benchNodes starts two real nodes over real mutual TLS on 127.0.0.1 with
// the exchange's production settings (peer.Config's defaults: a poll every
// 30 s, so every transfer below is started by a push) and shares a channel
// between them. It returns the nodes and the channel id.
func benchNodes(b *testing.B) (a, bn *testNode, id string) {
	b.Helper()
	saved := fastPeers
	fastPeers = peer.Config{}
	defer func() { fastPeers = saved }()
	a, bn = newNode(b, "party-a"), newNode(b, "party-b")
	fastPeers = saved // share's wait uses nothing of it; restore early
	// share needs the channel offer to reach b: with production settings
	// that is one round of a's worker, started by the worker's first run.
	id = share(b, a, bn)
	return a, bn, id
}

// closeNode stops a node as stop does, but waits longer: the peer
// clients' connections that were dialed for a request another connection
// took keep the server's Shutdown waiting for about 5 s (net/http counts
// a connection that never carried a request as idle only after 5 s).
func closeNode(b *testing.B, n *testNode) {
	b.Helper()
	if n.srv != nil {
		if err := n.srv.Close(15 * time.Second); err != nil {
			b.Error(err)
		}
		n.srv = nil
	}
}

// mixedObjects returns n new valid STIX objects of a few hundred bytes
// each, as a CERT's feed would carry them: in groups of four, an
// indicator of an IPv4 address, the ipv4-addr itself, the observed-data
// that saw it, and an indicator of a domain name. tag makes the ids and
// values of one call differ from another's.
func mixedObjects(n int, tag string) [][]byte {
	t := time.Now().UTC().Truncate(time.Millisecond)
	now := t.Format("2006-01-02T15:04:05.000Z")
	out := make([][]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
		host := fmt.Sprintf("c2-%s-%d.example.net", tag, i)
		ipObjID, err := stix.SCOID("ipv4-addr", map[string]any{"value": ip})
		if err != nil {
			panic(err)
		}
		group := [][]byte{
			fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"C2 address %s (%s)","description":"Command and control server seen in the campaign %s; block at the perimeter.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '%s']","pattern_type":"stix","valid_from":"%s","confidence":80,"labels":["c2","campaign-%s"]}`,
				stix.NewID("indicator"), now, now, ip, tag, tag, ip, now, tag),
			fmt.Appendf(nil, `{"type":"ipv4-addr","spec_version":"2.1","id":"%s","value":"%s"}`, ipObjID, ip),
			fmt.Appendf(nil, `{"type":"observed-data","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","first_observed":"%s","last_observed":"%s","number_observed":%d,"object_refs":["%s"],"labels":["netflow","sensor-%d"]}`,
				stix.NewID("observed-data"), now, now, now, now, 1+i%50, ipObjID, i%16),
			fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"C2 domain %s","description":"Domain resolving to %s, used for command and control.","indicator_types":["malicious-activity"],"pattern":"[domain-name:value = '%s']","pattern_type":"stix","valid_from":"%s","confidence":70,"labels":["c2","campaign-%s"]}`,
				stix.NewID("indicator"), now, now, host, ip, host, now, tag),
		}
		for _, g := range group {
			if len(out) < n {
				out = append(out, g)
			}
		}
	}
	return out
}

// cpuTime is the process's CPU time (user and system, every thread).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplicate measures the exchange of a large import: N objects
// (PARLEY_BENCH_PEER_OBJECTS, 100,000 by default) are committed on node A
// in batches of PARLEY_BENCH_PEER_BATCH (1,000 by default), one
// ingest.Objects call each as an import or a TAXII POST makes them.
//
// replicate: the collection is a channel with node B, over mutual TLS on
// 127.0.0.1; each op is one whole exchange on two fresh nodes, timed from
// the first commit on A until B has applied every entry and A's latest
// checkpoint (of size N) carries B's cosignature. It reports objects/s
// over that time, the seconds until A's last commit (commit-s), until B
// applied everything (applied-s) and until the cosignature (cosigned-s),
// and the process's CPU seconds (both nodes, cpu-s).
//
// import: the same commits on the same two nodes, into a collection of A
// that is no channel, so nothing is replicated: the cost of the import
// alone, beside which replicate's figures read.
func BenchmarkReplicate(b *testing.B) {
	n := benchEnv(b, "PARLEY_BENCH_PEER_OBJECTS", 100_000)
	batch := benchEnv(b, "PARLEY_BENCH_PEER_BATCH", 1000)
	for _, replicate := range []bool{false, true} {
		name := "import"
		if replicate {
			name = "replicate"
		}
		b.Run(name, func(b *testing.B) { benchReplicate(b, n, batch, replicate) })
	}
}

func benchReplicate(b *testing.B, n, batch int, replicate bool) {
	ctx := context.Background()
	var total, commitT, appliedT, cosignedT, cpuT time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, bn, id := benchNodes(b)
		if !replicate {
			c := &dialogue.Collection{Title: "not shared"}
			if err := a.store().Store.CreateCollection(ctx, c); err != nil {
				b.Fatal(err)
			}
			id = c.ID
		}
		objs := mixedObjects(n, fmt.Sprintf("r%d", i))
		batches := make([][]json.RawMessage, 0, n/batch+1)
		for lo := 0; lo < n; lo += batch {
			rms := make([]json.RawMessage, 0, batch)
			for _, o := range objs[lo:min(lo+batch, n)] {
				rms = append(rms, o)
			}
			batches = append(batches, rms)
		}
		objs = nil
		b.StartTimer()

		cpu0 := cpuTime()
		start := time.Now()
		applied := make(chan time.Duration, 1)
		if replicate {
			go func() {
				for {
					got, err := bn.store().Store.Applied(ctx, a.name, id)
					if err == nil && got >= int64(n) {
						applied <- time.Since(start)
						return
					}
					if time.Since(start) > 5*time.Minute {
						applied <- -1
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		for _, rms := range batches {
			rep, err := ingest.Objects(ctx, a.store().Store, id, rms, ingest.AllOrNothing)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Refused || rep.Rejected > 0 || rep.Added != len(rms) {
				b.Fatalf("import on a: %d added, %d rejected of %d: %+v", rep.Added, rep.Rejected, len(rms), rep.Results[:min(3, len(rep.Results))])
			}
		}
		commit := time.Since(start)
		elapsed, app, cosigned := commit, commit, commit
		if replicate {
			for {
				if c, err := a.store().Store.Cosigned(ctx, bn.name, id); err == nil && c >= int64(n) {
					cosigned = time.Since(start)
					break
				}
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("b never cosigned a's log at size %d; a's log:\n%s", n, a.logs)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if app = <-applied; app < 0 {
				b.Fatalf("b never applied %d entries; b's log:\n%s", n, bn.logs)
			}
			elapsed = max(app, cosigned)
		}
		cpu := cpuTime() - cpu0
		b.StopTimer()

		if replicate {
			if size := checkCosigned(b, a, bn, id); size != int64(n) {
				b.Fatalf("a's latest checkpoint: size %d, want %d", size, n)
			}
			if got := count(b, bn, id); got != n {
				b.Fatalf("b holds %d objects, want %d", got, n)
			}
			b.Logf("op %d: %d objects in batches of %d: commits on a done %.2fs, applied on b %.2fs, cosigned %.2fs; %.0f objects/s; CPU %.2fs",
				i, n, batch, commit.Seconds(), app.Seconds(), cosigned.Seconds(), float64(n)/elapsed.Seconds(), cpu.Seconds())
		} else {
			if got := count(b, a, id); got != n {
				b.Fatalf("a holds %d objects, want %d", got, n)
			}
			b.Logf("op %d: %d objects in batches of %d, no replication: commits on a done %.2fs; %.0f objects/s; CPU %.2fs",
				i, n, batch, commit.Seconds(), float64(n)/elapsed.Seconds(), cpu.Seconds())
		}
		if replicate {
			// The requests, from the nodes' request logs.
			la, lb := a.logs.String(), bn.logs.String()
			b.Logf("requests: a served %d entry bundles, %d level-0 hash tiles, %d higher hash tiles, %d checkpoints; b cosigned %d checkpoints",
				strings.Count(la, "/tile/entries/"), strings.Count(la, "/tile/0/"), strings.Count(la, "/tile/1/")+strings.Count(la, "/tile/2/")+strings.Count(la, "/tile/3/"),
				strings.Count(la, "/checkpoint status"), strings.Count(lb, "add-checkpoint status=200"))
		}
		total += elapsed
		commitT += commit
		appliedT += app
		cosignedT += cosigned
		cpuT += cpu
		closeNode(b, bn)
		closeNode(b, a)
		b.StartTimer()
	}
	ops := float64(b.N)
	b.ReportMetric(float64(n)*ops/total.Seconds(), "objects/s")
	b.ReportMetric(commitT.Seconds()/ops, "commit-s")
	if replicate {
		b.ReportMetric(appliedT.Seconds()/ops, "applied-s")
		b.ReportMetric(cosignedT.Seconds()/ops, "cosigned-s")
	}
	b.ReportMetric(cpuT.Seconds()/ops, "cpu-s")
}

// BenchmarkLatency measures the time from the commit of one small object
// on node A until FindObjects on node B returns it, the nodes idle
// otherwise: each op is one object, committed once the previous one is
// readable on B. store commits it with ingest.Objects (what a TAXII POST
// does); taxii-https sends it as a client would, a POST to A's TAXII
// collection over HTTPS (bearer token, a kept-alive connection), timed
// from before the request. It reports the median and the 95th percentile
// and the largest (ms-median, ms-p95, ms-max).
//
// PARLEY_BENCH_PEER_HISTORY=N first commits N objects on A one by one, so
// that A's log of the channel has N checkpoints, as after months of
// single-object TAXII POSTs (default 0: a new channel).
func BenchmarkLatency(b *testing.B) {
	b.Run("store", func(b *testing.B) { benchLatency(b, false) })
	b.Run("taxii-https", func(b *testing.B) { benchLatency(b, true) })
}

func benchLatency(b *testing.B, overHTTPS bool) {
	ctx := context.Background()
	a, bn, id := benchNodes(b)
	commit := func(raws [][]byte) { add(b, a, id, raws) }
	if overHTTPS {
		commit = taxiiPoster(b, a, id)
	}
	if h := benchEnv(b, "PARLEY_BENCH_PEER_HISTORY", -1); h > 0 {
		start := time.Now()
		for i, raw := range indicators(h, "history") {
			add(b, a, id, [][]byte{raw})
			if i%1000 == 999 {
				b.Logf("history: %d commits", i+1)
			}
		}
		waitFor(b, 10*time.Minute, "b applied the history", func() bool {
			n, err := bn.store().Store.Applied(ctx, a.name, id)
			return err == nil && n >= int64(h)
		})
		b.Logf("history of %d single-object commits made and replicated in %s", h, time.Since(start).Round(time.Millisecond))
	}
	// Warm up: the first exchange opens the connections.
	warm := indicators(1, "warm-up")
	commit(warm)
	waitFor(b, 30*time.Second, "b holds the warm-up object", func() bool { return holds(b, bn, id, warm[0]) })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := indicators(1, fmt.Sprintf("latency %d", i))
		start := time.Now()
		commit(raw)
		// Poll b's applied size (one row; ApplyReceived sets it in the
		// transaction that adds the objects), then look the object up:
		// polling FindObjects itself would take the nodes' CPU.
		cp, err := a.store().Store.LatestCheckpoint(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		for {
			n, err := bn.store().Store.Applied(ctx, a.name, id)
			if err != nil {
				b.Fatal(err)
			}
			if n >= cp.Size && holds(b, bn, id, raw[0]) {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("object %d not on b after 30 s; b's log:\n%s", i, bn.logs)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// holds reports whether FindObjects on n finds the object raw in a
// collection.
func holds(b *testing.B, n *testNode, collectionID string, raw []byte) bool {
	b.Helper()
	o, _, err := stix.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	page, err := n.store().Store.FindObjects(context.Background(), collectionID, dialogue.ObjectFilter{IDs: []string{o.ID}, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	return len(page.Objects) == 1
}

// taxiiPoster returns a function that posts objects to a collection of
// node n through its TAXII server over HTTPS, as a user with a bearer
// token and write access, and checks that all were added.
func taxiiPoster(b *testing.B, n *testNode, collectionID string) func([][]byte) {
	b.Helper()
	ctx := context.Background()
	st := n.store().Store
	if err := st.CreateUser(ctx, &dialogue.User{Name: "analyst", Role: dialogue.RoleExpert, CreatedAt: time.Now()}, "not-a-password-hash"); err != nil {
		b.Fatal(err)
	}
	tok, err := dialogue.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateToken(ctx, "analyst", dialogue.HashToken(tok), "bench"); err != nil {
		b.Fatal(err)
	}
	if err := st.SetGrant(ctx, dialogue.Grant{CollectionID: collectionID, Principal: "analyst", Read: true, Write: true}); err != nil {
		b.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = taxii.ClientTLS(n.srv.Pin, false)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	url := n.srv.URL + "/taxii2/" + taxii.APIRoot + "/collections/" + collectionID + "/objects/"
	return func(raws [][]byte) {
		body := append([]byte(`{"objects":[`), bytes.Join(raws, []byte(","))...)
		body = append(body, "]}"...)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		ans, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		var status struct {
			SuccessCount int `json:"success_count"`
		}
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal(ans, &status) != nil || status.SuccessCount != len(raws) {
			b.Fatalf("POST %s: %s: %s", url, resp.Status, ans)
		}
	}
}

// reportLatency reports the median and 95th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "ms-median")
	b.ReportMetric(q(0.95), "ms-p95")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
}
