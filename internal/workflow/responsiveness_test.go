package workflow_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// respOf computes n's figures and returns them with their JSON.
func respOf(t *testing.T, n *reqNode, channel string) (*workflow.Responsiveness, string) {
	t.Helper()
	r, err := n.wf.Responsiveness(context.Background(), channel)
	if err != nil {
		t.Fatalf("%s: Responsiveness: %v", n.name, err)
	}
	b, _ := json.Marshal(r)
	return r, string(b)
}

// respSame waits until both nodes compute the same figures (they hold the
// same objects) and returns A's.
func respSame(t *testing.T, a, b *reqNode, channel string) *workflow.Responsiveness {
	t.Helper()
	var ra *workflow.Responsiveness
	var ja, jb string
	deadline := time.Now().Add(20 * time.Second)
	for {
		ra, ja = respOf(t, a, channel)
		_, jb = respOf(t, b, channel)
		if ja == jb {
			return ra
		}
		if time.Now().After(deadline) {
			t.Fatalf("the nodes compute different figures:\na: %s\nb: %s", ja, jb)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func f64(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Both nodes compute the same responsiveness figures at the same fake
// time, both directions, from the same code: B handles A's two requests
// (one acknowledged in time and answered late, one never acknowledged)
// and answers A's check; A declines B's request in time.
func TestResponsivenessTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC) // ahead of the servers' own clocks: their schedulers write nothing for it
	clock := &reqClock{t: t0}
	a, b, ch := reqTwoNodes(t, clock)

	// Nothing yet: every share and median null, on both nodes.
	r := respSame(t, a, b, ch)
	if len(r.Channels) != 1 || len(r.Channels[0].Parties) != 2 || len(r.Parties) != 2 {
		t.Fatalf("empty figures: %+v", r)
	}
	for _, p := range r.Channels[0].Parties {
		if p.Requests.Received != 0 || p.Requests.AckInTimeShare != nil || p.Requests.MedianAckSeconds != nil || p.Checks.AnswerRate != nil {
			t.Errorf("empty figures of %s: %+v", p.Party, p)
		}
	}

	report, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, t0), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, report)
	file := func(n *reqNode, text string) string {
		t.Helper()
		id, err := n.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	move := func(n *reqNode, id string, m workflow.Move) {
		t.Helper()
		if _, err := n.wf.MoveRequest(ctx, id, m); err != nil {
			t.Fatalf("%s %s: %v", n.name, m.Action, err)
		}
	}
	r1, r2 := file(a, "block the C2"), file(a, "take the domain down")
	r3 := file(b, "what else do you see?")
	reqHas(t, b, ch, r2)
	reqHas(t, a, ch, r3)

	clock.Add(time.Hour)
	move(b, r1, workflow.Move{Action: dialogue.ActionAcknowledge})
	move(a, r3, workflow.Move{Action: dialogue.ActionDecline, Text: "out of scope"})
	k, err := a.wf.SendCheck(ctx, "a-b")
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, k.ID)
	clock.Add(30 * time.Second)
	if _, err := b.wf.AnswerCheck(ctx, k.ID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}); err != nil {
		t.Fatal(err)
	}

	// At 1 h: r2 is pending (not due), so B acknowledged 1 of 1 in time.
	r = respSame(t, a, b, ch)
	pb := r.Parties["party-b"]
	if pb.Requests.Received != 2 || pb.Requests.AckDue != 1 || pb.Requests.AckInTime != 1 || f64(pb.Requests.AckInTimeShare) != 1.0 ||
		f64(pb.Requests.MedianAckSeconds) != 3600.0 || pb.Requests.AnswerDue != 0 || pb.Requests.AnswerInTimeShare != nil {
		t.Errorf("B at 1h: %+v", pb.Requests)
	}

	// At 80 h: r2's acknowledgement and answer are overdue; B answers r1
	// late.
	clock.Add(79*time.Hour - 30*time.Second)
	move(b, r1, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseBlocking, Text: "blocked"})
	r = respSame(t, a, b, ch)
	if !r.AsOf.Equal(t0.Add(80 * time.Hour)) {
		t.Errorf("as of %s", r.AsOf)
	}
	pb, pa := r.Parties["party-b"], r.Parties["party-a"]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"B received", pb.Requests.Received, 2},
		{"B ack due", pb.Requests.AckDue, 2},
		{"B ack in time", pb.Requests.AckInTime, 1},
		{"B ack share", f64(pb.Requests.AckInTimeShare), 0.5},
		{"B median ack", f64(pb.Requests.MedianAckSeconds), 3600.0},
		{"B answer due", pb.Requests.AnswerDue, 2},
		{"B answer in time", pb.Requests.AnswerInTime, 0},
		{"B answer share", f64(pb.Requests.AnswerInTimeShare), 0.0},
		{"B median answer", f64(pb.Requests.MedianAnswerSeconds), 80 * 3600.0},
		{"B checks sent", pb.Checks.Sent, 1},
		{"B check rate", f64(pb.Checks.AnswerRate), 1.0},
		{"B check median", f64(pb.Checks.MedianAnswerSeconds), 30.0},
		{"A received", pa.Requests.Received, 1},
		{"A declined", pa.Requests.Declined, 1},
		{"A ack share", f64(pa.Requests.AckInTimeShare), 1.0},
		{"A median ack", f64(pa.Requests.MedianAckSeconds), 3600.0},
		{"A answer due (declined)", pa.Requests.AnswerDue, 0},
		{"A answer share", f64(pa.Requests.AnswerInTimeShare), nil},
		{"A checks sent", pa.Checks.Sent, 0},
		{"A check rate", f64(pa.Checks.AnswerRate), nil},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	// The channel's figures are the pooled ones (one channel), and the
	// check figures are CheckFigures' own.
	c0 := r.Channels[0]
	if c0.Channel != ch || c0.Title != "a-b" {
		t.Errorf("channel %+v", c0)
	}
	cf, err := b.wf.CheckFigures(ctx, b.wfChannel(t, ch))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range c0.Parties {
		pj, _ := json.Marshal(p)
		pooled, _ := json.Marshal(r.Parties[p.Party])
		if string(pj) != string(pooled) {
			t.Errorf("channel figures of %s differ from the pooled ones:\n%s\n%s", p.Party, pj, pooled)
		}
		if cf[i].PartyID != p.PartyID || cf[i].Sent != p.Checks.Sent || f64(cf[i].MedianAnswerSeconds) != f64(p.Checks.MedianAnswerSeconds) {
			t.Errorf("check figures %+v, CheckFigures %+v", p.Checks, cf[i])
		}
	}
	if _, err := a.wf.Responsiveness(ctx, "nope"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}
}
