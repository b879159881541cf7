package telemetry

import (
	"encoding/binary"
	"math/bits"
)

// Eight bytes at a time ("SIMD within a register"): each function below
// returns a word whose byte i has its high bit set when byte i of x is a
// byte sought. Bytes above the first one found may be flagged wrongly
// (borrows), so only the lowest flag is used.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func zeroBytes(x uint64) uint64 { return (x - ones) & ^x & highs }

func eqBytes(x uint64, c byte) uint64 { return zeroBytes(x ^ (ones * uint64(c))) }

func lessBytes(x uint64, n byte) uint64 { return (x - ones*uint64(n)) & ^x & highs }

// exactEq returns a word whose byte i has its high bit set exactly when
// byte i of x is c (no borrows: every flag is right).
func exactEq(x uint64, c byte) uint64 {
	y := x ^ ones*uint64(c)
	const lows = ^uint64(highs)
	return ^((y&lows + lows) | y | lows)
}

// strStops flags the bytes of x that end the plain run of a string: a
// quote, a backslash or a control character (only the lowest flag is
// sure). x^2 turns '"' into a space and keeps control characters below
// it: one comparison finds both.
func strStops(x uint64) uint64 { return lessBytes(x^ones*2, 0x21) | eqBytes(x, '\\') }

// firstStrStop returns the index in b, from i, of the first quote,
// backslash or control character; len(b) when there is none.
func firstStrStop(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := strStops(x); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b) && !strStop[b[i]]; i++ {
	}
	return i
}

// firstQuoteOrBackslash returns the index in b, from i, of the first
// quote or backslash; len(b) when there is none.
func firstQuoteOrBackslash(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := eqBytes(x, '"') | eqBytes(x, '\\'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b) && b[i] != '"' && b[i] != '\\'; i++ {
	}
	return i
}
