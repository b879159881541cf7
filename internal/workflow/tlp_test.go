package workflow_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// TestFileReportRecipientsRefused: a RED report needs recipients, only a
// RED one takes them, and each must be a user name or role:ROLE.
func TestFileReportRecipientsRefused(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, _, _ := reqTwoNodes(t, clock)
	bundle := reqBundle(t, clock.Now())
	for _, tc := range []struct {
		tlp        string
		recipients []string
		reason     string
	}{
		{"red", nil, "required for TLP:RED"},
		{"amber", []string{"alice"}, "only a TLP:RED report names recipients"},
		{"amber+strict", []string{"role:duty"}, "only a TLP:RED report names recipients"},
		{"red", []string{"role:chief"}, `"role:chief" is not a user name or role:ROLE.`},
		{"red", []string{"al ice"}, `"al ice" is not a user name or role:ROLE.`},
		{"red", []string{""}, `"" is not a user name or role:ROLE.`},
	} {
		_, err := a.wf.FileReportTo(ctx, "a-b", bundle, tc.tlp, []string{"energy"}, 3, tc.recipients)
		if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "recipient") || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("tlp %s recipients %q: %v; want INVALID naming recipient and %q", tc.tlp, tc.recipients, err, tc.reason)
		}
	}
}

// TestReportsForTLP: A files a RED report for role:duty and alice, and a
// GREEN one; on both nodes each user sees exactly what the markings allow
// (RED's objects take the report's recipients), and the RED report is
// unknown to the others.
func TestReportsForTLP(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	valid := reqOfficialSchema(t)
	red, err := a.wf.FileReportTo(ctx, "a-b", reqBundle(t, clock.Now()), "red", []string{"energy"}, 4, []string{"role:duty", "alice", "alice"})
	if err != nil {
		t.Fatal(err)
	}
	green, err := a.wf.FileReportTo(ctx, "a-b", reqBundle(t, clock.Now()), "green", []string{"energy"}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, red)
	reqHas(t, b, ch, green)

	users := map[string]*dialogue.User{
		"dora (duty)":    {Name: "dora", Role: dialogue.RoleDuty},
		"alice (lead)":   {Name: "alice", Role: dialogue.RoleLead},
		"eve (expert)":   {Name: "eve", Role: dialogue.RoleExpert},
		"admin (admin)":  {Name: "admin", Role: dialogue.RoleAdmin},
		"alicia (duty)":  {Name: "alicia", Role: dialogue.RoleDuty},
		"alice2 (admin)": {Name: "alice2", Role: dialogue.RoleAdmin},
	}
	seesRed := map[string]bool{"dora (duty)": true, "alice (lead)": true, "alicia (duty)": true}
	for _, n := range []*reqNode{a, b} {
		full, err := n.wf.Report(ctx, red)
		if err != nil {
			t.Fatal(err)
		}
		valid(full.Raw)
		var ext struct {
			Extensions map[string]struct {
				Recipients []string `json:"recipients"`
			} `json:"extensions"`
		}
		json.Unmarshal(full.Raw, &ext)
		if got := ext.Extensions[stix.ParleyExtensionID].Recipients; !slices.Equal(got, []string{"role:duty", "alice"}) {
			t.Errorf("%s: the report's recipients %q", n.name, got)
		}
		for name, u := range users {
			rs, err := n.wf.ReportsFor(ctx, u, "")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			want := []string{green}
			if seesRed[name] {
				want = []string{red, green}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("%s: %s lists %q, want %q", n.name, name, ids, want)
			}
			r, err := n.wf.ReportFor(ctx, u, red)
			switch {
			case seesRed[name] && (err != nil || len(r.Objects) != len(full.Objects)):
				t.Errorf("%s: %s shows the RED report: %v, %d objects of %d", n.name, name, err, len(r.Objects), len(full.Objects))
			case !seesRed[name] && (dialogue.KindOf(err) != dialogue.KindNotFound || !strings.Contains(err.Error(), "no incident report "+red)):
				t.Errorf("%s: %s shows the RED report: %v, want NOT-FOUND as for an unknown id", n.name, name, err)
			}
			if r, err := n.wf.ReportFor(ctx, u, green); err != nil || len(r.Objects) == 0 {
				t.Errorf("%s: %s shows the GREEN report: %v", n.name, name, err)
			}
		}
		// The RED report's objects, one by one, through the channel's view.
		for _, raw := range full.Objects {
			var p struct{ ID string }
			json.Unmarshal(raw, &p)
			level, _, _ := stix.ReadTLP(raw)
			if level == "" {
				level = "red" // unmarked: the report's marking
			}
			for name, u := range users {
				vis, err := n.wf.TLPView(ch, u).Visible(ctx, &dialogue.Object{ID: p.ID, Raw: raw})
				if err != nil {
					t.Fatal(err)
				}
				if want := level != "red" || seesRed[name]; vis != want {
					t.Errorf("%s: %s sees %s (%s): %v, want %v", n.name, name, p.ID, level, vis, want)
				}
			}
		}
	}
}
