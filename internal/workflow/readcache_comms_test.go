package workflow_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// countingStore is a node's store that counts the full listings of the
// hotline's types and the listings of versions added: which way the fold
// of the hotline was brought up to date.
type countingStore struct {
	*sqlite.DB
	full, extended, stamps atomic.Int64
}

func (c *countingStore) ObjectStamp(ctx context.Context, coll string, types []string) (dialogue.ObjectStamp, error) {
	if slices.Contains(types, stix.TypeHotline) {
		c.stamps.Add(1)
	}
	return c.DB.ObjectStamp(ctx, coll, types)
}

func (c *countingStore) IndexedObjects(ctx context.Context, coll string, types []string, fn func(dialogue.IndexedObject) error) error {
	if slices.Contains(types, stix.TypeHotline) {
		c.full.Add(1)
	}
	return c.DB.IndexedObjects(ctx, coll, types, fn)
}

func (c *countingStore) VersionsAdded(ctx context.Context, coll string, types []string, after, upTo int64, fn func(dialogue.AddedVersion) error) error {
	if slices.Contains(types, stix.TypeHotline) {
		c.extended.Add(1)
	}
	return c.DB.VersionsAdded(ctx, coll, types, after, upTo, fn)
}

// The fold of a channel's hotline and checks is extended with the
// versions added since it was kept, not computed again, and every read
// right after a write sees it as a service computing it afresh does:
// this node's own messages, acknowledgements and checks, the peer's
// messages, receipts and escalations received (a receipt arriving before
// the message it names too), a check written through another handle on
// the store's file (another process). A new version of a message and a
// deletion make it be computed again, and the answers stay right.
func TestCommsFoldExtended(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n, _, err := node.Init(ctx, filepath.Join(dir, "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	bn, created, err := node.Init(ctx, filepath.Join(dir, "b"), node.InitOptions{Name: "party-b", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	pe, err := peer.NewPeer("party-b", "https://127.0.0.1:1", created.Pin, bn.LogKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	peerID := peer.IdentityID(bn.LogKey())
	bn.Close()
	pe.CreatedAt = time.Now()
	if err := n.Store.AddPeer(ctx, pe); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	ch := &dialogue.Channel{ID: "0b9c1f2e-7d64-4c1a-9f3e-5a6b7c8d9e0f", Title: "a-b", Peer: "party-b", CreatedAt: t0}
	if err := n.Store.OfferChannel(ctx, ch, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Store.AcceptChannel(ctx, ch.ID, "", t0); err != nil {
		t.Fatal(err)
	}

	st := &countingStore{DB: n.Store}
	wf := workflow.New(st, "party-a", n.LogKey())
	wf.Now = clock.Now
	// answers is everything the hotline and checks answer, as JSON.
	answers := func(s *workflow.Service) string {
		t.Helper()
		hs, err := s.ListHotline(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		ks, figs, err := s.ListChecks(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := s.Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return jsonOf(t, map[string]any{"hotline": hs, "checks": ks, "figures": figs, "counts": sum.Counts, "overdue": sum.Overdue})
	}
	// step checks that wf's answers right after write are a fresh
	// service's, and how wf's fold was brought up to date: computed,
	// extended or kept.
	step := func(what string, how string, write func()) {
		t.Helper()
		f0, e0 := st.full.Load(), st.extended.Load()
		write()
		got := answers(wf)
		fresh := workflow.New(n.Store, "party-a", n.LogKey())
		fresh.Now = clock.Now
		if want := answers(fresh); got != want {
			t.Fatalf("%s: the kept fold answers\n%s\na fresh service\n%s", what, got, want)
		}
		f, e := st.full.Load()-f0, st.extended.Load()-e0
		if got := map[bool]string{true: "computed", false: map[bool]string{true: "extended", false: "kept"}[e > 0]}[f > 0]; got != how {
			t.Errorf("%s: the fold was %s (%d full listings, %d extensions), want %s", what, got, f, e, how)
		}
	}
	// received applies objects of the peer as the exchange does.
	var applied int64
	received := func(raws ...json.RawMessage) {
		t.Helper()
		objs := make([]*dialogue.Object, len(raws))
		idx := make([]int64, len(raws))
		for i, raw := range raws {
			o, _, err := stix.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			objs[i] = &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw}
			idx[i] = applied + int64(i)
		}
		if _, err := n.Store.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: "party-b", CollectionID: ch.ID, From: applied, To: applied + int64(len(raws)), Objects: objs, Indexes: idx}); err != nil {
			t.Fatal(err)
		}
		applied += int64(len(raws))
	}
	peerObject := func(typ string, props map[string]any) (json.RawMessage, string) {
		t.Helper()
		raw, err := stix.NewParleyObject(typ, clock.Now(), peerID, props)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		return raw, p.ID
	}

	step("the first read", "computed", func() {})
	var own *workflow.Hotline
	step("an own message", "extended", func() {
		if own, err = wf.SendHotline(ctx, workflow.HotlineInput{Channel: ch.ID, Text: "Call us.", Priority: workflow.PriorityUrgent}); err != nil {
			t.Fatal(err)
		}
	})
	step("nothing written", "kept", func() {})
	msg, msgID := peerObject(stix.TypeHotline, map[string]any{"description": "Call us back.", "priority": "normal", "ack_within": 3600})
	step("a message of the peer received", "extended", func() { received(msg) })
	step("an own acknowledgement", "extended", func() {
		clock.Add(time.Minute)
		if _, err := wf.AckHotline(ctx, msgID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}); err != nil {
			t.Fatal(err)
		}
	})
	// The peer's receipt for this node's message, and its acknowledgement
	// (not counted: its own message) and escalation of a message not here
	// yet; then the message, to which the escalation applies.
	later, laterID := peerObject(stix.TypeHotline, map[string]any{"description": "And again.", "priority": "urgent", "ack_within": 900})
	rcpt, _ := peerObject(stix.TypeReceipt, map[string]any{"message_ref": own.ID, "receipt_kind": "delivered", "received": stix.FormatTime(clock.Now())})
	ack, _ := peerObject(stix.TypeReceipt, map[string]any{"message_ref": laterID, "receipt_kind": "acknowledged", "received": stix.FormatTime(clock.Now()), "acknowledged_by": "ivan (duty)"})
	clock.Add(20 * time.Minute)
	esc, escID := peerObject(stix.TypeEvent, map[string]any{"event_kind": "escalation", "subject_ref": laterID, "reason": "hotline-unacknowledged", "due": stix.FormatTime(clock.Now())})
	step("the peer's receipt, acknowledgement and escalation before their message", "extended", func() { received(rcpt, ack, esc) })
	step("the message they name", "extended", func() { received(later) })
	byID := func() map[string]*workflow.Hotline {
		t.Helper()
		hs, err := wf.ListHotline(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*workflow.Hotline{}
		for _, h := range hs {
			m[h.ID] = h
		}
		return m
	}
	if hs := byID(); hs[laterID] == nil || hs[laterID].Escalation != escID || hs[laterID].Acknowledged != nil || hs[own.ID].Delivered == nil {
		t.Fatalf("the waiting escalation does not apply (or the acknowledgement does, or the receipt does not): %s", jsonOf(t, hs))
	}
	step("own escalations", "extended", func() {
		if err := wf.EscalateHotline(ctx); err != nil {
			t.Fatal(err)
		}
	})
	db2, err := sqlite.Open(ctx, n.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	wf2 := workflow.New(db2, "party-a", n.LogKey())
	wf2.Now = clock.Now
	step("a check sent through another handle on the file", "extended", func() {
		if _, err := wf2.SendCheck(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
	})
	ping, pingID := peerObject(stix.TypeCheck, map[string]any{"check_kind": "ping", "trigger": "scheduled", "sent": stix.FormatTime(clock.Now())})
	step("the peer's check received", "extended", func() { received(ping) })
	step("the receipts the scheduler writes", "extended", func() {
		if err := wf.Receipts(ctx); err != nil {
			t.Fatal(err)
		}
	})
	step("an own answer", "extended", func() {
		clock.Add(time.Minute)
		if _, err := wf.AnswerCheck(ctx, pingID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}); err != nil {
			t.Fatal(err)
		}
	})

	// A new version of the peer's message: computed again, with its new
	// text.
	var m map[string]any
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatal(err)
	}
	m["description"], m["modified"] = "Call us back, please.", stix.FormatTime(clock.Now())
	msg2, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	step("a new version of a message", "computed", func() { received(msg2) })
	if h := byID()[msgID]; h.Text != "Call us back, please." {
		t.Errorf("the new version's text is not listed: %q", h.Text)
	}
	// A deletion: this node's acknowledgement of the peer's message.
	h := byID()[msgID]
	if h == nil || h.AckID == "" {
		t.Fatalf("the peer's message is not acknowledged: %+v", h)
	}
	step("an acknowledgement deleted", "computed", func() {
		if _, err := n.Store.DeleteObject(ctx, ch.ID, h.AckID, dialogue.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
	})
	if h := byID()[msgID]; h.State != workflow.HotlineDelivered {
		t.Errorf("after its acknowledgement was deleted the message is %s, want delivered", h.State)
	}
	step("a write after the deletion", "extended", func() {
		if _, err := wf.SendHotline(ctx, workflow.HotlineInput{Channel: ch.ID, Text: "Once more."}); err != nil {
			t.Fatal(err)
		}
	})
	// A deletion and a write between two reads: the versions added do not
	// account for the stamps' difference.
	step("the peer's escalation deleted and a message sent", "computed", func() {
		if _, err := n.Store.DeleteObject(ctx, ch.ID, escID, dialogue.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := wf2.SendHotline(ctx, workflow.HotlineInput{Channel: ch.ID, Text: "And once more."}); err != nil {
			t.Fatal(err)
		}
	})
	if h := byID()[laterID]; h.Escalation != "" {
		t.Errorf("the deleted escalation %s is still the message's", h.Escalation)
	}

	// The summary reads the fold once (its hotline counts, check figures
	// and responsiveness all ask for it): one stamp query.
	s0 := st.stamps.Load()
	if _, err := wf.Summary(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.stamps.Load() - s0; n != 1 {
		t.Errorf("a summary read the hotline's stamp %d times, want once", n)
	}
}
