package stix

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file holds a small strict JSON decoder. It decodes a document once
// into a tree of values that point into the input (no string is copied
// unless it holds escapes), which is what makes Parse fast enough for bulk
// imports. It accepts exactly RFC 8259 JSON in UTF-8 and, as I-JSON asks,
// refuses duplicate member names (at every level, in time linear in
// their number), numbers outside the range of a double and integers
// outside ±(2^53-1). Its errors carry the JSON pointer of the value or
// member at fault.
//
// The tree lives in memory the decoder owns (chunks of values, members
// and unescaped string bytes, and the stack arrays that large containers
// keep, all of which a pooled decoder reuses), so a decoded
// tree is only valid until the decoder is released: nothing of it may be
// kept after Parse or ParseBundle returns except copies.
//
// The same decoder also has a validating scanner (skip) that checks a
// value's syntax without building anything; ParseBundle uses it to split
// a bundle into its objects.

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

// value is one decoded JSON value. It is kept small (24 bytes, one
// pointer) because a wide object's tree is mostly values: its one
// pointer is, by kind, to the contents of a string (unescaped), to the
// literal of a number, to the first element of a list or to the first
// member of an object, and n is their number.
type value struct {
	p    unsafe.Pointer
	n    int
	kind kind
	b    bool // kBool
}

func bytesValue(k kind, b []byte) value {
	return value{kind: k, p: unsafe.Pointer(unsafe.SliceData(b)), n: len(b)}
}

func listValue(elems []value) value {
	return value{kind: kArray, p: unsafe.Pointer(unsafe.SliceData(elems)), n: len(elems)}
}

func objectValue(members []member) value {
	return value{kind: kObject, p: unsafe.Pointer(unsafe.SliceData(members)), n: len(members)}
}

// raw is a string's contents (unescaped) or a number's literal; nil for
// other kinds.
func (v *value) raw() []byte {
	if v.kind != kString && v.kind != kNumber {
		return nil
	}
	return unsafe.Slice((*byte)(v.p), v.n)
}

// elems is a list's elements; nil for other kinds.
func (v *value) elems() []value {
	if v.kind != kArray {
		return nil
	}
	return unsafe.Slice((*value)(v.p), v.n)
}

// members is an object's members; nil for other kinds.
func (v *value) members() []member {
	if v.kind != kObject {
		return nil
	}
	return unsafe.Slice((*member)(v.p), v.n)
}

type member struct {
	key []byte
	val value
}

func (v *value) str() string { return string(v.raw()) }

// get returns the member named key of an object, or nil.
func (v *value) get(key string) *value {
	for i := range v.members() {
		if string(v.members()[i].key) == key {
			return &v.members()[i].val
		}
	}
	return nil
}

// int returns the number as an int64 when it is an integer in range.
func (v *value) int() (int64, bool) {
	if v.kind != kNumber {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(v.raw()), 10, 64); err == nil {
		return n, true
	}
	// 1e3 and 10.0 are integers too.
	f, err := strconv.ParseFloat(string(v.raw()), 64)
	if err != nil || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int64(f), true
}

func (v *value) float() (float64, bool) {
	if v.kind != kNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.raw()), 64)
	return f, err == nil
}

// jsonError is a syntax error at a byte offset, or a document that is
// JSON but not one every reader reads alike (a duplicate member name, a
// number out of range).
type jsonError struct {
	off  int
	ptr  string // JSON pointer to the value or member at fault, "" for the top level
	rule string // RuleJSON, RuleDuplicate or RuleNumber
	msg  string
}

// text is the error without its pointer.
func (e *jsonError) text() string {
	return "invalid JSON at byte " + strconv.Itoa(e.off) + ": " + e.msg
}

func (e *jsonError) Error() string {
	if e.ptr == "" {
		return e.text()
	}
	return e.text() + " (at " + e.ptr + ")"
}

// Rules of the JSON reader itself (besides RuleJSON, a syntax error).
const (
	ruleDuplicate = RuleDuplicate
	ruleNumber    = RuleNumber
)

// maxSafeInt is the largest integer magnitude Parley accepts, 2^53-1:
// every integer up to it is exactly a double, so every JSON reader
// (JavaScript's, Python's, Go's into float64 or int64) reads it alike.
const maxSafeInt = 1<<53 - 1

