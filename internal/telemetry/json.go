package telemetry

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small JSON reader over one line, made for speed: it
// walks the document in place, returns strings as slices of the line
// (unescaped into scratch only when they hold escapes) and skips the
// values a reader does not need without building them. It checks the
// syntax of what it walks, enough that a malformed line is an error and
// never a panic; it does not check that skipped strings are valid UTF-8.
type scanner struct {
	b       []byte
	i       int
	scratch []byte
	depth   int
	times   timeCache
	q       []uint64 // the quote bitmap of the EVE fast path
}

// errSyntax is a JSON syntax error at a byte offset.
type errSyntax struct {
	pos int
	msg string
}

func (e *errSyntax) Error() string { return fmt.Sprintf("offset %d: %s", e.pos, e.msg) }

func (s *scanner) fail(msg string) error { return &errSyntax{s.i, msg} }

// maxDepth bounds nesting so that a hostile line cannot exhaust the stack.
const maxDepth = 64

func (s *scanner) reset(b []byte) {
	s.b, s.i, s.depth = b, 0, 0
	s.scratch = s.scratch[:0]
}

func (s *scanner) ws() {
	// Most JSON lines have no spaces: one test, inlined.
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return
	}
	s.wsSlow()
}

func (s *scanner) wsSlow() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// end checks that nothing but spaces follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.fail("text after the JSON value")
	}
	return nil
}

// open consumes c ('{' or '[').
func (s *scanner) open(c byte) error {
	if s.peek() != c {
		if c == '{' {
			return s.fail("expected an object")
		}
		return s.fail("expected an array")
	}
	s.depth++
	if s.depth > maxDepth {
		return s.fail("nested too deeply")
	}
	s.i++
	return nil
}

// next reports whether another member (or element) follows in the object
// or array being read, consuming the comma or the closing byte. first is
// true before the first member.
func (s *scanner) next(close byte, first bool) (bool, error) {
	if !first && s.i+1 < len(s.b) && s.b[s.i] == ',' && s.b[s.i+1] == '"' {
		// The common case: a comma right before the next member's name.
		s.i++
		return true, nil
	}
	c := s.peek()
	if c == close {
		s.i++
		s.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.fail("expected , or " + string(close))
		}
		s.i++
		s.ws()
	}
	return true, nil
}

// key reads a member's name and the colon after it.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.fail("expected a member name")
	}
	b := s.b
	start := s.i + 1
	var i int
	if start+8 <= len(b) {
		// Most names are shorter than eight bytes: their end is found in
		// one word, without a call.
		if m := strStops(binary.LittleEndian.Uint64(b[start:])); m != 0 {
			i = start + bits.TrailingZeros64(m)/8
		} else {
			i = firstStrStop(b, start+8)
		}
	} else {
		i = firstStrStop(b, start)
	}
	if i < len(b) && b[i] == '"' && i+1 < len(b) && b[i+1] == ':' {
		// The common case: a plain name right before its colon.
		s.i = i + 2
		return b[start:i], nil
	}
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	if s.peek() != ':' {
		return nil, s.fail("expected :")
	}
	s.i++
	return k, nil
}

// isStr reports whether the next value is a string.
func (s *scanner) isStr() bool { return s.peek() == '"' }

// strStop marks the bytes that end the plain run of a string: the
// closing quote, a backslash, and control characters (not allowed).
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str reads a string value. The result is valid until reset.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.fail("expected a string")
	}
	start := s.i + 1
	b := s.b
	i := firstStrStop(b, start)
	switch {
	case i == len(b):
		return nil, s.fail("unterminated string")
	case b[i] == '"':
		s.i = i + 1
		return b[start:i], nil
	case b[i] == '\\':
		return s.unescape(start)
	}
	s.i = i
	return nil, s.fail("control character in a string")
}

