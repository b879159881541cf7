package peer_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/tlog"
)

// peerClient is the mutual-TLS client from's node calls to's with.
func peerClient(t testing.TB, from, to *testNode) *http.Client {
	t.Helper()
	cert, err := from.store().TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.PeerClient(cert, to.srv.Pin, 5*time.Second)
}

// metric returns the value of a counter of n's metrics with the labels
// given (name=value pairs), 0 when it has no such series.
func metric(t testing.TB, n *testNode, name string, labels ...string) float64 {
	t.Helper()
	g, ok := n.srv.API.Registerer().(prometheus.Gatherer)
	if !ok {
		t.Fatal("the node's registerer is no gatherer")
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// latestRequest is the add-checkpoint request for n's latest checkpoint
// of the channel, from size old.
func addCheckpoint(t testing.TB, client *http.Client, from, to *testNode, id string, old int64, cp *dialogue.Checkpoint) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	proof, err := tlog.ProveConsistency(old, cp.Size, logapi.Hashes(ctx, from.store().Store, id))
	if err != nil {
		t.Fatal(err)
	}
	return logapi.AddCheckpoint(ctx, client, to.srv.URL+logapi.WitnessPath, old, proof.Hashes, cp.Note)
}

func latest(t testing.TB, n *testNode, id string) *dialogue.Checkpoint {
	t.Helper()
	cp, err := n.store().Store.LatestCheckpoint(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestUnpinnedClientRefused: a third node C, pinned by nobody, gets
// nothing from A: with its certificate the handshake is refused, without
// one the peer protocol answers 403 and the witness does not take a
// checkpoint of A's peer's log. The attempts are logged.
func TestUnpinnedClientRefused(t *testing.T) {
	ctx := context.Background()
	a, b, c := newNode(t, "party-a"), newNode(t, "party-b"), newNode(t, "party-c")
	id := share(t, a, b)
	add(t, b, id, indicators(5, "from b"))
	settled(t, a, b, id, 15*time.Second)

	// C's own certificate: refused in the handshake.
	cc := peerClient(t, c, a)
	for _, path := range []string{peer.ChannelsPath, logapi.WitnessPath} {
		resp, err := cc.Post(a.srv.URL+path, "application/json", strings.NewReader(`{}`))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Errorf("POST %s with an unpinned certificate: %s %s, want the handshake refused", path, resp.Status, body)
			continue
		}
		if !strings.Contains(err.Error(), "tls") {
			t.Errorf("POST %s with an unpinned certificate: %v, want a TLS error", path, err)
		}
	}
	cpin := c.srv.Pin
	waitFor(t, 5*time.Second, "a logs the refused handshake", func() bool {
		return strings.Contains(a.logs.String(), "refused TLS client") && strings.Contains(a.logs.String(), cpin)
	})

	// No client certificate: a user's connection, 403 on the peer protocol.
	client, err := logapi.HTTPClient(a.srv.Pin, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := `{"id":"` + id + `","title":"x","state":"proposed"}`
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPost, peer.ChannelsPath, msg},
		{http.MethodGet, peer.ObjectsPath + "/" + id + "/" + strings.Repeat("0", 64), ""},
		{http.MethodGet, peer.BlobsPath + "/" + strings.Repeat("0", 64), ""},
	} {
		req, _ := http.NewRequest(r.method, a.srv.URL+r.path, strings.NewReader(r.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s without a client certificate: %s %s, want 403", r.method, r.path, resp.Status, body)
		}
	}
	if !strings.Contains(a.logs.String(), "refused a request to a peer-only route") {
		t.Errorf("a's log has no line of the refused request:\n%s", tail(a.logs.String(), 20))
	}

	// B's checkpoint, which A cosigned: from B's client A cosigns it again
	// (the same checkpoint), from a client that is no peer it is refused.
	cp := latest(t, b, id)
	if _, err := addCheckpoint(t, client, b, a, id, cp.Size, cp); err == nil {
		t.Error("a's witness cosigned a checkpoint of b's log for a client that is no peer")
	} else if we := (*logapi.WitnessError)(nil); !errors.As(err, &we) || we.Status != http.StatusNotFound {
		t.Errorf("a's witness, a checkpoint of b's log from a client that is no peer: %v, want 404 (unknown origin)", err)
	}
	if _, err := addCheckpoint(t, peerClient(t, b, a), b, a, id, cp.Size, cp); err != nil {
		t.Errorf("a's witness, the same checkpoint from b: %v", err)
	}
	// Nothing changed: C is nobody's peer, and the exchange is whole.
	if _, err := a.store().Store.Peer(ctx, c.name); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("a's peer %s: %v", c.name, err)
	}
	settled(t, a, b, id, 15*time.Second)
}

// copyDir copies the folder src to dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ids returns the ids of objects.
func ids(t testing.TB, raws [][]byte) []string {
	t.Helper()
	out := make([]string, len(raws))
	for i, r := range raws {
		_, rest, _ := strings.Cut(string(r), `"id":"`)
		out[i], _, _ = strings.Cut(rest, `"`)
	}
	return out
}

// TestFork: A's data folder is put back to an older copy after B cosigned
// newer entries, and A appends other ones: B refuses A's checkpoint,
// raises FORK (peer state, log line, metric) and applies none of the
// forked entries; its own log and store stay whole.
func TestFork(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	add(t, a, id, indicators(20, "before"))
	add(t, b, id, indicators(10, "from b"))
	settled(t, a, b, id, 15*time.Second)

	a.stop()
	old := filepath.Join(t.TempDir(), "party-a-copy")
	copyDir(t, a.dir, old)
	a.startWith(nil, fastPeers)
	add(t, a, id, indicators(30, "cosigned"))
	settled(t, a, b, id, 15*time.Second)
	a.stop()
	if err := os.RemoveAll(a.dir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, old, a.dir)
	a.startWith(nil, fastPeers)
	forked := indicators(40, "forked")
	add(t, a, id, forked)

	// B refuses the forked checkpoint: 422 from the size it cosigned (the
	// proof cannot match the root B keeps), 409 from any other size.
	cp := latest(t, a, id)
	if cp.Size != 60 {
		t.Fatalf("a's forked log has size %d, want 60", cp.Size)
	}
	var we *logapi.WitnessError
	if _, err := addCheckpoint(t, peerClient(t, a, b), a, b, id, 50, cp); !errors.As(err, &we) || we.Status != http.StatusUnprocessableEntity {
		t.Errorf("b's witness, a's forked checkpoint from size 50: %v, want 422", err)
	}
	if _, err := addCheckpoint(t, peerClient(t, a, b), a, b, id, 20, cp); !errors.As(err, &we) || we.Status != http.StatusConflict || we.Known != 50 {
		t.Errorf("b's witness, a's forked checkpoint from size 20: %v, want 409 knowing 50", err)
	}
	waitFor(t, 15*time.Second, "b raises FORK about a", func() bool {
		p, err := b.store().Store.Peer(ctx, a.name)
		return err == nil && p.Alarm == dialogue.AlarmFork
	})
	states, err := peer.States(ctx, b.store().Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Alarm != dialogue.AlarmFork || states[0].AlarmDetail == "" {
		t.Errorf("b's state of a: %+v", states)
	}
	if !strings.Contains(b.logs.String(), "alarm=FORK") {
		t.Errorf("b's log has no FORK line:\n%s", tail(b.logs.String(), 20))
	}
	if v := metric(t, b, "parley_peer_alarms_total", "peer", a.name, "alarm", "FORK"); v < 1 {
		t.Errorf("parley_peer_alarms_total{alarm=FORK} = %v on b", v)
	}

	// Give the exchange a few more rounds (poll included): still nothing
	// of the fork on B.
	time.Sleep(2 * fastPeers.PollInterval)
	if applied, _ := b.store().Store.Applied(ctx, a.name, id); applied != 50 {
		t.Errorf("b applied %d of a's entries, want the 50 cosigned", applied)
	}
	origin, _ := tlog.Origin(a.name, id)
	if size, _, _ := b.store().Store.WitnessLatest(ctx, origin); size != 50 {
		t.Errorf("b's witness holds size %d of a's log, want 50", size)
	}
	if n := count(t, b, id); n != 60 {
		t.Errorf("b holds %d objects, want 60 (50 from a, 10 its own)", n)
	}
	for _, oid := range ids(t, forked) {
		if _, err := b.store().Store.Origin(ctx, id, oid, time.Time{}); dialogue.KindOf(err) != dialogue.KindNotFound {
			t.Fatalf("b holds forked object %s (%v)", oid, err)
		}
	}
	verifyLog(t, b, id)
	verifyLog(t, a, id)
}

// TestPeerDown: B is down while A appends in many batches; A retries with
// backoff (its log says so a few times, not once per batch); B back on the
// same port catches up and cosigns A's latest checkpoint.
func TestPeerDown(t *testing.T) {
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	add(t, a, id, indicators(10, "before"))
	settled(t, a, b, id, 15*time.Second)

	b.stop()
	before := strings.Count(a.logs.String(), "exchange with peer failed")
	failures := metric(t, a, "parley_peer_round_failures_total", "peer", b.name)
	const batches, per = 30, 10
	down := time.Now()
	for i := range batches {
		add(t, a, id, indicators(per, "while b is down"))
		if i == 0 {
			waitFor(t, 5*time.Second, "a fails to reach b", func() bool {
				return strings.Count(a.logs.String(), "exchange with peer failed") > before
			})
		}
	}
	elapsed := time.Since(down)
	lines := strings.Count(a.logs.String(), "exchange with peer failed") - before
	rounds := metric(t, a, "parley_peer_round_failures_total", "peer", b.name) - failures
	t.Logf("%d batches in %s while b was down: %d failed rounds, %d log lines", batches, elapsed.Round(time.Millisecond), int(rounds), lines)
	if lines < 1 || lines > 3 {
		t.Errorf("a logged %d failures while b was down for %d batches, want 1 to 3", lines, batches)
	}
	// With backoff from MinBackoff doubling to MaxBackoff, each wait at
	// least half of it (jitter), the rounds are bounded by the time, not
	// by the appends: a few to reach MaxBackoff, then one per
	// MaxBackoff/2 at most.
	if limit := 8 + float64(elapsed/(fastPeers.MaxBackoff/2)); rounds > limit {
		t.Errorf("a tried %v rounds in %s (%d batches): over the backoff's %v", rounds, elapsed, batches, limit)
	}

	b.startWith(nil, fastPeers)
	up := time.Now()
	settled(t, a, b, id, 30*time.Second)
	t.Logf("b caught up in %s", time.Since(up).Round(time.Millisecond))
	if size := checkCosigned(t, a, b, id); size != 10+batches*per {
		t.Errorf("a's latest cosigned checkpoint has size %d, want %d", size, 10+batches*per)
	}
	if !strings.Contains(a.logs.String(), "exchange with peer resumed") {
		t.Errorf("a's log does not say the exchange resumed:\n%s", tail(a.logs.String(), 10))
	}
}

// TestDuplicateDeliveries sends A's checkpoints to B's witness again, as
// a retry or a reordering would (C2SP tlog-witness: the same checkpoint is
// cosigned again, a stale old size gets 409 with the size known, an old
// size above the checkpoint's 400), and applies a batch again: nothing is
// applied twice.
func TestDuplicateDeliveries(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	add(t, a, id, indicators(20, "first"))
	settled(t, a, b, id, 15*time.Second)
	older := latest(t, a, id)
	add(t, a, id, indicators(15, "second"))
	settled(t, a, b, id, 15*time.Second)
	cp := latest(t, a, id)
	client := peerClient(t, a, b)
	v, err := tlog.NewCosignatureVerifier(b.store().LogKey())
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := tlog.Origin(a.name, id)

	// The same delivery twice, as the worker made it (from 20 to 35): the
	// witness is at 35 now, so 409 with 35.
	var we *logapi.WitnessError
	for range 2 {
		if _, err := addCheckpoint(t, client, a, b, id, older.Size, cp); !errors.As(err, &we) || we.Status != http.StatusConflict || we.Known != cp.Size {
			t.Errorf("the delivery from %d to %d again: %v, want 409 knowing %d", older.Size, cp.Size, err, cp.Size)
		}
	}
	// The same checkpoint from the size cosigned: cosigned again.
	for range 2 {
		sigs, err := addCheckpoint(t, client, a, b, id, cp.Size, cp)
		if err != nil {
			t.Fatalf("the latest checkpoint again: %v", err)
		}
		if _, err := tlog.AddCosignatures(cp.Note, sigs, v); err != nil {
			t.Errorf("b's cosignature of the checkpoint sent again: %v", err)
		}
	}
	// An older checkpoint after a newer one.
	if _, err := addCheckpoint(t, client, a, b, id, older.Size, older); !errors.As(err, &we) || we.Status != http.StatusConflict || we.Known != cp.Size {
		t.Errorf("the older checkpoint from its size: %v, want 409 knowing %d", err, cp.Size)
	}
	if _, err := logapi.AddCheckpoint(ctx, client, b.srv.URL+logapi.WitnessPath, cp.Size, nil, older.Note); !errors.As(err, &we) || we.Status != http.StatusBadRequest {
		t.Errorf("the older checkpoint from the newer size: %v, want 400", err)
	}
	if size, _, _ := b.store().Store.WitnessLatest(ctx, origin); size != cp.Size {
		t.Errorf("b's witness holds size %d, want %d", size, cp.Size)
	}

	// A batch applied again is refused whole.
	o := &dialogue.Object{ID: "indicator--00000000-0000-4000-8000-000000000001", Type: "indicator", SpecVersion: "2.1", Raw: indicators(1, "again")[0]}
	_, err = b.store().Store.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: a.name, CollectionID: id, From: older.Size, To: cp.Size, Objects: []*dialogue.Object{o}})
	if dialogue.KindOf(err) != dialogue.KindConflict {
		t.Errorf("a batch of entries applied already: %v, want KindConflict", err)
	}
	settled(t, a, b, id, 15*time.Second)
	if n := count(t, b, id); n != 35 {
		t.Errorf("b holds %d objects, want 35", n)
	}
}

