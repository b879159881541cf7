package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// syncBuffer is a log sink the tests read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testNode is a real node served over real mutual TLS on 127.0.0.1.
type testNode struct {
	t    testing.TB
	name string
	dir  string
	addr string
	logs *syncBuffer
	srv  *server.Server
}

func (n *testNode) store() *node.Node { return n.srv.Node }

// fastPeers are the exchange's settings in tests: short intervals.
var fastPeers = peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}

func newNode(t testing.TB, name string) *testNode {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	n, _, err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{t: t, name: name, dir: dir, addr: "127.0.0.1:0", logs: &syncBuffer{}}
	tn.start(n)
	t.Cleanup(func() { tn.stop() })
	return tn
}

func (n *testNode) start(nd *node.Node) {
	n.t.Helper()
	if nd == nil {
		var err error
		if nd, err = node.Open(context.Background(), n.dir); err != nil {
			n.t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := server.Start(context.Background(), nd, server.Options{Addr: n.addr, Logger: log, Peer: fastPeers})
	if err != nil {
		nd.Close()
		n.t.Fatal(err)
	}
	n.srv = s
	n.addr = strings.TrimPrefix(s.URL, "https://") // the same port after a restart
}

func (n *testNode) stop() {
	if n.srv != nil {
		if err := n.srv.Close(5 * time.Second); err != nil {
			n.t.Error(err)
		}
		n.srv = nil
	}
}

// pin pins b on a.
func pin(t testing.TB, a, b *testNode) {
	t.Helper()
	p, err := peer.NewPeer(b.name, b.srv.URL, b.srv.Pin, b.store().LogKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.CreatedAt = time.Now()
	if err := a.store().Store.AddPeer(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// share pins a and b on each other and makes a channel between them: a
// proposes, b accepts. It returns the channel id.
func share(t testing.TB, a, b *testNode) string {
	t.Helper()
	ctx := context.Background()
	pin(t, a, b)
	pin(t, b, a)
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.store().Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "b is offered the channel", func() bool {
		c, err := b.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.store().Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "a sees the channel accepted", func() bool {
		c, err := a.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

func waitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not yet: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// indicators returns n new valid indicator objects.
func indicators(n int, tag string) [][]byte {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"%s %d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"%s"}`,
			stix.NewID("indicator"), now, now, tag, i, i%256, now)
	}
	return out
}

// add files objects in a collection of n, as the TAXII server would.
func add(t testing.TB, n *testNode, collectionID string, raws [][]byte) {
	t.Helper()
	rms := make([]json.RawMessage, len(raws))
	for i, r := range raws {
		rms[i] = r
	}
	rep, err := ingest.Objects(context.Background(), n.store().Store, collectionID, rms, ingest.AllOrNothing)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused || rep.Rejected > 0 {
		t.Fatalf("import refused: %+v", rep.Results)
	}
}

// count returns the number of object versions in a collection of n.
func count(t testing.TB, n *testNode, collectionID string) int {
	t.Helper()
	total := 0
	f := dialogue.ObjectFilter{Limit: 10000, Versions: dialogue.VersionMatch{All: true}, MetaOnly: true}
	for {
		page, err := n.store().Store.FindObjects(context.Background(), collectionID, f)
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Objects)
		if !page.More {
			return total
		}
		f.After = page.Next
	}
}

// checkCosigned checks that the latest checkpoint of a's log of the
// channel carries b's cosignature and a's signature.
func checkCosigned(t testing.TB, a, b *testNode, id string) int64 {
	t.Helper()
	cp, err := a.store().Store.LatestCheckpoint(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := tlog.Origin(a.name, id)
	cv, err := tlog.NewCosignatureVerifier(b.store().LogKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := tlog.Open(cp.Note, origin, a.store().LogVerifier(), cv)
	if err != nil {
		t.Fatalf("%s's checkpoint of %s: %v", a.name, id, err)
	}
	if len(s.Cosigners) != 1 || s.Cosigners[0] != b.name {
		t.Fatalf("%s's checkpoint at size %d: cosigners %v, want %s", a.name, s.Size, s.Cosigners, b.name)
	}
	return s.Size
}

func TestExchangeBothWays(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	add(t, a, id, indicators(40, "from a"))
	add(t, b, id, indicators(25, "from b"))
	add(t, a, id, indicators(10, "more from a"))
	waitFor(t, 15*time.Second, "both hold 75 objects", func() bool {
		return count(t, a, id) == 75 && count(t, b, id) == 75
	})
	waitFor(t, 15*time.Second, "both logs cosigned", func() bool {
		ca, _ := a.store().Store.Cosigned(ctx, b.name, id)
		cb, _ := b.store().Store.Cosigned(ctx, a.name, id)
		return ca == 50 && cb == 25
	})
	if size := checkCosigned(t, a, b, id); size != 50 {
		t.Errorf("a's log: size %d, want 50", size)
	}
	if size := checkCosigned(t, b, a, id); size != 25 {
		t.Errorf("b's log: size %d, want 25", size)
	}
	// Received objects are the peer's; each log holds only its node's own.
	page, err := b.store().Store.FindObjects(ctx, id, dialogue.ObjectFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	fromA := 0
	for _, o := range page.Objects {
		origin, err := b.store().Store.Origin(ctx, id, o.ID, o.Version())
		if err != nil {
			t.Fatal(err)
		}
		if origin == a.name {
			fromA++
		} else if origin != "" {
			t.Errorf("object %s has origin %q", o.ID, origin)
		}
	}
	if fromA != 50 {
		t.Errorf("b holds %d objects from a, want 50", fromA)
	}
	states, err := peer.States(ctx, b.store().Store)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].LastContact.IsZero() || states[0].Behind != 0 || states[0].Cosigned != 25 || states[0].Alarm != "" {
		t.Errorf("b's state of a: %+v", states[0])
	}
}