// frame is one level of the path from the top of a document to the
// value being read, for the JSON pointer in an error.
type frame struct {
	key   []byte // object: the member being read (nil before its name)
	raw   bool   // key is as written, escapes and all (the scanner's)
	arr   bool
	index int // list: the element being read
}

const maxDepth = 256

// plainByte marks the bytes a string may hold as they are: not a quote,
// not a backslash, not a control character.
var plainByte = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// Eight bytes at a time ("SWAR"): lsb has the low bit of every byte set,
// msb the high bit.
const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	spaces = lsb * ' '
)

// special8 has the high bit set in the lowest byte of x (little endian)
// that is a quote, a backslash or a control character, and possibly in
// later bytes; it is zero when none of the eight bytes is such a byte.
func special8(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return (((q - lsb) &^ q) | ((b - lsb) &^ b) | ((x - lsb*0x20) &^ x)) & msb
}

// chunk sizes of the decoder's arenas
const (
	valueChunk  = 256
	memberChunk = 256
	byteChunk   = 4096
)

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

type decoder struct {
	data  []byte
	pos   int
	depth int
	// scratch stacks, reused across nested containers
	vstack []value
	mstack []member
	// arenas: a container's children are copied here when it closes;
	// chunks never move, so slices into them stay valid until reset.
	vchunks [][]value
	vi      int // current chunk
	mchunks [][]member
	mi      int
	bchunks [][]byte
	bi      int
	scratch []byte // unescaping
	path    []frame
	// member names compared by the duplicate check (for a test that
	// it is linear)
	nameCompares int
	root         value // the decoded document, for Parse
	big          bool  // a chunk of several MB was made
	// the stacks' arrays handed over to large containers (up to the
	// stack's length then); release keeps the largest as the next stack
	keptV [][]value
	keptM [][]member
	// the duplicate check of objects with many members: the hashes
	// and indexes of their names (a stack: an object's entries are
	// above its parent's), and the radix sort's buffer
	hstack []uint64
	htmp   []uint64
	seed   maphash.Seed
	// the most entries the hash stack may need in this document (set
	// by sizeStack for large ones, 0 otherwise): the first object that
	// needs the stack makes it that large, so that it does not grow
	hbound int
	// the checker Parse runs over the tree, kept here so that it is
	// reused too
	c checker
}

// getDecoder returns a pooled decoder set up to read data.
func getDecoder(data []byte) *decoder {
	d := decoderPool.Get().(*decoder)
	d.data, d.pos, d.depth = data, 0, 0
	d.path = d.path[:0]
	d.nameCompares = 0
	d.hstack = d.hstack[:0]
	d.hbound = 0
	return d
}

// release forgets everything decoded (so that the pool keeps no
// reference to the input) and returns d to the pool.
func (d *decoder) release() {
	d.data = nil
	clear(d.path)
	d.path = d.path[:0]
	d.vstack = reuseStack(d.vstack, d.keptV, maxPooledStack/int(unsafe.Sizeof(value{})))
	clear(d.keptV)
	d.keptV = d.keptV[:0]
	d.mstack = reuseStack(d.mstack, d.keptM, maxPooledStack/int(unsafe.Sizeof(member{})))
	clear(d.keptM)
	d.keptM = d.keptM[:0]
	for i := 0; i <= d.vi && i < len(d.vchunks); i++ {
		clear(d.vchunks[i])
		d.vchunks[i] = d.vchunks[i][:0]
	}
	for i := 0; i <= d.mi && i < len(d.mchunks); i++ {
		clear(d.mchunks[i])
		d.mchunks[i] = d.mchunks[i][:0]
	}
	for i := 0; i <= d.bi && i < len(d.bchunks); i++ {
		d.bchunks[i] = d.bchunks[i][:0]
	}
	d.vi, d.mi, d.bi = 0, 0, 0
	d.c = checker{}
	d.root = value{}
	// a very large document leaves very large chunks and hash stacks
	// behind: let them go rather than keep them in the pool (the stacks
	// were limited above)
	if d.big || len(d.vchunks) > 64 || len(d.mchunks) > 64 || len(d.bchunks) > 64 ||
		cap(d.scratch) > 1<<22 || cap(d.hstack) > 1<<20 || cap(d.htmp) > 1<<20 {
		*d = decoder{}
	}
	decoderPool.Put(d)
}

