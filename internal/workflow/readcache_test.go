package workflow_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/workflow"
)

// jsonOf is v as JSON, to compare answers whole.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The read paths keep each channel's fold while the store's stamp of its
// objects is unchanged (readcache.go): every read right after a write
// sees it, whether the write is this service's own, the peer's received
// over the exchange, or another store handle's on the same file (another
// process); the flags that depend on the clock move with the clock; a
// caller changing what it got changes nothing for the next one; and what
// a warm cache answers is what a service without one computes.
func TestCachedReadsSeeWrites(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	a, b, ch := reqTwoNodes(t, clock)
	report, err := a.wf.FileReport(ctx, ch, reqBundle(t, t0), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	state := func(n *reqNode, id string) dialogue.RequestState {
		t.Helper()
		r, err := n.wf.Request(ctx, id)
		if err != nil {
			t.Fatalf("%s: Request(%s): %v", n.name, id, err)
		}
		return r.State
	}
	count := func(n *reqNode) int {
		t.Helper()
		rs, err := n.wf.Requests(ctx, workflow.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	if n := count(a); n != 0 {
		t.Fatalf("a: %d requests before any is filed", n)
	}
	id, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: ch, About: []string{report}, Text: "Please take down the C2 server."})
	if err != nil {
		t.Fatal(err)
	}
	// Own write, right after a cached read.
	if n := count(a); n != 1 {
		t.Fatalf("a: %d requests right after filing one, want 1", n)
	}

	// Received: b reads (and keeps) its fold before and right after the
	// request arrives.
	if n := count(b); n != 0 {
		t.Fatalf("b: %d requests before any arrived", n)
	}
	reqHas(t, b, ch, id)
	if st := state(b, id); st != dialogue.RequestSubmitted {
		t.Fatalf("b: request %s is %s right after it arrived, want submitted", id, st)
	}
	r, err := b.wf.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.LogIndex == nil || r.Log != "peer's log" {
		t.Errorf("b: request's log entry %s %v, want its index in the peer's log", r.Log, r.LogIndex)
	}
	tr, err := b.wf.MoveRequest(ctx, id, workflow.Move{Action: dialogue.ActionAcknowledge})
	if err != nil {
		t.Fatal(err)
	}
	if st := state(b, id); st != dialogue.RequestAcknowledged {
		t.Fatalf("b: request is %s right after b acknowledged it, want acknowledged", st)
	}
	if st := state(a, id); st != dialogue.RequestSubmitted {
		t.Fatalf("a: request is %s before the acknowledgement arrived", st)
	}
	reqHas(t, a, ch, tr)
	if st := state(a, id); st != dialogue.RequestAcknowledged {
		t.Fatalf("a: request is %s right after the acknowledgement arrived, want acknowledged", st)
	}
	reqWaitFor(t, "a knows the index of b's acknowledgement in b's log", func() bool {
		r, err := a.wf.Request(ctx, id)
		return err == nil && len(r.History) == 2 && r.History[1].LogIndex != nil
	})

	// Another handle on a's store file, as another process: its write is
	// seen by a's next read.
	db2, err := sqlite.Open(ctx, a.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	wf2 := workflow.New(db2, a.name, a.srv.Node.LogKey())
	wf2.Now = clock.Now
	id2, err := wf2.FileRequest(ctx, workflow.RequestFiling{Channel: ch, About: []string{report}, Text: "And the second one."})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(a); n != 2 {
		t.Fatalf("a: %d requests right after another handle filed one, want 2", n)
	}
	if st := state(a, id2); st != dialogue.RequestSubmitted {
		t.Fatalf("a: request %s filed by another handle is %s", id2, st)
	}

	// The clock: overdue without any write.
	r1, err := a.wf.Request(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Overdue {
		t.Fatalf("a: request overdue at filing")
	}
	clock.Add(r1.AckDeadline.Sub(t0) + time.Minute)
	r2, err := a.wf.Request(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Overdue || !r2.AckOverdue {
		t.Errorf("a: request not overdue past its ack deadline (overdue %v, ack %v)", r2.Overdue, r2.AckOverdue)
	}
	if rs, err := a.wf.Requests(ctx, workflow.RequestFilter{Overdue: true}); err != nil || len(rs) != 1 || rs[0].ID != id2 {
		t.Errorf("a: overdue requests %v, %v; want %s alone", rs, err, id2)
	}

	// What a caller does to its answer stays its own.
	rs, err := a.wf.Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	before := jsonOf(t, rs)
	for _, r := range rs {
		r.State, r.Name = "mangled", "mangled"
		r.History = append(r.History, &workflow.Transition{ID: "mangled"})
		r.About = append(r.About, "mangled")
	}
	again, err := a.wf.Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, again); got != before {
		t.Errorf("a caller's changes reached the next answer:\n got %s\nwant %s", got, before)
	}

	// A warm cache answers what a fresh service computes.
	fresh := workflow.New(a.srv.Node.Store, a.name, a.srv.Node.LogKey())
	fresh.Now = clock.Now
	want, err := fresh.Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, again); got != jsonOf(t, want) {
		t.Errorf("cached answer differs from a fresh one:\n got %s\nwant %s", got, jsonOf(t, want))
	}

	// Reports: a new one is listed right after a cached listing; a caller
	// filling in its copy's objects leaves the listing as it was.
	reps, err := a.wf.Reports(ctx, ch)
	if err != nil || len(reps) != 1 {
		t.Fatalf("a: reports %v, %v; want 1", reps, err)
	}
	report2, err := a.wf.FileReport(ctx, ch, reqBundle(t, t0), "amber", []string{"health"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	reps, err = a.wf.Reports(ctx, ch)
	if err != nil || len(reps) != 2 || reps[1].ID != report2 || reps[1].TLP != "amber" {
		t.Fatalf("a: reports right after filing a second one: %v, %v", reps, err)
	}
	full, err := a.wf.Report(ctx, report2)
	if err != nil || len(full.Objects) == 0 {
		t.Fatalf("a: Report(%s) = %v, %v", report2, full, err)
	}
	if reps, err = a.wf.Reports(ctx, ch); err != nil || reps[1].Objects != nil {
		t.Errorf("a: a report's objects reached the listing (%d objects), %v", len(reps[1].Objects), err)
	}

	// The hotline: b lists (and keeps) the messages before and right after
	// a's arrives, and sees its own acknowledgement at once; a sees it
	// right after it arrives.
	list := func(n *reqNode) []*workflow.Hotline {
		t.Helper()
		hs, err := n.wf.ListHotline(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	if hs := list(b); len(hs) != 0 {
		t.Fatalf("b: %d hotline messages before any was sent", len(hs))
	}
	h, err := a.wf.SendHotline(ctx, workflow.HotlineInput{Channel: ch, Text: "Call us."})
	if err != nil {
		t.Fatal(err)
	}
	if hs := list(a); len(hs) != 1 || hs[0].ID != h.ID || !hs[0].Outgoing {
		t.Fatalf("a: hotline right after sending: %+v", hs)
	}
	reqHas(t, b, ch, h.ID)
	if hs := list(b); len(hs) != 1 || hs[0].ID != h.ID || hs[0].Acknowledged != nil {
		t.Fatalf("b: hotline right after a's message arrived: %+v", hs)
	}
	acked, err := b.wf.AckHotline(ctx, h.ID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty})
	if err != nil {
		t.Fatal(err)
	}
	if hs := list(b); hs[0].State != workflow.HotlineAcknowledged || hs[0].AckID != acked.AckID {
		t.Fatalf("b: message %s right after b acknowledged it: %+v", h.ID, hs[0])
	}
	reqHas(t, a, ch, acked.AckID)
	if hs := list(a); hs[0].State != workflow.HotlineAcknowledged || hs[0].AcknowledgedBy == "" {
		t.Fatalf("a: message right after the acknowledgement arrived: %+v", hs[0])
	}
	for _, n := range []*reqNode{a, b} {
		fresh := workflow.New(n.srv.Node.Store, n.name, n.srv.Node.LogKey())
		fresh.Now = clock.Now
		want, err := fresh.ListHotline(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, list(n)); got != jsonOf(t, want) {
			t.Errorf("%s: cached hotline differs from a fresh one:\n got %s\nwant %s", n.name, got, jsonOf(t, want))
		}
	}
}
