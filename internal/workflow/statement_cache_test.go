package workflow_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// The statements and meetings are folded once between two writes to them
// (the fold cache, and the version memo that keeps each statement's text
// hash): every read right after a write sees it, whether it is the
// service's own, the peer's received over the exchange, or another store
// handle's; the overdue flags move with the clock; a caller changing its
// answer changes nothing for the next; and the warm answers are what a
// service on another handle of the store (nothing kept) computes.
func TestCachedStatementsSeeWrites(t *testing.T) {
	ctx := context.Background()
	clock := &stmtClock{t: time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, b, chID := stmtTwoNodes(t, clock)
	ch, _, err := a.wf.Channel(ctx, chID)
	if err != nil {
		t.Fatal(err)
	}
	statements := func(n *stmtNode) []*workflow.Statement {
		t.Helper()
		sts, err := n.wf.Statements(ctx, chID, "")
		if err != nil {
			t.Fatal(err)
		}
		return sts
	}
	state := func(n *stmtNode, id string) string {
		t.Helper()
		st, err := n.wf.StatementByID(ctx, id)
		if err != nil {
			t.Fatalf("%s: StatementByID(%s): %v", n.name, id, err)
		}
		return st.StateText()
	}
	for _, n := range []*stmtNode{a, b} {
		if sts := statements(n); len(sts) != 0 {
			t.Fatalf("%s: %d statements before any", n.name, len(sts))
		}
	}
	if off, err := a.wf.OffLimits(ctx, ch); err != nil || len(off) != 0 {
		t.Fatalf("a: off-limits %v, %v before any statement", off, err)
	}

	// Own: proposed, listed at once.
	id, err := a.wf.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: stmtTexts, Sectors: []string{"energy"}})
	if err != nil {
		t.Fatal(err)
	}
	if sts := statements(a); len(sts) != 1 || sts[0].ID != id || sts[0].State != workflow.StatementProposed || sts[0].ProposedBy != "party-a" {
		t.Fatalf("a: statements right after proposing one: %+v", sts)
	}
	// Received: b listed (and kept) none; it lists the statement right
	// after it arrives.
	stmtHas(t, b, chID, id)
	if sts := statements(b); len(sts) != 1 || sts[0].ID != id || sts[0].State != workflow.StatementProposed {
		t.Fatalf("b: statements right after a's arrived: %+v", sts)
	}
	// Signatures: b's own at once on b; on a right after it arrives.
	sum, _ := workflow.TextSHA256(stmtTexts)
	if got := state(a, id); got != "proposed" {
		t.Fatalf("a: %s before any signature", got)
	}
	sigB, err := b.wf.SignStatement(ctx, id, sum, "Boris (expert)")
	if err != nil {
		t.Fatal(err)
	}
	if got := state(b, id); got != "signed by party-b" {
		t.Fatalf("b: StatementByID right after b signed: %s", got)
	}
	if sts := statements(b); sts[0].State != workflow.StatementSigned || len(sts[0].Sigs) != 1 || sts[0].Sigs[0].ID != sigB {
		t.Fatalf("b: Statements right after b signed: %+v", sts[0])
	}
	stmtHas(t, a, chID, sigB)
	if got := state(a, id); got != "signed by party-b" {
		t.Fatalf("a: StatementByID right after b's signature arrived: %s", got)
	}
	if sts := statements(a); sts[0].State != workflow.StatementSigned {
		t.Fatalf("a: Statements right after b's signature arrived: %+v", sts[0])
	}
	if _, err := a.wf.SignStatement(ctx, id, sum, "Alice (expert)"); err != nil {
		t.Fatal(err)
	}
	if sts := statements(a); sts[0].State != workflow.StatementAgreed || sts[0].AgreedAt == nil {
		t.Fatalf("a: Statements right after a signed second: %+v", sts[0])
	}
	if off, err := a.wf.OffLimits(ctx, ch); err != nil || !slices.Equal(off, []string{"energy"}) {
		t.Fatalf("a: off-limits right after the statement was agreed: %v, %v", off, err)
	}

	// Meetings: created, updated and minuted, each seen at once.
	meetings := func(n *stmtNode) []*workflow.Meeting {
		t.Helper()
		ms, err := n.wf.Meetings(ctx, chID)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	if ms := meetings(a); len(ms) != 0 {
		t.Fatalf("a: %d meetings before any", len(ms))
	}
	start := clock.Now().Add(24 * time.Hour)
	mid, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "Expert round 1", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if ms := meetings(a); len(ms) != 1 || ms[0].ID != mid || ms[0].Versions != 1 {
		t.Fatalf("a: meetings right after creating one: %+v", ms)
	}
	clock.Add(time.Minute)
	due := start.Add(48 * time.Hour)
	if _, err := a.wf.AddActionItem(ctx, mid, "Block the C2 addresses", "party-b", due); err != nil {
		t.Fatal(err)
	}
	if ms := meetings(a); len(ms[0].ActionItems) != 1 || ms[0].ActionItems[0].Overdue || ms[0].Versions != 2 {
		t.Fatalf("a: meeting right after an action item was added: %+v", ms[0])
	}
	clock.Add(time.Minute)
	minutes := map[string]string{"en": "Minutes of expert round 1.", "ru": "Протокол первого раунда экспертов."}
	sid, err := a.wf.MeetingMinutes(ctx, mid, minutes)
	if err != nil {
		t.Fatal(err)
	}
	if ms := meetings(a); ms[0].Minutes == nil || ms[0].Minutes.ID != sid || ms[0].Minutes.State != workflow.StatementProposed {
		t.Fatalf("a: meeting right after its minutes were written: %+v", ms[0])
	}
	stmtHas(t, b, chID, mid)
	stmtWaitFor(t, "b has the meeting's minutes", func() bool {
		ms, err := b.wf.Meetings(ctx, chID)
		return err == nil && len(ms) == 1 && ms[0].Minutes != nil
	})
	msum, _ := workflow.TextSHA256(minutes)
	sigM, err := b.wf.SignMinutes(ctx, mid, msum, "Boris (expert)")
	if err != nil {
		t.Fatal(err)
	}
	if ms := meetings(b); ms[0].Minutes.State != workflow.StatementSigned {
		t.Fatalf("b: meeting right after b signed its minutes: %+v", ms[0].Minutes)
	}
	stmtHas(t, a, chID, sigM)
	if ms := meetings(a); ms[0].Minutes.State != workflow.StatementSigned {
		t.Fatalf("a: meeting right after b's signature of its minutes arrived: %+v", ms[0].Minutes)
	}
	if m, err := a.wf.MeetingByID(ctx, mid); err != nil || m.Minutes == nil || m.Minutes.State != workflow.StatementSigned {
		t.Fatalf("a: MeetingByID right after b's signature arrived: %+v, %v", m, err)
	}
	// The clock alone makes the action item overdue.
	clock.Add(due.Sub(clock.Now()) + time.Minute)
	if ms := meetings(a); !ms[0].ActionItems[0].Overdue {
		t.Fatalf("a: action item past due not overdue: %+v", ms[0].ActionItems[0])
	}

	// Another handle on a's store file, as another process.
	db2, err := sqlite.Open(ctx, a.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	wf2 := workflow.New(db2, a.name, a.srv.Node.LogKey())
	wf2.Now = clock.Now
	id2, err := wf2.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: map[string]string{"en": "Second."}})
	if err != nil {
		t.Fatal(err)
	}
	if sts := statements(a); len(sts) != 3 || sts[2].ID != id2 {
		t.Fatalf("a: statements right after another handle proposed one: %d", len(sts))
	}
	if _, err := wf2.AddActionItem(ctx, mid, "Report back", "party-a", due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ms := meetings(a); len(ms[0].ActionItems) != 2 {
		t.Fatalf("a: meeting right after another handle added an action item: %+v", ms[0].ActionItems)
	}

	// A statement's first version is the one that counts: a later
	// version of it changes nothing; an earlier one, arriving late, is
	// the first from then on (as the store's VersionMatch.First says).
	textsOf := func(en string) (map[string]string, string) {
		m := map[string]string{"en": en}
		sum, _ := workflow.TextSHA256(m)
		return m, sum
	}
	tA, sA := textsOf("Version A.")
	raw, err := a.wf.NewObject(stix.TypeStatement, map[string]any{"statement_kind": string(workflow.StatementJoint), "texts": tA, "text_sha256": sA})
	if err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	if err := json.Unmarshal(raw, &props); err != nil {
		t.Fatal(err)
	}
	vid := props["id"].(string)
	created, _ := stix.ParseTime(props["created"].(string))
	version := func(en string, modified time.Time) {
		t.Helper()
		texts, sum := textsOf(en)
		props["texts"], props["text_sha256"], props["modified"] = texts, sum, stix.FormatTime(modified)
		raw, _ := json.Marshal(props)
		if _, err := a.wf.File(ctx, ch, raw); err != nil {
			t.Fatal(err)
		}
	}
	counts := func(want string) {
		t.Helper()
		page, err := a.srv.Node.Store.FindObjects(ctx, chID, dialogue.ObjectFilter{IDs: []string{vid}, Versions: dialogue.VersionMatch{First: true}})
		if err != nil || len(page.Objects) != 1 {
			t.Fatalf("the store's first version of %s: %v, %v", vid, page, err)
		}
		var p struct {
			Texts map[string]string `json:"texts"`
		}
		_ = json.Unmarshal(page.Objects[0].Raw, &p)
		if p.Texts["en"] != want {
			t.Fatalf("the store's first version says %q, want %q", p.Texts["en"], want)
		}
		n := 0
		for _, st := range statements(a) {
			if st.ID == vid {
				n++
				if st.Texts["en"] != want || st.State != workflow.StatementProposed {
					t.Errorf("Statements shows %q (%s), want %q", st.Texts["en"], st.StateText(), want)
				}
			}
		}
		if n != 1 {
			t.Errorf("Statements lists %s %d times", vid, n)
		}
		if st, err := a.wf.StatementByID(ctx, vid); err != nil || st.Texts["en"] != want {
			t.Errorf("StatementByID: %+v, %v; want %q", st, err, want)
		}
	}
	version("Version A.", created.Add(2*time.Hour))
	counts("Version A.")
	version("Version B, later.", created.Add(3*time.Hour))
	counts("Version A.")
	version("Version C, earlier.", created.Add(time.Hour))
	counts("Version C, earlier.")

	// What a caller does to its answer stays its own.
	sts, ms := statements(a), meetings(a)
	before := jsonOf(t, sts) + jsonOf(t, ms)
	for _, st := range sts {
		st.State, st.Texts["en"], st.SignedBy = "mangled", "mangled", append(st.SignedBy, "mangled")
		if len(st.Sigs) > 0 {
			st.Sigs[0].Party = "mangled"
		}
		if st.AgreedAt != nil {
			*st.AgreedAt = time.Time{}
		}
	}
	for _, m := range ms {
		m.Name, m.ActionItems[0].Status = "mangled", "mangled"
		m.Minutes.Texts["en"], m.Minutes.State = "mangled", "mangled"
	}
	if got := jsonOf(t, statements(a)) + jsonOf(t, meetings(a)); got != before {
		t.Errorf("a caller's changes reached the next answer:\n got %s\nwant %s", got, before)
	}

	// Warm answers are what a service with nothing kept computes: one on
	// a third handle of the store shares neither folds nor memos with
	// a's service.
	db3, err := sqlite.Open(ctx, a.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	for _, c := range []struct {
		name string
		read func(*workflow.Service) (any, error)
	}{
		{"Statements", func(s *workflow.Service) (any, error) { return s.Statements(ctx, "", "") }},
		{"Meetings", func(s *workflow.Service) (any, error) { return s.Meetings(ctx, "") }},
		{"StatementByID", func(s *workflow.Service) (any, error) { return s.StatementByID(ctx, sid) }},
		{"MeetingByID", func(s *workflow.Service) (any, error) { return s.MeetingByID(ctx, mid) }},
		{"OffLimits", func(s *workflow.Service) (any, error) { return s.OffLimits(ctx, ch) }},
	} {
		fresh := workflow.New(db3, a.name, a.srv.Node.LogKey())
		fresh.Now = clock.Now
		want, err := c.read(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.read(a.wf)
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("%s: warm answer differs from a fresh one:\n got %s\nwant %s", c.name, jsonOf(t, got), jsonOf(t, want))
		}
	}
}
