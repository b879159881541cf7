package pattern_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
)

// TestBadPatterns checks, for each bad pattern, the position and the
// reason Check gives.
func TestBadPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		pos     int
		reason  string
	}{
		{"", 0, "the pattern is empty"},
		{"   ", 3, "the pattern is empty"},
		{"file:size = 1", 0, "a pattern starts with '['"},
		{"[file:size = 1", 14, "expected AND, OR or ']'"},
		{"[file:size = 1]]", 15, "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern, found ']'"},
		{"[file:size 1]", 11, "expected a comparison operator"},
		{"[file:size NOT 1]", 15, "expected a comparison operator after NOT"},
		{"[NOT file:size = 1]", 5, "expected EXISTS after a leading NOT (other comparisons put NOT after the path"},
		{"[NOT NOT EXISTS file:size]", 5, "expected EXISTS after a leading NOT"},
		{"[file:size > true]", 13, "a boolean cannot be compared with <"},
		{"[file:name = null]", 13, "null is not a value"},
		{"[file:name = abc]", 13, "strings are quoted: 'abc'"},
		{"[file:name = 'abc]", 13, "string literal is not closed"},
		{`[file:name = 'a\nb']`, 15, `invalid escape in string literal`},
		{"[file:name = \"abc\"]", 13, "string literals are in single quotes"},
		{"[file:name LIKE 5]", 16, "expected a string literal after LIKE, found integer literal 5"},
		{"[file:name MATCHES 'a(']", 19, "is not a regular expression this node can run (PCRE syntax as .NET and regexp2 read it): missing closing )"},
		{`[file:name MATCHES '(a)\\2']`, 19, "reference to undefined group number 2"},
		{`[file:name MATCHES '\\h']`, 19, `unrecognized escape sequence \h`},
		{"[file:name MATCHES '[z-a]']", 19, "range in reverse order"},
		{"[file:name MATCHES 'a{2,1}']", 19, "invalid repeat count"},
		{"[file:name MATCHES '(?R)']", 19, "unrecognized grouping construct"},
		{"[file:name MATCHES '[[:alpha:]](?<=a)']", 19, "uses the POSIX class [:alpha:] together with syntax only the backtracking engine runs"},
		{"[ipv4-addr:value ISSUBSET '10.0.0.0/33']", 26, "needs an IP address or CIDR network"},
		{"[ipv4-addr:value ISSUPERSET 'example.com']", 28, "needs an IP address or CIDR network"},
		{"[file:size IN (1, 'a')]", 18, "a set holds values of one type: 'a' mixes integer and string values"},
		{"[file:size IN (1, 2]", 19, "expected ',' or ')' in the set"},
		{"[file:size = 01]", 13, "leading zero"},
		{"[file:size = 99999999999999999999]", 13, "out of range (64 bits)"},
		{"[file:data = h'abc']", 13, "odd number of hex digits"},
		{"[file:data = h'zz']", 13, "'z' is not a hex digit"},
		{"[file:data = b'abc']", 13, "not base64"},
		{"[file:data = b'ab=c']", 13, `not base64: '=' at offset 2 is not one of A-Z a-z 0-9 + /`},
		{"[file:data = b'a===']", 13, `not base64: '=' at offset 1`},
		{"[file:t = t'2024-02-01T10:00:00+01:00']", 10, "not of the form YYYY-MM-DDTHH:MM:SS"},
		{"[file:t = t'2024-02-01T24:00:00Z']", 10, "hour 24 is not 00-23"},
		{"[file.size = 1]", 5, "expected ':' between the object type 'file' and its property"},
		{"[file:needs-quotes = 1]", 6, "has a '-': quote it as 'needs-quotes'"},
		{"[file:AND = 1]", 6, "property name AND is a keyword"},
		{"[file:list[-1] = 1]", 11, "list index -1 is negative"},
		{"[file:list[a] = 1]", 11, "expected a list index"},
		{"[file:size = 1] WITHIN 0 SECONDS", 23, "WITHIN needs a positive number of seconds, not 0"},
		{"[file:size = 1] WITHIN 5 MINUTES", 25, "expected SECONDS"},
		{"[file:size = 1] WITHIN -1.5 SECONDS", 23, "WITHIN needs a positive number of seconds, not -1.5"},
		{"[file:size = 1] WITHIN -99999999999999999999 SECONDS", 23, "WITHIN needs a positive number of seconds"},
		{"[file:size = 1] REPEATS 99999999999999999999 TIMES", 24, "REPEATS 99999999999999999999 TIMES is more than 1048576"},
		{"[file:list[99999999999999999999] = 1]", 11, "integer literal 99999999999999999999 is out of range (64 bits)"},
		{"[file:size = 1" + strings.Repeat("0", 400) + ".0]", 13, "float literal 1000"},
		{"[file:size = 1] REPEATS 1.5 TIMES", 24, "expected a whole number after REPEATS"},
		{"[file:size = 1] REPEATS 0 TIMES", 24, "REPEATS needs a positive number of times"},
		{"[file:size = 1] START t'2024-01-01T00:00:00Z'", 45, "expected STOP"},
		{"[file:size = 1] START '2024-01-01T00:00:00Z' STOP '2024-01-02T00:00:00Z'", 22, "expected a timestamp literal"},
		{"[file:size = 1] within 2 seconds", 16, "(keywords are upper case)"},
		{"[file:size = 1] AND", 19, "expected '[' or '('"},
		{"[file:size = 1] /* open", 16, "comment /* is not closed"},
		{"[file:size ! 1]", 11, "the operator is '!='"},
		{"[file:size = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", 33, "duplicate qualifier type encountered: WITHIN"},
		{"[file:hashes.MD5 = 'abc']", 19, "'abc' is not a valid MD5 hash"},
		{"[file:hashes.'SHA-256' IN ('abc')]", 27, "'abc' is not a valid SHA-256 hash"},
		{strings.Repeat("(", 300) + "[a:b = 1]" + strings.Repeat(")", 300), 200, "nests parentheses more than 200 levels"},
		{"[file:name = '\xff']", 13, "not valid UTF-8"},
	} {
		err := pattern.Check(tc.pattern)
		var se *pattern.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Check(%q) = %v, want a *SyntaxError", tc.pattern, err)
			continue
		}
		if se.Pos != tc.pos || !strings.Contains(se.Msg, tc.reason) {
			t.Errorf("Check(%q):\n got position %d: %s\nwant position %d: …%s…", tc.pattern, se.Pos, se.Msg, tc.pos, tc.reason)
		}
		if !errors.Is(err, dialogue.ErrInvalid) {
			t.Errorf("Check(%q): %v is not of kind invalid", tc.pattern, err)
		}
	}
}

