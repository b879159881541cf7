package match

import (
	"net/netip"
	"strings"

	"github.com/parleyhq/parley/internal/pattern"
)

// normalize rewrites the comparisons of a pattern into the form the
// matcher runs, on both paths alike (docs/design/match.md):
//
//   - ipv4-addr:value and ipv6-addr:value compared with = or != to an
//     address or CIDR network become ISSUBSET (NOT ISSUBSET): addresses
//     compare as addresses ('2001:DB8::1' is '2001:db8::1', '1.2.3.4/32'
//     is '1.2.3.4') and a network holds its addresses; IN a list of them
//     becomes an OR of ISSUBSET (NOT IN: an AND of NOT ISSUBSET);
//   - domain-name:value literals (=, !=, IN, LIKE) are lowered and lose a
//     trailing dot, as the readers lower the names they read;
//   - file:hashes.* literals (=, !=, IN) are lowered, as the readers
//     write hashes in lower-case hex.
func normalize(e pattern.Expr) {
	switch e := e.(type) {
	case *pattern.Bracket:
		e.Cmp = normCmp(e.Cmp)
	case *pattern.Paren:
		normalize(e.X)
	case *pattern.Binary:
		normalize(e.L)
		normalize(e.R)
	case *pattern.Qualified:
		normalize(e.X)
	}
}

func normCmp(c pattern.Cmp) pattern.Cmp {
	switch c := c.(type) {
	case *pattern.CmpParen:
		c.X = normCmp(c.X)
	case *pattern.CmpBinary:
		c.L = normCmp(c.L)
		c.R = normCmp(c.R)
	case *pattern.Comparison:
		return normComparison(c)
	}
	return c
}

func isAddrPath(p *pattern.Path) bool {
	return (p.Type == "ipv4-addr" || p.Type == "ipv6-addr") && len(p.Steps) == 1 &&
		p.Steps[0].Kind == pattern.KeyStep && p.Steps[0].Key == "value"
}

func isPath(p *pattern.Path, typ, key string) bool {
	return p.Type == typ && len(p.Steps) == 1 && p.Steps[0].Kind == pattern.KeyStep && p.Steps[0].Key == key
}

// hashKey returns the hash algorithm of a file:hashes.X path.
func hashKey(p *pattern.Path) (string, bool) {
	if p.Type != "file" || len(p.Steps) != 2 || p.Steps[0].Kind != pattern.KeyStep || p.Steps[0].Key != "hashes" || p.Steps[1].Kind != pattern.KeyStep {
		return "", false
	}
	return p.Steps[1].Key, true
}

func normComparison(c *pattern.Comparison) pattern.Cmp {
	strLits := func(f func(*pattern.Literal)) {
		if c.Value != nil && c.Value.Kind == pattern.StringLit {
			f(c.Value)
		}
		for _, l := range c.Set {
			if l.Kind == pattern.StringLit {
				f(l)
			}
		}
	}
	switch {
	case isAddrPath(c.Path):
		switch c.Op {
		case pattern.Eq, pattern.Ne:
			if c.Value.Kind != pattern.StringLit {
				break
			}
			if n, ok := parseNet(c.Value.Str); ok {
				lit := *c.Value
				lit.Str = netString(n)
				return &pattern.Comparison{At: c.At, Path: c.Path, Not: c.Not != (c.Op == pattern.Ne), Op: pattern.IsSubset, Value: &lit}
			}
		case pattern.In:
			nets := make([]netip.Prefix, len(c.Set))
			for i, l := range c.Set {
				n, ok := parseNet(l.Str)
				if l.Kind != pattern.StringLit || !ok {
					return c
				}
				nets[i] = n
			}
			var out pattern.Cmp
			for i, n := range nets {
				lit := *c.Set[i]
				lit.Str = netString(n)
				x := &pattern.Comparison{At: c.At, Path: c.Path, Not: c.Not, Op: pattern.IsSubset, Value: &lit}
				switch {
				case out == nil:
					out = x
				case c.Not:
					out = &pattern.CmpBinary{Op: pattern.CmpAnd, L: out, R: x}
				default:
					out = &pattern.CmpBinary{Op: pattern.CmpOr, L: out, R: x}
				}
			}
			if out != nil {
				return &pattern.CmpParen{At: c.At, X: out}
			}
		}
	case isPath(c.Path, "domain-name", "value"):
		if c.Op == pattern.Eq || c.Op == pattern.Ne || c.Op == pattern.In || c.Op == pattern.Like {
			strLits(func(l *pattern.Literal) {
				l.Str = strings.ToLower(l.Str)
				if c.Op != pattern.Like {
					l.Str = strings.TrimSuffix(l.Str, ".")
				}
			})
		}
	default:
		if _, ok := hashKey(c.Path); ok && (c.Op == pattern.Eq || c.Op == pattern.Ne || c.Op == pattern.In) {
			strLits(func(l *pattern.Literal) { l.Str = strings.ToLower(l.Str) })
		}
	}
	return c
}

// parseNet reads an address (a one-address network) or a CIDR network
// as internal/pattern's ISSUBSET does: IPv4-mapped IPv6 is unmapped,
// zones are refused.
func parseNet(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// netString writes a network the way both paths read it back: a lone
// address without its length, a network masked.
func netString(n netip.Prefix) string {
	if n.IsSingleIP() {
		return n.Addr().String()
	}
	return n.Masked().String()
}
