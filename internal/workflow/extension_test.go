package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/parleyhq/parley/internal/workflow"
)

// lockedBuffer is a log destination two nodes' goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Parley's extension-definition travels in every channel: it is the
// first entry of a new channel, before the party's identity. Both
// parties add it when each writes before it has the other's copy; both
// copies are the same bytes, so each node finds the copy it receives
// unchanged: no conflict, no alarm, one version on each node, the same.
func TestExtensionDefinitionInChannel(t *testing.T) {
	ctx := context.Background()
	logs := &lockedBuffer{}
	start := func(name string) *reqNode {
		n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", name)
		s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: log, Peer: reqPeers})
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(5 * time.Second) })
		return &reqNode{name: name, srv: s, wf: workflow.New(n.Store, name, n.LogKey())}
	}
	a, b := start("party-a"), start("party-b")
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
	// Each party writes a note before it has the other's entries (a
	// while the channel is proposed, b as soon as it accepted it, before
	// its exchange pulls a's log), so each adds the extension-definition
	// to its own log.
	note := func(n *reqNode) string {
		ts := stix.FormatTime(time.Now().UTC().Truncate(time.Millisecond))
		id := stix.NewID("note")
		raw, _ := json.Marshal(map[string]any{"type": "note", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
			"content": "written by " + n.name, "object_refs": []string{"identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"}})
		rep, err := ingest.Objects(ctx, n.wf.Write, ch.ID, []json.RawMessage{raw}, ingest.AllOrNothing)
		if err != nil || rep.Refused || rep.Rejected > 0 {
			t.Fatalf("%s writing a note: %v %+v", n.name, err, rep)
		}
		return id
	}
	firstEntries := func(n *reqNode) {
		t.Helper()
		page, err := n.srv.Node.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, o := range page.Objects {
			types = append(types, o.Type)
		}
		if len(types) < 3 || types[0] != "extension-definition" || types[1] != "identity" || types[2] != "note" {
			t.Fatalf("%s's first entries: %v; want extension-definition, identity, note", n.name, types)
		}
		if !bytes.Equal(page.Objects[0].Raw, stix.ParleyExtension()) {
			t.Errorf("%s stored the extension-definition as %s", n.name, page.Objects[0].Raw)
		}
		if from, err := n.srv.Node.Store.Origin(ctx, ch.ID, stix.ParleyExtensionID, page.Objects[0].Modified); err != nil || from != "" {
			t.Fatalf("%s holds the extension-definition from %q (%v), not from its own log", n.name, from, err)
		}
	}
	noteA := note(a)
	firstEntries(a)
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	noteB := note(b)
	firstEntries(b)
	reqHas(t, a, ch.ID, noteB)
	reqHas(t, b, ch.ID, noteA)
	// Each received the other's whole log, extension-definition included.
	for _, p := range [][2]*reqNode{{a, b}, {b, a}} {
		reqWaitFor(t, p[0].name+" applies all of "+p[1].name+"'s log", func() bool {
			n, err := p[1].srv.Node.Store.LogSize(ctx, ch.ID)
			if err != nil {
				return false
			}
			page, err := p[0].srv.Node.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, MetaOnly: true})
			return err == nil && n == 3 && len(page.Objects) == 5 // one definition, two identities, two notes
		})
	}
	for _, n := range []*reqNode{a, b} {
		page, err := n.srv.Node.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{stix.ParleyExtensionID}, Versions: dialogue.VersionMatch{All: true}})
		if err != nil || len(page.Objects) != 1 || !bytes.Equal(page.Objects[0].Raw, stix.ParleyExtension()) {
			t.Errorf("%s holds the extension-definition as %d versions (%v)", n.name, len(page.Objects), err)
		}
		alarms, err := n.srv.Node.Store.Alarms(ctx, true)
		if err != nil || len(alarms) != 0 {
			t.Errorf("%s raised alarms: %+v, %v", n.name, alarms, err)
		}
	}
	if strings.Contains(logs.String(), "skipped") {
		t.Errorf("a node skipped an object:\n%s", logs)
	}
	// The next write adds neither again.
	note(a)
	if size, err := a.srv.Node.Store.LogSize(ctx, ch.ID); err != nil || size != 4 {
		t.Errorf("a's log after another note: %d entries, %v; want 4", size, err)
	}
}
