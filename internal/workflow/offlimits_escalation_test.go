package workflow_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// olItems returns the items of the given types on n's copy of the channel.
func olItems(t *testing.T, n *reqNode, channel string, types ...string) []*workflow.Item {
	t.Helper()
	ctx := context.Background()
	ch, other, err := n.wf.Channel(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	items, err := n.wf.Items(ctx, ch, other, types...)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// olEscalations counts, on n, the off-limits escalation events and the
// urgent hotline notices about subject, by party name.
func olEscalations(t *testing.T, n *reqNode, channel, subject string) (events, notices map[string]int) {
	t.Helper()
	events, notices = map[string]int{}, map[string]int{}
	for _, it := range olItems(t, n, channel, stix.TypeEvent, stix.TypeHotline) {
		switch {
		case it.Object.Type == stix.TypeEvent && it.Str("subject_ref") == subject && it.Str("reason") == workflow.ReasonOffLimitsIncident:
			events[it.From.Name]++
		case it.Object.Type == stix.TypeHotline && it.Str("priority") == "urgent" && strings.Contains(string(it.Object.Raw), subject):
			notices[it.From.Name]++
		}
	}
	return events, notices
}

// olAgree makes sectors the channel's agreed off-limits list: A proposes,
// both sign.
func olAgree(t *testing.T, a, b *reqNode, channel string, sectors ...string) {
	t.Helper()
	ctx := context.Background()
	texts := map[string]string{"en": "These sectors are off-limits: " + strings.Join(sectors, ", ")}
	id, err := a.wf.ProposeStatement(ctx, channel, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: texts, Sectors: sectors})
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, channel, id)
	sum, _ := workflow.TextSHA256(texts)
	if _, err := a.wf.SignStatement(ctx, id, sum, "alice (expert)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.wf.SignStatement(ctx, id, sum, "boris (expert)"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*reqNode{a, b} {
		reqWaitFor(t, n.name+" sees the off-limits list agreed", func() bool {
			off, err := n.wf.OffLimits(ctx, n.wfChannel(t, channel))
			return err == nil && slices.Equal(off, sectors)
		})
	}
}

