package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func hotlineOf(t *testing.T, wf *workflow.Service, channel, id string) *workflow.Hotline {
	t.Helper()
	hs, err := wf.ListHotline(context.Background(), channel)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// A sends a hotline message; B's node writes the delivery receipt by
// itself; a person on B acknowledges it; A sees both, timed, and both
// nodes show the same times. The moves the rules refuse get their errors.
func TestHotlineTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := newCommsNode(t, "party-a"), newCommsNode(t, "party-b")
	ch := shareComms(t, a, b)

	// Sending checks its input and names the field.
	for _, c := range []struct {
		name string
		in   workflow.HotlineInput
		kind dialogue.Kind
		want []string
	}{
		{"empty text", workflow.HotlineInput{Channel: "a-b", Text: "  "}, dialogue.KindInvalid, []string{"text", "empty"}},
		{"long text", workflow.HotlineInput{Channel: "a-b", Text: strings.Repeat("é", workflow.MaxHotlineText+1)}, dialogue.KindInvalid, []string{"text", "10001 characters", "at most 10000"}},
		{"priority", workflow.HotlineInput{Channel: "a-b", Text: "x", Priority: "high"}, dialogue.KindInvalid, []string{`priority "high"`, "normal or urgent"}},
		{"ack_within short", workflow.HotlineInput{Channel: "a-b", Text: "x", AckWithin: time.Second}, dialogue.KindInvalid, []string{"ack_within 1s", "between 1m0s and 168h0m0s"}},
		{"ack_within long", workflow.HotlineInput{Channel: "a-b", Text: "x", AckWithin: 8 * 24 * time.Hour}, dialogue.KindInvalid, []string{"ack_within 192h0m0s"}},
		{"about", workflow.HotlineInput{Channel: "a-b", Text: "x", About: []string{"report--x"}}, dialogue.KindInvalid, []string{"about_refs item 1", `"report--x"`, "not a STIX id"}},
		{"channel", workflow.HotlineInput{Channel: "nope", Text: "x"}, dialogue.KindNotFound, []string{`no channel "nope"`}},
	} {
		_, err := a.WF.SendHotline(ctx, c.in)
		checkKind(t, c.name, err, c.kind, c.want...)
	}
	for _, c := range []struct {
		name string
		cfg  workflow.CommsConfig
		want string
	}{
		{"normal", workflow.CommsConfig{AckWithinNormal: 0, AckWithinUrgent: time.Minute, CheckInterval: time.Hour}, "ack_within_normal 0s"},
		{"urgent", workflow.CommsConfig{AckWithinNormal: time.Hour, AckWithinUrgent: 8 * 24 * time.Hour, CheckInterval: time.Hour}, "ack_within_urgent 192h0m0s"},
		{"interval", workflow.CommsConfig{AckWithinNormal: time.Hour, AckWithinUrgent: time.Minute, CheckInterval: time.Second}, "check_interval 1s"},
		{"channel interval", workflow.CommsConfig{AckWithinNormal: time.Hour, AckWithinUrgent: time.Minute, CheckInterval: time.Hour, ChannelCheckInterval: map[string]time.Duration{"c1": 0}}, "check_interval of channel c1"},
	} {
		checkKind(t, "config "+c.name, a.WF.SetComms(c.cfg), dialogue.KindInvalid, c.want)
	}
	if hs, err := a.WF.ListHotline(ctx, ""); err != nil || len(hs) != 0 {
		t.Errorf("after refusals: %v %v", hs, err)
	}

	h, err := a.WF.SendHotline(ctx, workflow.HotlineInput{Channel: "a-b", Text: "  Substation outage: call us.  ", Priority: workflow.PriorityUrgent})
	if err != nil {
		t.Fatal(err)
	}
	sent := a.Clock.Now()
	if h.State != workflow.HotlineSent || !h.Outgoing || h.From != "party-a" || h.To != "party-b" || h.Text != "Substation outage: call us." ||
		h.AckWithin != 15*60 || !h.Sent.Equal(sent) || !h.AckDue.Equal(sent.Add(15*time.Minute)) || h.Overdue || h.Delivered != nil {
		t.Fatalf("sent: %+v", h)
	}

	// The receipt: written by B's node (its server's scheduler) once it
	// applied the message, and back on A.
	start := time.Now()
	waitUntil(t, 15*time.Second, "A sees B's delivery receipt", func() bool {
		h := hotlineOf(t, a.WF, ch.ID, h.ID)
		return h != nil && h.State == workflow.HotlineDelivered
	})
	t.Logf("sent on A → delivered receipt on A: %s", time.Since(start).Round(time.Millisecond))
	onB := hotlineOf(t, b.WF, "", h.ID)
	if onB == nil || onB.Outgoing || onB.From != "party-a" || onB.To != "party-b" || onB.State != workflow.HotlineDelivered || onB.Delivered == nil {
		t.Fatalf("on B: %+v", onB)
	}

	// Refused moves.
	duty := &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}
	for _, c := range []struct {
		name string
		wf   *workflow.Service
		id   string
		by   *dialogue.User
		kind dialogue.Kind
		want []string
	}{
		{"by the sender", a.WF, h.ID, &dialogue.User{Name: "anna", Role: dialogue.RoleDuty}, dialogue.KindForbidden, []string{"only the receiving party", "party-b acknowledges"}},
		{"unknown id", b.WF, "parley-hotline--00000000-0000-4000-8000-000000000000", duty, dialogue.KindNotFound, []string{"no hotline message", "parley hotline list"}},
		{"not an id", b.WF, "hello", duty, dialogue.KindInvalid, []string{"id", "not a STIX id"}},
		{"no person", b.WF, h.ID, nil, dialogue.KindInvalid, []string{"needs the person"}},
		{"a lead", b.WF, h.ID, &dialogue.User{Name: "lena", Role: dialogue.RoleLead}, dialogue.KindForbidden, []string{"role duty, expert or admin", "lena is lead"}},
		{"not a hotline message", b.WF, onB.DeliveryID, duty, dialogue.KindInvalid, []string{"is a parley-receipt, not a hotline message"}},
	} {
		_, err := c.wf.AckHotline(ctx, c.id, c.by)
		checkKind(t, c.name, err, c.kind, c.want...)
	}

	acked := b.Clock.Add(4 * time.Minute)
	got, err := b.WF.AckHotline(ctx, h.ID, duty)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workflow.HotlineAcknowledged || got.Acknowledged == nil || !got.Acknowledged.Equal(acked) || got.AcknowledgedBy != "olga (duty)" || got.AckLate {
		t.Fatalf("acknowledged on B: %+v", got)
	}
	_, err = b.WF.AckHotline(ctx, h.ID, &dialogue.User{Name: "piotr", Role: dialogue.RoleExpert})
	checkKind(t, "twice", err, dialogue.KindConflict, "acknowledged already", "olga (duty)")

	waitUntil(t, 15*time.Second, "A sees the acknowledgement", func() bool {
		h := hotlineOf(t, a.WF, ch.ID, h.ID)
		return h != nil && h.State == workflow.HotlineAcknowledged
	})
	onA, onB := hotlineOf(t, a.WF, ch.ID, h.ID), hotlineOf(t, b.WF, ch.ID, h.ID)
	if onA.AcknowledgedBy != "olga (duty)" || !onA.Acknowledged.Equal(acked) || !onA.Delivered.Equal(*onB.Delivered) || onA.DeliveryID != onB.DeliveryID || onA.AckID != onB.AckID {
		t.Fatalf("A: %+v\nB: %+v", onA, onB)
	}
	if onA.Delivered.Before(start.Add(-time.Second)) || onA.Delivered.After(time.Now()) {
		t.Errorf("delivered at %s: not in the test's run (started %s)", onA.Delivered, start)
	}
	// An acknowledged message is never overdue, even long after.
	a.Clock.Add(24 * time.Hour)
	if h := hotlineOf(t, a.WF, ch.ID, h.ID); h.Overdue {
		t.Errorf("acknowledged yet overdue: %+v", h)
	}
	// One receipt of each kind on either node.
	for _, n := range []*commsNode{a, b} {
		if k := countType(t, n, ch.ID, stix.TypeReceipt); k != 2 {
			t.Errorf("%s holds %d receipts, want 2", n.name, k)
		}
	}
}