// maxPooledStack is the most memory (in bytes) a pooled decoder keeps
// for each of its stacks.
const maxPooledStack = 8 << 20

// reuseStack returns the stack a released decoder keeps: the largest of
// stack and the arrays handed over (kept) that is within limit
// elements, emptied, or nil. The part of stack beyond its length is
// already zero; a kept array is cleared up to its length.
func reuseStack[T any](stack []T, kept [][]T, limit int) []T {
	clear(stack)
	best := stack
	for _, k := range kept {
		if cap(k) > cap(best) && cap(k) <= limit {
			clear(k)
			best = k
		}
	}
	if cap(best) > limit {
		return nil
	}
	return best[:0]
}

// values copies src into the arena and returns the copy.
func (d *decoder) values(src []value) []value {
	n := len(src)
	for d.vi < len(d.vchunks) {
		ch := d.vchunks[d.vi]
		if cap(ch)-len(ch) >= n {
			s := ch[len(ch) : len(ch)+n : len(ch)+n]
			copy(s, src)
			d.vchunks[d.vi] = ch[:len(ch)+n]
			return s
		}
		if d.vi+1 == len(d.vchunks) {
			break
		}
		d.vi++
	}
	ch := make([]value, n, max(n, valueChunk))
	d.big = d.big || n > 1<<16
	copy(ch, src)
	d.vchunks = append(d.vchunks, ch)
	d.vi = len(d.vchunks) - 1
	return ch[:n:n]
}

// members copies src into the arena and returns the copy.
func (d *decoder) members(src []member) []member {
	n := len(src)
	for d.mi < len(d.mchunks) {
		ch := d.mchunks[d.mi]
		if cap(ch)-len(ch) >= n {
			s := ch[len(ch) : len(ch)+n : len(ch)+n]
			copy(s, src)
			d.mchunks[d.mi] = ch[:len(ch)+n]
			return s
		}
		if d.mi+1 == len(d.mchunks) {
			break
		}
		d.mi++
	}
	ch := make([]member, n, max(n, memberChunk))
	d.big = d.big || n > 1<<16
	copy(ch, src)
	d.mchunks = append(d.mchunks, ch)
	d.mi = len(d.mchunks) - 1
	return ch[:n:n]
}

// bytes copies src into the arena and returns the copy.
func (d *decoder) bytes(src []byte) []byte {
	n := len(src)
	for d.bi < len(d.bchunks) {
		ch := d.bchunks[d.bi]
		if cap(ch)-len(ch) >= n {
			s := ch[len(ch) : len(ch)+n : len(ch)+n]
			copy(s, src)
			d.bchunks[d.bi] = ch[:len(ch)+n]
			return s
		}
		if d.bi+1 == len(d.bchunks) {
			break
		}
		d.bi++
	}
	ch := make([]byte, n, max(n, byteChunk))
	d.big = d.big || n > 1<<22
	copy(ch, src)
	d.bchunks = append(d.bchunks, ch)
	d.bi = len(d.bchunks) - 1
	return ch[:n:n]
}

// grow returns s with room for one more element: it doubles the
// capacity when s is full. (append grows large slices by a quarter, so a
// stack that ends with n elements would have allocated, cleared and
// copied about 5n elements on the way; doubling costs 2n.)
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	ns := make([]T, len(s), max(2*cap(s), 64))
	copy(ns, s)
	return ns
}

// handOver ends a container whose children are stack[base:]: the
// children keep the stack's memory as they are (a large container is
// not copied into the arena again), and the stack goes on in a new
// array holding a copy of stack[:base]. The caller hands over only when
// the children are at least as many as base, so the copy costs no more
// than the children did, and only when they are more than a chunk, so
// the new array's allocation is paid for too.
func handOver[T any](stack []T, base int) (children, rest []T) {
	children = stack[base:len(stack):len(stack)]
	rest = make([]T, base, max(2*base, 64))
	copy(rest, stack[:base])
	return children, rest
}

// decode parses d's data as one JSON value with nothing but white space
// after it. The tree is valid until d is released.
func (d *decoder) decode() (value, error) {
	if !utf8.Valid(d.data) {
		return value{}, &jsonError{off: invalidUTF8At(d.data), rule: RuleJSON, msg: "not valid UTF-8"}
	}
	d.sizeStack()
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return value{}, err
	}
	if err := d.end(); err != nil {
		return value{}, err
	}
	return v, nil
}

