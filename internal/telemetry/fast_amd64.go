package telemetry

import "golang.org/x/sys/cpu"

// noFast turns the EVE fast path off (tests and benchmarks compare the
// two paths).
var noFast = false

var hasAVX2 = cpu.X86.HasAVX2

// quoteBlocks is quoteBits over whole blocks of 64 bytes: with AVX2, 32
// bytes an instruction.
func quoteBlocks(b []byte, q, k []uint64) bool {
	if hasAVX2 && len(b) > 0 {
		return quoteBlocksAVX2(b, q, k) == 0
	}
	return quoteBlocksGo(b, q, k)
}

//go:noescape
func quoteBlocksAVX2(b []byte, q, k []uint64) uint64
