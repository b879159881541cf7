package workflow_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func TestParseInfrastructure(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7": "203.0.113.7", "2001:db8::1": "2001:db8::1", "198.51.100.77/24": "198.51.100.0/24",
		"Evil.Example.": "evil.example", "https://evil.example/a?b=c": "https://evil.example/a?b=c", " c2.example.org ": "c2.example.org",
	} {
		if got, err := workflow.ParseInfrastructure(in); err != nil || got != want {
			t.Errorf("ParseInfrastructure(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "300.1.1.1", "10.0.0.0/33", "localhost", "javascript://x", "https://", "a b.example", "-x.example", "x..example"} {
		if _, err := workflow.ParseInfrastructure(bad); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "not a") {
			t.Errorf("ParseInfrastructure(%q): %v", bad, err)
		}
	}
}

func FuzzParseInfrastructure(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "10.0.0.0/8", "evil.example", "https://x.example/", "::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := workflow.ParseInfrastructure(s)
		if err == nil {
			if v2, err := workflow.ParseInfrastructure(v); err != nil || v2 != v {
				t.Fatalf("%q → %q → %q, %v", s, v, v2, err)
			}
		}
	})
}

// The whole life of a request on two nodes: A files, B acknowledges, B
// answers (action taken), A closes; every refused move on both nodes with
// its error; both nodes compute the same state and overdue flags at the
// same fake time; reminders and escalations written once each.
func TestRequestTwoNodes(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	a, b, ch := reqTwoNodes(t, clock)
	valid := reqOfficialSchema(t)

	report, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, t0), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Refused filings, each naming the field.
	for _, c := range []struct {
		f    workflow.RequestFiling
		want string
	}{
		{workflow.RequestFiling{Channel: "a-b", About: []string{report}}, "text: required"},
		{workflow.RequestFiling{Channel: "a-b", Text: "help"}, "about: required"},
		{workflow.RequestFiling{Channel: "a-b", Text: "help", About: []string{"report--00000000-0000-4000-8000-000000000000"}}, "about[0]: \"report--00000000-0000-4000-8000-000000000000\" is no incident report"},
		{workflow.RequestFiling{Channel: "a-b", Text: "help", About: []string{report}, Infrastructure: []string{"203.0.113.7", "nonsense"}}, `infrastructure[1]: "nonsense": not an IP address`},
		{workflow.RequestFiling{Channel: "a-b", Text: "help", About: []string{report}, Sectors: []string{"moon"}}, `sectors: "moon" is not a sector code.`},
	} {
		if _, err := a.wf.FileRequest(ctx, c.f); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FileRequest(%+v): %v; want %q", c.f, err, c.want)
		}
	}
	if _, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "zz", Text: "x", About: []string{report}}); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}

	id, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Infrastructure: []string{"203.0.113.7", "c2.example"}, Text: "Please take down the C2 server.\nDetails in the report."})
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	// both see the same request, submitted, with the default deadlines
	same := func(when string, state dialogue.RequestState, ackOver, ansOver bool) {
		t.Helper()
		for _, n := range []*reqNode{a, b} {
			r, err := n.wf.Request(ctx, id)
			if err != nil {
				t.Fatalf("%s %s: %v", when, n.name, err)
			}
			if r.State != state || r.AckOverdue != ackOver || r.AnswerOverdue != ansOver || r.Overdue != (ackOver || ansOver) ||
				r.From != "party-a" || r.To != "party-b" || !r.AckDeadline.Equal(t0.Add(24*time.Hour)) || !r.AnswerDeadline.Equal(t0.Add(72*time.Hour)) {
				t.Errorf("%s: %s computes %s ack-overdue %v answer-overdue %v (from %s to %s, deadlines %s %s); want %s %v %v",
					when, n.name, r.State, r.AckOverdue, r.AnswerOverdue, r.From, r.To, r.AckDeadline, r.AnswerDeadline, state, ackOver, ansOver)
			}
		}
	}
	same("filed", dialogue.RequestSubmitted, false, false)
	ra, _ := a.wf.Request(ctx, id)
	rb, _ := b.wf.Request(ctx, id)
	// Both nodes name the same entry of a's log: a from its own log, b
	// from the index the exchange recorded when it applied it.
	if ra.Log != "own" || ra.LogIndex == nil || rb.Log != "peer's log" || rb.LogIndex == nil || *rb.LogIndex != *ra.LogIndex || ra.Name != "Please take down the C2 server." || !slices.Equal(ra.Sectors, []string{"energy"}) {
		t.Errorf("a: %+v\nb: %+v", ra, rb)
	}

	// a transition that breaks the rules (the requester acknowledging),
	// filed around MoveRequest, is ignored in the fold on both nodes
	forged, err := a.wf.NewObject(stix.TypeTransition, map[string]any{"request_ref": id, "request_action": "acknowledge", "from_state": "submitted", "to_state": "acknowledged"})
	if err != nil {
		t.Fatal(err)
	}
	fids, err := a.wf.File(ctx, a.wfChannel(t, ch), forged)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, fids[0])
	for _, n := range []*reqNode{a, b} {
		r, _ := n.wf.Request(ctx, id)
		if r.State != dialogue.RequestSubmitted || len(r.Refused) != 1 || !strings.Contains(r.Refused[0].Refused, "only the receiving party may acknowledge") {
			t.Errorf("%s after a forged transition: %s, refused %+v", n.name, r.State, r.Refused)
		}
	}

	// refused moves: the error says who may do what
	refuse := func(n *reqNode, m workflow.Move, kind dialogue.Kind, want string) {
		t.Helper()
		_, err := n.wf.MoveRequest(ctx, id, m)
		if dialogue.KindOf(err) != kind || !strings.Contains(err.Error(), want) {
			t.Errorf("%s %s %s: %v (%v); want %v %q", n.name, m.Action, m.Kind, err, dialogue.KindOf(err), kind, want)
		}
	}
	move := func(n *reqNode, m workflow.Move) string {
		t.Helper()
		tid, err := n.wf.MoveRequest(ctx, id, m)
		if err != nil {
			t.Fatalf("%s %s: %v", n.name, m.Action, err)
		}
		other := a
		if n == a {
			other = b
		}
		reqHas(t, other, ch, tid)
		return tid
	}
	refuse(a, workflow.Move{Action: dialogue.ActionAcknowledge}, dialogue.KindForbidden, "only the receiving party may acknowledge a request")
	refuse(a, workflow.Move{Action: dialogue.ActionDecline, Text: "no"}, dialogue.KindForbidden, "only the receiving party may decline")
	refuse(a, workflow.Move{Action: dialogue.ActionClose}, dialogue.KindConflict, "a request that is submitted cannot be closed")
	refuse(b, workflow.Move{Action: dialogue.ActionClose}, dialogue.KindForbidden, "only the requesting party may close a request")
	refuse(b, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseTakedown}, dialogue.KindConflict, "a request that is submitted cannot be answered")
	refuse(b, workflow.Move{Action: dialogue.ActionDecline}, dialogue.KindInvalid, "declining a request needs a reason")
	refuse(b, workflow.Move{Action: dialogue.ActionAcknowledge, Kind: dialogue.ResponseFound}, dialogue.KindInvalid, "kind: only an answer has a kind")
	refuse(b, workflow.Move{Action: "reopen"}, dialogue.KindInvalid, `move "reopen"`)

	// at 19 h B is reminded; at 25 h the acknowledgement is overdue on both
	// nodes and A escalates; each event once
	clock.Add(19 * time.Hour)
	events := func(n *reqNode, want ...string) {
		t.Helper()
		ids, err := n.wf.RequestEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, eid := range ids {
			page, _ := n.srv.Node.Store.FindObjects(ctx, ch, dialogue.ObjectFilter{IDs: []string{eid}})
			var e struct{ Reason, Subject_ref string }
			json.Unmarshal(page.Objects[0].Raw, &e)
			if e.Subject_ref != id {
				t.Errorf("event %s about %s", eid, e.Subject_ref)
			}
			valid(page.Objects[0].Raw)
			got = append(got, e.Reason)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s wrote events %v, want %v", n.name, got, want)
		}
	}
	events(a)
	events(b, workflow.ReasonAckDueSoon)
	events(b)
	same("19h", dialogue.RequestSubmitted, false, false)
	clock.Add(6 * time.Hour)
	same("25h", dialogue.RequestSubmitted, true, false)
	if l, err := b.wf.Requests(ctx, workflow.RequestFilter{Overdue: true}); err != nil || len(l) != 1 {
		t.Errorf("b's overdue requests: %v, %v", l, err)
	}
	events(a, workflow.ReasonAckOverdue)
	events(a)

	move(b, workflow.Move{Action: dialogue.ActionAcknowledge, Text: "looking into it"})
	same("acknowledged", dialogue.RequestAcknowledged, false, false)
	refuse(b, workflow.Move{Action: dialogue.ActionAcknowledge}, dialogue.KindConflict, "a request that is acknowledged cannot be acknowledged")
	refuse(b, workflow.Move{Action: dialogue.ActionAnswer}, dialogue.KindInvalid, "an answer needs its kind")
	refuse(b, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseCannotAct}, dialogue.KindInvalid, "a cannot-act answer needs the reason")
	refuse(b, workflow.Move{Action: dialogue.ActionAnswer, Kind: "shrug"}, dialogue.KindInvalid, `kind "shrug"`)
	refuse(a, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseTakedown}, dialogue.KindForbidden, "only the receiving party may answer")
	refuse(a, workflow.Move{Action: dialogue.ActionClose}, dialogue.KindConflict, "a request that is acknowledged cannot be closed")

	clock.Add(48 * time.Hour) // 73 h
	same("73h", dialogue.RequestAcknowledged, false, true)
	if l, _ := a.wf.Requests(ctx, workflow.RequestFilter{State: dialogue.RequestAcknowledged, Overdue: true}); len(l) != 1 {
		t.Errorf("a lists %d overdue acknowledged requests", len(l))
	}
	events(a, workflow.ReasonAnswerOverdue)

	move(b, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseTakedown, Text: "the server is down", Refs: []string{report}})
	same("answered", dialogue.RequestAnswered, false, false)
	refuse(b, workflow.Move{Action: dialogue.ActionDecline, Text: "late"}, dialogue.KindConflict, "a request that is answered cannot be declined; only the requesting party may close it now")
	move(a, workflow.Move{Action: dialogue.ActionClose, Text: "thank you"})
	same("closed", dialogue.RequestClosed, false, false)
	refuse(a, workflow.Move{Action: dialogue.ActionClose}, dialogue.KindConflict, "a request that is closed cannot be closed")
	refuse(b, workflow.Move{Action: dialogue.ActionAcknowledge}, dialogue.KindConflict, "it is final")

	// both nodes hold the same history, each entry with its log
	ra, _ = a.wf.Request(ctx, id)
	rb, _ = b.wf.Request(ctx, id)
	var acts []string
	for i, h := range ra.History {
		acts = append(acts, string(h.Action)+":"+string(h.ToState)+":"+h.By)
		if hb := rb.History[i]; hb.ID != h.ID || hb.ToState != h.ToState {
			t.Errorf("history %d: a %+v, b %+v", i, h, hb)
		}
		// Every entry names its index in its sender's log, the same on
		// both nodes.
		own := h.By == "party-a"
		hb := rb.History[i]
		if (h.Log == "own") != own || h.LogIndex == nil || hb.LogIndex == nil || *h.LogIndex != *hb.LogIndex {
			t.Errorf("history %d by %s: on a log %q index %v, on b log %q index %v", i, h.By, h.Log, h.LogIndex, hb.Log, hb.LogIndex)
		}
	}
	want := []string{"file:submitted:party-a", "acknowledge:acknowledged:party-b", "answer:answered:party-b", "close:closed:party-a"}
	if !slices.Equal(acts, want) || len(ra.Refused) != 1 {
		t.Errorf("history %v, refused %v; want %v", acts, ra.Refused, want)
	}
	if h := ra.History[2]; h.Kind != dialogue.ResponseTakedown || h.Text != "the server is down" || !slices.Equal(h.ObjectRefs, []string{report}) {
		t.Errorf("answer: %+v", h)
	}
	// every object emitted validates
	for _, h := range ra.History {
		page, _ := a.srv.Node.Store.FindObjects(ctx, ch, dialogue.ObjectFilter{IDs: []string{h.ID}})
		valid(page.Objects[0].Raw)
		if _, _, err := stix.Parse(page.Objects[0].Raw); err != nil {
			t.Error(err)
		}
	}
	if l, _ := b.wf.Requests(ctx, workflow.RequestFilter{State: dialogue.RequestClosed}); len(l) != 1 {
		t.Errorf("b lists %d closed requests", len(l))
	}
}

