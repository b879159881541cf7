package telemetry

import (
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
		if got, want := firstSpecial(b, i), naive(b, i, func(c byte) bool { return special[c] }); got != want {
			t.Fatalf("firstSpecial(%q, %d) = %d, want %d", b, i, got, want)
		}
	}
}