// presizeAt is the size of a document from which decode sizes the
// member stack before reading it.
const presizeAt = 64 << 10

// sizeStack gives the member stack of a large document, before it is
// read, room for every member the document may have, so that it never
// grows: growing by doubling allocates, clears and copies twice the
// memory the members need (and the stack holds pointers, so the copies
// are scanned and write-barriered while the collector runs), which
// made the time per member of an object with 100,000 members half as
// large again as with 10,000. Every member has a colon outside strings,
// so the colons are a bound that costs one vectorised count; colons in
// strings make it larger, and it is limited to a member per five bytes
// (the smallest member, "":0, and its comma), which is as much memory
// as members filling the document would take.
func (d *decoder) sizeStack() {
	if len(d.data) < presizeAt {
		return
	}
	n := min(bytes.Count(d.data, []byte{':'}), len(d.data)/5) + 1
	if cap(d.mstack)-len(d.mstack) < n {
		ns := make([]member, len(d.mstack), len(d.mstack)+n)
		copy(ns, d.mstack)
		d.mstack = ns
	}
	d.hbound = n
}

// end checks that nothing but white space follows the top-level value.
func (d *decoder) end() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.errf("unexpected " + strconv.QuoteRune(rune(d.data[d.pos])) + " after the top-level value")
	}
	return nil
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

func (d *decoder) errf(msg string) error {
	return d.errRule(RuleJSON, msg)
}

// errRule is an error of the given rule at d.pos and the current path.
func (d *decoder) errRule(rule, msg string) error {
	return &jsonError{off: d.pos, ptr: d.pointer(), rule: rule, msg: msg}
}

// pointer is the JSON pointer of the current path (only on the error
// path).
func (d *decoder) pointer() string {
	var segs []any
	for _, f := range d.path {
		switch {
		case f.arr:
			segs = append(segs, f.index)
		case f.key == nil:
			return jp("", segs...)
		case f.raw:
			var k string
			if json.Unmarshal(append(append([]byte{'"'}, f.key...), '"'), &k) != nil {
				k = string(f.key)
			}
			segs = append(segs, k)
		default:
			segs = append(segs, f.key)
		}
	}
	return jp("", segs...)
}

// push enters a list (arr) or an object.
func (d *decoder) push(arr bool) {
	d.path = append(d.path, frame{arr: arr})
}

func (d *decoder) pop() { d.path = d.path[:len(d.path)-1] }

// setIndex records that the list being read is at element i.
func (d *decoder) setIndex(i int) { d.path[len(d.path)-1].index = i }

// quoteByte formats c as %q does for a byte.
func quoteByte(c byte) string { return strconv.QuoteRune(rune(c)) }

func (d *decoder) skipSpace() {
	if d.pos < len(d.data) && d.data[d.pos] > ' ' {
		return
	}
	d.skipSpaceSlow()
}

func (d *decoder) skipSpaceSlow() {
	data, p := d.data, d.pos
	for p < len(data) {
		switch data[p] {
		case ' ':
			// indentation: eight spaces at a time, then the count of
			// leading spaces in the last eight bytes
			for p+8 <= len(data) {
				if x := binary.LittleEndian.Uint64(data[p:]) ^ spaces; x != 0 {
					p += bits.TrailingZeros64(x) >> 3
					break
				}
				p += 8
			}
			if p < len(data) && data[p] == ' ' {
				p++
			}
		case '\t', '\n', '\r':
			p++
		default:
			d.pos = p
			return
		}
	}
	d.pos = p
}

