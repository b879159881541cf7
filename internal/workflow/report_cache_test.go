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

// The reports and what they say of TLP are kept per channel while the
// store's stamp of its reports is unchanged (the report fold: each
// report's marking, and what the reports say of the objects they hold,
// which the channel's TLP views read instead of every report): a report
// filed, received, or filed through another handle of the store is seen
// by the next read, listed and shown to the users its marking allows;
// a RED report that names more recipients for an object another report
// holds lets them see it at once; and the warm answers are what a
// service on another handle (nothing kept) computes.
func TestCachedReportsSeeWrites(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	boris := &dialogue.User{Name: "boris", Role: dialogue.RoleExpert}
	dora := &dialogue.User{Name: "dora", Role: dialogue.RoleDuty}
	ids := func(n *reqNode, u *dialogue.User) []string {
		t.Helper()
		rs, err := n.wf.ReportsFor(ctx, u, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, n := range []*reqNode{a, b} {
		if got := ids(n, alice); len(got) != 0 {
			t.Fatalf("%s: reports %q before any", n.name, got)
		}
	}

	// Own: a RED report for alice, listed for her alone at once.
	red, err := a.wf.FileReportTo(ctx, ch, reqBundle(t, clock.Now()), "red", []string{"energy"}, 4, []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(a, alice); !slices.Equal(got, []string{red}) {
		t.Fatalf("a: alice's reports right after filing: %q", got)
	}
	if got := ids(a, boris); len(got) != 0 {
		t.Fatalf("a: boris sees %q", got)
	}
	full, err := a.wf.ReportFor(ctx, alice, red)
	if err != nil || len(full.Objects) != len(full.ObjectRefs) {
		t.Fatalf("a: alice's RED report: %v (%v)", full, err)
	}
	if _, err := a.wf.ReportFor(ctx, boris, red); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Fatalf("a: boris reads the RED report: %v", err)
	}
	// Received: b listed none (and kept it); the report is listed right
	// after it arrives.
	reqHas(t, b, ch, red)
	if got := ids(b, alice); !slices.Equal(got, []string{red}) {
		t.Fatalf("b: alice's reports right after a's arrived: %q", got)
	}

	// The bundle's unmarked indicator takes the report's marking by
	// reference: RED, with the report's recipients. A second
	// RED report holding it for role:duty is listed for dora at once, on
	// both nodes, but gives her nothing of the indicator: only the first
	// report that held an object counts.
	var redObj *dialogue.Object
	for _, raw := range full.Objects {
		o, _, err := stix.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if level, _, _ := stix.ReadTLP(raw); level == "" && o.Type == "indicator" {
			redObj = &dialogue.Object{ID: o.ID, Type: o.Type, Raw: raw}
		}
	}
	if redObj == nil {
		t.Fatal("no indicator of the RED report is unmarked")
	}
	visible := func(n *reqNode, u *dialogue.User) bool {
		t.Helper()
		ok, err := n.wf.TLPView(ch, u).Visible(ctx, redObj)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !visible(a, alice) || visible(a, dora) || !visible(b, alice) || visible(b, dora) {
		t.Fatal("the RED indicator before the second report: want alice alone to see it")
	}
	now := stix.FormatTime(clock.Now())
	second, _ := json.Marshal(map[string]any{"type": "report", "spec_version": "2.1", "id": stix.NewID("report"), "created": now, "modified": now,
		"created_by_ref": a.wf.Self.IdentityID, "name": "Follow-up", "report_types": []string{"threat-report"}, "published": now,
		"object_refs": []string{redObj.ID}, "object_marking_refs": []string{stix.TLPRed.ID},
		"extensions": map[string]any{stix.ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": []string{"energy"}, "severity": 2, "recipients": []string{"role:duty"}}}})
	achan, _, err := a.wf.Channel(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	sids, err := a.wf.File(ctx, achan, second)
	if err != nil {
		t.Fatal(err)
	}
	if visible(a, dora) || !visible(a, alice) || visible(a, boris) {
		t.Fatal("a: right after the second RED report: want alice alone to see the indicator")
	}
	if got := ids(a, dora); !slices.Equal(got, []string{sids[0]}) {
		t.Fatalf("a: dora's reports right after the second: %q", got)
	}
	reqHas(t, b, ch, sids[0])
	if visible(b, dora) || !visible(b, alice) {
		t.Fatal("b: after the second report arrived: want alice alone to see the indicator")
	}

	// Another handle on a's store file, as another process.
	db2, err := sqlite.Open(ctx, a.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	wf2 := workflow.New(db2, a.name, a.srv.Node.LogKey())
	wf2.Now = clock.Now
	green, err := wf2.FileReport(ctx, ch, reqBundle(t, clock.Now()), "green", []string{"health"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(a, boris); !slices.Equal(got, []string{green}) {
		t.Fatalf("a: boris's reports right after another handle filed a GREEN one: %q", got)
	}

	// What a caller does to its answer stays its own.
	rs, err := a.wf.ReportsFor(ctx, alice, "")
	if err != nil {
		t.Fatal(err)
	}
	before := jsonOf(t, rs)
	for _, r := range rs {
		r.Name, r.TLP = "mangled", "mangled"
	}
	if got, _ := a.wf.ReportsFor(ctx, alice, ""); jsonOf(t, got) != before {
		t.Errorf("a caller's changes reached the next answer:\n got %s\nwant %s", jsonOf(t, got), before)
	}

	// Warm answers are what a service on a third handle computes.
	db3, err := sqlite.Open(ctx, a.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	fresh := workflow.New(db3, a.name, a.srv.Node.LogKey())
	fresh.Now = clock.Now
	for _, u := range []*dialogue.User{alice, boris, dora} {
		for _, c := range []struct {
			name string
			read func(*workflow.Service) (any, error)
		}{
			{"ReportsFor", func(s *workflow.Service) (any, error) { return s.ReportsFor(ctx, u, "") }},
			{"ReportFor red", func(s *workflow.Service) (any, error) { return s.ReportFor(ctx, u, red) }},
			{"ReportFor second", func(s *workflow.Service) (any, error) { return s.ReportFor(ctx, u, sids[0]) }},
			{"Reports", func(s *workflow.Service) (any, error) { return s.Reports(ctx, "") }},
		} {
			want, werr := c.read(fresh)
			got, gerr := c.read(a.wf)
			if dialogue.KindOf(werr) != dialogue.KindOf(gerr) || jsonOf(t, got) != jsonOf(t, want) {
				t.Errorf("%s for %s: warm answer differs from a fresh one:\n got %s (%v)\nwant %s (%v)", c.name, u.Name, jsonOf(t, got), gerr, jsonOf(t, want), werr)
			}
		}
	}
}
