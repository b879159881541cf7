package pattern_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/pattern"
)

// The cases in this file are written from the text of STIX 2.1 section 9
// (patterning) and its grammar, where the reference tests have no case.

// roundTrip parses s, checks that String gives want and that want parses
// to the same tree.
func roundTrip(t *testing.T, s, want string) {
	t.Helper()
	e, err := pattern.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	if got := e.String(); got != want {
		t.Fatalf("Parse(%q).String() = %q, want %q", s, got, want)
	}
	e2, err := pattern.Parse(want)
	if err != nil {
		t.Fatalf("Parse(%q): %v", want, err)
	}
	if !sameTree(e, e2) {
		t.Fatalf("Parse(%q) and Parse(%q) give different trees", s, want)
	}
}

// mustMatch compiles p with Check's verdict too and matches it.
func mustMatch(t *testing.T, p string, data []pattern.Observation, want bool) {
	t.Helper()
	if err := pattern.Check(p); err != nil {
		t.Errorf("Check(%q): %v", p, err)
		return
	}
	c, err := pattern.Compile(p)
	if err != nil {
		t.Errorf("Compile(%q): %v", p, err)
		return
	}
	got, err := c.Match(data)
	if err != nil || got != want {
		t.Errorf("Match(%q) = %v, %v; want %v", p, got, err, want)
	}
}

// TestSpecNotExists: the grammar allows NOT before EXISTS (propTest:
// NOT? EXISTS objectPath); NOT EXISTS p holds for an object of p's type
// on which p selects no value.
func TestSpecNotExists(t *testing.T) {
	roundTrip(t, "[NOT EXISTS windows-registry-key:values]", "[NOT EXISTS windows-registry-key:values]")
	roundTrip(t, "[a:b = 1 AND NOT EXISTS a:c[*].'d-e']", "[a:b = 1 AND NOT EXISTS a:c[*].'d-e']")
	with := obs(t, 0, 1, `{"type":"windows-registry-key","key":"HKEY_LOCAL_MACHINE\\x","values":[{"name":"v"}]}`)
	without := obs(t, 1, 1, `{"type":"windows-registry-key","key":"HKEY_LOCAL_MACHINE\\y"}`)
	other := obs(t, 2, 1, `{"type":"file","name":"a"}`)
	p := "[NOT EXISTS windows-registry-key:values]"
	mustMatch(t, p, []pattern.Observation{with}, false)
	mustMatch(t, p, []pattern.Observation{without}, true)
	mustMatch(t, p, []pattern.Observation{other}, false) // no object of the path's type
	mustMatch(t, "[EXISTS windows-registry-key:values]", []pattern.Observation{without}, false)
	mustMatch(t, "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\y' AND NOT EXISTS windows-registry-key:values]", []pattern.Observation{with, without}, true)
	mustMatch(t, "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\x' AND NOT EXISTS windows-registry-key:values]", []pattern.Observation{with, without}, false)
	// A hand-built tree prints NOT EXISTS too.
	c := &pattern.Comparison{Not: true, Op: pattern.Exists, Path: &pattern.Path{Type: "x", Steps: []pattern.Step{{Kind: pattern.KeyStep, Key: "y"}}}}
	if got := (&pattern.Bracket{Cmp: c}).String(); got != "[NOT EXISTS x:y]" {
		t.Errorf("String = %q", got)
	}
}

// at is an observation of one object at a time.
func at(t *testing.T, when time.Time, object string) pattern.Observation {
	o := obs(t, 0, 1, object)
	o.ID = "observed-data--" + when.Format(time.RFC3339Nano)
	o.FirstObserved, o.LastObserved = when, when
	return o
}

