package workflow_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// The test helpers of the report and request tests: two real nodes over
// real mutual TLS on 127.0.0.1 (after internal/peer/peer_test.go), each
// with a workflow service on one fake clock the test moves.

type reqClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reqClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *reqClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type reqNode struct {
	name string
	srv  *server.Server
	wf   *workflow.Service
}

var reqPeers = peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}

func reqNewNode(t testing.TB, name string, clock *reqClock) *reqNode {
	t.Helper()
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Peer: reqPeers})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(5 * time.Second); err != nil {
			t.Error(err)
		}
	})
	wf := workflow.New(n.Store, name, n.LogKey())
	wf.Now = clock.Now
	return &reqNode{name: name, srv: s, wf: wf}
}

// reqTwoNodes starts two nodes, pins them on each other and shares a
// channel titled "a-b" (a proposes, b accepts). It returns the channel id.
func reqTwoNodes(t testing.TB, clock *reqClock) (a, b *reqNode, channel string) {
	t.Helper()
	ctx := context.Background()
	a, b = reqNewNode(t, "party-a", clock), reqNewNode(t, "party-b", clock)
	for _, p := range [][2]*reqNode{{a, b}, {b, a}} {
		pr, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		pr.CreatedAt = time.Now()
		if err := p[0].srv.Node.Store.AddPeer(ctx, pr); err != nil {
			t.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	reqWaitFor(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	reqWaitFor(t, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return a, b, ch.ID
}

func reqWaitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: not yet: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reqHas waits until n holds the object id on the channel.
func reqHas(t testing.TB, n *reqNode, channel, id string) {
	t.Helper()
	reqWaitFor(t, n.name+" has "+id, func() bool {
		page, err := n.srv.Node.Store.FindObjects(context.Background(), channel, dialogue.ObjectFilter{IDs: []string{id}, Versions: dialogue.VersionMatch{All: true}, MetaOnly: true})
		return err == nil && len(page.Objects) > 0
	})
}

// reqBundle is the sample incident as a bundle, with one more indicator
// that carries no marking.
func reqBundle(t testing.TB, now time.Time, extra ...json.RawMessage) []byte {
	t.Helper()
	return reqBundleOf(t, now, "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8", extra...)
}

// reqBundleOf is reqBundle with the sample's identity (its feed) given: a
// party may not issue a new version of a feed identity the other party
// sent first.
func reqBundleOf(t testing.TB, now time.Time, identityID string, extra ...json.RawMessage) []byte {
	t.Helper()
	objs, err := stix.SampleIncidentWith(stix.SampleOptions{Now: now, IdentityID: identityID, IdentityName: "feed"})
	if err != nil {
		t.Fatal(err)
	}
	ts := stix.FormatTime(now)
	unmarked, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
		"pattern": "[ipv4-addr:value = '198.51.100.9']", "pattern_type": "stix", "valid_from": ts})
	objs = append(objs, unmarked)
	objs = append(objs, extra...)
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	return b
}

// wfChannel returns the channel as the node's store has it.
func (n *reqNode) wfChannel(t testing.TB, id string) *dialogue.Channel {
	t.Helper()
	ch, _, err := n.wf.Channel(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}
