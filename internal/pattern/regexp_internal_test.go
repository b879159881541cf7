package pattern

import (
	"regexp"
	"testing"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// TestRE2Form checks which expressions take the RE2 path and the form
// they take there.
func TestRE2Form(t *testing.T) {
	for _, tc := range []struct {
		pcre, re2 string // re2 "" means: not on the RE2 path
	}{
		{`^a.c$`, `^a.c(?:\n?\z)`},
		{`\.exe$`, `\.exe(?:\n?\z)`},
		{`(?:ab|c)+?x{2,3}y{2,}?z{4}`, `(?:ab|c)+?x{2,3}y{2,}?z{4}`},
		{`[^a-z\d\]][[:alpha:]]\D\x41\t\A\z`, `[^a-z\p{Nd}\]][[:alpha:]]\P{Nd}\x41\t\A\z`},
		{`\d+\.\d+`, `\p{Nd}+\.\p{Nd}+`},
		{`a$b`, ""},      // $ not at the end
		{`a$|b`, ""},     // idem
		{`abc\Z`, ""},    // \Z: end or before a final newline
		{`a\sb`, ""},     // \s: PCRE's has \v, RE2's not
		{`\bword\b`, ""}, // \b: Unicode on the regexp2 path
		{`\w+`, ""},
		{`(?i)abc[a-z]$`, `(?i)abc[a-z](?:\n?\z)`},
		{`a(?i)bc`, ""},   // a flag other than at the start
		{`(?i)(?s)a`, ""}, // idem
		{`(?m)^a`, ""},
		{`(?<=a)b`, ""},
		{`(?=a)`, ""},
		{`(?>a)`, ""},
		{`a*+`, ""}, {`a++`, ""}, {`a?+`, ""}, {`a{2}+`, ""},
		{`(a)\1`, ""},
		{`a{,3}`, ""}, // {,n}: a repeat in new PCRE, literal in RE2
		{`a{x`, ""},
		{`[]a]`, ""}, // ] first in a class
		{`[a`, ""},
		{`\x{263a}`, ""},
		{`\Qa.b\E`, ""},
		{`\p{L}`, ""},
	} {
		got, ok := re2Form(tc.pcre)
		if !ok {
			got = ""
		}
		if got != tc.re2 {
			t.Errorf("re2Form(%q) = %q, %v; want %q", tc.pcre, got, ok, tc.re2)
		}
	}
}

// TestForRegexp2 checks the rewriting of PCRE syntax .NET spells
// differently.
func TestForRegexp2(t *testing.T) {
	for _, tc := range [][2]string{
		{`(?P<year>\d{4})-(?P=year)`, `(?<year>\d{4})-\k<year>`},
		{`a\_b\\_`, `a_b\\_`},
		{`[(?P<]\_`, `[(?P<]_`},
		{`[]\_](?P<x>a)`, `[]_](?<x>a)`},
		{`\Q(?P<x>\_\E(?P<y>)`, `\Q(?P<x>\_\E(?<y>)`},
		{`\Q(?P<x>`, `\Q(?P<x>`},
		{`(?P=x`, `(?P=x`},
	} {
		if got := forRegexp2(tc[0]); got != tc[1] {
			t.Errorf("forRegexp2(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

// FuzzRE2Form checks that compiling any expression does not panic and
// that, for an expression on the RE2 path, RE2 and the backtracking
// engine give the same answer on the same value: the RE2 path is only a
// faster way to the same result.
func FuzzRE2Form(f *testing.F) {
	for _, s := range [][2]string{
		{`^a.c$`, "abc\n"}, {`\.exe$`, "x.exe"}, {`\d+\.\d+`, "1.2\u0663"},
		{`(?:ab|c)+?x{2,3}`, "abcxx"}, {`[^a-z\d][[:alpha:]]\D`, "Zq\u0663"},
		{`^$`, "\n"}, {`a|$`, "b"}, {`(?i)^[a-z]+$`, "\u212a\u017f"}, {`(?i)σ`, "\u03c2"}, {`(?i)ß`, "\u1e9e"}, {`[\t-\r ]`, "\v"}, {`\x41.`, "A\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pcre, value string) {
		// Any expression: compiling (either engine) must not panic.
		if _, serr := compileMatches(&Literal{Kind: StringLit, Str: pcre}, pcre, &Options{}); serr != nil && serr.Msg == "" {
			t.Fatalf("compileMatches(%q): an error without a reason", pcre)
		}
		form, ok := re2Form(pcre)
		if !ok || posixClass.MatchString(pcre) {
			return // regexp2 misreads POSIX classes; RE2 reads them as PCRE does
		}
		re, err := regexp.Compile(form)
		if err != nil {
			return
		}
		bt, err := regexp2.Compile(forRegexp2(pcre), regexp2.None)
		if err != nil {
			t.Fatalf("RE2 runs %q (as %q) but regexp2 refuses it: %v", pcre, form, err)
		}
		bt.MatchTimeout = 100 * time.Millisecond
		want, err := bt.MatchString(value)
		if err != nil {
			return
		}
		if got := re.MatchString(value); got != want {
			t.Fatalf("%q on %q: RE2 (as %q) says %v, regexp2 says %v", pcre, value, form, got, want)
		}
	})
}