func (d *decoder) value() (value, error) {
	if d.pos >= len(d.data) {
		return value{}, d.errf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		s, err := d.string()
		return bytesValue(kString, s), err
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == 't':
		return d.literal("true", value{kind: kBool, b: true})
	case c == 'f':
		return d.literal("false", value{kind: kBool})
	case c == 'n':
		return d.literal("null", value{kind: kNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return value{}, d.errf("unexpected " + quoteByte(c))
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
	intEnd := d.pos
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
	lit := d.data[start:d.pos]
	if err := numberProblem(lit, intEnd-start); err != "" {
		d.pos = start
		return value{}, d.errRule(ruleNumber, err)
	}
	return bytesValue(kNumber, lit), nil
}

// numberProblem says why the number literal lit (syntactically valid)
// is refused, or "". intLen is the length of its sign and integer part:
// when that is all of lit, it is an integer and must be within
// ±(2^53-1); otherwise it must be within the range of a double. Outside
// these ranges JSON readers disagree (or fail): one would read the
// value rounded, another refuse the document.
func numberProblem(lit []byte, intLen int) string {
	if intLen == len(lit) {
		digits := lit
		if digits[0] == '-' {
			digits = digits[1:]
		}
		// 2^53-1 has 16 digits; the literal has no leading zeros
		if len(digits) <= 15 {
			return ""
		}
		if len(digits) == 16 {
			var n uint64
			for _, c := range digits {
				n = n*10 + uint64(c-'0')
			}
			if n <= maxSafeInt {
				return ""
			}
		}
		return "integer " + clipLiteral(lit) + " is outside the interoperable range ±(2^53-1); send it as a string"
	}
	if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
		return "number " + clipLiteral(lit) + " is outside the range of a double (IEEE 754 binary64)"
	}
	return ""
}

// clipLiteral shortens a long number literal for an error message.
func clipLiteral(lit []byte) string {
	if len(lit) <= 40 {
		return string(lit)
	}
	return string(lit[:20]) + "…(" + strconv.Itoa(len(lit)) + " characters)"
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plainRun returns the offset of the first byte at or after p that is a
// quote, a backslash or a control character, or len(data).
func plainRun(data []byte, p int) int {
	for p+8 <= len(data) {
		if m := special8(binary.LittleEndian.Uint64(data[p:])); m != 0 {
			return p + bits.TrailingZeros64(m)>>3
		}
		p += 8
	}
	for p < len(data) && plainByte[data[p]] {
		p++
	}
	return p
}

// string reads a string starting at the opening quote and returns its
// contents, unescaped (a copy in the arena only when there were escapes).
func (d *decoder) string() ([]byte, error) {
	start := d.pos + 1
	p := plainRun(d.data, start)
	d.pos = p
	if p >= len(d.data) {
		return nil, d.errf("unterminated string")
	}
	switch c := d.data[p]; {
	case c == '"':
		d.pos++
		return d.data[start:p], nil
	case c == '\\':
		return d.escapedString(start)
	default:
		return nil, d.errf("control character in string")
	}
}

// escapedString reads the rest of a string whose first escape is at
// d.pos, unescaping it into the arena.
func (d *decoder) escapedString(start int) ([]byte, error) {
	out := append(d.scratch[:0], d.data[start:d.pos]...)
	defer func() { d.scratch = out[:0] }()
	for d.pos < len(d.data) {
		p := plainRun(d.data, d.pos)
		out = append(out, d.data[d.pos:p]...)
		d.pos = p
		if p >= len(d.data) {
			break
		}
		switch c := d.data[p]; {
		case c == '"':
			d.pos++
			return d.bytes(out), nil
		case c < 0x20:
			return nil, d.errf("control character in string")
		}
		r, err := d.escape()
		if err != nil {
			return nil, err
		}
		out = utf8.AppendRune(out, r)
	}
	return nil, d.errf("unterminated string")
}

// escape reads one escape sequence at d.pos (a backslash) and returns
// the rune it stands for.
func (d *decoder) escape() (rune, error) {
	if d.pos+1 >= len(d.data) {
		return 0, d.errf("unterminated string")
	}
	e := d.data[d.pos+1]
	d.pos += 2
	switch e {
	case '"', '\\', '/':
		return rune(e), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return 0, d.errf("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
				d.pos += 2
				if r2, ok = d.hex4(); !ok {
					return 0, d.errf("invalid \\u escape")
				}
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return 0, d.errf("invalid surrogate pair in \\u escape")
			}
		}
		return r, nil
	default:
		return 0, d.errf("invalid escape \\" + string(rune(e)))
	}
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
	d.pos++ // [
	d.depth++
	if d.depth > maxDepth {
		return value{}, d.errf("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	base := len(d.vstack)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return listValue([]value{}), nil
	}
	d.push(true)
	for i := 0; ; i++ {
		d.setIndex(i)
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return value{}, err
		}
		d.vstack = append(grow(d.vstack), v)
		if done, err := d.listNext(); done || err != nil {
			if err != nil {
				return value{}, err
			}
			break
		}
	}
	var elems []value
	if n := len(d.vstack) - base; n > valueChunk && n >= base {
		// a long list keeps the stack's memory rather than being
		// copied into the arena (see handOver)
		d.keptV = append(d.keptV, d.vstack)
		elems, d.vstack = handOver(d.vstack, base)
	} else {
		elems = d.values(d.vstack[base:])
		clear(d.vstack[base:])
		d.vstack = d.vstack[:base]
	}
	d.pop()
	d.depth--
	return listValue(elems), nil
}

// aliasString returns b as a string without copying it; b must not
// change while the string is in use.
func aliasString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// linearKeys is how many members an object may have before the
// duplicate check switches from comparing each name with every earlier
// one to sorting hashes: comparing is faster for the few members most
// objects have, but quadratic in their number.
const linearKeys = 16

// dupCheck is the duplicate check of one object with more than
// linearKeys members. Its names are not looked up one by one in a hash
// table (whose random reads and writes leave the cache once an object
// has tens of thousands of members): each name's hash and index are
// appended to the decoder's hash stack, which holds no pointers and is
// written in order, and when the object ends (or the document fails
// inside it) the object's entries are sorted by hash with a radix sort,
// so that names with equal hashes are neighbours, and only those are
// compared. The work is linear in the number of members, and the
// reported duplicate is the one an immediate check would have found
// first: the earliest second occurrence.
type dupCheck struct {
	on    bool
	open  int // offset of the object's '{'
	level int // index of the object's frame in d.path
	depth int // d.depth inside the object
	hbase int // the object's entries are d.hstack[hbase:]
}

// memberName reads a member name and the colon after it; names are the
// members already read in the same object (whose '{' is at open) and dc
// the object's duplicate check. Up to linearKeys names a duplicate is
// found here; after that names are only recorded, and the object's
// reader calls dupFirst when the object ends or fails. The check costs
// the same for every member however many there are.
func (d *decoder) memberName(names []member, open int, dc *dupCheck) ([]byte, error) {
	d.skipSpace()
	d.path[len(d.path)-1].key = nil
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			return nil, d.dupFirst(dc, names, nil, d.errf("trailing comma in object"))
		}
		return nil, d.dupFirst(dc, names, nil, d.errf("expected a member name in quotes"))
	}
	keyAt := d.pos
	key, err := d.string()
	if err != nil {
		return nil, d.dupFirst(dc, names, nil, err)
	}
	d.path[len(d.path)-1].key = key
	if len(names) < linearKeys {
		for i := range names {
			d.nameCompares++
			if string(names[i].key) == string(key) {
				d.pos = keyAt
				return nil, d.errRule(ruleDuplicate, "duplicate member name "+strconv.Quote(string(key)))
			}
		}
	} else {
		if !dc.on {
			d.startDupCheck(dc, names, open)
		}
		d.nameCompares++
		d.hstack = append(grow(d.hstack), d.nameHash(key, len(names)))
	}
	if err := d.colon(); err != nil {
		return nil, d.dupFirst(dc, names, key, err)
	}
	return key, nil
}

