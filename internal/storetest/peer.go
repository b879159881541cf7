package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// PeerStore is a store that keeps the state of peering: what RunPeers
// tests.
type PeerStore interface {
	dialogue.Store
	dialogue.LogStore
	dialogue.PeerStore
}

// RunPeers runs the contract of dialogue.PeerStore on stores that open
// returns. open is called once per subtest and must return a new, empty
// store; RunPeers closes it.
func RunPeers(t *testing.T, open func(t *testing.T) PeerStore) {
	runEach(t, open, []subtest[PeerStore]{
		{"Peers", testPeers},
		{"PeerInvalid", testPeerInvalid},
		{"PeerContact", testPeerContact},
		{"PeerAlarm", testPeerAlarm},
		{"OfferLimit", testOfferLimit},
		{"DeclineChannel", testDeclineChannel},
		{"ProposeChannel", testProposeChannel},
		{"OfferAcceptChannel", testOfferChannel},
		{"ChannelNotified", testChannelNotified},
		{"Cosigned", testCosigned},
		{"ApplyReceived", testApplyReceived},
		{"ApplyReceivedTwice", testApplyTwice},
		{"ApplyReceivedConcurrently", testApplyConcurrently},
		{"ApplyReceivedRefused", testApplyRefused},
		{"WantedBlobs", testWantedBlobs},
		{"LargeObject", testLargeObject},
	})
}

// testPeer returns a valid peer named name, with a fresh log key and a
// pin of its own.
func testPeer(t *testing.T, name string) *dialogue.Peer {
	t.Helper()
	_, vkey, err := tlog.GenerateKey(name)
	must(t, err)
	pin := sha256.Sum256([]byte("pin of " + name))
	return &dialogue.Peer{
		Name:   name,
		URL:    "https://" + name + ":8443",
		TLSPin: base64.StdEncoding.EncodeToString(pin[:]),
		LogKey: vkey,
	}
}

func addPeer(t *testing.T, s PeerStore, name string) *dialogue.Peer {
	t.Helper()
	p := testPeer(t, name)
	must(t, s.AddPeer(ctx, p))
	return p
}

