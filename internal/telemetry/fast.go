package telemetry

import (
	"encoding/binary"
	"math/bits"
)

// The fast path for EVE. Reading a line token by token, the general
// scanner spends most of its time finding where strings end: a hundred
// quotes a line, each found by a call that scans from the string's start
// (about 7 ns a string here, whatever the method). The fast path first
// marks every quote of the line in a bitmap, 64 bytes a word (with the
// processor's vector instructions where there are some), and then finds
// each string's end with one shift and one count of trailing zeros.
//
// It reads only lines written as Suricata writes them: no space between
// tokens, and no backslash and no control character anywhere in the
// line, so that every string ends at the next quote and is valid as it
// is. It reads the same values as the general path, in the same order;
// on anything else (a space, an escape, a syntax error, a member it does
// not know how to read) it gives up, and the general path reads the line
// from its start and accepts or refuses it. What it accepts, the general
// path accepts with the same event (TestFastSameAsGeneral,
// FuzzEVEFast).

// quoteBits fills q with the quote bitmap of b (bit j of q[k] set when
// b[64k+j] is '"') and k with that of its brackets ({, }, [ and ]), and
// reports whether b is plain: no backslash and no byte below 0x20.
func quoteBits(b []byte, q, k []uint64) bool {
	n := len(b) &^ 63
	plain := quoteBlocks(b[:n], q, k)
	if n == len(b) {
		return plain
	}
	var tq, tk [1]uint64
	if len(b) >= 64 {
		// The last 64 bytes, which overlap the blocks done: their bits
		// shifted down to where the last word starts.
		plain = quoteBlocks(b[len(b)-64:], tq[:], tk[:]) && plain
		sh := 64 - (len(b) - n)
		q[n/64], k[n/64] = tq[0]>>sh, tk[0]>>sh
		return plain
	}
	tail := spaces
	copy(tail[:], b[n:])
	plain = quoteBlocks(tail[:], tq[:], tk[:]) && plain
	q[n/64], k[n/64] = tq[0], tk[0]
	return plain
}

var spaces = [64]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}

// quoteBlocksGo is quoteBlocks eight bytes at a time, for processors
// without the vector code and as its reference in tests. len(b) is a
// multiple of 64.
func quoteBlocksGo(b []byte, q, k []uint64) bool {
	var special uint64
	for i := 0; i+64 <= len(b); i += 64 {
		var wq, wk uint64
		for j := 0; j < 64; j += 8 {
			x := binary.LittleEndian.Uint64(b[i+j:])
			wq |= uint64(byteMask(exactEq(x, '"'))) << j
			y := x | ones*0x20 // [ and ] read as { and }
			wk |= uint64(byteMask(exactEq(y, '{')|exactEq(y, '}'))) << j
			special |= lessBytes(x, 0x20) | eqBytes(x, '\\') // any flag means a true one
		}
		q[i/64], k[i/64] = wq, wk
	}
	return special == 0
}

// byteMask gathers the high bits of x's bytes into a byte, byte i's in
// bit i.
func byteMask(x uint64) uint8 { return uint8((x >> 7) * 0x0102040810204080 >> 56) }

// fastLine is the state of the fast path over one line.
type fastLine struct {
	b    []byte
	q, k []uint64 // the bitmaps of quotes and brackets
}

// next returns the index of the first bit set in m at or after i, or -1:
// the first word inline, the others by nextFar.
func next(m []uint64, i int) int {
	if w := i >> 6; w < len(m) {
		if x := m[w] >> (i & 63); x != 0 {
			return i + bits.TrailingZeros64(x)
		}
		return nextFar(m, w+1)
	}
	return -1
}

