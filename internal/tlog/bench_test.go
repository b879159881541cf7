package tlog

import (
	"context"
	"encoding/binary"
	"testing"
)

// BenchmarkProve measures an inclusion proof from an in-memory stored-hash
// list of 10 million entries (built once, about 20M hashes, 640 MB).
func BenchmarkProve(b *testing.B) {
	const n = 10_000_000
	var m MemHashes = make(MemHashes, 0, StoredHashCount(n))
	leaves := make([]Hash, 0, 1<<16)
	var buf [8]byte
	for i := int64(0); i < n; i++ {
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		leaves = append(leaves, LeafHash(buf[:]))
		if len(leaves) == cap(leaves) || i == n-1 {
			hs, err := AppendHashes(m.Size(), leaves, m)
			if err != nil {
				b.Fatal(err)
			}
			m = append(m, hs...)
			leaves = leaves[:0]
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Prove(int64(i*7919)%n, n, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyLog verifies a log of 1 million entries with 4
// checkpoints, from entries of about 30 bytes.
func BenchmarkVerifyLog(b *testing.B) {
	f := newStoredFixture(b, 1_000_000)
	l := f.stored(f.log.entries, f.log.hashes, f.cps)
	b.ResetTimer()
	for b.Loop() {
		if _, err := VerifyLog(context.Background(), l); err != nil {
			b.Fatal(err)
		}
	}
}