// An incident report or a request that touches an agreed off-limits
// sector is escalated on its own by the served node of the party that
// filed it: one escalation event and one urgent hotline notice each,
// seen on both nodes, never written twice; a request about such a report
// gets the channel's short deadlines even when it names other sectors; a
// report in another sector is not escalated.
func TestOffLimitsEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &reqClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	a, b, ch := reqTwoNodes(t, clock)
	valid := reqOfficialSchema(t)
	olAgree(t, a, b, ch, "energy")

	normal := dialogue.Deadlines{Ack: 12 * time.Hour, Answer: 48 * time.Hour}
	short := dialogue.Deadlines{Ack: 30 * time.Minute, Answer: 12 * time.Hour}
	if _, err := a.wf.SetRequestDeadlines(ctx, "a-b", normal, short); err != nil {
		t.Fatal(err)
	}

	water, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, clock.Now()), "green", []string{"water"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second) // the bundles' identity is a new version each time
	energy, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, clock.Now()), "amber", []string{"energy", "health"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	// b's bundle names its own feed: a's feed identity, received, is a's
	// to version.
	fromB, err := b.wf.FileReport(ctx, "a-b", reqBundleOf(t, clock.Now(), "identity--7d2c9e4a-1b3f-4c5d-8e6f-9a0b1c2d3e4f"), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{water}, Text: "check the pumps"})
	if err != nil {
		t.Fatal(err)
	}
	// --sector health replaces the reports' sectors, but the report's
	// energy still makes the request off-limits.
	urgent, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{energy}, Sectors: []string{"health"}, Text: "take the C2 down now"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id  string
		off bool
		d   dialogue.Deadlines
	}{{plain, false, normal}, {urgent, true, short}} {
		r, err := a.wf.Request(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.OffLimits != c.off || r.AckDeadline.Sub(r.Submitted) != c.d.Ack || r.AnswerDeadline.Sub(r.Submitted) != c.d.Answer {
			t.Errorf("request %s: off-limits %v, deadlines %s %s; want %v %v", c.id, r.OffLimits, r.AckDeadline.Sub(r.Submitted), r.AnswerDeadline.Sub(r.Submitted), c.off, c.d)
		}
	}

	// The served nodes escalate by themselves (their schedulers), each
	// its own party's items, once.
	want := map[string]string{energy: "party-a", urgent: "party-a", fromB: "party-b"}
	for _, n := range []*reqNode{a, b} {
		for subject, by := range want {
			reqWaitFor(t, n.name+" holds the escalation and notice of "+subject, func() bool {
				ev, no := olEscalations(t, n, ch, subject)
				return ev[by] == 1 && no[by] == 1
			})
		}
	}
	// Running the job again, on either node, writes nothing.
	for _, n := range []*reqNode{a, b} {
		if ids, err := n.wf.OffLimitsEscalations(ctx); err != nil || len(ids) != 0 {
			t.Errorf("%s wrote %v again (%v)", n.name, ids, err)
		}
		if ids, err := n.wf.RequestJobs(ctx); err != nil || len(ids) != 0 {
			t.Errorf("%s's request jobs wrote %v (%v)", n.name, ids, err)
		}
	}
	time.Sleep(workflow.RequestJobsInterval + time.Second) // the schedulers run the jobs again
	for _, n := range []*reqNode{a, b} {
		for subject, by := range want {
			ev, no := olEscalations(t, n, ch, subject)
			if len(ev) != 1 || ev[by] != 1 || len(no) != 1 || no[by] != 1 {
				t.Errorf("%s: about %s: events %v, notices %v; want one each by %s", n.name, subject, ev, no, by)
			}
		}
		for _, subject := range []string{water, plain} {
			if ev, no := olEscalations(t, n, ch, subject); len(ev)+len(no) != 0 {
				t.Errorf("%s escalated %s, which touches no off-limits sector: %v %v", n.name, subject, ev, no)
			}
		}
	}
	// The notice names ids and sector codes, never the report's title;
	// every object written validates.
	for _, it := range olItems(t, a, ch, stix.TypeHotline, stix.TypeEvent) {
		valid(it.Object.Raw)
		if it.Object.Type != stix.TypeHotline {
			continue
		}
		if d := it.Str("description"); !strings.Contains(d, "OFF-LIMITS INCIDENT") || !strings.Contains(d, "energy") || strings.Contains(d, "Incident report\"") {
			t.Errorf("notice: %q", d)
		}
		if h, err := a.wf.ListHotline(ctx, "a-b"); err != nil || len(h) == 0 || h[0].Priority != workflow.PriorityUrgent {
			t.Errorf("hotline list: %v %v", h, err)
		}
	}
}

// A request left unacknowledged past its deadline gets its escalation
// event from the running server's scheduler (the request is filed on a
// clock two days behind, so its deadline is past on the server's clock).
func TestServerEscalatesOverdueRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &reqClock{t: time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Millisecond)}
	a, b, ch := reqTwoNodes(t, clock)
	report, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, clock.Now()), "green", []string{"water"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: "help"})
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	for _, n := range []*reqNode{a, b} {
		reqWaitFor(t, n.name+" holds A's ack-overdue escalation, written by A's server", func() bool {
			for _, it := range olItems(t, n, ch, stix.TypeEvent) {
				if it.Str("subject_ref") == id && it.Str("reason") == workflow.ReasonAckOverdue && it.From.Name == "party-a" && it.Str("event_kind") == "escalation" {
					return true
				}
			}
			return false
		})
	}
	if r, err := a.srv.Workflow.Request(ctx, id); err != nil || !r.AckOverdue {
		t.Errorf("on the server's clock: %+v %v", r, err)
	}
}
