package stix

import (
	"slices"
	"testing"
)

// FuzzReadTLPFast holds ReadTLP's fast path to its definition
// (readTLPSlow, by encoding/json): where it answers, it answers the same.
func FuzzReadTLPFast(f *testing.F) {
	ext := `"extensions":{"` + ParleyExtensionID + `":{"extension_type":"property-extension","recipients":["alice","role:duty"]}}`
	for _, s := range []string{
		`{"type":"indicator","id":"indicator--1"}`,
		`{"type":"report","object_refs":["indicator--1"],"object_marking_refs":["` + TLPRed.ID + `"],` + ext + `}`,
		`{"Type":"report","object_refs":["a"],"Object_Marking_Refs":["` + TLPRed.ID + `"]}`,
		`{"type":"report","type":"indicator","object_refs":["a"]}`,
		`{"object_marking_refs":[1]}`,
		`{"object_marking_refs":null,"extensions":null,"type":null}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":["a",null]}}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"Recipients":["a"]}}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":["\ud800"]}}}`,
		`null`, `[1]`, `{"type":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		level, rs, refs, ok := readTLPFast(raw)
		if !ok {
			return
		}
		wl, wrs, wrefs := readTLPSlow(raw)
		if level != wl || !slices.Equal(rs, wrs) || !slices.Equal(refs, wrefs) || (rs == nil) != (wrs == nil) || (refs == nil) != (wrefs == nil) {
			t.Fatalf("%q: fast %q, %q, %q; encoding/json %q, %q, %q", raw, level, rs, refs, wl, wrs, wrefs)
		}
	})
}
