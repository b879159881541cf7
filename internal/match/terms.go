package match

import (
	"net/netip"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/telemetry"
)

// Term is one value a fast-path indicator looks for, after the
// normalisation the matcher applies: an address or network (Net, for
// ipv4-addr:value or ipv6-addr:value as Kind says), a domain suffix
// (Suffix: the pattern said LIKE '%.example.com', Value is
// ".example.com"), or an exact value of Kind.
type Term struct {
	Kind   telemetry.Kind
	Value  string
	Net    netip.Prefix
	Suffix bool
}

// ErrNotSimple is the error of Terms for a pattern that is not of the
// fast path's forms.
var ErrNotSimple = dialogue.E("match.Terms", dialogue.KindInvalid, errNotSimple)

type simpleError struct{}

func (simpleError) Error() string {
	return "the pattern is not a list of values: only ORs of =, IN and ISSUBSET on ipv4-addr:value, ipv6-addr:value, domain-name:value (and LIKE '%.domain'), url:value, email-addr:value and file:hashes are"
}

var errNotSimple error = simpleError{}

// Terms returns the values a pattern of the fast path's forms looks for
// (what sensors can be given); ErrNotSimple for other patterns, or the
// parse error.
func Terms(p string) ([]Term, error) {
	e, err := pattern.Parse(p)
	if err != nil {
		return nil, dialogue.E("match.Terms", dialogue.KindInvalid, err)
	}
	normalize(e)
	comps, ok := fastForm(e, nil)
	if !ok {
		return nil, ErrNotSimple
	}
	out := make([]Term, 0, len(comps))
	for _, c := range comps {
		switch {
		case c.isNet:
			k := telemetry.IPv4
			if c.family == 1 {
				k = telemetry.IPv6
			}
			if c.net.Addr().Is4() != (k == telemetry.IPv4) {
				continue // an IPv6 network on ipv4-addr:value matches nothing
			}
			out = append(out, Term{Kind: k, Net: c.net.Masked()})
		case c.kind == suffixKind:
			out = append(out, Term{Kind: telemetry.Domain, Value: c.str, Suffix: true})
		default:
			out = append(out, Term{Kind: c.kind, Value: c.str})
		}
	}
	return out, nil
}