// TestGoodPatterns parses patterns that use every part of the language
// and checks the canonical form String prints.
func TestGoodPatterns(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[ipv4-addr:value = '198.51.100.1']", "[ipv4-addr:value = '198.51.100.1']"},
		{"[a:b=1 AND a:c!=2 OR a:d<3]", "[a:b = 1 AND a:c != 2 OR a:d < 3]"},
		{"[a:b == 1 AND (a:c <> 2 OR a:d >= -3.5)]", "[a:b = 1 AND (a:c != 2 OR a:d >= -3.5)]"},
		{"[a:b NOT IN (1, 2.5)] FOLLOWEDBY [a:c IN ()]", "[a:b NOT IN (1, 2.5)] FOLLOWEDBY [a:c IN ()]"},
		{"[a:b LIKE 'x%'] OR [a:c MATCHES '^x$'] AND [a:d ISSUBSET '10.0.0.0/8']",
			"[a:b LIKE 'x%'] OR [a:c MATCHES '^x$'] AND [a:d ISSUBSET '10.0.0.0/8']"},
		{"[EXISTS a:b.'c-d'[0].e[*]]", "[EXISTS a:b.'c-d'[0].e[*]]"},
		{"[NOT  EXISTS a:b OR NOT EXISTS a:c]", "[NOT EXISTS a:b OR NOT EXISTS a:c]"},
		{"[a:'AND' = true] REPEATS 2 TIMES WITHIN .5 SECONDS", "[a:'AND' = true] REPEATS 2 TIMES WITHIN 0.5 SECONDS"},
		{"([a:b = h'0A'] AND [a:c = b'AQI=']) START t'2024-02-30T00:00:00.10Z' STOP t'2024-04-01T00:00:00Z'",
			"([a:b = h'0a'] AND [a:c = b'AQI=']) START t'2024-03-01T00:00:00.1Z' STOP t'2024-04-01T00:00:00Z'"},
		{`[a:b = 'it\'s a \\ path'] // comment`, `[a:b = 'it\'s a \\ path']`},
		{"/* lead */ [a:b = +5]", "[a:b = 5]"},
	} {
		e, err := pattern.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("Parse(%q).String() =\n %s\nwant\n %s", tc.in, got, tc.want)
		}
	}
}

// zeroPositions sets every At field of a syntax tree to 0, so that trees
// parsed from differently spaced text compare equal.
func zeroPositions(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroPositions(v.Elem())
		}
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "At" {
				v.Field(i).SetInt(0)
				continue
			}
			zeroPositions(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroPositions(v.Index(i))
		}
	}
}

func sameTree(a, b pattern.Expr) bool {
	zeroPositions(reflect.ValueOf(&a))
	zeroPositions(reflect.ValueOf(&b))
	return reflect.DeepEqual(a, b)
}

// FuzzParse checks that parsing never panics, that an accepted pattern
// printed by String parses to the same tree, and that compiling an
// accepted pattern does not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
		"[a:b NOT IN (1, 2.5)] FOLLOWEDBY [a:c IN ()]",
		"([a:b = h'0A'] AND [a:c = b'AQI=']) START t'2024-02-28T00:00:00.10Z' STOP t'2024-04-01T00:00:00Z'",
		"[EXISTS a:b.'c-d'[0].e[*]] REPEATS 2 TIMES WITHIN .5 SECONDS",
		"[NOT EXISTS windows-registry-key:values] WITHIN 9999999999 SECONDS",
		`[a:b MATCHES '(?<=a)b\\Z' AND a:c = b'AB=='] WITHIN 99999999999999999999 SECONDS`,
		"[a:b LIKE 'x%' OR a:c MATCHES '^x$'] AND [a:d ISSUBSET '10.0.0.0/8']",
		`[a:b = 'it\'s \\'] /* c */ OR ([x:y > -1.0]) // d`,
		"[network-traffic:dst_ref.value ISSUBSET '2001:db8::/64']",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := pattern.Parse(s)
		if err != nil {
			var se *pattern.SyntaxError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			return
		}
		printed := e.String()
		e2, err := pattern.Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, printed, err)
		}
		if again := e2.String(); again != printed {
			t.Fatalf("String is not stable: %q, then %q", printed, again)
		}
		if !sameTree(e, e2) {
			t.Fatalf("Parse(%q) and Parse(String) = Parse(%q) give different trees", s, printed)
		}
		if p, err := pattern.Compile(s); err == nil {
			_, _ = p.Match(nil)
		}
	})
}
