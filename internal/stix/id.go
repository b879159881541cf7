package stix

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"

	"github.com/google/uuid"
)

// SCONamespace is the UUIDv5 namespace that STIX 2.1 (§2.9) fixes for
// the deterministic ids of cyber-observable objects.
var SCONamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// NewID returns a fresh identifier of the given type with a random
// (version 4) UUID, as STIX asks for SDOs, SROs and meta objects.
func NewID(typ string) string {
	return typ + "--" + uuid.NewString()
}

// SCOID returns the deterministic identifier of a cyber-observable
// object: a UUIDv5 in SCONamespace over the JSON Canonicalization Scheme
// (RFC 8785) serialisation of its ID contributing properties, e.g.
// SCOID("ipv4-addr", map[string]any{"value": "198.51.100.3"}). Values may
// be strings, bools, numbers, []any, []string, map[string]any and
// map[string]string; contributing must not be empty (an SCO with none
// of its ID contributing properties gets a random id from NewID).
func SCOID(typ string, contributing map[string]any) (string, error) {
	if msg := typeNameProblem([]byte(typ)); msg != "" {
		return "", fmt.Errorf("stix.SCOID: type %q: %s", typ, msg)
	}
	if len(contributing) == 0 {
		return "", fmt.Errorf("stix.SCOID: %s: no ID contributing properties", typ)
	}
	js, err := canonicalJSON(nil, contributing)
	if err != nil {
		return "", fmt.Errorf("stix.SCOID: %s: %w", typ, err)
	}
	return typ + "--" + uuid.NewSHA1(SCONamespace, js).String(), nil
}

// CanonicalJSON returns v serialised as RFC 8785 (JCS) asks (values as
// SCOID takes them): what a statement's text hash is computed over.
func CanonicalJSON(v any) ([]byte, error) { return canonicalJSON(nil, v) }

// canonicalJSON appends v serialised as RFC 8785 (JCS) asks: object
// members sorted by their UTF-16 code units, no white space, strings
// escaped minimally, numbers as ECMAScript prints them.
func canonicalJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return jcsString(b, v), nil
	case int:
		return jcsNumber(b, float64(v))
	case int64:
		return jcsNumber(b, float64(v))
	case float64:
		return jcsNumber(b, v)
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcsString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = canonicalJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return canonicalJSON(b, m)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		})
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcsString(b, k)
			b = append(b, ':')
			var err error
			if b, err = canonicalJSON(b, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("cannot canonicalise a %T", v)
}

func jcsString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}

// jcsNumber prints f as ECMAScript's Number.prototype.toString does.
func jcsNumber(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("cannot canonicalise %v", f)
	}
	if f == 0 {
		return append(b, '0'), nil
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-7
		mant, exp, _ := bytes.Cut([]byte(s), []byte("e"))
		b = append(b, mant...)
		b = append(b, 'e')
		if exp[0] == '+' {
			b = append(b, '+')
			exp = exp[1:]
		} else {
			b = append(b, '-')
			exp = exp[1:]
		}
		exp = bytes.TrimLeft(exp, "0")
		return append(b, exp...), nil
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), nil
}
