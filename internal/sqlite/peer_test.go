package sqlite_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/tlog"
)

// indicator returns a small indicator numbered n.
func indicator(n int) *dialogue.Object {
	id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n)
	m := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"%d"}`, id, n)
	return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: m, Modified: m, Raw: raw}
}

// withChannel adds the peer node-b.example to db and an active channel
// it offered; it returns the channel's id.
func withChannel(t testing.TB, db *sqlite.DB) string {
	t.Helper()
	ctx := context.Background()
	_, vkey, err := tlog.GenerateKey("node-b.example")
	if err != nil {
		t.Fatal(err)
	}
	pin := sha256.Sum256([]byte("b"))
	p := &dialogue.Peer{Name: "node-b.example", URL: "https://127.0.0.1:8443", TLSPin: base64.StdEncoding.EncodeToString(pin[:]), LogKey: vkey}
	if err := db.AddPeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	ch := &dialogue.Channel{ID: uuid.NewString(), Title: "from b", Peer: p.Name}
	if err := db.OfferChannel(ctx, ch, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return ch.ID
}

// TestObjectSumsSkipsReceived: verify checks every version ObjectSums
// lists against this node's log, so it lists this node's own versions
// only, never those received from a peer.
func TestObjectSumsSkipsReceived(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	coll := withChannel(t, db)
	own, got := indicator(1), indicator(2)
	if _, err := db.AddObjects(ctx, coll, []*dialogue.Object{own}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: "node-b.example", CollectionID: coll, From: 0, To: 1, Objects: []*dialogue.Object{got}}); err != nil {
		t.Fatal(err)
	}
	var sums [][32]byte
	err := db.ObjectSums(ctx, coll, func(s dialogue.ObjectSum) error {
		sums = append(sums, s.SHA256)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0] != sha256.Sum256(own.Raw) {
		t.Errorf("ObjectSums listed %d versions %x, want this node's one", len(sums), sums)
	}
	// And that one is the log's one entry.
	entries, err := db.LogEntries(ctx, coll, 0, 1)
	if err != nil || sha256.Sum256(entries[0]) != sums[0] {
		t.Errorf("log entries %q, %v", entries, err)
	}
	if st, err := db.Stats(ctx); err != nil || st.Objects != 2 {
		t.Errorf("Stats: %d objects, %v; want both stored", st.Objects, err)
	}
}

// TestOnAppend checks the append hook: called once per commit that
// appended entries, with the new log size, before the writing call
// returns and outside the writer (the hook itself may write); never for
// a commit that appended nothing, nor for received objects.
func TestOnAppend(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	coll := withChannel(t, db)
	type call struct {
		coll string
		size int64
	}
	var mu sync.Mutex
	var calls []call
	db.OnAppend(func(c string, size int64) {
		// A write from the hook: it would wait forever if the hook ran
		// under the writer.
		if err := db.SetPeerContact(ctx, "node-b.example", time.Now()); err != nil {
			t.Errorf("a write from the hook: %v", err)
		}
		mu.Lock()
		calls = append(calls, call{c, size})
		mu.Unlock()
	})
	var second []call
	db.OnAppend(func(c string, size int64) {
		mu.Lock()
		second = append(second, call{c, size})
		mu.Unlock()
	})
	took := func(want ...call) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("hook calls %v, want %v", calls, want)
		}
		calls = nil
	}
	if _, err := db.AddObjects(ctx, coll, []*dialogue.Object{indicator(1), indicator(2)}); err != nil {
		t.Fatal(err)
	}
	took(call{coll, 2})
	if _, err := db.AddObjects(ctx, coll, []*dialogue.Object{indicator(1)}); err != nil {
		t.Fatal(err)
	}
	took() // unchanged: nothing appended
	sum := sha256.Sum256([]byte("evidence"))
	for range 2 {
		if _, err := db.AppendBlob(ctx, coll, sum, 8); err != nil {
			t.Fatal(err)
		}
	}
	took(call{coll, 3}) // the second is the same blob: nothing appended
	if _, err := db.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: "node-b.example", CollectionID: coll, From: 0, To: 1, Objects: []*dialogue.Object{indicator(9)}}); err != nil {
		t.Fatal(err)
	}
	took() // received: not in this node's log
	mu.Lock()
	if fmt.Sprint(second) != fmt.Sprint([]call{{coll, 2}, {coll, 3}}) {
		t.Errorf("second hook's calls %v", second)
	}
	mu.Unlock()

	// Concurrent commits: every size reported once, the largest is the
	// log's size.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5 {
				if _, err := db.AddObjects(ctx, coll, []*dialogue.Object{indicator(100 + 10*g + i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	var sizes []int64
	for _, c := range calls {
		sizes = append(sizes, c.size)
	}
	mu.Unlock()
	slices.Sort(sizes)
	want := make([]int64, 20)
	for i := range want {
		want[i] = int64(4 + i)
	}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("sizes from concurrent appends %v, want %v", sizes, want)
	}
}

// TestAlarmDetailBounded: the detail of an alarm (a peer's data may be in
// it) is kept valid UTF-8 and at most 1,000 bytes, never refused.
func TestAlarmDetailBounded(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	defer db.Close()
	withChannel(t, db)
	detail := "\xff" + strings.Repeat("é", 3000)
	if err := db.RaiseAlarm(ctx, "node-b.example", dialogue.AlarmBadData, detail, time.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := db.Peer(ctx, "node-b.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.AlarmDetail) > 1000 || len(p.AlarmDetail) < 990 || !utf8.ValidString(p.AlarmDetail) || !strings.HasPrefix(p.AlarmDetail, "\uFFFDé") {
		t.Errorf("stored detail of %d bytes: %.20q…", len(p.AlarmDetail), p.AlarmDetail)
	}
}

// BenchmarkApplyReceived measures applying a peer's entries: ApplyReceived
// calls of `batch` new small indicators each, every call one durable
// transaction (objects with their origin, the applied size). Each b.N is
// one call.
func BenchmarkApplyReceived(b *testing.B) {
	ctx := context.Background()
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := sqlite.Open(ctx, b.TempDir()+"/parley.db")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			coll := withChannel(b, db)
			calls := make([]*dialogue.ApplyBatch, b.N)
			n := 0
			for i := range calls {
				calls[i] = &dialogue.ApplyBatch{Peer: "node-b.example", CollectionID: coll, From: int64(n), To: int64(n + batch)}
				for range batch {
					calls[i].Objects = append(calls[i].Objects, indicator(n))
					n++
				}
			}
			b.ResetTimer()
			start := time.Now()
			for _, c := range calls {
				if res, err := db.ApplyReceived(ctx, c); err != nil || res.Added != batch {
					b.Fatalf("%+v, %v", res, err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(n)/elapsed.Seconds(), "objects/s")
		})
	}
}