// nameHash is the hash stack's entry for the name key of member j: 32
// bits of the key's seeded hash above j.
func (d *decoder) nameHash(key []byte, j int) uint64 {
	return maphash.Bytes(d.seed, key)>>32<<32 | uint64(uint32(j))
}

// startDupCheck switches the object whose '{' is at open, with the
// members names read so far, to the sorted check.
func (d *decoder) startDupCheck(dc *dupCheck, names []member, open int) {
	if d.seed == (maphash.Seed{}) {
		d.seed = maphash.MakeSeed()
	}
	if cap(d.hstack) < d.hbound {
		hs := make([]uint64, len(d.hstack), d.hbound)
		copy(hs, d.hstack)
		d.hstack = hs
	}
	*dc = dupCheck{on: true, open: open, level: len(d.path) - 1, depth: d.depth, hbase: len(d.hstack)}
	for j := range names {
		d.hstack = append(grow(d.hstack), d.nameHash(names[j].key, j))
	}
}

// dupFirst ends the duplicate check dc of an object whose members read
// are names, and pending the name of the member after them if it was
// read (the document failed before its value was): it returns the
// error for the object's first duplicate name if there is one (an
// earlier duplicate is reported rather than whatever came after it),
// and cause otherwise (nil when the object ended well).
func (d *decoder) dupFirst(dc *dupCheck, names []member, pending []byte, cause error) error {
	if !dc.on {
		return cause
	}
	dc.on = false
	count := len(names)
	if pending != nil {
		count++
	}
	hs := d.hstack[dc.hbase : dc.hbase+count]
	defer func() { d.hstack = d.hstack[:dc.hbase] }()
	key := func(j int) []byte {
		if j < len(names) {
			return names[j].key
		}
		return pending
	}
	d.htmp = sortByHash(hs, d.htmp)
	first := -1
	for s := 0; s < len(hs); {
		e := s + 1
		for e < len(hs) && hs[e]>>32 == hs[s]>>32 {
			e++
		}
		// equal hashes, in the order of the members (the sort is
		// stable): a name equal to an earlier one is a duplicate
		for k := s + 1; k < e; k++ {
			j := int(uint32(hs[k]))
			for l := s; l < k; l++ {
				d.nameCompares++
				if string(key(int(uint32(hs[l])))) == string(key(j)) {
					if first < 0 || j < first {
						first = j
					}
					break
				}
			}
		}
		s = e
	}
	if first < 0 {
		return cause
	}
	d.path = d.path[:dc.level+1]
	d.depth = dc.depth
	d.pos = d.memberAt(dc.open, first)
	d.path[dc.level] = frame{key: key(first)}
	return d.errRule(ruleDuplicate, "duplicate member name "+strconv.Quote(string(key(first))))
}

