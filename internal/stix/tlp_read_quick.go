package stix

import (
	"encoding/binary"
	"unicode/utf8"
)

// readMarkingQuick is ReadMarking's answer for the objects the read paths
// serve, found in one forward pass over the JSON with no decoder, no
// callbacks and no allocation but the recipients it returns: the gate
// asks it for every object of every page it serves that it has not read
// before. It answers (ok) only where it agrees with readTLPSlow for
// certain, the way readTLPFast does, and more narrowly: valid JSON (it
// checks the syntax of every value, skipped or read) whose top-level
// member names and the names inside Parley's extension are ASCII without
// escapes, the members it reads present once under their exact names
// (none differing only in case), object_marking_refs' and the
// recipients' strings without escapes, and each value of the type
// readTLPSlow decodes it into. Anything else — escapes in those places,
// surrogate escapes anywhere, a name in another case, a duplicate,
// nesting beyond maxDepth — it leaves to readTLPFast (ok false). Numbers
// in the members it skips are only checked for syntax, as encoding/json
// checks them there.
func readMarkingQuick(raw []byte) (level string, recipients []string, ok bool) {
	p := wsAt(raw, 0)
	if p >= len(raw) || raw[p] != '{' {
		return "", nil, false
	}
	var (
		seen [len(tlpKeys)]bool
		rank int
	)
	p = wsAt(raw, p+1)
	if p < len(raw) && raw[p] == '}' {
		return "", nil, wsAt(raw, p+1) == len(raw)
	}
	for {
		key, q, ok := plainKey(raw, p)
		if !ok {
			return "", nil, false
		}
		k := quickMember(key, tlpKeys[:])
		if k == -2 {
			return "", nil, false
		}
		if k >= 0 {
			if seen[k] {
				return "", nil, false
			}
			seen[k] = true
		}
		switch k {
		case keyType:
			if q < len(raw) && raw[q] == '"' {
				q = skipStr(raw, q)
			} else {
				q = literalAt(raw, q, "null")
			}
		case keyMarkings:
			q = quickMarkingRefs(raw, q, &rank)
		case keyRefs:
			q = plainStrings(raw, q, nil)
		case keyExtensions:
			q = quickExtensions(raw, q, &recipients)
		default:
			q = skipVal(raw, q, 1)
		}
		if q < 0 {
			return "", nil, false
		}
		q = wsAt(raw, q)
		if q >= len(raw) {
			return "", nil, false
		}
		if raw[q] == '}' {
			p = q + 1
			break
		}
		if raw[q] != ',' {
			return "", nil, false
		}
		p = wsAt(raw, q+1)
	}
	if wsAt(raw, p) != len(raw) {
		return "", nil, false
	}
	if rank > 0 {
		level = tlpByRank[rank]
	}
	return level, recipients, true
}

