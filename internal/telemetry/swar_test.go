package telemetry

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSWAR checks the eight-bytes-at-a-time searches against plain loops
// on random buffers rich in the bytes sought (and in their neighbours:
// borrows between bytes are where such code goes wrong).
func TestSWAR(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("\"\\{}[]yY\x00\x01\x1f\x20\x21az\x7f\x80\xff\x5c\x22")
	naive := func(b []byte, i int, stop func(byte) bool) int {
		for ; i < len(b) && !stop(b[i]); i++ {
		}
		return i
	}
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		i := 0
		if len(b) > 0 {
			i = r.IntN(len(b) + 1)
		}
		if got, want := firstStrStop(b, i), naive(b, i, func(c byte) bool { return strStop[c] }); got != want {
			t.Fatalf("firstStrStop(%q, %d) = %d, want %d", b, i, got, want)
		}
		if got, want := firstQuoteOrBackslash(b, i), naive(b, i, func(c byte) bool { return c == '"' || c == '\\' }); got != want {
			t.Fatalf("firstQuoteOrBackslash(%q, %d) = %d, want %d", b, i, got, want)
		}
		if len(b) >= 8 {
			x := binary.LittleEndian.Uint64(b)
			c := alphabet[r.IntN(len(alphabet))]
			var want uint64
			for j := range 8 {
				if b[j] == c {
					want |= 0x80 << (8 * j)
				}
			}
			if got := exactEq(x, c); got != want {
				t.Fatalf("exactEq(%q, %q) = %#x, want %#x", b[:8], c, got, want)
			}
		}
	}
}

// refSkipNested is skipNested as it was written first, a bracket or
// quote at a time: the reference TestSkipNested holds the word-at-a-time
// version to.
func (s *scanner) refSkipNested() error {
	var stack [maxDepth]byte
	depth := 0
	b := s.b
	for i := s.i; i < len(b); i++ {
		c := b[i]
		switch c {
		case '"':
			s.i = i
			if _, err := s.skipStr(); err != nil {
				return err
			}
			i = s.i - 1
		case '{', '[':
			if s.depth+depth >= maxDepth {
				s.i = i
				return s.fail("nested too deeply")
			}
			stack[depth] = c
			depth++
		case '}', ']':
			want := byte('{')
			if c == ']' {
				want = '['
			}
			if depth == 0 || stack[depth-1] != want {
				s.i = i
				return s.fail("unbalanced " + string(c))
			}
			depth--
			if depth == 0 {
				s.i = i + 1
				return nil
			}
		}
	}
	s.i = len(b)
	return s.fail("unexpected end of line")
}

// TestSkipNested holds skipNested to the reference on random nested
// values rich in quotes, backslashes and brackets: same end, same error.
func TestSkipNested(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("\"\\{}[]{[\"\"ab:,yY_\x00")
	for n := range 200000 {
		b := make([]byte, 1+r.IntN(60))
		b[0] = "{["[r.IntN(2)]
		for i := 1; i < len(b); i++ {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		depth := r.IntN(3) * 31
		a, want := scanner{b: b, depth: depth}, scanner{b: b, depth: depth}
		err, wantErr := a.skipNested(), want.refSkipNested()
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || a.i != want.i {
			t.Fatalf("case %d: skipNested(%q) = %d, %v; want %d, %v", n, b, a.i, err, want.i, wantErr)
		}
	}
}