// memberAt returns the offset of member j's name in the object whose
// '{' is at open, whose members up to j were read without error (so
// skipping them cannot fail). For the error of a duplicate only.
func (d *decoder) memberAt(open, j int) int {
	n := len(d.path)
	d.pos = open + 1
	for k := 0; ; k++ {
		d.skipSpace()
		if k == j {
			d.path = d.path[:n]
			return d.pos
		}
		_ = d.skipString()
		_ = d.colon()
		_, _ = d.skip()
		_, _ = d.next()
	}
}

// sortByHash sorts the hash stack entries hs by their upper 32 bits
// (the hash), keeping the order of equal hashes, with four passes of a
// radix sort, in tmp (returned, grown to len(hs) if need be). It reads
// and writes memory in order or into 256 buckets at a time, which stay
// in the cache however many entries there are.
func sortByHash(hs, tmp []uint64) []uint64 {
	if cap(tmp) < len(hs) {
		tmp = make([]uint64, len(hs), max(len(hs), 2*cap(tmp)))
	}
	tmp = tmp[:len(hs)]
	var count [4][256]int
	for _, e := range hs {
		count[0][byte(e>>32)]++
		count[1][byte(e>>40)]++
		count[2][byte(e>>48)]++
		count[3][byte(e>>56)]++
	}
	src, dst := hs, tmp
	for pass := range 4 {
		shift := 32 + 8*uint(pass)
		c := &count[pass]
		sum := 0
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		for _, e := range src {
			b := byte(e >> shift)
			dst[c[b]] = e
			c[b]++
		}
		src, dst = dst, src
	}
	// after an even number of passes the sorted entries are in hs
	return tmp
}

func (d *decoder) colon() error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return d.errf("expected ':' after member name")
	}
	d.pos++
	d.skipSpace()
	return nil
}

// next reads the ',' or '}' after a member and reports whether the
// object ended.
func (d *decoder) next() (bool, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.errf("unterminated object")
	}
	c := d.data[d.pos]
	d.pos++
	if c == '}' {
		return true, nil
	}
	if c != ',' {
		d.pos--
		return false, d.errf("expected ',' or '}' in object, found " + quoteByte(c))
	}
	return false, nil
}

