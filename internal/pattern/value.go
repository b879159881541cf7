package pattern

import (
	"bytes"
	"cmp"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// The values of observed objects, as JSON decodes them here: nil, bool,
// int64, float64 (a number with a fraction or an exponent, or too large
// for int64), string, []any, map[string]any; and []byte, the value of a
// property whose name ends in _hex or _bin.

// latin1 reports whether every code point of s is below 256, and if so
// returns s as one byte per code point.
func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= 256 {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// fromLatin1 is b with each byte read as the code point of that value,
// so that a regular expression over code points below 256 can match
// binary data.
func fromLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// equal compares an observed value with a literal (the literal's
// timestamp already coerced into v by the caller, when it is one).
// Values of types that cannot be compared are not equal: integers and
// floats compare as numbers; a string and binary data compare as bytes
// when every code point of the string is below 256; nothing else mixes.
func equal(v any, l *Literal) bool {
	switch v := v.(type) {
	case int64:
		switch l.Kind {
		case IntLit:
			return v == l.Int
		case FloatLit:
			return float64(v) == l.Float
		}
	case float64:
		switch l.Kind {
		case IntLit:
			return v == float64(l.Int)
		case FloatLit:
			return v == l.Float
		}
	case string:
		switch l.Kind {
		case StringLit:
			return v == l.Str
		case HexLit, BinaryLit:
			b, ok := latin1(v)
			return ok && bytes.Equal(b, l.Bytes)
		}
	case []byte:
		switch l.Kind {
		case HexLit, BinaryLit:
			return bytes.Equal(v, l.Bytes)
		case StringLit:
			b, ok := latin1(l.Str)
			return ok && bytes.Equal(b, v)
		}
	case bool:
		return l.Kind == BoolLit && v == l.Bool
	case time.Time:
		return l.Kind == TimestampLit && v.Equal(l.Time)
	}
	return false
}

// order compares an observed value with a literal: -1, 0 or +1, and
// false when the two cannot be ordered (then <, <=, > and >= are all
// false).
func order(v any, l *Literal) (int, bool) {
	switch v := v.(type) {
	case int64:
		switch l.Kind {
		case IntLit:
			return cmp.Compare(v, l.Int), true
		case FloatLit:
			return cmp.Compare(float64(v), l.Float), true
		}
	case float64:
		switch l.Kind {
		case IntLit:
			return cmp.Compare(v, float64(l.Int)), true
		case FloatLit:
			return cmp.Compare(v, l.Float), true
		}
	case string:
		switch l.Kind {
		case StringLit:
			return strings.Compare(v, l.Str), true
		case HexLit, BinaryLit:
			b, ok := latin1(v)
			if !ok {
				return 0, false
			}
			return bytes.Compare(b, l.Bytes), true
		}
	case []byte:
		switch l.Kind {
		case HexLit, BinaryLit:
			return bytes.Compare(v, l.Bytes), true
		case StringLit:
			b, ok := latin1(l.Str)
			if !ok {
				return 0, false
			}
			return bytes.Compare(v, b), true
		}
	case time.Time:
		if l.Kind == TimestampLit {
			return v.Compare(l.Time), true
		}
	}
	return 0, false
}

// parseNet reads an IP address (a one-address network) or a CIDR
// network, IPv4 or IPv6.
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

// within reports whether network inner lies inside network outer.
func within(inner, outer netip.Prefix) bool {
	return inner.Addr().Is4() == outer.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Masked().Contains(inner.Addr())
}