// wantErr fails the test unless err has kind k and its text has every one
// of words (the field and the reason).
func wantErr(t *testing.T, what string, err error, k dialogue.Kind, words ...string) {
	t.Helper()
	wantKind(t, what, err, k)
	if err == nil {
		return
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

func testPeers(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	if b.CreatedAt.IsZero() {
		t.Error("AddPeer left CreatedAt zero")
	}
	c := testPeer(t, "node-c.example")
	c.Territory = "FR"
	c.CreatedAt = base
	must(t, s.AddPeer(ctx, c))

	ps, err := s.Peers(ctx)
	must(t, err)
	if len(ps) != 2 || ps[0].Name != b.Name || ps[1].Name != c.Name {
		t.Fatalf("Peers = %v, want node-b then node-c", ps)
	}
	got, err := s.Peer(ctx, c.Name)
	must(t, err)
	if got.URL != c.URL || got.TLSPin != c.TLSPin || got.LogKey != c.LogKey || got.Territory != "FR" ||
		!got.CreatedAt.Equal(base) || !got.LastContact.IsZero() || got.Alarm != "" || !got.AlarmAt.IsZero() {
		t.Errorf("Peer(%s) = %+v, want %+v", c.Name, got, c)
	}
	got, err = s.PeerByPin(ctx, b.TLSPin)
	must(t, err)
	if got.Name != b.Name {
		t.Errorf("PeerByPin(b's pin) = %s", got.Name)
	}
	_, err = s.Peer(ctx, "nobody")
	wantKind(t, "Peer(unknown)", err, dialogue.KindNotFound)
	_, err = s.PeerByPin(ctx, "AAAA")
	wantKind(t, "PeerByPin(unknown)", err, dialogue.KindNotFound)

	// Name, pin and log key are each one peer's.
	again := testPeer(t, b.Name)
	wantErr(t, "AddPeer of a taken name", s.AddPeer(ctx, again), dialogue.KindConflict, "name")
	samePin := testPeer(t, "node-d.example")
	samePin.TLSPin = b.TLSPin
	wantErr(t, "AddPeer of a taken pin", s.AddPeer(ctx, samePin), dialogue.KindConflict, "TLS pin")
	sameKey := testPeer(t, "node-d.example")
	sameKey.Name, sameKey.LogKey = "node-d.example", b.LogKey
	err = s.AddPeer(ctx, sameKey)
	if dialogue.KindOf(err) != dialogue.KindConflict && dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Errorf("AddPeer of another peer's log key: %v, want refused", err)
	}
	if ps, _ := s.Peers(ctx); len(ps) != 2 {
		t.Errorf("%d peers after refused adds, want 2", len(ps))
	}
}

func testPeerInvalid(t *testing.T, s PeerStore) {
	for _, tt := range []struct {
		name   string
		change func(p *dialogue.Peer)
		words  []string
	}{
		{"no name", func(p *dialogue.Peer) { p.Name = "" }, []string{"name", "empty"}},
		{"http URL", func(p *dialogue.Peer) { p.URL = "http://node-b.example:8443" }, []string{"url", "https://HOST:PORT"}},
		{"no host", func(p *dialogue.Peer) { p.URL = "https://" }, []string{"url"}},
		{"URL with a path", func(p *dialogue.Peer) { p.URL = "https://node-b.example/taxii2/" }, []string{"url"}},
		{"pin not base64", func(p *dialogue.Peer) { p.TLSPin = "not base64!" }, []string{"tls pin", "SHA-256"}},
		{"pin too short", func(p *dialogue.Peer) { p.TLSPin = base64.StdEncoding.EncodeToString([]byte("short")) }, []string{"tls pin"}},
		{"log key garbage", func(p *dialogue.Peer) { p.LogKey = "node-b.example+garbage" }, []string{"log key"}},
		{"log key of another name", func(p *dialogue.Peer) { *p = *testPeer(t, "other.example"); p.Name = "node-b.example" }, []string{"log key", "other.example"}},
		{"territory", func(p *dialogue.Peer) { p.Territory = "France" }, []string{"territory", "alpha-2"}},
	} {
		p := testPeer(t, "node-b.example")
		tt.change(p)
		wantErr(t, "AddPeer with "+tt.name, s.AddPeer(ctx, p), dialogue.KindInvalid, tt.words...)
	}
	if ps, _ := s.Peers(ctx); len(ps) != 0 {
		t.Errorf("invalid peers were stored: %v", ps)
	}
}

func testPeerContact(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	for _, step := range []struct{ set, want time.Time }{
		{ts(10), ts(10)},
		{ts(5), ts(10)}, // earlier: kept
		{ts(20), ts(20)},
	} {
		must(t, s.SetPeerContact(ctx, b.Name, step.set))
		p, err := s.Peer(ctx, b.Name)
		must(t, err)
		if !p.LastContact.Equal(step.want) {
			t.Errorf("after SetPeerContact(%v): LastContact %v, want %v", step.set, p.LastContact, step.want)
		}
	}
	wantKind(t, "SetPeerContact(unknown)", s.SetPeerContact(ctx, "nobody", ts(1)), dialogue.KindNotFound)
}

func testPeerAlarm(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	check := func(what, alarm, detail string, at time.Time) int64 {
		t.Helper()
		p, err := s.Peer(ctx, b.Name)
		must(t, err)
		if p.Alarm != alarm || p.AlarmDetail != detail || !p.AlarmAt.Equal(at) || (alarm != "") != (p.AlarmID != 0) {
			t.Errorf("%s: alarm %d %q %q at %v, want %q %q at %v", what, p.AlarmID, p.Alarm, p.AlarmDetail, p.AlarmAt, alarm, detail, at)
		}
		return p.AlarmID
	}
	must(t, s.RaiseAlarm(ctx, b.Name, dialogue.AlarmFork, "checkpoint 12 is not consistent with 10", ts(1)))
	first := check("raised", dialogue.AlarmFork, "checkpoint 12 is not consistent with 10", ts(1))
	must(t, s.RaiseAlarm(ctx, b.Name, dialogue.AlarmBadData, "tile 3 differs", ts(2)))
	check("raised again", dialogue.AlarmFork, "checkpoint 12 is not consistent with 10", ts(1))
	if p, _ := s.Peer(ctx, c.Name); p.Alarm != "" || p.AlarmID != 0 {
		t.Errorf("another peer's alarm: %d %q", p.AlarmID, p.Alarm)
	}
	if ps, err := s.Peers(ctx); err != nil || len(ps) != 2 || ps[0].AlarmID != first || ps[1].AlarmID != 0 {
		t.Errorf("Peers: %v %v", ps, err)
	}

	_, err := s.ClearAlarm(ctx, first, "", "checked with B", ts(3))
	wantErr(t, "ClearAlarm without who", err, dialogue.KindInvalid, "cleared by")
	_, err = s.ClearAlarm(ctx, first, "root", "  ", ts(3))
	wantErr(t, "ClearAlarm without a reason", err, dialogue.KindInvalid, "reason")
	_, err = s.ClearAlarm(ctx, first+100, "root", "checked", ts(3))
	wantErr(t, "ClearAlarm(unknown id)", err, dialogue.KindNotFound, fmt.Sprint(first+100))
	a, err := s.ClearAlarm(ctx, first, "root", "checked with B: a restore", ts(3))
	must(t, err)
	if a.ID != first || a.Peer != b.Name || a.Alarm != dialogue.AlarmFork || !a.RaisedAt.Equal(ts(1)) || !a.ClearedAt.Equal(ts(3)) || a.ClearedBy != "root" || a.Reason != "checked with B: a restore" {
		t.Errorf("ClearAlarm = %+v", a)
	}
	check("cleared", "", "", time.Time{})
	_, err = s.ClearAlarm(ctx, first, "root", "again", ts(4))
	wantErr(t, "ClearAlarm twice", err, dialogue.KindConflict, "cleared already", "root")

	must(t, s.RaiseAlarm(ctx, b.Name, dialogue.AlarmBadData, "tile 3 differs", ts(5)))
	second := check("raised after clearing", dialogue.AlarmBadData, "tile 3 differs", ts(5))
	if second == first {
		t.Errorf("a new alarm has the id of the cleared one: %d", second)
	}
	open, err := s.Alarms(ctx, false)
	must(t, err)
	if len(open) != 1 || open[0].ID != second || !open[0].ClearedAt.IsZero() {
		t.Errorf("Alarms(open) = %+v", open)
	}
	all, err := s.Alarms(ctx, true)
	must(t, err)
	if len(all) != 2 || all[0].ID != first || all[0].Reason != "checked with B: a restore" || all[1].ID != second {
		t.Errorf("Alarms(all) = %+v", all)
	}
	wantErr(t, "RaiseAlarm of an unknown alarm", s.RaiseAlarm(ctx, b.Name, "MAYBE", "", ts(6)), dialogue.KindInvalid, "alarm", "MAYBE")
	wantErr(t, "RaiseAlarm of no alarm", s.RaiseAlarm(ctx, b.Name, "", "", ts(6)), dialogue.KindInvalid, "alarm")
	wantKind(t, "RaiseAlarm(unknown peer)", s.RaiseAlarm(ctx, "nobody", dialogue.AlarmFork, "", ts(6)), dialogue.KindNotFound)
}

// testOfferLimit: past maxPending offers of one peer, an offer is refused
// with ErrTooManyProposals and nothing is stored; another peer, a repeated
// offer, and an offer after one was accepted or declined are not refused.
func testOfferLimit(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	var ids []string
	for i := range 3 {
		ch := &dialogue.Channel{ID: uuid.NewString(), Title: fmt.Sprint("offer ", i), Peer: b.Name}
		must(t, s.OfferChannel(ctx, ch, 3))
		ids = append(ids, ch.ID)
	}
	over := &dialogue.Channel{ID: uuid.NewString(), Title: "one too many", Peer: b.Name}
	err := s.OfferChannel(ctx, over, 3)
	wantErr(t, "OfferChannel past the limit", err, dialogue.KindConflict, b.Name, "3")
	if !errors.Is(err, dialogue.ErrTooManyProposals) {
		t.Errorf("OfferChannel past the limit: %v is not ErrTooManyProposals", err)
	}
	if _, err := s.Channel(ctx, over.ID); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("the refused offer is stored: %v", err)
	}
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: ids[0], Title: "offer 0", Peer: b.Name}, 3))
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: uuid.NewString(), Title: "from c", Peer: c.Name}, 3))
	_, err = s.DeclineChannel(ctx, ids[1], "")
	must(t, err)
	must(t, s.OfferChannel(ctx, over, 3))
	wantKind(t, "OfferChannel past the limit again", s.OfferChannel(ctx, &dialogue.Channel{ID: uuid.NewString(), Title: "more", Peer: b.Name}, 3), dialogue.KindConflict)
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: uuid.NewString(), Title: "no limit", Peer: b.Name}, 0))
}