// unescape decodes a string with escapes into scratch.
func (s *scanner) unescape(start int) ([]byte, error) {
	at := len(s.scratch)
	i := start
	for {
		if i >= len(s.b) {
			s.i = i
			return nil, s.fail("unterminated string")
		}
		c := s.b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return s.scratch[at:], nil
		case c < 0x20:
			s.i = i
			return nil, s.fail("control character in a string")
		case c != '\\':
			s.scratch = append(s.scratch, c)
			i++
			continue
		}
		if i+1 >= len(s.b) {
			s.i = i
			return nil, s.fail("unterminated string")
		}
		e := s.b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			s.scratch = append(s.scratch, e)
		case 'b':
			s.scratch = append(s.scratch, '\b')
		case 'f':
			s.scratch = append(s.scratch, '\f')
		case 'n':
			s.scratch = append(s.scratch, '\n')
		case 'r':
			s.scratch = append(s.scratch, '\r')
		case 't':
			s.scratch = append(s.scratch, '\t')
		case 'u':
			r, ok := hex4(s.b, i)
			if !ok {
				s.i = i
				return nil, s.fail(`bad \u escape`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(s.b) && s.b[i] == '\\' && s.b[i+1] == 'u' {
					r2, ok = hex4(s.b, i+2)
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			s.scratch = utf8.AppendRune(s.scratch, r)
		default:
			s.i = i - 1
			return nil, s.fail("bad escape")
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// num reads a number and returns its text.
func (s *scanner) num() ([]byte, error) {
	s.ws()
	start := s.i
	b := s.b
	i := start
	// The common case, checked as it is read: an integer without a
	// leading zero, then an optional fraction.
	if i < len(b) && b[i] >= '1' && b[i] <= '9' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i < len(b) && b[i] == '.' {
			j := i + 1
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j > i+1 {
				i = j
			}
		}
		if i == len(b) || !numByte[b[i]] {
			s.i = i
			return b[start:i], nil
		}
	}
	i = start
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := 0
	for i < len(b) {
		c := b[i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && digits > 0) {
			i++
			digits++
			continue
		}
		break
	}
	if digits == 0 || !validNumber(b[start:i]) {
		return nil, s.fail("bad number")
	}
	s.i = i
	return b[start:i], nil
}

// numByte marks the bytes num's general case reads as part of a number.
var numByte = func() (t [256]bool) {
	for _, c := range "0123456789.eE+-" {
		t[c] = true
	}
	return t
}()

// validNumber checks JSON's number grammar.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	d := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == d || (b[d] == '0' && i-d > 1) {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}

// skip passes over one value of any type. Objects and arrays are
// passed over fast: brackets must balance and strings end, but the
// grammar inside is not checked.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		_, err := s.skipStr()
		return err
	case '{', '[':
		return s.skipNested()
	case 't':
		return s.word("true")
	case 'f':
		return s.word("false")
	case 'n':
		return s.word("null")
	case 0:
		return s.fail("unexpected end of line")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err := s.num()
		return err
	default:
		return s.fail("unexpected character")
	}
}

// skipNested passes over an object or array: a flat one by skipFlat,
// any other by skipWords.
func (s *scanner) skipNested() error {
	if s.skipFlat() {
		return nil
	}
	return s.skipWords()
}

// skipWords passes over an object or array by counting brackets, eight
// bytes at a time: the quotes of a word give, by a prefix XOR, which of
// its bytes are inside strings, and only the brackets outside them are
// looked at. A word with a backslash (or after one) is read a byte at a
// time.
func (s *scanner) skipWords() error {
	var stack [maxDepth]byte
	depth := 0
	b := s.b
	i := s.i
	inStr, esc := false, false
	lastOpen := 0 // where the string being read began
	for i < len(b) {
		var x uint64
		if i+8 <= len(b) && !esc {
			x = binary.LittleEndian.Uint64(b[i:])
		}
		if i+8 > len(b) || esc || exactEq(x, '\\') != 0 {
			// A byte at a time, to the end of this word.
			end := min(i+8, len(b))
			for ; i < end; i++ {
				c := b[i]
				if inStr {
					switch {
					case esc:
						esc = false
					case c == '\\':
						esc = true
					case c == '"':
						inStr = false
					}
					continue
				}
				switch c {
				case '"':
					inStr, lastOpen = true, i
				case '{', '[', '}', ']':
					done, err := s.bracket(&stack, &depth, c, i)
					if err != nil || done {
						return err
					}
				}
			}
			continue
		}
		q := exactEq(x, '"')
		p := q ^ q<<8
		p ^= p << 16
		p ^= p << 32 // byte j: an odd number of quotes at bytes 0..j
		if inStr {
			p ^= highs
		}
		if p>>63 != 0 {
			if open := q & p; open != 0 {
				lastOpen = i + (63-bits.LeadingZeros64(open))/8
			}
			inStr = true
		} else {
			inStr = false
		}
		y := x | ones*0x20 // [ and ] read as { and }
		for br := (exactEq(y, '{') | exactEq(y, '}')) &^ p; br != 0; br &= br - 1 {
			j := i + bits.TrailingZeros64(br)/8
			done, err := s.bracket(&stack, &depth, b[j], j)
			if err != nil || done {
				return err
			}
		}
		i += 8
	}
	if inStr {
		s.i = lastOpen
		return s.fail("unterminated string")
	}
	s.i = len(b)
	return s.fail("unexpected end of line")
}

// skipFlat passes over a flat object or array, the common case
// ({"a":1,"b":"x"}, [1,2]: no bracket and no backslash inside), with
// package bytes' vector code: the first closing bracket ends the value
// when no other bracket and no backslash come before it and the quotes
// before it are even (so it is outside strings). skipNested would end
// at the same byte; anything else is left to it (false).
func (s *scanner) skipFlat() bool {
	i := s.i
	if s.depth >= maxDepth || i >= len(s.b) {
		return false
	}
	var close byte
	var others string
	switch s.b[i] {
	case '{':
		close, others = '}', "{[]\\"
	case '[':
		close, others = ']', "[{}\\"
	default:
		return false
	}
	rest := s.b[i+1:]
	end := bytes.IndexByte(rest, close)
	if end < 0 {
		return false
	}
	seg := rest[:end]
	for j := 0; j < len(others); j++ {
		if bytes.IndexByte(seg, others[j]) >= 0 {
			return false
		}
	}
	if bytes.Count(seg, []byte{'"'})%2 != 0 {
		return false
	}
	s.i = i + 1 + end + 1
	return true
}

// bracket takes the bracket c at byte i of a skipped value: done when
// it closes the value.
func (s *scanner) bracket(stack *[maxDepth]byte, depth *int, c byte, i int) (done bool, err error) {
	switch c {
	case '{', '[':
		if s.depth+*depth >= maxDepth {
			s.i = i
			return false, s.fail("nested too deeply")
		}
		stack[*depth] = c
		*depth++
		return false, nil
	}
	want := byte('{')
	if c == ']' {
		want = '['
	}
	if *depth == 0 || stack[*depth-1] != want {
		s.i = i
		return false, s.fail("unbalanced " + string(c))
	}
	*depth--
	if *depth == 0 {
		s.i = i + 1
		return true, nil
	}
	return false, nil
}

// skipStr passes over a string without unescaping it.
func (s *scanner) skipStr() (struct{}, error) {
	if s.peek() != '"' {
		return struct{}{}, s.fail("expected a string")
	}
	b := s.b
	for i := s.i + 1; ; i += 2 {
		i = firstQuoteOrBackslash(b, i)
		if i >= len(b) {
			break
		}
		if b[i] == '"' {
			s.i = i + 1
			return struct{}{}, nil
		}
	}
	return struct{}{}, s.fail("unterminated string")
}

func (s *scanner) word(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return s.fail("unexpected character")
	}
	s.i += len(w)
	return nil
}

// strOrSkip returns the next value if it is a string; any other value
// is skipped and nil returned.
func (s *scanner) strOrSkip() ([]byte, error) {
	if s.isStr() {
		return s.str()
	}
	return nil, s.skip()
}

// strList reads a string or an array of strings, calling f for each
// string; other values are skipped.
func (s *scanner) strList(f func([]byte)) error {
	switch s.peek() {
	case '"':
		v, err := s.str()
		if err == nil {
			f(v)
		}
		return err
	case '[':
		if err := s.open('['); err != nil {
			return err
		}
		for first := true; ; first = false {
			more, err := s.next(']', first)
			if err != nil || !more {
				return err
			}
			v, err := s.strOrSkip()
			if err != nil {
				return err
			}
			if v != nil {
				f(v)
			}
		}
	}
	return s.skip()
}
