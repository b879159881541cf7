package stix

import (
	"slices"
	"strings"
	"testing"
)

// FuzzReadTLPFast holds ReadTLP's fast path (the scan) to its definition
// (readTLPSlow, by encoding/json): where it answers, it answers the same.
func FuzzReadTLPFast(f *testing.F) {
	addTLPSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		wl, wrs, wrefs := readTLPSlow(raw)
		// Without the references (ReadMarking): the same level and
		// recipients, wherever it answers.
		if ml, mrs, mrefs, ok := readTLPFast(raw, false); ok && (ml != wl || !slices.Equal(mrs, wrs) || (mrs == nil) != (wrs == nil) || mrefs != nil) {
			t.Fatalf("%q: fast without refs %q, %q, %q; encoding/json %q, %q", raw, ml, mrs, mrefs, wl, wrs)
		}
		level, rs, refs, ok := readTLPFast(raw, true)
		if !ok {
			return
		}
		if _, _, _, ok := readTLPFast(raw, false); !ok {
			t.Fatalf("%q: the scan decides with the references, not without", raw)
		}
		if level != wl || !slices.Equal(rs, wrs) || !slices.Equal(refs, wrefs) || (rs == nil) != (wrs == nil) || (refs == nil) != (wrefs == nil) {
			t.Fatalf("%q: fast %q, %q, %q; encoding/json %q, %q, %q", raw, level, rs, refs, wl, wrs, wrefs)
		}
	})
}

// TestReadTLPFastDecides: the scan answers for the objects the read paths
// serve (readTLPSlow is only for what it cannot decide), members it skips
// repeated or not.
func TestReadTLPFastDecides(t *testing.T) {
	ext := `"extensions":{"x":{"a":[1,{"b":null}]},"` + ParleyExtensionID + `":{"extension_type":"property-extension","sectors":["energy"],"recipients":["alice","role:duty"]}}`
	for _, raw := range []string{
		`{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '10.0.0.1']","valid_from":"2024-01-01T00:00:00Z","labels":["x"]}`,
		`{"type":"indicator","object_marking_refs":["` + TLPGreen.ID + `","` + TLP1Amber.ID + `"],"confidence":85}`,
		`{"type":"report","object_refs":["indicator--1","incident--2"],"object_marking_refs":["` + TLPRed.ID + `"],` + ext + `}`,
		`{"object_refs":["indicator--1"],"type":"report","name":"a","name":"b"}`,
		"{\n  \"type\": \"note\",\n  \"object_refs\": [\"a\"],\n  \"content\": \"caf\\u00e9\"\n}\n",
	} {
		if _, _, _, ok := readTLPFast([]byte(raw), true); !ok {
			t.Errorf("%s: the scan does not decide", raw)
		}
	}
}

// addTLPSeeds adds the fuzz tests' seeds: objects as the read paths see
// them, and every corner where a reader could part from encoding/json.
func addTLPSeeds(f *testing.F) {
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
		// the members it skips: duplicates, any depth, any value
		`{"name":"a","name":"b","type":"report","object_refs":["x"],"labels":[{"a":[1,2.5e3,true,null]}]}`,
		`{"x":1e400,"y":12345678901234567890,"type":"report","object_refs":[]}`,
		"{\"x\":\"\xff\",\"type\":\"report\",\"object_refs\":[\"a\"]}",
		// invalid UTF-8, which encoding/json reads as U+FFFD
		"{\"type\":\"report\",\"object_refs\":[\"a\xff\"]}",
		"{\"typ\xff\":\"report\",\"object_refs\":[\"a\"],\"\xc5\xbf\":1}",
		"{\"extensions\":{\"" + ParleyExtensionID + "\":{\"recipients\":[\"\xc0\xaf\"]}}}",
		`{"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		// the order of the members, white space, escapes
		`{"object_refs":["a","b"],"type":"report"}`,
		`{"type":"note","object_refs":["a"]}`,
		` { "type" : "report" , "object_refs" : [ "a" , "b" ] , "object_marking_refs" : [ ] } `,
		`{"typ\u0065":"report","object_refs":["a"]}`,
		`{"type":"repor\u0074","object_refs":["a\n\u00e9\ud83d\ude00"],"object_marking_refs":["` + strings.Replace(TLPRed.ID, "-", "\u002d", 1) + `"]}`,
		`{"object_marking_refſ":["` + TLPRed.ID + `"]}`,
		`{"type":"report","object_refs":null}`,
		`{"type":"report","object_refs":["a"]} x`,
		`{"type":"report","object_refs":["a",]}`,
		`{"type":"report","object_refs":["a"],}`,
		// the extensions
		`{"extensions":{"` + ParleyExtensionID + `":null}}`,
		`{"extensions":{"` + ParleyExtensionID + `":"x"}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":[]}}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":null,"x":{"recipients":1}}}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":["a"]},"` + ParleyExtensionID + `":{"recipients":["b"]}}}`,
		`{"extensions":{"x":1,"x":2,"` + ParleyExtensionID + `":{"recipients":["a"],"recipients":["b"]}}}`,
		`{"extensions":{"` + strings.ToUpper(ParleyExtensionID) + `":{"recipients":["a"]}}}`,
		`{"extensions":[]}`,
		// what the one-pass reader leaves to the others, or reads itself
		`{"description":"a \"quoted\" line\nand \u00e9","type":"indicator","object_marking_refs":["` + TLPAmber.ID + `"]}`,
		`{"x":"\ud83d\ude00","object_marking_refs":["` + TLPRed.ID + `"]}`,
		`{"x":"\ud83d","object_marking_refs":["` + TLPRed.ID + `"]}`,
		`{"x":[1.5e-3,-0,0.25,1E+2,-12],"object_marking_refs":["` + TLPGreen.ID + `"]}`,
		`{"x":01}`, `{"x":1.}`, `{"x":-}`, `{"x":1e}`, `{"x":tru}`, `{"x":"\x"}`, `{"x":"\u12g4"}`,
		`{"type":1,"object_marking_refs":["` + TLPRed.ID + `"]}`,
		`{"object_marking_refs":["` + TLPRed.ID + `"],"OBJECT_MARKING_REFS":["` + TLPClear.ID + `"]}`,
		`{"object_marking_refs":["` + TLPRed.ID + `"],"object_marking_refs":["` + TLPClear.ID + `"]}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":["a"],"RECIPIENTS":["b"]}}}`,
		`{"extensions":{"` + ParleyExtensionID + `":{"recipients":["a\u0062"]}}}`,
		`{"extensions":{"x-\u0061":{"recipients":["a"]}},"object_marking_refs":["` + TLPRed.ID + `"]}`,
		"{\"object_marking_refs\":[\"" + TLPRed.ID + "\"],\"x\":\"a\tb\"}",
		"\t{ \"object_marking_refs\" :\n[ \"" + TLPRed.ID + "\" ]\r}\n",
		`{}`, ` {} `, `{} {}`, `{"a":{}}`, `{"a":[]}`, `{"a":[{}]}`, `{"a":{"b":1,}}`, `{"a":[1,]}`, `{"a" 1}`, `{"a":1 "b":2}`,
	} {
		f.Add([]byte(s))
	}
}
