package stix_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/stix"
)

func TestReadTLP(t *testing.T) {
	ext := `"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","sectors":["energy"],"severity":3,"recipients":["alice","role:duty"]}}`
	for _, tc := range []struct {
		name, raw  string
		level      string
		recipients []string
		reportRefs []string
	}{
		{"unmarked", `{"type":"indicator","id":"indicator--1"}`, "", nil, nil},
		{"tlp2 amber+strict", `{"type":"indicator","object_marking_refs":["` + stix.TLPAmberStrict.ID + `"]}`, "amber+strict", nil, nil},
		{"tlp1 white is clear", `{"type":"indicator","object_marking_refs":["` + stix.TLP1White.ID + `"]}`, "clear", nil, nil},
		{"tlp1 red", `{"type":"indicator","object_marking_refs":["` + stix.TLP1Red.ID + `"]}`, "red", nil, nil},
		{"the strictest of several", `{"type":"indicator","object_marking_refs":["` + stix.TLPGreen.ID + `","` + stix.TLP1Amber.ID + `","` + stix.TLPClear.ID + `"]}`, "amber", nil, nil},
		{"other markings ignored", `{"type":"indicator","object_marking_refs":["marking-definition--00000000-0000-4000-8000-000000000000"]}`, "", nil, nil},
		{"granular markings not interpreted", `{"type":"indicator","granular_markings":[{"marking_ref":"` + stix.TLPRed.ID + `","selectors":["pattern"]}]}`, "", nil, nil},
		{"red report with recipients", `{"type":"report","object_refs":["indicator--1","incident--2"],"object_marking_refs":["` + stix.TLPRed.ID + `"],` + ext + `}`,
			"red", []string{"alice", "role:duty"}, []string{"indicator--1", "incident--2"}},
		{"not JSON reads as red", `{"type":`, "red", nil, nil},
		{"not an object reads as red", `[1,2]`, "red", nil, nil},
	} {
		level, rs, refs := stix.ReadTLP([]byte(tc.raw))
		if level != tc.level || !slices.Equal(rs, tc.recipients) || !slices.Equal(refs, tc.reportRefs) {
			t.Errorf("%s: ReadTLP = %q, %q, %q; want %q, %q, %q", tc.name, level, rs, refs, tc.level, tc.recipients, tc.reportRefs)
		}
		if level, rs := stix.ReadMarking([]byte(tc.raw)); level != tc.level || !slices.Equal(rs, tc.recipients) {
			t.Errorf("%s: ReadMarking = %q, %q; want %q, %q", tc.name, level, rs, tc.level, tc.recipients)
		}
	}
}

func FuzzReadTLP(f *testing.F) {
	f.Add([]byte(`{"type":"report","object_refs":["a"],"object_marking_refs":["` + stix.TLPRed.ID + `"]}`))
	f.Add([]byte(`{"object_marking_refs":[1]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		level, _, _ := stix.ReadTLP(raw)
		switch level {
		case "", "clear", "green", "amber", "amber+strict", "red":
		default:
			t.Fatalf("ReadTLP level %q", level)
		}
	})
}

// TestParleyRecipientsSchema: the report property-extension takes RED
// recipients (user names, role:ROLE); a bad one is named with its reason.
func TestParleyRecipientsSchema(t *testing.T) {
	report := func(recipients string) []byte {
		return []byte(`{"type":"report","spec_version":"2.1","id":"report--20000000-0000-4000-8000-000000000001","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"r","published":"2024-01-02T03:04:05Z","object_refs":["indicator--10000000-0000-4000-8000-000000000001"],"object_marking_refs":["` +
			stix.TLPRed.ID + `"],"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","sectors":["energy"],"severity":3,"recipients":` + recipients + `}}}`)
	}
	if err := stix.ValidateParley(report(`["alice","role:duty","a.b@example.org"]`)); err != nil {
		t.Errorf("good recipients: %v", err)
	}
	for _, bad := range []string{`[]`, `["role:chief"]`, `[""]`, `["alice","alice"]`, `"alice"`, `[" alice"]`} {
		err := stix.ValidateParley(report(bad))
		if err == nil || !strings.Contains(err.Error(), "recipients") {
			t.Errorf("recipients %s: %v, want an error naming recipients", bad, err)
		}
	}
}
