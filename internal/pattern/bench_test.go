package pattern_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/pattern"
)

// indicators are typical indicator patterns, from the common single
// comparison to a sequence with qualifiers.
var indicators = []struct{ name, pattern string }{
	{"ipv4", "[ipv4-addr:value = '198.51.100.3']"},
	{"cidr", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"},
	{"sha256", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"},
	{"domain-in", "[domain-name:value IN ('evil.example', 'bad.example', 'worse.example', 'c2.example')]"},
	{"url-like", "[url:value LIKE 'http://%.example/gate.php%']"},
	{"email-regex", "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:subject = 'Invoice']"},
	{"followedby", "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS"},
}

func BenchmarkCompile(b *testing.B) {
	for _, ind := range indicators {
		b.Run(ind.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := pattern.Compile(ind.pattern); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatch matches each indicator against one observation that
// does not match it (the usual case) holding an ipv4-addr, a file, a
// domain-name, a url and an email-message: the time is per observation.
func BenchmarkMatch(b *testing.B) {
	o := obs(b, 0, 1,
		`{"type":"ipv4-addr","value":"203.0.113.7"}`,
		`{"type":"file","name":"x.exe","hashes":{"SHA-256":"0000000000000000000000000000000000000000000000000000000000000000","MD5":"00000000000000000000000000000000"}}`,
		`{"type":"domain-name","value":"www.example.org"}`,
		`{"type":"url","value":"http://www.example.org/index.html"}`,
		`{"type":"email-addr","value":"alice@example.org"}`,
		`{"type":"email-message","from_ref":"4","subject":"Hello"}`,
	)
	data := []pattern.Observation{o}
	for _, ind := range indicators {
		p, err := pattern.Compile(ind.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(ind.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := p.Match(data); err != nil || ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkMatches compares the two engines of MATCHES on one value that
// does not match: the same expression written for the RE2 path ($) and
// for the backtracking engine (\Z, which RE2 lacks); and an expression
// that backtracks catastrophically, cut off by the default time limit
// (each op is one time-out: run it with -benchtime 5x).
func BenchmarkMatches(b *testing.B) {
	for _, bc := range []struct{ name, re, value string }{
		{"re2-literal", `evil\\.exe$`, `C:\Users\bob\Downloads\invoice.pdf.exe.txt`},
		{"regexp2-literal", `evil\\.exe\\Z`, `C:\Users\bob\Downloads\invoice.pdf.exe.txt`},
		{"re2-class", `[a-z]+[0-9]{2,}\\.exe$`, `C:\Users\bob\Downloads\invoice7.pdf.exe.txt`},
		{"regexp2-class", `[a-z]+[0-9]{2,}\\.exe\\Z`, `C:\Users\bob\Downloads\invoice7.pdf.exe.txt`},
		{"hostile-timeout", `^(a|aa)+\\Z`, strings.Repeat("a", 100) + "!"},
	} {
		p, err := pattern.Compile("[x:s MATCHES '" + bc.re + "']")
		if err != nil {
			b.Fatal(err)
		}
		o := obs(b, 0, 1, `{"type":"x"}`)
		o.Objects[0].Props["s"] = bc.value
		data := []pattern.Observation{o}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				ok, err := p.Match(data)
				if ok || (err != nil) != (bc.name == "hostile-timeout") {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
