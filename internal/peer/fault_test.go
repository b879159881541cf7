package peer_test

// Fault tests of the exchange: two (or three) real nodes over real mutual
// TLS on 127.0.0.1, under load, with a node down, restarted, forked,
// behind a proxy that cuts connections, and with deliveries repeated.
// Each ends with settled: counts equal on both sides, nothing applied
// twice, both logs verified as `parley verify --dir` verifies them.

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/tlog"
)

// newNodeWith is newNode with other exchange settings.
func newNodeWith(t testing.TB, name string, cfg peer.Config) *testNode {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	n, _, err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{t: t, name: name, dir: dir, addr: "127.0.0.1:0", logs: &syncBuffer{}}
	tn.startWith(n, cfg)
	t.Cleanup(func() { tn.stop() })
	return tn
}

// startWith is start with other exchange settings: it opens the node's
// folder when nd is nil and serves it on the same address as before.
func (n *testNode) startWith(nd *node.Node, cfg peer.Config) {
	n.t.Helper()
	if nd == nil {
		var err error
		if nd, err = node.Open(context.Background(), n.dir); err != nil {
			n.t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var s *server.Server
	var err error
	// The port of a node just stopped may linger a moment.
	for try := 0; ; try++ {
		s, err = server.Start(context.Background(), nd, server.Options{Addr: n.addr, Logger: log, Peer: cfg})
		if err == nil || try == 50 || !strings.Contains(err.Error(), "in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		nd.Close()
		n.t.Fatal(err)
	}
	n.srv = s
	n.addr = strings.TrimPrefix(s.URL, "https://")
}

// objectEntries counts the object entries of a node's log of a channel
// (blob entries are not objects).
func objectEntries(t testing.TB, n *testNode, id string) int {
	t.Helper()
	ctx := context.Background()
	st := n.store().Store
	size, err := st.LogSize(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for start := int64(0); start < size; start += 4096 {
		es, err := st.LogEntries(ctx, id, start, min(size, start+4096))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			kind, _, _, err := tlog.ParseEntry(e)
			if err != nil {
				t.Fatal(err)
			}
			if kind == tlog.EntryObject || kind == tlog.EntryObjectRef {
				total++
			}
		}
	}
	return total
}

// verifyLog checks a node's log of a channel as `parley verify --dir
// --channel` does (node.VerifyCollection): every leaf and the whole
// tree rebuilt from the stored entries and compared with the stored
// hashes, every checkpoint's signature, root and consistency with the
// next, the cosignatures of the node's peers and witnesses, and every
// object version the node holds of its own an entry of its log.
func verifyLog(t testing.TB, n *testNode, id string) *tlog.Report {
	t.Helper()
	ctx := context.Background()
	nd := n.store()
	c, err := nd.Store.FindCollection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	cosigners, err := nd.CosignatureVerifiers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := nd.VerifyCollection(ctx, c, cosigners)
	if err != nil {
		t.Fatalf("%s's log of %s does not verify: %v", n.name, id, err)
	}
	size, err := nd.Store.LogSize(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != size {
		t.Fatalf("%s's log of %s: %d entries checked, log size %d", n.name, id, rep.Entries, size)
	}
	return rep
}

// exchanged reports whether a and b are done exchanging in the channel:
// each applied all of the other's log and cosigned its latest size.
func exchanged(t testing.TB, a, b *testNode, id string) bool {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]*testNode{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		size, err := from.store().Store.LogSize(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := to.store().Store.Applied(ctx, from.name, id)
		if err != nil {
			t.Fatal(err)
		}
		cosigned, err := from.store().Store.Cosigned(ctx, to.name, id)
		if err != nil {
			t.Fatal(err)
		}
		if applied != size || cosigned != size {
			return false
		}
	}
	return true
}

// settled waits until a and b are done exchanging in the channel, then
// checks the outcome: the same number of object versions on both sides,
// that number the sum of the object entries of the two logs (nothing
// applied twice, nothing lost), each side's applied size the other's log
// size, both logs verified with their latest checkpoint cosigned by the
// other, and each side's state of the other behind 0 with no alarm.
func settled(t testing.TB, a, b *testNode, id string, within time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for !exchanged(t, a, b, id) {
		if time.Now().After(deadline) {
			for _, p := range [][2]*testNode{{a, b}, {b, a}} {
				st, _ := peer.States(ctx, p[0].store().Store)
				for _, s := range st {
					t.Logf("%s's state of %s: %+v", p[0].name, s.Name, s)
				}
			}
			t.Logf("%s's log:\n%s", a.name, tail(a.logs.String(), 30))
			t.Logf("%s's log:\n%s", b.name, tail(b.logs.String(), 30))
			t.Fatalf("after %s: %s and %s have not exchanged channel %s", within, a.name, b.name, id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := objectEntries(t, a, id) + objectEntries(t, b, id)
	if ca, cb := count(t, a, id), count(t, b, id); ca != want || cb != want {
		t.Errorf("object versions: %s holds %d, %s %d; the two logs hold %d objects", a.name, ca, b.name, cb, want)
	}
	for _, p := range [][2]*testNode{{a, b}, {b, a}} {
		verifyLog(t, p[0], id)
		if size, _ := p[0].store().Store.LogSize(ctx, id); size > 0 {
			checkCosigned(t, p[0], p[1], id)
		}
		states, err := peer.States(ctx, p[0].store().Store)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.Name == p[1].name && (s.Behind != 0 || s.Alarm != "") {
				t.Errorf("%s's state of %s: behind %d, alarm %q (%s)", p[0].name, s.Name, s.Behind, s.Alarm, s.AlarmDetail)
			}
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestExchangeUnderLoad adds a few thousand objects on each side in
// several batches while the exchange runs, applied in batches of 500.
func TestExchangeUnderLoad(t *testing.T) {
	cfg := fastPeers
	cfg.ApplyBatch = 500
	a, b := newNodeWith(t, "party-a", cfg), newNodeWith(t, "party-b", cfg)
	id := share(t, a, b)
	for i := range 3 {
		add(t, a, id, indicators(400, "a batch "+string(rune('0'+i))))
		add(t, b, id, indicators(300, "b batch "+string(rune('0'+i))))
	}
	settled(t, a, b, id, 60*time.Second)
	if n := count(t, a, id); n != 2100 {
		t.Errorf("a holds %d objects, want 2100", n)
	}
}

// TestStatesOffered: the state of a peer that proposed a channel not
// accepted here yet (no collection) lists the offer: `parley channel list`
// shows it, to be accepted.
func TestStatesOffered(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	pin(t, a, b)
	pin(t, b, a)
	ch := &dialogue.Channel{Title: "offer", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.store().Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "b is offered the channel", func() bool {
		c, err := b.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	states, err := peer.States(ctx, b.store().Store)
	if err != nil {
		t.Fatalf("b's states with a channel offered: %v", err)
	}
	if len(states) != 1 || len(states[0].Channels) != 1 || states[0].Channels[0].State != dialogue.ChannelOffered || states[0].Channels[0].ID != ch.ID || states[0].Behind != 0 {
		t.Errorf("b's states: %+v", states)
	}
}
