package enrich_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/tlog"
)

// TestReceived: objects a peer's batch brings (ApplyReceived: no entry of
// this node's log, so no append wakes the worker) are enriched by the
// worker's polling.
func TestReceived(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, _ := openStore(t)
	_, vkey, err := tlog.GenerateKey("node-b.example")
	if err != nil {
		t.Fatal(err)
	}
	pin := sha256.Sum256([]byte("pin of node-b"))
	b := &dialogue.Peer{Name: "node-b.example", URL: "https://node-b.example:8443", TLSPin: base64.StdEncoding.EncodeToString(pin[:]), LogKey: vkey}
	if err := st.AddPeer(ctx, b); err != nil {
		t.Fatal(err)
	}
	ch := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Peer: b.Name}
	if err := st.OfferChannel(ctx, ch, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}

	w := enrich.New(demoDB(t, "XA", "XB"), st, nil).NewWorker()
	w.Interval = 20 * time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	objs := []*dialogue.Object{object(t, ind(7, `[ipv4-addr:value = '198.51.100.77']`)), object(t, sco("ipv6-addr", ipB, "2001:db8::77"))}
	if _, err := st.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 2, Objects: objs}); err != nil {
		t.Fatal(err)
	}
	check := func(id string, version time.Time, want string) {
		t.Helper()
		if got := summary(waitRecord(t, st, ch.ID, id, version)); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	check(indID(7), v1, "198.51.100.77 pattern XB AS64497")
	check(ipB, time.Time{}, "2001:db8::77 value XA AS64496")
}
