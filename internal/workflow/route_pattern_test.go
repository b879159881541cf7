package workflow

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/geo"
)

// TestDomainPairs: a domain is tied to the addresses compared with its
// resolves_to_refs in the same observation, joined by AND; OR, NOT, other
// observations and other types tie nothing.
func TestDomainPairs(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    map[string][]string
	}{
		{"[domain-name:value = 'C2.Example.' AND domain-name:resolves_to_refs[*].value = '192.0.2.1']", map[string][]string{"c2.example": {"192.0.2.1"}}},
		{"[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value IN ('192.0.2.1', '2001:db8::1', 'x')]", map[string][]string{"a.example": {"192.0.2.1", "2001:db8::1"}}},
		{"[domain-name:value = 'a.example' OR domain-name:resolves_to_refs[*].value = '192.0.2.1']", map[string][]string{"a.example": nil}},
		{"[domain-name:value = 'a.example'] AND [domain-name:resolves_to_refs[*].value = '192.0.2.1']", map[string][]string{"a.example": nil}},
		{"[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value NOT = '192.0.2.1']", map[string][]string{"a.example": nil}},
		{"[(domain-name:value = 'a.example' OR domain-name:value = 'b.example') AND domain-name:resolves_to_refs[*].value = '192.0.2.9']", map[string][]string{"a.example": {"192.0.2.9"}, "b.example": {"192.0.2.9"}}},
		{"[ipv4-addr:value = '192.0.2.1']", map[string][]string{}},
		{"not a pattern", nil},
	} {
		got := domainPairs(c.pattern)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.pattern, got, c.want)
			continue
		}
		for d, w := range c.want {
			if g, ok := got[d]; !ok || !slices.Equal(g, w) {
				t.Errorf("%s: %s → %v, want %v", c.pattern, d, g, w)
			}
		}
	}
}

// FuzzDomainPairs: any pattern text gives, without failing, at most what
// it names: every address returned reads as an address.
func FuzzDomainPairs(f *testing.F) {
	for _, s := range []string{
		"[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.1']",
		"([domain-name:value = 'a' OR domain-name:value = 'b'] AND [x:y = 1]) WITHIN 5 SECONDS",
		"[domain-name:resolves_to_refs[*].value IN ('1.2.3.4')]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, addrs := range domainPairs(s) {
			for _, a := range addrs {
				if _, err := geo.ParseTarget(a); err != nil {
					t.Fatalf("%q gave %q: %v", s, a, err)
				}
			}
		}
	})
}
