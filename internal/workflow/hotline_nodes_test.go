package workflow_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/workflow"
)

// Helpers of the hotline and check tests: two real nodes served over
// mutual TLS on 127.0.0.1 (as in internal/peer's tests), each with a
// workflow service of the test's own whose clock the test moves.

// commsLogs is a log sink the tests read.
type commsLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *commsLogs) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *commsLogs) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeClock is a clock the test moves; safe for the scheduler's goroutine.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t.UTC().Truncate(time.Millisecond)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// commsNode is a real node being served, with the test's own workflow
// service (WF, clock Clock) beside the server's (whose scheduler runs on
// the real clock).
type commsNode struct {
	name  string
	srv   *server.Server
	logs  *commsLogs
	WF    *workflow.Service
	Clock *fakeClock
}

var commsPeers = peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}

func newCommsNode(t testing.TB, name string) *commsNode {
	t.Helper()
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &commsLogs{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: log, Peer: commsPeers})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(5 * time.Second); err != nil {
			t.Error(err)
		}
		if strings.Contains(logs.String(), "scheduled job of the dialogue failed") {
			t.Errorf("%s's scheduler failed:\n%s", name, logs)
		}
	})
	wf := workflow.New(n.Store, name, n.LogKey())
	clock := newFakeClock(time.Now())
	wf.Now = clock.Now
	return &commsNode{name: name, srv: s, logs: logs, WF: wf, Clock: clock}
}

// shareComms pins a and b on each other and makes a channel between them
// (a proposes, b accepts); it returns the channel.
func shareComms(t testing.TB, a, b *commsNode) *dialogue.Channel {
	t.Helper()
	ctx := context.Background()
	pinComms(t, a, b)
	pinComms(t, b, a)
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	var active *dialogue.Channel
	waitUntil(t, 15*time.Second, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		active = c
		return err == nil && c.State == dialogue.ChannelActive
	})
	return active
}

func pinComms(t testing.TB, a, b *commsNode) {
	t.Helper()
	p, err := peer.NewPeer(b.name, b.srv.URL, b.srv.Pin, b.srv.Node.LogKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.CreatedAt = time.Now()
	if err := a.srv.Node.Store.AddPeer(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not yet: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkKind fails the test unless err has kind k and its message holds
// every word of want.
func checkKind(t *testing.T, what string, err error, k dialogue.Kind, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, k)
		return
	}
	if got := dialogue.KindOf(err); got != k {
		t.Errorf("%s: kind %v, want %v (%v)", what, got, k, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

// coreSchema compiles the OASIS STIX 2.1 schema of the common properties
// (common/core.json), which every SDO, Parley's new ones too, must pass.
func coreSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, _ := shareddata.STIXSchemas(t)("core")
	if s == nil {
		t.Fatal("no OASIS common/core.json schema")
	}
	return s
}
