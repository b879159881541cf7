package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// flat6 is the IPv6 part of a file's table as sorted ranges of the
// first 64 bits of the address, for the lookups of IPv6 addresses: the
// networks of real files are /64 or shorter (2000::/3 by /29 to /48),
// which the trie walks a node per 8 bits, each a cache miss on a
// country-sized file.
//
// ranges cover the whole 64-bit space without overlap, in order: each
// starts where the last ended and holds the answer of every address in
// it (the longest network of the trie that holds it, pushed down to the
// parts its longer networks leave; none; or fallback for a /64 that
// holds a network longer than /64, which the trie answers). The network
// is the address masked to the answer's length, so a range needs only
// the record and the length; neighbouring ranges with the same answer
// are one.
//
// Finding the range: top has an entry per /16 of the space: where its
// buckets begin in sub, and how many bits past the /16 pick a bucket
// (about log2 of the ranges starting in the /16, so a bucket holds about
// one). sub[b] is the range that holds the first address of bucket b,
// and sub[b+1] the one holding the next bucket's first address; the
// answer is the last range between them that starts at or before the
// address: a read of top, one of sub, usually one of ranges.
//
// It is built at Open from the trie's IPv6 networks, so that it gives
// the trie's answer for every address (TestFlatMatchesTable,
// TestTableMatchesTree); it never changes afterwards.
type flat6 struct {
	top    [1 << 16]uint64 // offset in sub | bucket bits << 32
	sub    []uint32
	ranges []range6
}

// range6 is the answer from start to the next range's start.
type range6 struct {
	start uint64
	// rec is 0 for none, fallback for the trie, or the record's index in
	// source.recs plus one.
	rec  uint32
	bits uint8 // the network's length, 0–64
}

// maxBucketBits bounds a /16's buckets at 2^24 (a /40 each); past that a
// bucket's ranges are searched by bisection.
const maxBucketBits = 24

// newFlat6 flattens the IPv6 networks of t. It returns nil for a table
// without IPv6 networks.
func newFlat6(t *bart.Table[leaf]) *flat6 {
	type span struct {
		start, end uint64 // inclusive
		bits       int    // 65 for a fallback /64
		rec        uint32 // as in range6
	}
	var all []span
	for p, l := range t.All6() {
		a := binary.BigEndian.Uint64(p.Masked().Addr().AsSlice()[:8])
		b := p.Bits()
		if b > 64 {
			all = append(all, span{a, a, 65, fallback})
			continue
		}
		all = append(all, span{a, a | lowMask(b), b, l.rec + 1})
	}
	if len(all) == 0 {
		return nil
	}
	// Networks are nested or apart: by start, the wider first, a stack
	// of the networks open at a point gives the longest one holding it.
	slices.SortFunc(all, func(x, y span) int {
		if x.start != y.start {
			if x.start < y.start {
				return -1
			}
			return 1
		}
		return x.bits - y.bits
	})
	f := &flat6{ranges: []range6{{start: 0}}}
	emit := func(start uint64, s *span) {
		r := range6{start: start}
		if s != nil {
			r.rec = s.rec
			if s.rec != fallback {
				r.bits = uint8(s.bits)
			}
		}
		last := &f.ranges[len(f.ranges)-1]
		if last.start == start {
			*last = r
			if n := len(f.ranges); n > 1 && f.ranges[n-2].rec == r.rec && f.ranges[n-2].bits == r.bits {
				f.ranges = f.ranges[:n-1]
			}
			return
		}
		if last.rec == r.rec && last.bits == r.bits {
			return
		}
		f.ranges = append(f.ranges, r)
	}
	var open []*span
	closeUntil := func(limit uint64, all bool) {
		for len(open) > 0 {
			top := open[len(open)-1]
			if !all && top.end >= limit {
				return
			}
			open = open[:len(open)-1]
			if top.end == ^uint64(0) {
				continue
			}
			var outer *span
			if len(open) > 0 {
				outer = open[len(open)-1]
			}
			emit(top.end+1, outer)
		}
	}
	for i := range all {
		s := &all[i]
		closeUntil(s.start, false)
		emit(s.start, s)
		open = append(open, s)
	}
	closeUntil(0, true)
	f.ranges = slices.Clip(f.ranges)

	// The buckets of each /16.
	r := 0 // the range holding the current point
	for g := range uint64(1 << 16) {
		first := g << 48
		for r+1 < len(f.ranges) && f.ranges[r+1].start <= first {
			r++
		}
		n := 0
		for j := r + 1; j < len(f.ranges) && f.ranges[j].start>>48 == g; j++ {
			n++
		}
		if n == 0 {
			// One range holds the whole /16: share the pair of the /16
			// before when it is the same.
			if k := len(f.sub); k >= 2 && f.sub[k-2] == uint32(r) && f.sub[k-1] == uint32(r) {
				f.top[g] = uint64(k - 2)
				continue
			}
			f.top[g] = uint64(len(f.sub))
			f.sub = append(f.sub, uint32(r), uint32(r))
			continue
		}
		s := min(bits.Len(uint(n)), maxBucketBits)
		f.top[g] = uint64(len(f.sub)) | uint64(s)<<32
		j := r
		for b := range uint64(1) << s {
			p := first + b<<(48-s)
			for j+1 < len(f.ranges) && f.ranges[j+1].start <= p {
				j++
			}
			f.sub = append(f.sub, uint32(j))
		}
		// The range holding the first address of the next /16 (after the
		// last /16, the last range).
		if g == 1<<16-1 {
			j = len(f.ranges) - 1
		}
		for j+1 < len(f.ranges) && f.ranges[j+1].start <= first+1<<48 {
			j++
		}
		f.sub = append(f.sub, uint32(j))
	}
	f.sub = slices.Clip(f.sub)
	return f
}

// lowMask is the host part of a network of the given length in a 64-bit
// key: ones after the first bits.
func lowMask(bits int) uint64 { return ^uint64(0) >> bits }

// lookup answers for the first 64 bits of an IPv6 address: the range
// holding it (rec 0 for none, fallback for the trie).
func (f *flat6) lookup(key uint64) *range6 {
	t := f.top[key>>48]
	s := t >> 32
	b := uint32(t) + uint32((key<<16)>>(64-s)) // s == 0: a shift by 64 is 0
	lo, hi := f.sub[b], f.sub[b+1]
	for lo < hi {
		m := (lo + hi + 1) / 2
		if f.ranges[m].start <= key {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return &f.ranges[lo]
}

// flatNetwork6 is the network of length bits (≤ 64) that holds a.
func flatNetwork6(a [16]byte, bits int) netip.Prefix {
	k := binary.BigEndian.Uint64(a[:8]) &^ lowMask(bits)
	var m [16]byte
	binary.BigEndian.PutUint64(m[:8], k)
	return netip.PrefixFrom(netip.AddrFrom16(m), bits)
}

// bytes is the memory the table takes.
func (f *flat6) bytes() int {
	if f == nil {
		return 0
	}
	return len(f.top)*8 + cap(f.sub)*4 + cap(f.ranges)*16
}
