package peer_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/write"
)

// tlpObject parses raw into a stored object.
func tlpObject(t *testing.T, raw string) *dialogue.Object {
	t.Helper()
	o, _, err := stix.Parse(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	return &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw}
}

func tlpIndicator(t *testing.T, m *stix.TLPMarking) *dialogue.Object {
	marking := ""
	if m != nil {
		marking = `,"object_marking_refs":["` + m.ID + `"]`
	}
	return tlpObject(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--`+uuid.NewString()+`","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"`+marking+`}`)
}

// TestChannelLeak: on node a, with channels to b and to c, what b sent on
// its channel is refused on c's (KindForbidden, naming the peer and the
// channel), whatever way it takes; CLEAR, the TLP definitions and a's own
// objects pass; inside the node (a collection that is not a channel) a
// copy is allowed.
func TestChannelLeak(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, _, err := node.Init(ctx, filepath.Join(dir, "a"), node.InitOptions{Name: "a.example", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	channels := map[string]*dialogue.Channel{}
	for _, name := range []string{"b.example", "c.example"} {
		pn, created, err := node.Init(ctx, filepath.Join(dir, name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		pn.Close()
		p, err := peer.NewPeer(name, "https://127.0.0.1:1", created.Pin, created.LogKeyPub, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.AddPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
		ch := &dialogue.Channel{ID: uuid.NewString(), Title: "with " + name, Peer: name}
		if err := a.Store.OfferChannel(ctx, ch, 0); err != nil {
			t.Fatal(err)
		}
		if channels[name], err = a.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	fromB, toC := channels["b.example"], channels["c.example"]

	amber, clear, unmarked, red := tlpIndicator(t, stix.TLPAmber), tlpIndicator(t, stix.TLPClear), tlpIndicator(t, nil), tlpIndicator(t, stix.TLPRed)
	tlpDef := tlpObject(t, string(stix.TLPAmber.JSON))
	received := []*dialogue.Object{tlpDef, amber, clear, unmarked, red}
	if _, err := a.Store.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: "b.example", CollectionID: fromB.ID, From: 0, To: int64(len(received)), Objects: received}); err != nil {
		t.Fatal(err)
	}
	w := write.New(a.Store, dialogue.Party{Name: "a.example", IdentityID: peer.IdentityID(a.LogKey())})

	// a's own object, sent on b's channel first, may go on c's too.
	own := tlpIndicator(t, stix.TLPAmber)
	if res, err := w.AddObjects(ctx, fromB.ID, []*dialogue.Object{own}); err != nil || res[0].Status != dialogue.Added {
		t.Fatalf("own object on b's channel: %+v, %v", res, err)
	}

	res, err := w.AddObjects(ctx, toC.ID, []*dialogue.Object{tlpDef, amber, clear, unmarked, red, own})
	if err != nil {
		t.Fatal(err)
	}
	want := []dialogue.AddStatus{dialogue.Added, dialogue.Rejected, dialogue.Added, dialogue.Rejected, dialogue.Rejected, dialogue.Added}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("object %d (%s) on c's channel: %s (%v), want %s", i, r.ID, r.Status, r.Err, want[i])
		}
		if r.Status == dialogue.Rejected {
			msg := r.Err.Error()
			if dialogue.KindOf(r.Err) != dialogue.KindForbidden || !strings.Contains(msg, "peer b.example") || !strings.Contains(msg, fromB.ID) || !strings.Contains(msg, "leaves on another") {
				t.Errorf("object %d refused with %v (kind %s): want FORBIDDEN naming the peer, the channel and the rule", i, r.Err, dialogue.KindOf(r.Err))
			}
		}
	}

	// Inside the node: a copy in the local collection is allowed; from
	// there, c's channel still refuses it.
	local, err := a.Store.FindCollection(ctx, dialogue.DefaultCollectionTitle)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := w.AddObjects(ctx, local.ID, []*dialogue.Object{amber}); err != nil || res[0].Status != dialogue.Added {
		t.Fatalf("copy into the local collection: %+v, %v", res, err)
	}
	if res, err := w.AddObjects(ctx, toC.ID, []*dialogue.Object{amber}); err != nil || res[0].Status != dialogue.Rejected {
		t.Errorf("the local copy on c's channel: %+v, %v; want it refused", res, err)
	}
	// Its own channel is not another one.
	if res, err := w.AddObjects(ctx, fromB.ID, []*dialogue.Object{amber}); err != nil || res[0].Err != nil && strings.Contains(res[0].Err.Error(), "leaves on another") {
		t.Errorf("the received object on its own channel: %+v, %v", res, err)
	}
	// Nothing refused reached c's channel.
	page, err := a.Store.FindObjects(ctx, toC.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range page.Objects {
		if o.ID == amber.ID || o.ID == unmarked.ID || o.ID == red.ID {
			t.Errorf("%s is in c's channel", o.ID)
		}
	}
}