// testDeclineChannel: an offer declined here has no collection and is to
// be told; a proposal the peer declined keeps its collection; other states
// and peers are refused.
func testDeclineChannel(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	offer := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Peer: b.Name}
	must(t, s.OfferChannel(ctx, offer, 0))
	got, err := s.DeclineChannel(ctx, offer.ID, "")
	must(t, err)
	if got.State != dialogue.ChannelDeclined || got.Notified || !got.Incoming || got.HasCollection() {
		t.Errorf("declined offer: %+v", got)
	}
	if st := getChannel(t, s, offer.ID); st.State != dialogue.ChannelDeclined || st.Notified {
		t.Errorf("stored declined offer: %+v", st)
	}
	if st, err := s.ChannelByID(ctx, offer.ID); err != nil || st.State != dialogue.ChannelDeclined || st.HasCollection() || st.Peer != b.Name {
		t.Errorf("ChannelByID of the declined offer: %+v, %v", st, err)
	}
	if _, err := s.FindCollection(ctx, offer.ID); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("a declined offer has a collection: %v", err)
	}
	_, err = s.DeclineChannel(ctx, offer.ID, "")
	must(t, err)
	_, err = s.AcceptChannel(ctx, offer.ID, "", ts(2))
	wantErr(t, "AcceptChannel of a declined channel", err, dialogue.KindConflict, "declined")
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: offer.ID, Title: "from b again", Peer: b.Name}, 0))
	if st := getChannel(t, s, offer.ID); st.State != dialogue.ChannelDeclined {
		t.Errorf("offered again after declining: %+v", st)
	}

	mine := propose(t, s, b.Name, "to b")
	_, err = s.DeclineChannel(ctx, mine.ID, "")
	wantErr(t, "DeclineChannel of this node's proposal", err, dialogue.KindConflict, "proposed")
	_, err = s.DeclineChannel(ctx, mine.ID, c.Name)
	wantErr(t, "DeclineChannel by another peer", err, dialogue.KindConflict, c.Name)
	got, err = s.DeclineChannel(ctx, mine.ID, b.Name)
	must(t, err)
	if got.State != dialogue.ChannelDeclined || !got.Notified || !got.HasCollection() {
		t.Errorf("proposal declined by the peer: %+v", got)
	}
	if _, err := s.FindCollection(ctx, mine.ID); err != nil {
		t.Errorf("the collection of a proposal the peer declined: %v", err)
	}
	active := activeChannel(t, s, b.Name, "active")
	_, err = s.DeclineChannel(ctx, active.ID, "")
	wantErr(t, "DeclineChannel of an active channel", err, dialogue.KindConflict, "active")
	_, err = s.DeclineChannel(ctx, uuid.NewString(), "")
	wantKind(t, "DeclineChannel(unknown)", err, dialogue.KindNotFound)
}

// propose proposes a channel titled title with peer.
func propose(t *testing.T, s PeerStore, peer, title string) *dialogue.Channel {
	t.Helper()
	ch := &dialogue.Channel{Title: title, Description: "about " + title, Peer: peer}
	must(t, s.ProposeChannel(ctx, ch))
	wantDefaultGrant(t, s, ch.ID)
	return ch
}

// wantDefaultGrant checks that a channel's collection has the grant every
// channel starts with, and only it.
func wantDefaultGrant(t *testing.T, s PeerStore, id string) {
	t.Helper()
	gs, err := s.Grants(ctx, id)
	must(t, err)
	want := dialogue.DefaultChannelGrant
	want.CollectionID = id
	if len(gs) != 1 || gs[0] != want {
		t.Errorf("grants of the new channel %s: %v, want %v", id, gs, want)
	}
}

// activeChannel sets up a channel offered by peer and accepted here.
func activeChannel(t *testing.T, s PeerStore, peer, title string) *dialogue.Channel {
	t.Helper()
	ch := &dialogue.Channel{ID: uuid.NewString(), Title: title, Peer: peer}
	must(t, s.OfferChannel(ctx, ch, 0))
	acc, err := s.AcceptChannel(ctx, ch.ID, "", ts(1))
	must(t, err)
	wantDefaultGrant(t, s, acc.ID)
	return acc
}

func getChannel(t *testing.T, s PeerStore, idOrTitle string) *dialogue.Channel {
	t.Helper()
	ch, err := s.Channel(ctx, idOrTitle)
	must(t, err)
	return ch
}

