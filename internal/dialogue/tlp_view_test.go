package dialogue_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// pages is an ObjectFinder over a fixed list: it honours Types and serves
// one object per page, so that the view's paging is exercised.
type pages []*dialogue.Object

func (p pages) FindObjects(_ context.Context, _ string, f dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	start := 0
	if f.After != "" {
		start = int(f.After[0]-'0') + 1
	}
	for i := start; i < len(p); i++ {
		if len(f.Types) > 0 && !slices.Contains(f.Types, p[i].Type) {
			continue
		}
		more := false
		for j := i + 1; j < len(p); j++ {
			if len(f.Types) == 0 || slices.Contains(f.Types, p[j].Type) {
				more = true
			}
		}
		return &dialogue.ObjectPage{Objects: []*dialogue.Object{p[i]}, More: more, Next: string(rune('0' + i))}, nil
	}
	return &dialogue.ObjectPage{}, nil
}

func obj(id, raw string) *dialogue.Object {
	typ, _, _ := strings.Cut(id, "--")
	return &dialogue.Object{ID: id, Type: typ, Raw: []byte(raw)}
}

func marked(id string, m *stix.TLPMarking, extra string) *dialogue.Object {
	typ, _, _ := strings.Cut(id, "--")
	return obj(id, `{"type":"`+typ+`","id":"`+id+`","object_marking_refs":["`+m.ID+`"]`+extra+`}`)
}

func recipients(rs ...string) string {
	return `,"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","recipients":["` + strings.Join(rs, `","`) + `"]}}`
}

func TestTLPView(t *testing.T) {
	store := pages{
		obj("indicator--0", `{"type":"indicator","id":"indicator--0"}`), // unmarked, in the RED report for alice and the GREEN one
		obj("indicator--1", `{"type":"indicator","id":"indicator--1"}`), // unmarked, in the RED reports for alice and for duty
		obj("indicator--2", `{"type":"indicator","id":"indicator--2"}`), // unmarked, in no report
		marked("indicator--3", stix.TLPRed, ""),                         // RED, no recipients: the reports' (alice, duty)
		marked("indicator--4", stix.TLPRed, ""),                         // RED, in the GREEN report only: no one
		marked("indicator--5", stix.TLPAmberStrict, ""),                 // its own marking, whatever the report
		marked("report--a", stix.TLPRed, recipients("alice")+`,"object_refs":["indicator--0","indicator--1","indicator--3","indicator--5"]`),
		marked("report--b", stix.TLPRed, recipients("role:duty")+`,"object_refs":["indicator--1","indicator--3"]`),
		marked("report--c", stix.TLPGreen, `,"object_refs":["indicator--0","indicator--4"]`),
		obj("identity--9", `not json`), // unreadable: RED to no one
	}
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	bob := &dialogue.User{Name: "bob", Role: dialogue.RoleDuty}
	carol := &dialogue.User{Name: "carol", Role: dialogue.RoleAdmin}
	want := map[string][]string{
		"alice": {"indicator--0", "indicator--1", "indicator--2", "indicator--3", "indicator--5", "report--a", "report--c"},
		"bob":   {"indicator--0", "indicator--1", "indicator--2", "indicator--3", "indicator--5", "report--b", "report--c"},
		"carol": {"indicator--0", "indicator--2", "indicator--5", "report--c"},
	}
	for _, u := range []*dialogue.User{alice, bob, carol, nil} {
		v := dialogue.NewTLPView(store, "c", u, stix.ReadTLP)
		got, err := v.Filter(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range got {
			ids = append(ids, o.ID)
		}
		name := "nil"
		if u != nil {
			name = u.Name
		}
		if !slices.Equal(ids, want[name]) {
			t.Errorf("%s sees %q, want %q", name, ids, want[name])
		}
	}
	v := dialogue.NewTLPView(store, "c", nil, stix.ReadTLP)
	for id, wantLevel := range map[string]dialogue.TLPLevel{"indicator--0": dialogue.TLPGreen, "indicator--1": dialogue.TLPRed, "indicator--2": dialogue.TLPClear, "indicator--5": dialogue.TLPAmberStrict} {
		for _, o := range store {
			if o.ID != id {
				continue
			}
			m, err := v.Marking(context.Background(), o)
			if err != nil || m.Level != wantLevel {
				t.Errorf("Marking(%s) = %v, %v; want %s", id, m, err, wantLevel)
			}
			if id == "indicator--1" && !slices.Equal(m.Recipients, []string{"alice", "role:duty"}) {
				t.Errorf("Marking(%s) recipients %q, want both reports'", id, m.Recipients)
			}
		}
	}
}