// TestRequestNameCutOnCharacter: a request without a name takes the
// first line of its text, cut to 120 bytes on a character boundary (a
// Cyrillic letter is two bytes; byte 120 of this line falls inside one),
// so the name signed into the log is valid UTF-8.
func TestRequestNameCutOnCharacter(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	a, _, _ := reqTwoNodes(t, &reqClock{t: t0})
	report, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, t0), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	line := "x" + strings.Repeat("Просим заблокировать сервер управления ", 4)
	id, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: line + "\nПодробности в отчёте."})
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.wf.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(r.Name) || !strings.HasPrefix(line, r.Name) || len(r.Name) != 119 {
		t.Errorf("name %q (%d bytes): want the first 119 bytes of the line, valid UTF-8", r.Name, len(r.Name))
	}
}

// A transition written before extension version 1.1.0 names its move
// "action" (a top-level name STIX 2.1 reserves): a record holding one,
// and a peer running older code that sends one, are still read, on both
// nodes, as the move they name.
func TestRequestLegacyTransitionAction(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	a, b, ch := reqTwoNodes(t, clock)
	report, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, t0), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: "Please look into it."})
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	// b acknowledges as older code did: the move in "action". Written
	// around workflow.File (whose schema check refuses the old name), as
	// the record of an older node holds it.
	legacy, err := b.wf.NewObject(stix.TypeTransition, map[string]any{"request_ref": id, "action": "acknowledge", "from_state": "submitted", "to_state": "acknowledged"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.wf.File(ctx, b.wfChannel(t, ch), legacy); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "/action") {
		t.Errorf("filing a transition with the reserved name action: %v; want invalid, naming /action", err)
	}
	rep, err := ingest.Objects(ctx, b.wf.Write, ch, []json.RawMessage{legacy}, ingest.AllOrNothing)
	if err != nil || rep.Refused || rep.Rejected > 0 {
		t.Fatalf("writing the legacy transition: %v %+v", err, rep)
	}
	var lid string
	json.Unmarshal(legacy, &struct{ ID *string }{&lid})
	reqHas(t, a, ch, lid)
	for _, n := range []*reqNode{a, b} {
		r, err := n.wf.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != dialogue.RequestAcknowledged || len(r.History) != 2 || r.History[1].Action != dialogue.ActionAcknowledge || len(r.Refused) != 0 {
			t.Errorf("%s reads the legacy acknowledgement as %s, history %+v, refused %+v", n.name, r.State, r.History, r.Refused)
		}
	}
	// and the next move, in the current form, follows it
	if _, err := b.wf.MoveRequest(ctx, id, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseFoundNone, Text: "nothing there"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.wf.Request(ctx, id); r.State != dialogue.RequestAnswered {
		t.Errorf("after the answer: %s", r.State)
	}
}