func nextFar(m []uint64, w int) int {
	for ; w < len(m); w++ {
		if x := m[w]; x != 0 {
			return w<<6 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

// quotes counts the quotes in b[i:j].
func (f *fastLine) quotes(i, j int) int {
	wi, wj := i>>6, j>>6
	if wi == wj {
		return bits.OnesCount64(f.q[wi] >> (i & 63) & (1<<(j-i) - 1))
	}
	n := bits.OnesCount64(f.q[wi] >> (i & 63))
	for w := wi + 1; w < wj; w++ {
		n += bits.OnesCount64(f.q[w])
	}
	if j&63 != 0 {
		n += bits.OnesCount64(f.q[wj] & (1<<(j&63) - 1))
	}
	return n
}

// flat passes over the object or array at i when it is flat (no bracket
// inside): its first bracket after i, outside strings (an even number of
// quotes before it), closes it. The general path's skipFlat ends at the
// same byte; anything else is left to it (false).
func (f *fastLine) flat(i int) (int, bool) {
	j := next(f.k, i+1)
	if j < 0 || f.b[j] != f.b[i]+2 || f.quotes(i+1, j)&1 != 0 { // '{'+2 is '}', '['+2 is ']'
		return 0, false
	}
	return j + 1, true
}

// str reads the string at i: its text and the index after it.
func (f *fastLine) str(i int) ([]byte, int, bool) {
	b := f.b
	if uint(i) >= uint(len(b)) || b[i] != '"' {
		return nil, 0, false
	}
	e := next(f.q, i+1)
	if e < 0 {
		return nil, 0, false
	}
	return b[i+1 : e], e + 1, true
}

// key reads a member's name at i and the colon after it: the name and
// the index of the value.
func (f *fastLine) key(i int) ([]byte, int, bool) {
	b := f.b
	if uint(i) >= uint(len(b)) || b[i] != '"' {
		return nil, 0, false
	}
	e := next(f.q, i+1)
	if e < 0 || e+2 >= len(b) || b[e+1] != ':' {
		return nil, 0, false
	}
	return b[i+1 : e], e + 2, true
}

// after reads the byte after a member (or element) at i: more is true
// after a comma, false after close; ok is false for anything else.
func (f *fastLine) after(i int, close byte) (next int, more, ok bool) {
	if i >= len(f.b) {
		return 0, false, false
	}
	switch f.b[i] {
	case ',':
		return i + 1, true, true
	case close:
		return i + 1, false, true
	}
	return 0, false, false
}

// skip passes over the value at i: strings and plain integers here, the
// rest by the scanner, with its checks (depth is the nesting the value
// is at).
func (f *fastLine) skip(s *scanner, i, depth int) (int, bool) {
	b := f.b
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		_, j, ok := f.str(i)
		return j, ok
	case c >= '1' && c <= '9':
		j := i + 1
		for j < len(b) && b[j]-'0' <= 9 {
			j++
		}
		if j < len(b) && (b[j] == ',' || b[j] == '}' || b[j] == ']') {
			return j, true
		}
	case c == '{' || c == '[':
		if j, ok := f.flat(i); ok {
			return j, true
		}
	case c == 't' || c == 'f' || c == 'n':
		if j := i + literal(b[i:]); j > i && j < len(b) && (b[j] == ',' || b[j] == '}' || b[j] == ']') {
			return j, true
		}
	}
	s.i, s.depth = i, depth
	if err := s.skip(); err != nil {
		return 0, false
	}
	return s.i, true
}

// eveFast reads the line in s as eveFormat.parse does, or gives up
// (false; ev and s are then to be reset).
func eveFast(s *scanner, ev *Event) bool {
	b := s.b
	n := len(b)
	if n < 2 || b[0] != '{' || b[n-1] != '}' {
		return false
	}
	words := (n + 63) / 64
	if cap(s.q) < 2*words {
		s.q = make([]uint64, 2*words+words/2)
	}
	f := &fastLine{b: b, q: s.q[:words], k: s.q[words : 2*words]}
	if !quoteBits(b, f.q, f.k) {
		return false
	}
	hasTime := false
	for i := 1; ; {
		k, j, ok := f.key(i)
		if !ok {
			return false
		}
		i = j
		switch string(k) {
		case "timestamp":
			v, j, ok := f.str(i)
			if !ok {
				return false
			}
			t, err := s.times.parse(v)
			if err != nil {
				return false
			}
			ev.Time, hasTime, i = t, true, j
		case "src_ip", "dest_ip":
			if a, m, ok := quotedIPv4(b[i:]); ok {
				ev.addAddrValue(a)
				i += m
				break
			}
			if b[i] != '"' {
				// The general path skips a value that is not a string.
				if i, ok = f.skip(s, i, 1); !ok {
					return false
				}
				break
			}
			v, j, ok := f.str(i)
			if !ok {
				return false
			}
			ev.addAddr(v)
			i = j
		case "dns":
			if i, ok = f.dns(s, ev, i); !ok {
				return false
			}
		case "http":
			if i, ok = f.http(s, ev, i); !ok {
				return false
			}
		case "tls":
			if i, ok = f.object(s, ev, i, tlsField); !ok {
				return false
			}
		case "fileinfo":
			if i, ok = f.object(s, ev, i, hashField); !ok {
				return false
			}
		case "smtp":
			s.i, s.depth = i, 1
			if err := eveSMTP(s, ev); err != nil {
				return false
			}
			i = s.i
		default:
			if i, ok = f.skip(s, i, 1); !ok {
				return false
			}
		}
		var more bool
		if i, more, ok = f.after(i, '}'); !ok {
			return false
		}
		if !more {
			if i != n || !hasTime {
				return false
			}
			s.i, s.depth = n, 0
			return true
		}
	}
}

// literal returns the length of the true, false or null that b starts
// with, or 0.
func literal(b []byte) int {
	if len(b) >= 5 && string(b[:5]) == "false" {
		return 5
	}
	if len(b) >= 4 && (string(b[:4]) == "true" || string(b[:4]) == "null") {
		return 4
	}
	return 0
}

func tlsField(k []byte) (Kind, bool) { return Domain, string(k) == "sni" }

// open checks for the '{' of an object at i (the general path skips a
// value of another type: not ok here, so that it does).
func (f *fastLine) open(i int, c byte) bool { return i < len(f.b) && f.b[i] == c }

// members reads the object at i (not empty: the general path reads an
// empty one), calling each with every member's name and the index of its
// value; each returns the index after the value. It returns the index
// after the object.
func (f *fastLine) members(i int, each func(k []byte, i int) (int, bool)) (int, bool) {
	if !f.open(i, '{') || i+1 >= len(f.b) || f.b[i+1] == '}' {
		return 0, false
	}
	for i++; ; {
		k, j, ok := f.key(i)
		if !ok {
			return 0, false
		}
		if i, ok = each(k, j); !ok {
			return 0, false
		}
		var more bool
		if i, more, ok = f.after(i, '}'); !ok {
			return 0, false
		}
		if !more {
			return i, true
		}
	}
}

// elements reads the array at i (not empty), calling each with the index
// of every element; each returns the index after it.
func (f *fastLine) elements(i int, each func(i int) (int, bool)) (int, bool) {
	if !f.open(i, '[') || i+1 >= len(f.b) || f.b[i+1] == ']' {
		return 0, false
	}
	for i++; ; {
		var ok, more bool
		if i, ok = each(i); !ok {
			return 0, false
		}
		if i, more, ok = f.after(i, ']'); !ok {
			return 0, false
		}
		if !more {
			return i, true
		}
	}
}

// text reads the string at i as a value of kind: ev.addText's rules, or
// addrOrDomain's for kind 0.
func (f *fastLine) text(s *scanner, ev *Event, i int, kind Kind) (int, bool) {
	v, j, ok := f.str(i)
	if !ok {
		return 0, false
	}
	if kind == 0 {
		addrOrDomain(ev, v, &s.scratch)
	} else {
		ev.addText(kind, v, &s.scratch)
	}
	return j, true
}

// object reads the object at i as eveObject does.
func (f *fastLine) object(s *scanner, ev *Event, i int, pick func([]byte) (Kind, bool)) (int, bool) {
	return f.members(i, func(k []byte, i int) (int, bool) {
		if kind, ok := pick(k); ok && f.b[i] == '"' {
			return f.text(s, ev, i, kind)
		}
		return f.skip(s, i, 2)
	})
}

// http reads the http object at i as eveHTTP does.
func (f *fastLine) http(s *scanner, ev *Event, i int) (int, bool) {
	var host, uri []byte
	i, ok := f.members(i, func(k []byte, i int) (int, bool) {
		switch string(k) {
		case "hostname", "url":
			v, j, ok := f.str(i) // not a string: left to the general path
			if len(k) == 3 {
				uri = v
			} else {
				host = v
			}
			return j, ok
		}
		return f.skip(s, i, 2)
	})
	if ok {
		addHTTP(ev, host, uri, &s.scratch)
	}
	return i, ok
}

// dns reads the dns object at i as eveDNS does.
func (f *fastLine) dns(s *scanner, ev *Event, i int) (int, bool) {
	return f.members(i, func(k []byte, i int) (int, bool) {
		switch string(k) {
		case "rrname":
			v, j, ok := f.str(i) // not a string: left to the general path
			if ok {
				ev.addDomain(v, &s.scratch)
			}
			return j, ok
		case "rdata":
			return f.text(s, ev, i, 0)
		case "answers", "queries", "authorities":
			return f.records(s, ev, i)
		case "grouped":
			return f.grouped(s, ev, i)
		}
		return f.skip(s, i, 2)
	})
}

// records reads an array of DNS records as eveRecords does.
func (f *fastLine) records(s *scanner, ev *Event, i int) (int, bool) {
	return f.elements(i, func(i int) (int, bool) {
		return f.members(i, func(k []byte, i int) (int, bool) {
			if (string(k) == "rrname" || string(k) == "rdata") && f.b[i] == '"' {
				return f.text(s, ev, i, 0)
			}
			return f.skip(s, i, 4)
		})
	})
}

// grouped reads dns.grouped as eveGrouped does: lists of strings.
func (f *fastLine) grouped(s *scanner, ev *Event, i int) (int, bool) {
	return f.members(i, func(k []byte, i int) (int, bool) {
		kind := Kind(0)
		switch string(k) {
		case "A", "AAAA":
			kind = IPv4 // addAddr, whichever family
		case "CNAME", "NS", "PTR", "MX":
			kind = Domain
		default:
			return f.skip(s, i, 3)
		}
		// An array of strings, not empty.
		return f.elements(i, func(i int) (int, bool) {
			if i >= len(f.b) || f.b[i] != '"' {
				return 0, false
			}
			return f.text(s, ev, i, kind)
		})
	})
}
