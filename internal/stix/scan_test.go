package stix

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/shareddata"
)

const bundleHead = `{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":[`

// ParseBundle returns each object's bytes exactly as they appear in the
// input: the same slices encoding/json finds.
func TestParseBundleObjectsAreExact(t *testing.T) {
	for _, f := range []string{"ics-attack-18.1.json", "mobile-attack-17.1.json"} {
		data := shareddata.File(t, "attack", f)
		b, err := ParseBundle(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want struct{ Objects []json.RawMessage }
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if len(b.Objects) != len(want.Objects) {
			t.Fatalf("%s: %d objects, want %d", f, len(b.Objects), len(want.Objects))
		}
		for i := range want.Objects {
			if string(b.Objects[i]) != string(want.Objects[i]) {
				t.Fatalf("%s: object %d differs:\n%s\nwant\n%s", f, i, b.Objects[i], want.Objects[i])
			}
		}
	}
}

// Bad JSON inside an object of the bundle is a JSON error of the whole
// bundle, at the right offset, even though ParseBundle builds no tree.
func TestParseBundleBadJSONInObjects(t *testing.T) {
	for _, in := range []string{`{`, `{"type":"indicator",}`, `{"a":1 "b":2}`, `{"a":[1,]}`, `{"a":tru}`, `{"a":01}`, `{"a":1.}`,
		`{"a":-}`, `{"a":1e}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`, `{"a":"\u12"}`,
		`{"a" 1}`, `{a:1}`, `{"a":1}}`, `{"a":"unterminated}`, `{"a":nul}`, `{"a":[1 2]}`,
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`} {
		data := bundleHead + in + `]}`
		_, err := ParseBundle([]byte(data))
		es, ok := err.(Errors)
		if !ok || len(es) != 1 || es[0].Rule != RuleJSON || !strings.Contains(es[0].Message, "invalid JSON at byte ") {
			t.Errorf("ParseBundle(%q) = %v, want one json error", data, err)
			continue
		}
		// the offset is not before the object (an unterminated string
		// runs to the end of the input)
		var off int
		if _, err := fmt.Sscanf(es[0].Message, "invalid JSON at byte %d", &off); err != nil || off < len(bundleHead) {
			t.Errorf("ParseBundle(%q): error at byte %d, before the object (%d): %v", data, off, len(bundleHead), es[0])
		}
	}
}

func TestParseBundleShape(t *testing.T) {
	for _, tc := range []struct{ in, ptr, rule string }{
		{`{"type":"bundle","type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c"}`, "/type", RuleDuplicate},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":[],"objects":[]}`, "/objects", RuleDuplicate},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","x_meta":{"a":[{"b":1,"b":2}]}}`, "/x_meta/a/0/b", RuleDuplicate},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":{"a":1,"a":1}}`, "/objects/a", RuleDuplicate},
		{bundleHead + `{},{},{},{"x_count":1e999999}]}`, "/objects/3/x_count", RuleNumber},
		{bundleHead + `{"x_n":[1,` + strings.Repeat("9", 100_000) + `]}]}`, "/objects/0/x_n/1", RuleNumber},
		{bundleHead + `{"x\/y\u0041":{"z":-1e400}}]}`, "/objects/0/x~1yA/z", RuleNumber},
		{`[1,2]`, "", RuleObject},
		{`"bundle"`, "", RuleObject},
		{`[1,]`, "/1", RuleJSON},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c"} x`, "", RuleJSON},
		{`{"type":"bundle","id":7}`, "/id", RuleValueType},
		{`{"type":["bundle"],"id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c"}`, "/type", RuleBundle},
		{bundleHead + `{},[],{}]}`, "/objects/1", RuleObject},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":"x"}`, "/objects", RuleValueType},
	} {
		_, err := ParseBundle([]byte(tc.in))
		es, _ := err.(Errors)
		if len(es) == 0 || es[0].Pointer != tc.ptr || es[0].Rule != tc.rule {
			t.Errorf("ParseBundle(%s) = %v; want %s at %q", tc.in, err, tc.rule, tc.ptr)
		}
	}
	// escapes in the bundle's own members are decoded; white space of
	// every kind is skipped; duplicate names inside objects are left to
	// Parse
	in := " \t\r\n{ \"type\" :\t\"\\u0062undle\",\n\n        \"id\":\"bundle--63ab8e67-acac-4817-845a-d09f0e86954c\",\r\n\"spec_version\": \"2.0\", \"x\": {\"a\": [1, {}]},\"objects\" : [ {\"a\":1,\"a\":2} ,\t{} ] }  \n"
	b, err := ParseBundle([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != "bundle--63ab8e67-acac-4817-845a-d09f0e86954c" || len(b.Objects) != 2 || string(b.Objects[0]) != `{"a":1,"a":2}` || string(b.Objects[1]) != `{}` {
		t.Errorf("got %+v", b)
	}
	if len(b.Warnings) != 1 || b.Warnings[0].Pointer != "/spec_version" {
		t.Errorf("warnings %v, want one at /spec_version", b.Warnings)
	}
	if _, _, err := Parse(b.Objects[0]); err == nil || !strings.Contains(err.Error(), "duplicate member name") {
		t.Errorf("Parse(%s) = %v, want a duplicate member error", b.Objects[0], err)
	}
}

// skip accepts exactly what encoding/json accepts (for UTF-8 input that
// nests less than maxDepth).
func FuzzSkip(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"a\"b\\u00e9",true,false,null]`, `{"a" : {"b":[ ]} }`, "  \n\t{\"x\":\"\\ud83d\\ude00\"}\r\n", `{"a":1,}`, `01`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || strings.Count(string(data), "[")+strings.Count(string(data), "{") >= maxDepth {
			return
		}
		d := getDecoder(data)
		defer d.release()
		d.skipSpace()
		_, err := d.skip()
		if err == nil {
			err = d.end()
		}
		// encoding/json lets a lone surrogate escape through (as U+FFFD);
		// this decoder refuses it, as the full decoder does
		d2 := getDecoder(data)
		defer d2.release()
		_, err2 := d2.decode()
		if (err == nil) != json.Valid(data) && !(err != nil && err2 != nil && strings.Contains(err2.Error(), "surrogate")) {
			t.Fatalf("skip(%q) = %v, json.Valid = %v", data, err, json.Valid(data))
		}
		if err2 == nil && err != nil {
			t.Fatalf("decode accepts %q, skip refuses it: %v", data, err)
		}
	})
}

// The arena's chunks are reused: long lists, many escaped strings and
// objects parsed one after another (and at once) give the same results
// as each alone.
func TestParseArena(t *testing.T) {
	refs := make([]string, 700)
	for i := range refs {
		refs[i] = fmt.Sprintf(`"indicator--8e2e2d2b-17d4-4cbf-938f-%012d"`, i)
	}
	refs[650] = `"indicator--1234"`
	desc := strings.Repeat(`caf\u00e9 \"quoted\"\n`, 500) // 5 KB unescaped
	big := `{"type":"note","spec_version":"2.1","id":"note--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z",` +
		`"modified":"2016-04-06T20:03:48.000Z","content":"` + desc + `","abstract":"` + desc + `","authors":["\u00e9"],` +
		`"object_refs":[` + strings.Join(refs, ",") + `],"x_list":[` + strings.Repeat(`{"a":[1,2,{"b":"\t"}]},`, 300) + `{}]}`
	bad := strings.Replace(big, `"indicator--1234"`, `"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"`, 1)
	bad = strings.Replace(bad, `"created":"2016-04-06T20:03:48.000Z"`, `"created":"2016-04-06T20:03:49.000Z"`, 1)
	check := func() error {
		for range 3 {
			_, _, err := Parse([]byte(big))
			es, _ := err.(Errors)
			if len(es) != 1 || es[0].Pointer != "/object_refs/650" || es[0].Rule != RuleRef || !strings.Contains(es[0].Message, "indicator--1234") {
				return fmt.Errorf("big: %v", err)
			}
			_, _, err = Parse([]byte(bad))
			es, _ = err.(Errors)
			if len(es) != 1 || es[0].Pointer != "/modified" || es[0].Rule != RuleTimeOrder {
				return fmt.Errorf("bad: %v", err)
			}
			if _, w, err := Parse([]byte(bases["indicator"])); err != nil || len(w) != 0 {
				return fmt.Errorf("indicator after big: %v %v", err, w)
			}
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- check() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// Object strings must not alias the decoder's memory nor the input.
func TestParseResultOwnsItsStrings(t *testing.T) {
	raw := []byte(bases["custom"])
	o, _, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	id, typ := o.ID, o.Type
	for i := range raw {
		raw[i] = 'x'
	}
	for range 10 {
		_, _, _ = Parse([]byte(bases["indicator"]))
	}
	if o.ID != id || id != "x-mitre-tactic--69da72d2-f550-41c5-ab9e-e8255707f28a" || typ != "x-mitre-tactic" || o.Type != typ {
		t.Errorf("id %q type %q", o.ID, o.Type)
	}
}