// TestSpecWithinLong: WITHIN takes any positive integer or float of
// seconds (the grammar sets no maximum); the window is exact to the
// nanosecond however long it is.
func TestSpecWithinLong(t *testing.T) {
	for _, n := range []string{"9223372037", "9999999999", "10000000001", "100000000000", "9223372036854775807",
		"99999999999999999999", "123456789012345678901234567890.5", "1" + strings.Repeat("0", 400) + ".0",
		"0.0000000001", "0." + strings.Repeat("0", 400) + "1"} {
		p := "[x:a = 1] WITHIN " + n + " SECONDS"
		if err := pattern.Check(p); err != nil {
			t.Errorf("Check(%q): %v", p, err)
			continue
		}
		e, _ := pattern.Parse(p)
		e2, err := pattern.Parse(e.String())
		if err != nil || !sameTree(e, e2) {
			t.Errorf("%q prints as %q, which does not parse back to the same tree (%v)", p, e.String(), err)
		}
	}
	t1 := time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2000, 1, 1, 0, 0, 0, 500, time.UTC)
	secs := t2.Unix() - t1.Unix() // 300 years, past what time.Duration holds
	data := []pattern.Observation{at(t, t1, `{"type":"x","a":1}`), at(t, t2, `{"type":"x","a":2}`)}
	both := "([x:a = 1] AND [x:a = 2]) WITHIN "
	mustMatch(t, both+strconv.FormatInt(secs-1, 10)+" SECONDS", data, false)
	mustMatch(t, both+strconv.FormatInt(secs, 10)+" SECONDS", data, false) // 500 ns too short
	mustMatch(t, both+strconv.FormatInt(secs+1, 10)+" SECONDS", data, true)
	mustMatch(t, both+"100000000000 SECONDS", data, true)
	mustMatch(t, both+"1"+strings.Repeat("0", 400)+".0 SECONDS", data, true)
	mustMatch(t, both+"1.0 SECONDS", data, false)
	// Nanoseconds: 0.0000005 s is 500 ns.
	u1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	near := []pattern.Observation{at(t, u1, `{"type":"x","a":1}`), at(t, u1.Add(500), `{"type":"x","a":2}`)}
	mustMatch(t, both+"0.0000005 SECONDS", near, true)
	mustMatch(t, both+"0.000000499 SECONDS", near, false)
	mustMatch(t, both+"0.0000000001 SECONDS", near, false)
	same := []pattern.Observation{at(t, u1, `{"type":"x","a":1}`), at(t, u1, `{"type":"x","a":2}`)}
	mustMatch(t, both+"0.0000000001 SECONDS", same, true)
	// What the grammar does not allow is still refused, with the reason.
	for _, tc := range []struct{ p, reason string }{
		{"[x:a = 1] WITHIN 0 SECONDS", "WITHIN needs a positive number of seconds, not 0"},
		{"[x:a = 1] WITHIN 0.0 SECONDS", "WITHIN needs a positive number of seconds, not 0.0"},
		{"[x:a = 1] WITHIN -5 SECONDS", "WITHIN needs a positive number of seconds, not -5"},
		{"[x:a = 1] WITHIN 'x' SECONDS", "expected a number of seconds after WITHIN"},
		{"[x:a = 1] WITHIN 5", "expected SECONDS"},
	} {
		err := pattern.Check(tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Check(%q) = %v; want …%s…", tc.p, err, tc.reason)
		}
	}
}

// TestSpecBinaryNonCanonical: the grammar's binary literal is base64 in
// groups of four; it does not ask that the unused bits of the last
// character be zero, so b'AB==' is the one byte 0x00, printed as b'AA=='.
func TestSpecBinaryNonCanonical(t *testing.T) {
	roundTrip(t, "[artifact:payload_bin = b'AB==']", "[artifact:payload_bin = b'AA==']")
	roundTrip(t, "[artifact:payload_bin = b'AAB=']", "[artifact:payload_bin = b'AAA=']")
	mustMatch(t, "[artifact:payload_bin = b'AB==']", []pattern.Observation{obs(t, 0, 1, `{"type":"artifact","payload_bin":"AA=="}`)}, true)
	for _, tc := range []struct{ p, reason string }{
		{"[a:b = b'A===']", "not base64"},
		{"[a:b = b'AB=A']", "not base64"},
		{"[a:b = b'']", "not base64"},
		{"[a:b = b'AB']", "not base64"},
	} {
		err := pattern.Check(tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Check(%q) = %v; want …%s…", tc.p, err, tc.reason)
		}
	}
}

// TestSpecNesting: 200 levels of parentheses are allowed, observation and
// comparison ones counted together; the 201st is refused where it opens.
func TestSpecNesting(t *testing.T) {
	obsParens := func(n int) string { return strings.Repeat("(", n) + "[a:b = 1]" + strings.Repeat(")", n) }
	cmpParens := func(n int) string { return "[" + strings.Repeat("(", n) + "a:b = 1" + strings.Repeat(")", n) + "]" }
	both := func(o, c int) string { return strings.Repeat("(", o) + cmpParens(c) + strings.Repeat(")", o) }
	for _, tc := range []struct {
		p   string
		pos int // -1: valid
	}{
		{obsParens(200), -1},
		{obsParens(201), 200},
		{cmpParens(200), -1},
		{cmpParens(201), 201},
		{both(100, 100), -1},
		{both(100, 101), 201},
		{both(201, 0), 200},
	} {
		err := pattern.Check(tc.p)
		if tc.pos < 0 {
			if err != nil {
				t.Errorf("Check(%.30q…): %v", tc.p, err)
			}
			continue
		}
		var se *pattern.SyntaxError
		if !errors.As(err, &se) || se.Pos != tc.pos || !strings.Contains(se.Msg, "more than 200 levels") {
			t.Errorf("Check(%.30q…) = %v; want position %d: more than 200 levels", tc.p, err, tc.pos)
		}
	}
}