// A message nobody acknowledges escalates once its ack_within has passed
// on the (fake) clock of the sender's scheduler, once; both nodes show the
// escalation; an acknowledgement after it is late.
func TestHotlineEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := newCommsNode(t, "party-a"), newCommsNode(t, "party-b")
	ch := shareComms(t, a, b)
	if err := a.WF.SetComms(workflow.CommsConfig{AckWithinNormal: 10 * time.Minute, AckWithinUrgent: 2 * time.Minute, CheckInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	h, err := a.WF.SendHotline(ctx, workflow.HotlineInput{Channel: ch.ID, Text: "Please confirm the blocking of 203.0.113.7."})
	if err != nil {
		t.Fatal(err)
	}
	if h.Priority != workflow.PriorityNormal || h.AckWithin != 600 {
		t.Fatalf("%+v", h)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.WF.RunScheduler(runCtx, 10*time.Millisecond, nil) }()
	defer func() { stop(); <-done }()

	a.Clock.Add(10 * time.Minute) // at the deadline: not yet late
	time.Sleep(100 * time.Millisecond)
	if h := hotlineOf(t, a.WF, ch.ID, h.ID); h.Overdue || h.Escalation != "" {
		t.Fatalf("at the deadline: %+v", h)
	}
	a.Clock.Add(time.Millisecond)
	waitUntil(t, 10*time.Second, "A's scheduler escalates", func() bool {
		return hotlineOf(t, a.WF, ch.ID, h.ID).Escalation != ""
	})
	esc := hotlineOf(t, a.WF, ch.ID, h.ID)
	if !esc.Overdue || esc.State != workflow.HotlineDelivered && esc.State != workflow.HotlineSent {
		t.Errorf("escalated: %+v", esc)
	}
	time.Sleep(100 * time.Millisecond) // more ticks
	a.Clock.Add(time.Hour)
	if err := a.WF.EscalateHotline(ctx); err != nil {
		t.Fatal(err)
	}
	if k := countType(t, a, ch.ID, stix.TypeEvent); k != 1 {
		t.Fatalf("%d events, want 1", k)
	}
	ev := objectOf(t, a, ch.ID, esc.Escalation)
	if ev["event_kind"] != "escalation" || ev["reason"] != "hotline-unacknowledged" || ev["subject_ref"] != h.ID || ev["due"] != stix.FormatTime(h.AckDue) {
		t.Errorf("event: %v", ev)
	}
	waitUntil(t, 15*time.Second, "B sees the escalation", func() bool {
		h := hotlineOf(t, b.WF, ch.ID, h.ID)
		return h != nil && h.Escalation == esc.Escalation
	})
	// B's own scheduler does not escalate A's message.
	if err := b.WF.EscalateHotline(ctx); err != nil {
		t.Fatal(err)
	}
	if k := countType(t, b, ch.ID, stix.TypeEvent); k != 1 {
		t.Fatalf("B holds %d events, want 1", k)
	}
	b.Clock.Set(h.Sent.Add(20 * time.Minute))
	late, err := b.WF.AckHotline(ctx, h.ID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty})
	if err != nil {
		t.Fatal(err)
	}
	if !late.AckLate || late.Overdue || late.Escalation == "" {
		t.Errorf("late acknowledgement: %+v", late)
	}

	// Every object the hotline and the checks emit passes the OASIS
	// schema of the common properties (there is none for Parley's types)
	// and stix.Parse.
	k, err := a.WF.SendCheck(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "B has the check", func() bool { return checkByID(t, b.WF, ch.ID, k.ID) != nil })
	if _, err := b.WF.AnswerCheck(ctx, k.ID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}); err != nil {
		t.Fatal(err)
	}
	schema := coreSchema(t)
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"parley-hotline","spec_version":"2.1","id":"parley-hotline--6ba7b810-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z"}`))
	if schema.Validate(bad) == nil {
		t.Fatal("the core schema accepts an object without modified")
	}
	seen := map[string]int{}
	for _, n := range []*commsNode{a, b} {
		page, err := n.srv.Node.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{Types: []string{stix.TypeHotline, stix.TypeReceipt, stix.TypeCheck, stix.TypeEvent}})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(o.Raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Errorf("%s fails the STIX core schema: %v\n%s", o.ID, err, o.Raw)
			}
			if _, _, err := stix.Parse(o.Raw); err != nil {
				t.Errorf("%s: %v", o.ID, err)
			}
			seen[o.Type]++
		}
	}
	if seen[stix.TypeHotline] < 2 || seen[stix.TypeReceipt] < 3 || seen[stix.TypeCheck] < 3 || seen[stix.TypeEvent] < 2 {
		t.Errorf("objects seen: %v", seen)
	}
}

func countType(t *testing.T, n *commsNode, channelID, typ string) int {
	t.Helper()
	page, err := n.srv.Node.Store.FindObjects(context.Background(), channelID, dialogue.ObjectFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Objects)
}

func objectOf(t *testing.T, n *commsNode, channelID, id string) map[string]any {
	t.Helper()
	page, err := n.srv.Node.Store.FindObjects(context.Background(), channelID, dialogue.ObjectFilter{IDs: []string{id}})
	if err != nil || len(page.Objects) != 1 {
		t.Fatalf("%s: %v %v", id, page, err)
	}
	var m map[string]any
	if err := json.Unmarshal(page.Objects[0].Raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
