package stix

import (
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small strict JSON decoder. It decodes a document once
// into a tree of values that point into the input (no string is copied
// unless it holds escapes), which is what makes Parse fast enough for bulk
// imports. It accepts exactly RFC 8259 JSON in UTF-8 and, as I-JSON asks,
// refuses duplicate member names.

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

var kindName = [...]string{kNull: "null", kBool: "a boolean", kNumber: "a number", kString: "a string", kArray: "a list", kObject: "an object"}

// value is one decoded JSON value.
type value struct {
	kind    kind
	b       bool     // kBool
	raw     []byte   // kString: the contents (unescaped); kNumber: the literal
	elems   []value  // kArray
	members []member // kObject
	start   int      // kObject, kArray: offset of the opening bracket in the input
	end     int      // kObject, kArray: offset just past the closing bracket
}

type member struct {
	key []byte
	val value
}

func (v *value) str() string { return string(v.raw) }

// get returns the member named key of an object, or nil.
func (v *value) get(key string) *value {
	for i := range v.members {
		if string(v.members[i].key) == key {
			return &v.members[i].val
		}
	}
	return nil
}

// int returns the number as an int64 when it is an integer in range.
func (v *value) int() (int64, bool) {
	if v.kind != kNumber {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(v.raw), 10, 64); err == nil {
		return n, true
	}
	// 1e3 and 10.0 are integers too.
	f, err := strconv.ParseFloat(string(v.raw), 64)
	if err != nil || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int64(f), true
}

func (v *value) float() (float64, bool) {
	if v.kind != kNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.raw), 64)
	return f, err == nil
}

// jsonError is a syntax error at a byte offset.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

const maxDepth = 256

// plainByte marks the bytes a string may hold as they are: not a quote,
// not a backslash, not a control character.
var plainByte = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

type decoder struct {
	data  []byte
	pos   int
	depth int
	// scratch stacks, reused across nested containers to size each slice
	// exactly once
	vstack []value
	mstack []member
}

// decode parses data as one JSON value with nothing but white space
// after it.
func decode(data []byte) (value, error) {
	if !utf8.Valid(data) {
		return value{}, &jsonError{off: invalidUTF8At(data), msg: "not valid UTF-8"}
	}
	d := decoderPool.Get().(*decoder)
	defer func() { d.data = nil; decoderPool.Put(d) }()
	d.data, d.pos, d.depth = data, 0, 0
	d.vstack, d.mstack = d.vstack[:0], d.mstack[:0]
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return value{}, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return value{}, d.errf("unexpected %q after the top-level value", d.data[d.pos])
	}
	return v, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func (d *decoder) errf(format string, args ...any) error {
	return &jsonError{off: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (value, error) {
	if d.pos >= len(d.data) {
		return value{}, d.errf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.string()
		return value{kind: kString, raw: s}, err
	case c == 't':
		return d.literal("true", value{kind: kBool, b: true})
	case c == 'f':
		return d.literal("false", value{kind: kBool})
	case c == 'n':
		return d.literal("null", value{kind: kNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return value{}, d.errf("unexpected %q", c)
	}
}

func (d *decoder) literal(lit string, v value) (value, error) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return value{}, d.errf("invalid literal")
	}
	d.pos += len(lit)
	return v, nil
}

func (d *decoder) number() (value, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return value{}, d.errf("unexpected end of number")
	}
	if d.data[d.pos] == '0' {
		d.pos++
	} else if d.data[d.pos] >= '1' && d.data[d.pos] <= '9' {
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	} else {
		return value{}, d.errf("invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.pos >= len(d.data) || !isDigit(d.data[d.pos]) {
			return value{}, d.errf("invalid number: digit expected after '.'")
		}
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.pos >= len(d.data) || !isDigit(d.data[d.pos]) {
			return value{}, d.errf("invalid number: digit expected in exponent")
		}
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	}
	return value{kind: kNumber, raw: d.data[start:d.pos]}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// string reads a string starting at the opening quote and returns its
// contents, unescaped (a fresh slice only when there were escapes).
func (d *decoder) string() ([]byte, error) {
	d.pos++ // opening quote
	start := d.pos
	data := d.data
	for d.pos < len(data) {
		// fast path: skip plain bytes
		p := d.pos
		for p < len(data) && plainByte[data[p]] {
			p++
		}
		d.pos = p
		if p >= len(data) {
			break
		}
		c := data[p]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			return s, nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return nil, d.errf("control character in string")
		}
		d.pos++
	}
	return nil, d.errf("unterminated string")
}

func (d *decoder) escapedString(start int) ([]byte, error) {
	out := make([]byte, 0, d.pos-start+16)
	out = append(out, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return out, nil
		case c < 0x20:
			return nil, d.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		// an escape
		if d.pos+1 >= len(d.data) {
			return nil, d.errf("unterminated string")
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, d.errf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					d.pos += 2
					if r2, ok = d.hex4(); !ok {
						return nil, d.errf("invalid \\u escape")
					}
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return nil, d.errf("invalid surrogate pair in \\u escape")
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, d.errf("invalid escape \\%c", e)
		}
	}
	return nil, d.errf("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

func (d *decoder) array() (value, error) {
	start := d.pos
	d.pos++ // [
	d.depth++
	if d.depth > maxDepth {
		return value{}, d.errf("nesting deeper than %d", maxDepth)
	}
	base := len(d.vstack)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return value{kind: kArray, elems: []value{}, start: start, end: d.pos}, nil
	}
	for {
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return value{}, err
		}
		d.vstack = append(d.vstack, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return value{}, d.errf("unterminated list")
		}
		c := d.data[d.pos]
		d.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			d.pos--
			return value{}, d.errf("expected ',' or ']' in list, found %q", c)
		}
	}
	elems := make([]value, len(d.vstack)-base)
	copy(elems, d.vstack[base:])
	clear(d.vstack[base:])
	d.vstack = d.vstack[:base]
	d.depth--
	return value{kind: kArray, elems: elems, start: start, end: d.pos}, nil
}

func (d *decoder) object() (value, error) {
	start := d.pos
	d.pos++ // {
	d.depth++
	if d.depth > maxDepth {
		return value{}, d.errf("nesting deeper than %d", maxDepth)
	}
	base := len(d.mstack)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return value{kind: kObject, members: []member{}, start: start, end: d.pos}, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			if d.pos < len(d.data) && d.data[d.pos] == '}' {
				return value{}, d.errf("trailing comma in object")
			}
			return value{}, d.errf("expected a member name in quotes")
		}
		keyAt := d.pos
		key, err := d.string()
		if err != nil {
			return value{}, err
		}
		for _, m := range d.mstack[base:] {
			if string(m.key) == string(key) {
				d.pos = keyAt
				return value{}, d.errf("duplicate member name %q", key)
			}
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return value{}, d.errf("expected ':' after member name")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return value{}, err
		}
		d.mstack = append(d.mstack, member{key: key, val: v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return value{}, d.errf("unterminated object")
		}
		c := d.data[d.pos]
		d.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			d.pos--
			return value{}, d.errf("expected ',' or '}' in object, found %q", c)
		}
	}
	members := make([]member, len(d.mstack)-base)
	copy(members, d.mstack[base:])
	clear(d.mstack[base:])
	d.mstack = d.mstack[:base]
	d.depth--
	return value{kind: kObject, members: members, start: start, end: d.pos}, nil
}