func testProposeChannel(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	addPeer(t, s, "node-c.example")
	ch := propose(t, s, b.Name, "incidents")
	if uuid.Validate(ch.ID) != nil || ch.State != dialogue.ChannelProposed || ch.Incoming || ch.Notified || ch.CreatedAt.IsZero() {
		t.Fatalf("proposed channel = %+v", ch)
	}
	coll, err := s.FindCollection(ctx, ch.ID)
	must(t, err)
	if coll.Title != "incidents" || coll.Description != "about incidents" {
		t.Errorf("the channel's collection = %+v", coll)
	}
	for _, key := range []string{ch.ID, "incidents"} {
		if got := getChannel(t, s, key); got.ID != ch.ID || got.Peer != b.Name || got.State != dialogue.ChannelProposed {
			t.Errorf("Channel(%q) = %+v", key, got)
		}
	}
	// ChannelByID: by the id alone, never by a title.
	if got, err := s.ChannelByID(ctx, ch.ID); err != nil || got.ID != ch.ID || got.Peer != b.Name || got.State != dialogue.ChannelProposed || got.Title != "incidents" {
		t.Errorf("ChannelByID(%s) = %+v, %v", ch.ID, got, err)
	}
	for _, key := range []string{"incidents", uuid.NewString()} {
		_, err := s.ChannelByID(ctx, key)
		wantKind(t, "ChannelByID("+key+")", err, dialogue.KindNotFound)
	}
	// Objects may be added to it; nothing flows yet.
	add(t, s, ch.ID, sdo("indicator", 1, 0))

	// A title taken is refused, and nothing is made.
	err = s.ProposeChannel(ctx, &dialogue.Channel{Title: "incidents", Peer: b.Name})
	wantErr(t, "ProposeChannel of a taken title", err, dialogue.KindConflict, "title")
	err = s.ProposeChannel(ctx, &dialogue.Channel{ID: ch.ID, Title: "other", Peer: b.Name})
	wantErr(t, "ProposeChannel of a taken id", err, dialogue.KindConflict, ch.ID)
	err = s.ProposeChannel(ctx, &dialogue.Channel{Title: "x", Peer: "nobody"})
	wantKind(t, "ProposeChannel with an unknown peer", err, dialogue.KindNotFound)
	err = s.ProposeChannel(ctx, &dialogue.Channel{Title: " ", Peer: b.Name})
	wantErr(t, "ProposeChannel without a title", err, dialogue.KindInvalid, "title")
	err = s.ProposeChannel(ctx, &dialogue.Channel{ID: "not-a-uuid", Title: "y", Peer: b.Name})
	wantErr(t, "ProposeChannel with an id that is no UUID", err, dialogue.KindInvalid, "channel id", "not-a-uuid")
	if chs, _ := s.Channels(ctx); len(chs) != 1 {
		t.Errorf("%d channels after refused proposals, want 1", len(chs))
	}
	if cs, _ := s.Collections(ctx); len(cs) != 1 {
		t.Errorf("%d collections after refused proposals, want 1", len(cs))
	}

	// The peer accepts: active. Only the channel's peer may say so.
	wantKind(t, "ActivateChannel by another peer", s.ActivateChannel(ctx, ch.ID, "node-c.example", ts(5)), dialogue.KindConflict)
	wantKind(t, "ActivateChannel(unknown)", s.ActivateChannel(ctx, uuid.NewString(), b.Name, ts(5)), dialogue.KindNotFound)
	must(t, s.ActivateChannel(ctx, ch.ID, b.Name, ts(5)))
	got := getChannel(t, s, ch.ID)
	if got.State != dialogue.ChannelActive || !got.AcceptedAt.Equal(ts(5)) {
		t.Errorf("after ActivateChannel: %+v", got)
	}
	must(t, s.ActivateChannel(ctx, ch.ID, b.Name, ts(9)))
	if again := getChannel(t, s, ch.ID); again.State != dialogue.ChannelActive || !again.AcceptedAt.Equal(ts(5)) {
		t.Errorf("ActivateChannel twice changed the channel: %+v", again)
	}
	// Accepting one this node proposed is refused.
	_, err = s.AcceptChannel(ctx, ch.ID, "", ts(6))
	wantErr(t, "AcceptChannel of a proposed channel", err, dialogue.KindConflict, "not offered")

	// Channels: oldest first.
	second := propose(t, s, b.Name, "reports")
	chs, err := s.Channels(ctx)
	must(t, err)
	if len(chs) != 2 || chs[0].ID != ch.ID || chs[1].ID != second.ID {
		t.Errorf("Channels = %v", chs)
	}
}

