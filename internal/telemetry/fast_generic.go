//go:build !amd64

package telemetry

// noFast turns the EVE fast path off (tests and benchmarks compare the
// two paths).
var noFast = false

// quoteBlocks is quoteBits over whole blocks of 64 bytes.
func quoteBlocks(b []byte, q, k []uint64) bool { return quoteBlocksGo(b, q, k) }
