package pattern_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
)

// TestSpecMatchesPCRE: MATCHES takes a PCRE regular expression (9.6.1),
// with look-around, back-references, atomic groups, possessive
// quantifiers and PCRE's end-of-subject rules.
func TestSpecMatchesPCRE(t *testing.T) {
	for _, tc := range []struct {
		re, value string
		want      bool
	}{
		{`(?<=a)b`, "ab", true},
		{`(?<=a)b`, "cb", false},
		{`(?<!a)b`, "cb", true},
		{`a(?=b)`, "ab", true},
		{`a(?!b)`, "ab", false},
		{`(a)\1`, "aa", true},
		{`(a)\1`, "ab", false},
		{`(?<x>a)\k<x>`, "aa", true},
		{`a++a`, "aaa", false},
		{`(?>a+)a`, "aaa", false},
		{`a+a`, "aaa", true},
		{`^abc$`, "abc\n", true}, // $ also matches before a final newline
		{`^abc$`, "abc\n\n", false},
		{`abc$`, "abc", true},
		{`abc\Z`, "abc\n", true},
		{`abc\z`, "abc\n", false},
		{`a\sb`, "a\vb", true}, // \s includes the vertical tab in PCRE
		{`(?i)ABC`, "xabcx", true},
		{`a(?i)b`, "aB", true},
		{`a(?i)b`, "AB", false},
		{`^\d+$`, "12345", true},
		{`\.exe$`, "evil.exe", true},
		{`\.exe$`, "evil.exe.txt", false},
		{`a\_(?=b)`, "a_b", true}, // an escaped _ is itself
		{`(?P<y>\d\d)-(?P=y)`, "10-10", true},
		{`(?P<y>\d\d)-(?P=y)`, "10-11", false},
		{`\d`, "\u0663", true}, // \d is any Unicode decimal digit, on both paths
		{`\d(?=x)`, "\u0663x", true},
	} {
		p := "[x:s MATCHES '" + strings.ReplaceAll(strings.ReplaceAll(tc.re, `\`, `\\`), "'", `\'`) + "']"
		o := obs(t, 0, 1, `{"type":"x"}`)
		o.Objects[0].Props["s"] = tc.value
		mustMatch(t, p, []pattern.Observation{o}, tc.want)
	}
}

// matchValue matches a compiled [x:s MATCHES ...] pattern on one value.
func matchValue(t testing.TB, p *pattern.Pattern, value string) (bool, error) {
	t.Helper()
	o := obs(t, 0, 1, `{"type":"x"}`)
	o.Objects[0].Props["s"] = value
	return p.Match([]pattern.Observation{o})
}

// TestRegexTimeout: an expression that backtracks catastrophically gives
// up after the time limit, with ErrRegexLimit of kind too large, instead
// of stalling the match.
func TestRegexTimeout(t *testing.T) {
	for _, limit := range []time.Duration{50 * time.Millisecond, 0} {
		p, err := pattern.Options{RegexTimeout: limit}.Compile(`[x:s MATCHES '^(a|aa)+\\Z']`)
		if err != nil {
			t.Fatal(err)
		}
		if limit == 0 {
			limit = pattern.DefaultRegexTimeout
		}
		start := time.Now()
		ok, err := matchValue(t, p, strings.Repeat("a", 100)+"!")
		took := time.Since(start)
		if ok || !errors.Is(err, pattern.ErrRegexLimit) || !errors.Is(err, dialogue.ErrTooLarge) {
			t.Fatalf("Match = %v, %v; want ErrRegexLimit of kind too large", ok, err)
		}
		if !strings.Contains(err.Error(), "gave up on a value of 101 characters") {
			t.Errorf("error %q does not say what gave up", err)
		}
		// regexp2 looks at its clock about every 100 ms; the rest is
		// slack for a loaded machine.
		if took > limit+100*time.Millisecond+time.Second {
			t.Errorf("limit %v: gave up after %v", limit, took)
		}
		t.Logf("limit %v: gave up after %v", limit, took)
		// The same expression on a value it matches is quick.
		if ok, err := matchValue(t, p, "aaaa"); !ok || err != nil {
			t.Errorf("Match(aaaa) = %v, %v", ok, err)
		}
	}
}