func testOfferChannel(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	ch := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Description: "b's", Peer: b.Name}
	must(t, s.OfferChannel(ctx, ch, 0))
	if ch.State != dialogue.ChannelOffered || !ch.Incoming || ch.Notified {
		t.Errorf("offered channel = %+v", ch)
	}
	_, err := s.FindCollection(ctx, ch.ID)
	wantKind(t, "the collection of an offered channel", err, dialogue.KindNotFound)
	if got := getChannel(t, s, "from b"); got.ID != ch.ID {
		t.Errorf("Channel(proposed title) of an offered channel = %+v", got)
	}
	// Offered again by the same peer: nothing changes.
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: ch.ID, Title: "renamed", Peer: b.Name}, 0))
	if got := getChannel(t, s, ch.ID); got.Title != "from b" || got.State != dialogue.ChannelOffered {
		t.Errorf("after the same offer again: %+v", got)
	}
	// By another peer: refused.
	err = s.OfferChannel(ctx, &dialogue.Channel{ID: ch.ID, Title: "from b", Peer: c.Name}, 0)
	wantErr(t, "OfferChannel of b's channel by c", err, dialogue.KindConflict, b.Name)
	// Over a collection of this node: refused.
	local := newCollection(t, s, "local")
	local2 := &dialogue.Collection{ID: uuid.NewString(), Title: "local2"}
	must(t, s.CreateCollection(ctx, local2))
	err = s.OfferChannel(ctx, &dialogue.Channel{ID: local2.ID, Title: "mine now", Peer: b.Name}, 0)
	wantErr(t, "OfferChannel of a local collection's id", err, dialogue.KindConflict, local2.ID)
	err = s.OfferChannel(ctx, &dialogue.Channel{ID: uuid.NewString(), Title: "x", Peer: "nobody"}, 0)
	wantKind(t, "OfferChannel by an unknown peer", err, dialogue.KindNotFound)
	for _, bad := range []struct {
		ch    dialogue.Channel
		words []string
	}{
		{dialogue.Channel{ID: "1234", Title: "x", Peer: b.Name}, []string{"channel id", "1234"}},
		{dialogue.Channel{ID: strings.ToUpper(uuid.NewString()), Title: "x", Peer: b.Name}, []string{"channel id"}},
		{dialogue.Channel{ID: uuid.NewString(), Title: "", Peer: b.Name}, []string{"title", "empty"}},
		{dialogue.Channel{ID: uuid.NewString(), Title: "a\nb", Peer: b.Name}, []string{"title", "control"}},
		{dialogue.Channel{ID: uuid.NewString(), Title: strings.Repeat("t", 1000), Peer: b.Name}, []string{"title", "over"}},
	} {
		wantErr(t, fmt.Sprintf("OfferChannel(%.40q)", bad.ch.ID+" "+bad.ch.Title), s.OfferChannel(ctx, &bad.ch, 0), dialogue.KindInvalid, bad.words...)
	}

	// Accept: the collection is made with the channel's id.
	_, err = s.AcceptChannel(ctx, uuid.NewString(), "", ts(1))
	wantKind(t, "AcceptChannel(unknown)", err, dialogue.KindNotFound)
	_, err = s.AcceptChannel(ctx, ch.ID, local.Title, ts(1))
	wantErr(t, "AcceptChannel with a taken title", err, dialogue.KindConflict, "title")
	if got := getChannel(t, s, ch.ID); got.State != dialogue.ChannelOffered {
		t.Errorf("a refused accept changed the channel: %+v", got)
	}
	acc, err := s.AcceptChannel(ctx, ch.ID, "", ts(2))
	must(t, err)
	if acc.State != dialogue.ChannelActive || acc.Notified || !acc.Incoming || !acc.AcceptedAt.Equal(ts(2)) {
		t.Errorf("accepted channel = %+v", acc)
	}
	coll, err := s.FindCollection(ctx, ch.ID)
	must(t, err)
	if coll.Title != "from b" || coll.Description != "b's" {
		t.Errorf("accepted channel's collection = %+v", coll)
	}
	_, err = s.AcceptChannel(ctx, ch.ID, "", ts(3))
	wantErr(t, "AcceptChannel twice", err, dialogue.KindConflict, "active")
	// The peer's notice that it is active changes nothing.
	must(t, s.ActivateChannel(ctx, ch.ID, b.Name, ts(4)))
	if got := getChannel(t, s, ch.ID); !got.AcceptedAt.Equal(ts(2)) {
		t.Errorf("ActivateChannel on an accepted channel changed it: %+v", got)
	}
	// Offered again once accepted: still nothing changes.
	must(t, s.OfferChannel(ctx, &dialogue.Channel{ID: ch.ID, Title: "from b", Peer: b.Name}, 0))
	if got := getChannel(t, s, ch.ID); got.State != dialogue.ChannelActive {
		t.Errorf("an offer again after accepting: %+v", got)
	}

	// Accepting under a title of one's own.
	ch2 := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Peer: b.Name}
	must(t, s.OfferChannel(ctx, ch2, 0))
	// The offered "from b" is the one without a collection; by title,
	// the accepted one's collection comes first.
	if got := getChannel(t, s, "from b"); got.ID != ch.ID {
		t.Errorf("Channel(%q) = %s, want the accepted channel %s", "from b", got.ID, ch.ID)
	}
	wantKind(t, "ActivateChannel of an offered channel", s.ActivateChannel(ctx, ch2.ID, b.Name, ts(4)), dialogue.KindConflict)
	if _, err := s.AcceptChannel(ctx, ch2.ID, "b, second", ts(5)); err != nil {
		t.Fatal(err)
	}
	if coll, err := s.FindCollection(ctx, "b, second"); err != nil || coll.ID != ch2.ID {
		t.Errorf("collection titled at accept: %v, %v", coll, err)
	}
}

func testChannelNotified(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	ch := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Peer: b.Name}
	must(t, s.OfferChannel(ctx, ch, 0))
	_, err := s.AcceptChannel(ctx, ch.ID, "", ts(1))
	must(t, err)
	// Told as it was when offered: the channel has moved on since.
	must(t, s.SetChannelNotified(ctx, ch.ID, dialogue.ChannelOffered))
	if getChannel(t, s, ch.ID).Notified {
		t.Error("notified of a state the channel is no longer in")
	}
	must(t, s.SetChannelNotified(ctx, ch.ID, dialogue.ChannelActive))
	if !getChannel(t, s, ch.ID).Notified {
		t.Error("not notified after SetChannelNotified(active)")
	}
	p := propose(t, s, b.Name, "mine")
	must(t, s.SetChannelNotified(ctx, p.ID, dialogue.ChannelProposed))
	if !getChannel(t, s, p.ID).Notified {
		t.Error("a proposed channel is not notified after SetChannelNotified(proposed)")
	}
	wantKind(t, "SetChannelNotified(unknown)", s.SetChannelNotified(ctx, uuid.NewString(), dialogue.ChannelActive), dialogue.KindNotFound)
}