// wsAt returns the offset of the first byte at or after p that is not
// JSON white space.
func wsAt(raw []byte, p int) int {
	for p < len(raw) {
		switch raw[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

// plainKey reads the member name at p (a string with no escapes) and
// the colon after it: the name's bytes and the offset of the value, past
// white space; ok false for anything else (or a name that is not ASCII).
func plainKey(raw []byte, p int) (key []byte, q int, ok bool) {
	if p >= len(raw) || raw[p] != '"' {
		return nil, 0, false
	}
	e := plainRun(raw, p+1)
	if e >= len(raw) || raw[e] != '"' {
		return nil, 0, false
	}
	key = raw[p+1 : e]
	if !isASCII(key) {
		return nil, 0, false
	}
	q = wsAt(raw, e+1)
	if q >= len(raw) || raw[q] != ':' {
		return nil, 0, false
	}
	return key, wsAt(raw, q+1), true
}

// isASCII reports whether b is ASCII, eight bytes at a time.
func isASCII(b []byte) bool {
	var or uint64
	for len(b) >= 8 {
		or |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		or |= uint64(c)
	}
	return or&msb == 0
}

// quickMember says which of names the ASCII name key is: its index when
// it is exactly that name, -1 when it is none of them, -2 when it
// differs from one only in case (encoding/json would take it).
func quickMember(key []byte, names []string) int {
	for i, n := range names {
		if len(key) != len(n) {
			continue
		}
		if string(key) == n {
			return i
		}
		if asciiEqualFold(key, n) {
			return -2
		}
	}
	return -1
}

// asciiEqualFold reports whether the ASCII a and b, of one length, are
// equal but for the case of letters.
func asciiEqualFold(a []byte, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// quickMarkingRefs reads object_marking_refs at p — null, or a list of
// strings without escapes — raising rank to the most restrictive TLP
// marking it names; the offset after it, or -1.
func quickMarkingRefs(raw []byte, p int, rank *int) int {
	return plainStrings(raw, p, func(id []byte) {
		if m, ok := tlpByID[string(id)]; ok {
			*rank = max(*rank, tlpRank[m.Level])
		}
	})
}

// plainStrings reads null or a list of strings at p, calling each (when
// not nil) with every string's bytes; the offset after it, or -1. Strings
// with escapes are refused when each is set (their bytes are not their
// value) and checked otherwise.
func plainStrings(raw []byte, p int, each func(s []byte)) int {
	if p < len(raw) && raw[p] == 'n' {
		return literalAt(raw, p, "null")
	}
	if p >= len(raw) || raw[p] != '[' {
		return -1
	}
	p = wsAt(raw, p+1)
	if p < len(raw) && raw[p] == ']' {
		return p + 1
	}
	for {
		if p >= len(raw) || raw[p] != '"' {
			return -1
		}
		if each == nil {
			if p = skipStr(raw, p); p < 0 {
				return -1
			}
		} else {
			e := plainRun(raw, p+1)
			if e >= len(raw) || raw[e] != '"' {
				return -1
			}
			each(raw[p+1 : e])
			p = e + 1
		}
		p = wsAt(raw, p)
		if p >= len(raw) {
			return -1
		}
		switch raw[p] {
		case ']':
			return p + 1
		case ',':
			p = wsAt(raw, p+1)
		default:
			return -1
		}
	}
}

// quickExtensions reads the extensions member at p, null or an object,
// and from it the recipients of Parley's property-extension; the offset
// after it, or -1 where readMarkingQuick does not decide.
func quickExtensions(raw []byte, p int, recipients *[]string) int {
	if p < len(raw) && raw[p] == 'n' {
		return literalAt(raw, p, "null")
	}
	found := false
	return quickObject(raw, p, func(key []byte, q int) int {
		if string(key) != ParleyExtensionID {
			return skipVal(raw, q, 3)
		}
		if found {
			return -1
		}
		found = true
		seen := false
		return quickObject(raw, q, func(key []byte, q int) int {
			switch quickMember(key, recipientsKey[:]) {
			case -1:
				return skipVal(raw, q, 4)
			case -2:
				return -1
			}
			if seen {
				return -1
			}
			seen = true
			if q < len(raw) && raw[q] == 'n' {
				return literalAt(raw, q, "null")
			}
			list := []string{}
			valid := true
			e := plainStrings(raw, q, func(s []byte) {
				valid = valid && utf8.Valid(s)
				list = append(list, string(s))
			})
			if !valid {
				return -1
			}
			*recipients = list
			return e
		})
	})
}

// quickObject reads the object at p, whose member names must be ASCII
// without escapes, calling member with each name and the offset of its
// value, which member reads, returning the offset after it (or -1); the
// offset after the object, or -1.
func quickObject(raw []byte, p int, member func(key []byte, q int) int) int {
	if p >= len(raw) || raw[p] != '{' {
		return -1
	}
	p = wsAt(raw, p+1)
	if p < len(raw) && raw[p] == '}' {
		return p + 1
	}
	for {
		key, q, ok := plainKey(raw, p)
		if !ok {
			return -1
		}
		if q = member(key, q); q < 0 {
			return -1
		}
		q = wsAt(raw, q)
		if q >= len(raw) {
			return -1
		}
		switch raw[q] {
		case '}':
			return q + 1
		case ',':
			p = wsAt(raw, q+1)
		default:
			return -1
		}
	}
}

// literalAt checks the literal lit at p; the offset after it, or -1.
func literalAt(raw []byte, p int, lit string) int {
	if len(raw)-p < len(lit) || string(raw[p:p+len(lit)]) != lit {
		return -1
	}
	return p + len(lit)
}

// skipStr checks the string at p (its opening quote): no control
// characters, escapes that are valid and not surrogates (which
// encoding/json and the decoder read differently when unpaired, so they
// are left to readTLPFast). It returns the offset after the string, or
// -1.
func skipStr(raw []byte, p int) int {
	p++
	for {
		p = plainRun(raw, p)
		if p >= len(raw) {
			return -1
		}
		switch raw[p] {
		case '"':
			return p + 1
		case '\\':
		default:
			return -1 // a control character
		}
		if p+1 >= len(raw) {
			return -1
		}
		switch raw[p+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			p += 2
		case 'u':
			if len(raw)-p < 6 {
				return -1
			}
			var r rune
			for _, c := range raw[p+2 : p+6] {
				switch {
				case c >= '0' && c <= '9':
					r = r<<4 | rune(c-'0')
				case c >= 'a' && c <= 'f':
					r = r<<4 | rune(c-'a'+10)
				case c >= 'A' && c <= 'F':
					r = r<<4 | rune(c-'A'+10)
				default:
					return -1
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				return -1
			}
			p += 6
		default:
			return -1
		}
	}
}

// skipNum checks the syntax of the number at p; the offset after it, or
// -1.
func skipNum(raw []byte, p int) int {
	if p < len(raw) && raw[p] == '-' {
		p++
	}
	switch {
	case p < len(raw) && raw[p] == '0':
		p++
	case p < len(raw) && raw[p] >= '1' && raw[p] <= '9':
		p = digitsAt(raw, p)
	default:
		return -1
	}
	if p < len(raw) && raw[p] == '.' {
		if p+1 >= len(raw) || !isDigit(raw[p+1]) {
			return -1
		}
		p = digitsAt(raw, p+1)
	}
	if p < len(raw) && (raw[p] == 'e' || raw[p] == 'E') {
		p++
		if p < len(raw) && (raw[p] == '+' || raw[p] == '-') {
			p++
		}
		if p >= len(raw) || !isDigit(raw[p]) {
			return -1
		}
		p = digitsAt(raw, p)
	}
	return p
}

// digitsAt returns the offset of the first byte at or after p that is
// not a digit.
func digitsAt(raw []byte, p int) int {
	for p < len(raw) && isDigit(raw[p]) {
		p++
	}
	return p
}

// skipVal checks the value at p, at nesting depth (the top-level
// object's members are at 1); the offset after it, or -1.
func skipVal(raw []byte, p, depth int) int {
	if p >= len(raw) {
		return -1
	}
	switch c := raw[p]; {
	case c == '"':
		return skipStr(raw, p)
	case c == '{':
		if depth >= maxDepth {
			return -1
		}
		return quickObject(raw, p, func(_ []byte, q int) int { return skipVal(raw, q, depth+1) })
	case c == '[':
		if depth >= maxDepth {
			return -1
		}
		p = wsAt(raw, p+1)
		if p < len(raw) && raw[p] == ']' {
			return p + 1
		}
		for {
			if p = skipVal(raw, p, depth+1); p < 0 {
				return -1
			}
			p = wsAt(raw, p)
			if p >= len(raw) {
				return -1
			}
			switch raw[p] {
			case ']':
				return p + 1
			case ',':
				p = wsAt(raw, p+1)
			default:
				return -1
			}
		}
	case c == 't':
		return literalAt(raw, p, "true")
	case c == 'f':
		return literalAt(raw, p, "false")
	case c == 'n':
		return literalAt(raw, p, "null")
	case c == '-' || isDigit(c):
		return skipNum(raw, p)
	}
	return -1
}
