package tlog

import (
	"crypto/sha256"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// HashReader reads stored hashes by their stored-hash index (see
// StoredHashIndex). A store implements it over its hash table; it must
// return exactly one hash per index, in order.
type HashReader = tlog.HashReader

// HashReaderFunc is a function that implements HashReader.
type HashReaderFunc = tlog.HashReaderFunc

// LeafHash returns the RFC 6962 leaf hash of an entry: SHA-256(0x00 || entry).
func LeafHash(entry []byte) Hash { return tlog.RecordHash(entry) }

// NodeHash returns the RFC 6962 interior node hash:
// SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash { return tlog.NodeHash(left, right) }

// EmptyRoot is the root hash of the empty tree, SHA-256 of nothing.
var EmptyRoot = Hash(sha256.Sum256(nil))

// StoredHashIndex returns the index at which a store keeps the hash of the
// n-th node at the given level (level 0: the leaf hash of entry n). Indexes
// are dense: the hashes of a log of size N occupy 0..StoredHashCount(N)-1.
func StoredHashIndex(level int, n int64) int64 { return tlog.StoredHashIndex(level, n) }

// SplitStoredHashIndex is the inverse of StoredHashIndex.
func SplitStoredHashIndex(index int64) (level int, n int64) {
	return tlog.SplitStoredHashIndex(index)
}

// StoredHashCount returns how many hashes a store keeps for a log of n
// entries.
func StoredHashCount(n int64) int64 { return tlog.StoredHashCount(n) }

// AppendHashes computes the stored hashes that appending entries with the
// given leaf hashes to a log of size `size` adds. The store writes them at
// consecutive indexes from StoredHashIndex(0, size), that is
// StoredHashCount(size), in the same transaction as the entries. r reads
// the hashes already stored; hashes of the batch itself are taken from the
// batch.
func AppendHashes(size int64, leaves []Hash, r HashReader) ([]Hash, error) {
	const op = "tlog.AppendHashes"
	if size < 0 {
		return nil, errorf(op, ErrMalformed, "size %d is negative", size)
	}
	base := tlog.StoredHashCount(size)
	var out []Hash
	overlay := tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		hs := make([]Hash, len(indexes))
		var old []int64
		var at []int
		for i, x := range indexes {
			if x >= base {
				if x-base >= int64(len(out)) {
					return nil, fmt.Errorf("stored hash %d is not written yet", x)
				}
				hs[i] = out[x-base]
				continue
			}
			old = append(old, x)
			at = append(at, i)
		}
		if len(old) > 0 {
			got, err := r.ReadHashes(old)
			if err != nil {
				return nil, err
			}
			if len(got) != len(old) {
				return nil, fmt.Errorf("store returned %d hashes for %d indexes", len(got), len(old))
			}
			for j, i := range at {
				hs[i] = got[j]
			}
		}
		return hs, nil
	})
	for i, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(size+int64(i), h, overlay)
		if err != nil {
			return nil, wrapf(op, ErrNotFound, err, "stored hashes for entry %d", size+int64(i))
		}
		out = append(out, hs...)
	}
	return out, nil
}

// TreeHash returns the root hash of the tree of size n from stored hashes.
func TreeHash(n int64, r HashReader) (Hash, error) {
	const op = "tlog.TreeHash"
	if n < 0 {
		return Hash{}, errorf(op, ErrMalformed, "size %d is negative", n)
	}
	h, err := tlog.TreeHash(n, r)
	if err != nil {
		return Hash{}, wrapf(op, ErrNotFound, err, "root hash at size %d", n)
	}
	return h, nil
}

// MemHashes is an in-memory list of stored hashes, indexed as a store
// indexes them: the hash reader of tests, benchmarks and VerifyLog.
type MemHashes []Hash

// ReadHashes implements HashReader.
func (m MemHashes) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("stored hash %d not found (have %d)", x, len(m))
		}
		out[i] = m[x]
	}
	return out, nil
}

// Append appends entries to the in-memory log.
func (m *MemHashes) Append(entries ...[]byte) error {
	leaves := make([]Hash, len(entries))
	for i, e := range entries {
		leaves[i] = LeafHash(e)
	}
	return m.AppendLeaves(leaves...)
}

// AppendLeaves appends leaf hashes to the in-memory log.
func (m *MemHashes) AppendLeaves(leaves ...Hash) error {
	size := m.Size()
	for _, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(size, h, *m)
		if err != nil {
			return err
		}
		*m = append(*m, hs...)
		size++
	}
	return nil
}

// Size returns the number of entries in the in-memory log.
func (m MemHashes) Size() int64 {
	// StoredHashCount(n) is 2n - popcount(n); search for n.
	lo, hi := int64(0), int64(len(m))
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if tlog.StoredHashCount(mid) <= int64(len(m)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