func testCosigned(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	ch := propose(t, s, b.Name, "incidents")
	other := propose(t, s, c.Name, "other")
	cosigned := func(peer, coll string) int64 {
		t.Helper()
		n, err := s.Cosigned(ctx, peer, coll)
		must(t, err)
		return n
	}
	if n := cosigned(b.Name, ch.ID); n != 0 {
		t.Errorf("Cosigned before any = %d", n)
	}
	for _, step := range []struct{ set, want int64 }{{5, 5}, {3, 5}, {9, 9}} {
		must(t, s.SetCosigned(ctx, b.Name, ch.ID, step.set))
		if n := cosigned(b.Name, ch.ID); n != step.want {
			t.Errorf("after SetCosigned(%d): %d, want %d", step.set, n, step.want)
		}
	}
	if n := cosigned(c.Name, ch.ID); n != 0 {
		t.Errorf("another peer's cosigned size = %d", n)
	}
	if n := cosigned(b.Name, other.ID); n != 0 {
		t.Errorf("another collection's cosigned size = %d", n)
	}
	if n, err := s.Applied(ctx, b.Name, ch.ID); err != nil || n != 0 {
		t.Errorf("Applied beside a cosigned size = %d, %v; want 0", n, err)
	}
	_, err := s.Cosigned(ctx, "nobody", ch.ID)
	wantKind(t, "Cosigned(unknown peer)", err, dialogue.KindNotFound)
	_, err = s.Cosigned(ctx, b.Name, "no-such")
	wantKind(t, "Cosigned(unknown collection)", err, dialogue.KindNotFound)
	wantKind(t, "SetCosigned(unknown peer)", s.SetCosigned(ctx, "nobody", ch.ID, 1), dialogue.KindNotFound)
	wantKind(t, "SetCosigned(unknown collection)", s.SetCosigned(ctx, b.Name, "no-such", 1), dialogue.KindNotFound)
	wantKind(t, "SetCosigned(negative)", s.SetCosigned(ctx, b.Name, ch.ID, -1), dialogue.KindInvalid)
}

// received returns a copy of o as the peer's bytes: the store may set
// DateAdded on what it is given.
func received(o *dialogue.Object) *dialogue.Object {
	c := *o
	c.Raw = bytes.Clone(o.Raw)
	return &c
}

func applied(t *testing.T, s PeerStore, peer, coll string) int64 {
	t.Helper()
	n, err := s.Applied(ctx, peer, coll)
	must(t, err)
	return n
}

func origin(t *testing.T, s PeerStore, coll string, o *dialogue.Object) string {
	t.Helper()
	p, err := s.Origin(ctx, coll, o.ID, o.Version())
	must(t, err)
	return p
}

func testApplyReceived(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	mine := sdo("indicator", 100, 0)
	add(t, s, ch.ID, mine)
	o1, o2 := sdo("indicator", 1, 0), sco(2)
	res, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 2,
		Objects: []*dialogue.Object{o1, o2}})
	must(t, err)
	if res.Added != 2 || res.Unchanged != 0 || len(res.Conflicts) != 0 {
		t.Errorf("first batch: %+v", res)
	}
	if n := applied(t, s, b.Name, ch.ID); n != 2 {
		t.Errorf("Applied = %d, want 2", n)
	}
	// Received objects are readable, byte-exact, after this node's own,
	// and are not entries of this node's log.
	page := find(t, s, ch.ID, dialogue.ObjectFilter{})
	sameKeys(t, "objects after the first batch", page.Objects, mine, o1, o2)
	for _, o := range page.Objects[1:] {
		want := o1.Raw
		if o.ID == o2.ID {
			want = o2.Raw
		}
		if !bytes.Equal(o.Raw, want) {
			t.Errorf("%s: stored %q, want the peer's bytes %q", o.ID, o.Raw, want)
		}
		if !o.DateAdded.After(page.Objects[0].DateAdded) {
			t.Errorf("%s: DateAdded %v is not after this node's object's %v", o.ID, o.DateAdded, page.Objects[0].DateAdded)
		}
	}
	if size, err := s.LogSize(ctx, ch.ID); err != nil || size != 1 {
		t.Errorf("this node's log: size %d, %v; want 1 (its own object only)", size, err)
	}
	if p := origin(t, s, ch.ID, o1); p != b.Name {
		t.Errorf("Origin(received) = %q, want %q", p, b.Name)
	}
	if p := origin(t, s, ch.ID, o2); p != b.Name {
		t.Errorf("Origin(received SCO) = %q, want %q", p, b.Name)
	}
	if p, err := s.Origin(ctx, ch.ID, o2.ID, page.Objects[2].DateAdded); err != nil || p != b.Name {
		t.Errorf("Origin(received SCO at its TAXII version) = %q, %v", p, err)
	}
	if p := origin(t, s, ch.ID, mine); p != "" {
		t.Errorf("Origin(own) = %q, want \"\"", p)
	}
	_, err = s.Origin(ctx, ch.ID, o1.ID, ts(99))
	wantKind(t, "Origin(unknown version)", err, dialogue.KindNotFound)
	_, err = s.Origin(ctx, "no-such", o1.ID, o1.Version())
	wantKind(t, "Origin(unknown collection)", err, dialogue.KindNotFound)

	// Second batch: one seen already, one conflicting, one new version.
	o1new := sdo("indicator", 1, 50)
	o2other := received(o2)
	o2other.Raw = bytes.Replace(o2other.Raw, []byte(`"value":"198.51.100.2"`), []byte(`"value":"198.51.100.3"`), 1)
	mineOther := received(mine)
	mineOther.Raw = bytes.Replace(mineOther.Raw, []byte(`"name":"n0"`), []byte(`"name":"changed"`), 1)
	res, err = s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 2, To: 6,
		Objects: []*dialogue.Object{received(o1), o2other, received(o1new), mineOther}})
	must(t, err)
	if res.Added != 1 || res.Unchanged != 1 || len(res.Conflicts) != 2 {
		t.Fatalf("second batch: %+v", res)
	}
	for i, id := range []string{o2.ID, mine.ID} {
		r := res.Conflicts[i]
		if r.ID != id || r.Status != dialogue.Rejected || dialogue.KindOf(r.Err) != dialogue.KindConflict {
			t.Errorf("conflict %d = %+v, want %s rejected as a conflict", i, r, id)
		}
	}
	if n := applied(t, s, b.Name, ch.ID); n != 6 {
		t.Errorf("Applied = %d, want 6", n)
	}
	// The new version supersedes the old; the conflicting bytes are not
	// stored; this node's object stays its own.
	page = find(t, s, ch.ID, dialogue.ObjectFilter{})
	sameKeys(t, "last versions after the second batch", page.Objects, mine, o2, o1new)
	if !bytes.Equal(page.Objects[1].Raw, o2.Raw) || !bytes.Equal(page.Objects[0].Raw, mine.Raw) {
		t.Errorf("a conflicting version replaced the stored one")
	}
	if p := origin(t, s, ch.ID, mine); p != "" {
		t.Errorf("Origin(own) after a conflicting copy = %q", p)
	}
	all := find(t, s, ch.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	if len(all.Objects) != 4 {
		t.Errorf("%d versions stored, want 4", len(all.Objects))
	}
	// The received older version of an object this node has a newer one of
	// is stored superseded.
	mineNew := sdo("indicator", 200, 10)
	add(t, s, ch.ID, mineNew)
	res, err = s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 6, To: 7,
		Objects: []*dialogue.Object{sdo("indicator", 200, 0)}})
	must(t, err)
	if res.Added != 1 {
		t.Errorf("an older version: %+v", res)
	}
	last := find(t, s, ch.ID, dialogue.ObjectFilter{IDs: []string{mineNew.ID}})
	sameKeys(t, "last version of an object received in an older version", last.Objects, mineNew)
	// A batch of blobs alone moves Applied on.
	_, err = s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 7, To: 8,
		Blobs: []dialogue.BlobRef{{SHA256: sha256.Sum256([]byte("evidence")), Size: 8}}})
	must(t, err)
	if n := applied(t, s, b.Name, ch.ID); n != 8 {
		t.Errorf("Applied after a batch of a blob = %d, want 8", n)
	}
	if size, _ := s.LogSize(ctx, ch.ID); size != 2 {
		t.Errorf("this node's log: size %d, want 2 (its own objects only)", size)
	}
}

