package dialogue_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

func TestVisible(t *testing.T) {
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	bob := &dialogue.User{Name: "bob", Role: dialogue.RoleDuty}
	lead := &dialogue.User{Name: "carol", Role: dialogue.RoleLead}
	red := func(rs ...string) dialogue.Marking { return dialogue.Marking{Level: dialogue.TLPRed, Recipients: rs} }
	for _, tc := range []struct {
		name string
		m    dialogue.Marking
		want map[string]bool // by user name; nil user is never shown
	}{
		{"clear", dialogue.Marking{Level: dialogue.TLPClear}, map[string]bool{"alice": true, "bob": true, "carol": true}},
		{"green", dialogue.Marking{Level: dialogue.TLPGreen}, map[string]bool{"alice": true, "bob": true, "carol": true}},
		{"amber", dialogue.Marking{Level: dialogue.TLPAmber}, map[string]bool{"alice": true, "bob": true, "carol": true}},
		{"amber+strict", dialogue.Marking{Level: dialogue.TLPAmberStrict}, map[string]bool{"alice": true, "bob": true, "carol": true}},
		{"red to nobody", red(), map[string]bool{}},
		{"red to alice", red("alice"), map[string]bool{"alice": true}},
		{"red to the duty role", red("role:duty"), map[string]bool{"bob": true}},
		{"red to alice and the leads", red("alice", "role:lead"), map[string]bool{"alice": true, "carol": true}},
		{"red to a role name as a user", red("duty"), map[string]bool{}},
		{"recipients ignored below red", dialogue.Marking{Level: dialogue.TLPGreen, Recipients: []string{"alice"}}, map[string]bool{"alice": true, "bob": true, "carol": true}},
		{"no level: no one, whatever its recipients", dialogue.Marking{Recipients: []string{"alice"}}, map[string]bool{}},
		{"an unknown level: no one", dialogue.Marking{Level: dialogue.TLPRed + 1, Recipients: []string{"alice", "role:duty"}}, map[string]bool{}},
	} {
		for _, u := range []*dialogue.User{alice, bob, lead} {
			if got := dialogue.Visible(u, tc.m); got != tc.want[u.Name] {
				t.Errorf("%s: Visible(%s) = %v, want %v", tc.name, u, got, tc.want[u.Name])
			}
		}
		if dialogue.Visible(nil, tc.m) {
			t.Errorf("%s: Visible(nil) = true", tc.name)
		}
	}
}

func TestMarkingRestrictedAndSummary(t *testing.T) {
	for _, tc := range []struct {
		l                   dialogue.TLPLevel
		restricted, summary bool
	}{
		{0, true, false},
		{dialogue.TLPClear, false, true},
		{dialogue.TLPGreen, false, true},
		{dialogue.TLPAmber, false, false},
		{dialogue.TLPAmberStrict, true, false},
		{dialogue.TLPRed, true, false},
	} {
		m := dialogue.Marking{Level: tc.l}
		if got := m.Restricted(); got != tc.restricted {
			t.Errorf("%s: Restricted = %v, want %v", tc.l, got, tc.restricted)
		}
		if got := dialogue.SummaryAllows(m); got != tc.summary {
			t.Errorf("%s: SummaryAllows = %v, want %v", tc.l, got, tc.summary)
		}
	}
	if s := dialogue.TLPAmberStrict.String(); s != "amber+strict" {
		t.Errorf("String = %q", s)
	}
}

func TestParseRecipient(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "role:duty": "role:duty", "a.b@c": "a.b@c"} {
		got, err := dialogue.ParseRecipient(in)
		if err != nil || got != want {
			t.Errorf("ParseRecipient(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, reason := range map[string]string{
		"":           "1 to 64 characters",
		"role:chief": "not one of admin",
		"role:":      "not one of admin",
		"al ice":     "is not allowed",
		".alice":     "is not allowed",
	} {
		_, err := dialogue.ParseRecipient(in)
		if err == nil || dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("ParseRecipient(%q) = %v, want KindInvalid", in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "recipient") || !strings.Contains(msg, reason) {
			t.Errorf("ParseRecipient(%q) error %q: want the field and %q", in, msg, reason)
		}
	}
}
