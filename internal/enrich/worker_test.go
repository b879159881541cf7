package enrich_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/sqlite"
)

// waitRecord waits until the object has an enrichment.
func waitRecord(t *testing.T, st *sqlite.DB, coll, id string, version time.Time) *enrich.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r := record(t, st, coll, id, version); r != nil {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: no enrichment after 10 s", id)
	return nil
}

// TestWorker: the worker enriches what is there when it starts, what
// another connection to the same file adds (found by polling), and what a
// collection made later holds.
func TestWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, coll := openStore(t)
	add(t, st, coll, ind(1, `[ipv4-addr:value = '192.0.2.1']`))

	w := enrich.New(demoDB(t, "XA", "XB"), st, nil).NewWorker()
	w.Interval = 20 * time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitRecord(t, st, coll, indID(1), v1)

	// Another process: another connection to the same file.
	other, err := sqlite.Open(ctx, st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	add(t, other, coll, ind(2, `[ipv6-addr:value = '2001:db8:8000::5']`))
	r := waitRecord(t, st, coll, indID(2), v1)
	if got := strings.Join(summary(r), "|"); got != "2001:db8:8000::5 pattern XB AS64497" {
		t.Errorf("record: %s", got)
	}

	c2 := &dialogue.Collection{Title: "later"}
	if err := other.CreateCollection(ctx, c2); err != nil {
		t.Fatal(err)
	}
	add(t, other, c2.ID, sco("ipv4-addr", ipA, "198.51.100.200"))
	waitRecord(t, st, c2.ID, ipA, time.Time{})
}

// TestWorkerNotify: Notify starts a round at once.
func TestWorkerNotify(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, coll := openStore(t)
	w := enrich.New(demoDB(t, "XA", "XB"), st, nil).NewWorker()
	w.Interval = time.Hour
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // the first round, of nothing
	add(t, st, coll, ind(1, `[ipv4-addr:value = '192.0.2.1']`))
	w.Notify(coll, 1)
	waitRecord(t, st, coll, indID(1), v1)
}