// statsOf is what a batch applied twice must not change.
func statsOf(t *testing.T, s PeerStore, peer, coll string) string {
	t.Helper()
	st, err := s.Stats(ctx)
	must(t, err)
	blobs, err := s.WantedBlobs(ctx, peer)
	must(t, err)
	all := find(t, s, coll, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	return fmt.Sprintf("objects %d, wanted %d, applied %d, listed %v", st.Objects, len(blobs), applied(t, s, peer, coll), keys(all.Objects))
}

func testApplyTwice(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	batch := &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 3,
		Objects: []*dialogue.Object{sdo("indicator", 1, 0), sdo("indicator", 2, 0)},
		Blobs:   []dialogue.BlobRef{{SHA256: sha256.Sum256([]byte("x")), Size: 1}}}
	_, err := s.ApplyReceived(ctx, batch)
	must(t, err)
	before := statsOf(t, s, b.Name, ch.ID)
	_, err = s.ApplyReceived(ctx, batch)
	wantErr(t, "the same batch again", err, dialogue.KindConflict, "3", "not 0")
	if after := statsOf(t, s, b.Name, ch.ID); after != before {
		t.Errorf("the same batch again changed the store:\nbefore %s\nafter  %s", before, after)
	}
	// Overlapping and skipping batches are refused too.
	for _, from := range []int64{2, 4} {
		bad := *batch
		bad.From, bad.To = from, from+3
		_, err := s.ApplyReceived(ctx, &bad)
		wantKind(t, fmt.Sprintf("a batch from %d after 3", from), err, dialogue.KindConflict)
	}
	if after := statsOf(t, s, b.Name, ch.ID); after != before {
		t.Errorf("refused batches changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func testApplyConcurrently(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	var objs []*dialogue.Object
	for i := range 50 {
		objs = append(objs, sdo("indicator", i, 0))
	}
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			batch := &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 50}
			for _, o := range objs {
				batch.Objects = append(batch.Objects, received(o))
			}
			_, errs[i] = s.ApplyReceived(ctx, batch)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantKind(t, "a concurrent delivery of the same batch", err, dialogue.KindConflict)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent deliveries of one batch applied, want 1", ok, n)
	}
	if st, _ := s.Stats(ctx); st.Objects != 50 {
		t.Errorf("%d objects stored, want 50", st.Objects)
	}
}

func testApplyRefused(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	active := activeChannel(t, s, b.Name, "from b")
	proposed := propose(t, s, b.Name, "to b")
	local := newCollection(t, s, "local")
	o := sdo("indicator", 1, 0)
	apply := func(peer, coll string, from, to int64, objs ...*dialogue.Object) error {
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: peer, CollectionID: coll, From: from, To: to, Objects: objs})
		return err
	}
	wantErr(t, "a batch of another peer's channel", apply(c.Name, active.ID, 0, 1, o), dialogue.KindForbidden, b.Name)
	wantErr(t, "a batch for a channel not active", apply(b.Name, proposed.ID, 0, 1, o), dialogue.KindConflict, "not active")
	wantErr(t, "a batch for a collection that is no channel", apply(b.Name, local.ID, 0, 1, o), dialogue.KindNotFound, "not a channel")
	wantKind(t, "a batch for no collection", apply(b.Name, "no-such", 0, 1, o), dialogue.KindNotFound)
	wantErr(t, "a batch of no range", apply(b.Name, active.ID, 3, 1, o), dialogue.KindInvalid, "[3, 1)")
	wantErr(t, "a batch of a negative range", apply(b.Name, active.ID, -1, 1, o), dialogue.KindInvalid, "[-1, 1)")
	wantErr(t, "a batch without a peer", apply("", active.ID, 0, 1, o), dialogue.KindInvalid, "peer")
	bad := received(o)
	bad.Type = "malware"
	wantErr(t, "a batch with an object not of its type", apply(b.Name, active.ID, 0, 2, sdo("indicator", 2, 0), bad), dialogue.KindInvalid, o.ID)
	_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: active.ID, From: 0, To: 1,
		Blobs: []dialogue.BlobRef{{Size: -1}}})
	wantErr(t, "a batch with a blob of negative size", err, dialogue.KindInvalid, "negative")
	if st, _ := s.Stats(ctx); st.Objects != 0 {
		t.Errorf("refused batches stored %d objects", st.Objects)
	}
	if n := applied(t, s, b.Name, active.ID); n != 0 {
		t.Errorf("refused batches moved Applied to %d", n)
	}
	_, err = s.Applied(ctx, "nobody", active.ID)
	wantKind(t, "Applied(unknown peer)", err, dialogue.KindNotFound)
	_, err = s.Applied(ctx, b.Name, "no-such")
	wantKind(t, "Applied(unknown collection)", err, dialogue.KindNotFound)
}