// TestRestartMidPull stops B while it applies A's entries (fetched through
// a slow link, applied 32 at a time) and starts it again, twice: the pull
// resumes from the size applied, nothing is applied twice.
func TestRestartMidPull(t *testing.T) {
	ctx := context.Background()
	cfg := fastPeers
	cfg.ApplyBatch = 32
	a, b := newNodeWith(t, "party-a", cfg), newNodeWith(t, "party-b", cfg)
	px := newProxy(t, a.addr)
	px.rate = 400 << 10 // bytes a second from A to B
	id := shareVia(t, a, b, px.URL())
	const total = 1200
	b.stop()
	start := time.Now()
	add(t, a, id, indicators(total, "bulk"))
	t.Logf("%s: added", time.Since(start))
	var stops []int64
	last := int64(0)
	for range 2 {
		b.startWith(nil, cfg)
		var applied int64
		waitFor(t, 30*time.Second, "b applies more of a's entries", func() bool {
			applied, _ = b.store().Store.Applied(ctx, a.name, id)
			return applied > last
		})
		last = applied
		if applied >= total {
			t.Fatalf("b applied all %d entries before it could be stopped: the link is not slow enough", applied)
		}
		b.stop()
		t.Logf("%s: stopped at %d", time.Since(start), applied)
		stops = append(stops, applied)
	}
	t.Logf("b stopped after applying %v of %d entries", stops, total)
	b.startWith(nil, cfg)
	settled(t, a, b, id, 60*time.Second)
	t.Logf("%s: settled", time.Since(start))
}