func (d *decoder) object() (value, error) {
	open := d.pos
	d.pos++ // {
	d.depth++
	if d.depth > maxDepth {
		return value{}, d.errf("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	base := len(d.mstack)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return objectValue([]member{}), nil
	}
	d.push(false)
	var dc dupCheck
	for n := 0; ; n++ {
		key, err := d.memberName(d.mstack[base:], open, &dc)
		if err != nil {
			return value{}, err
		}
		v, err := d.value()
		if err != nil {
			// the value's own members are left above ours
			return value{}, d.dupFirst(&dc, d.mstack[base:base+n], key, err)
		}
		d.mstack = append(grow(d.mstack), member{key: key, val: v})
		end, err := d.next()
		if err != nil {
			return value{}, d.dupFirst(&dc, d.mstack[base:], nil, err)
		}
		if end {
			break
		}
	}
	if err := d.dupFirst(&dc, d.mstack[base:], nil, nil); err != nil {
		return value{}, err
	}
	var members []member
	if n := len(d.mstack) - base; n > memberChunk && n >= base {
		// a large object keeps the stack's memory rather than being
		// copied into the arena (see handOver)
		d.keptM = append(d.keptM, d.mstack)
		members, d.mstack = handOver(d.mstack, base)
	} else {
		members = d.members(d.mstack[base:])
		clear(d.mstack[base:])
		d.mstack = d.mstack[:base]
	}
	d.pop()
	d.depth--
	return objectValue(members), nil
}

// skip checks the syntax of the value at d.pos and moves past it,
// building nothing; it returns the value's kind. It accepts exactly what
// value accepts except that it does not look for duplicate member names.
// The input's UTF-8 must have been checked before.
func (d *decoder) skip() (kind, error) {
	if d.pos >= len(d.data) {
		return 0, d.errf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		return kString, d.skipString()
	case c == '{':
		return kObject, d.skipObject()
	case c == '[':
		return kArray, d.skipArray()
	case c == 't':
		_, err := d.literal("true", value{})
		return kBool, err
	case c == 'f':
		_, err := d.literal("false", value{})
		return kBool, err
	case c == 'n':
		_, err := d.literal("null", value{})
		return kNull, err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := d.number()
		return kNumber, err
	default:
		return 0, d.errf("unexpected " + quoteByte(c))
	}
}

// skipString checks a string at d.pos (its opening quote) and moves past
// it.
func (d *decoder) skipString() error {
	d.pos++
	for {
		p := plainRun(d.data, d.pos)
		d.pos = p
		if p >= len(d.data) {
			return d.errf("unterminated string")
		}
		switch c := d.data[p]; {
		case c == '"':
			d.pos++
			return nil
		case c < 0x20:
			return d.errf("control character in string")
		}
		if _, err := d.escape(); err != nil {
			return err
		}
	}
}

func (d *decoder) skipArray() error {
	d.pos++ // [
	d.depth++
	if d.depth > maxDepth {
		return d.errf("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return nil
	}
	d.push(true)
	for i := 0; ; i++ {
		d.setIndex(i)
		d.skipSpace()
		if _, err := d.skip(); err != nil {
			return err
		}
		if done, err := d.listNext(); done || err != nil {
			if err != nil {
				return err
			}
			break
		}
	}
	d.pop()
	d.depth--
	return nil
}

func (d *decoder) skipObject() error {
	d.pos++ // {
	d.depth++
	if d.depth > maxDepth {
		return d.errf("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return nil
	}
	d.push(false)
	for {
		d.skipSpace()
		d.path[len(d.path)-1].key = nil
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			if d.pos < len(d.data) && d.data[d.pos] == '}' {
				return d.errf("trailing comma in object")
			}
			return d.errf("expected a member name in quotes")
		}
		keyAt := d.pos
		if err := d.skipString(); err != nil {
			return err
		}
		d.path[len(d.path)-1] = frame{key: d.data[keyAt+1 : d.pos-1], raw: true}
		if err := d.colon(); err != nil {
			return err
		}
		if _, err := d.skip(); err != nil {
			return err
		}
		end, err := d.next()
		if err != nil {
			return err
		}
		if end {
			break
		}
	}
	d.pop()
	d.depth--
	return nil
}

// listNext reads what follows a list element: ',' (another element, done
// false) or ']' (the end, done true), after white space.
func (d *decoder) listNext() (done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.errf("unterminated list")
	}
	c := d.data[d.pos]
	d.pos++
	switch c {
	case ']':
		return true, nil
	case ',':
		return false, nil
	}
	d.pos--
	return false, d.errf("expected ',' or ']' in list, found " + quoteByte(c))
}