func testWantedBlobs(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	c := addPeer(t, s, "node-c.example")
	chB := activeChannel(t, s, b.Name, "from b")
	chC := activeChannel(t, s, c.Name, "from c")
	ref := func(s string) dialogue.BlobRef {
		return dialogue.BlobRef{SHA256: sha256.Sum256([]byte(s)), Size: int64(len(s))}
	}
	apply := func(peer, coll string, from int64, refs ...dialogue.BlobRef) {
		t.Helper()
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: peer, CollectionID: coll, From: from, To: from + int64(len(refs)), Blobs: refs})
		must(t, err)
	}
	wanted := func(peer string) string {
		t.Helper()
		refs, err := s.WantedBlobs(ctx, peer)
		must(t, err)
		var out []string
		for _, r := range refs {
			out = append(out, fmt.Sprintf("%x:%d", r.SHA256[:2], r.Size))
		}
		return strings.Join(out, " ")
	}
	show := func(refs ...dialogue.BlobRef) string {
		var out []string
		for _, r := range refs {
			out = append(out, fmt.Sprintf("%x:%d", r.SHA256[:2], r.Size))
		}
		return strings.Join(out, " ")
	}
	x, y, z := ref("x evidence"), ref("y evidence, longer"), ref("z")
	if w := wanted(b.Name); w != "" {
		t.Errorf("wanted before any batch: %s", w)
	}
	apply(b.Name, chB.ID, 0, x, y)
	if w, want := wanted(b.Name), show(x, y); w != want && w != show(y, x) {
		t.Errorf("wanted from b = %s, want %s", w, want)
	}
	if w := wanted(c.Name); w != "" {
		t.Errorf("wanted from c = %s, want none", w)
	}
	must(t, s.BlobFetched(ctx, x.SHA256))
	must(t, s.BlobFetched(ctx, x.SHA256)) // again: still fetched
	if w := wanted(b.Name); w != show(y) {
		t.Errorf("wanted from b after fetching x = %s, want %s", w, show(y))
	}
	// Named again, by either peer: fetched already, not wanted again.
	apply(b.Name, chB.ID, 2, x, z)
	apply(c.Name, chC.ID, 0, x)
	if w := wanted(b.Name); w != show(y, z) && w != show(z, y) {
		t.Errorf("wanted from b after x named again = %s, want %s", w, show(y, z))
	}
	if w := wanted(c.Name); w != "" {
		t.Errorf("wanted from c after naming a fetched blob = %s", w)
	}
	// Named by both before it is fetched: wanted from both, fetched once.
	apply(c.Name, chC.ID, 1, y)
	if w := wanted(c.Name); w != show(y) {
		t.Errorf("wanted from c = %s, want %s", w, show(y))
	}
	must(t, s.BlobFetched(ctx, y.SHA256))
	if wb, wc := wanted(b.Name), wanted(c.Name); wb != show(z) || wc != "" {
		t.Errorf("after fetching y: wanted from b %s, from c %s", wb, wc)
	}
	wantKind(t, "BlobFetched of a blob no one named", s.BlobFetched(ctx, sha256.Sum256([]byte("never"))), dialogue.KindNotFound)
}

func testLargeObject(t *testing.T, s PeerStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	big, small := large(1), sdo("indicator", 2, 0)
	add(t, s, ch.ID, big, small)
	got, err := s.LargeObject(ctx, ch.ID, sha256.Sum256(big.Raw))
	must(t, err)
	if !bytes.Equal(got, big.Raw) {
		t.Errorf("LargeObject returned %d bytes, want the object's %d", len(got), len(big.Raw))
	}
	// The entry names it.
	es, err := s.LogEntries(ctx, ch.ID, 0, 1)
	must(t, err)
	if _, sum, _, err := tlog.ParseEntry(es[0]); err != nil || sum != sha256.Sum256(big.Raw) {
		t.Errorf("entry 0 = %.80q (%v)", es[0], err)
	}
	_, err = s.LargeObject(ctx, ch.ID, sha256.Sum256(small.Raw))
	wantKind(t, "LargeObject of a small object", err, dialogue.KindNotFound)
	other := newCollection(t, s, "other")
	_, err = s.LargeObject(ctx, other.ID, sha256.Sum256(big.Raw))
	wantKind(t, "LargeObject in another collection", err, dialogue.KindNotFound)
	_, err = s.LargeObject(ctx, "no-such", sha256.Sum256(big.Raw))
	wantKind(t, "LargeObject in no collection", err, dialogue.KindNotFound)
	// A large object received is in the peer's log, not this node's.
	rbig := large(3)
	_, err = s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 1, Objects: []*dialogue.Object{rbig}})
	must(t, err)
	_, err = s.LargeObject(ctx, ch.ID, sha256.Sum256(rbig.Raw))
	wantKind(t, "LargeObject of a received object", err, dialogue.KindNotFound)
	// Deleted: its entry stays, its bytes are gone.
	_, err = s.DeleteObject(ctx, ch.ID, big.ID, dialogue.ObjectFilter{})
	must(t, err)
	_, err = s.LargeObject(ctx, ch.ID, sha256.Sum256(big.Raw))
	wantKind(t, "LargeObject of a deleted object", err, dialogue.KindNotFound)
}
