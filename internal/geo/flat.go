package geo

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// flat4 is the IPv4 part of a file's table flattened to /24 granularity,
// for the lookups of IPv4 addresses: two array reads instead of a walk
// through the trie's nodes, which on a country-sized file takes a cache
// miss per level for random addresses.
//
// An entry is 0 when no network holds its range, fallback when the trie
// must answer, or the answer itself: the record's index in source.recs
// plus one, shifted left by flatBits, or'd with the network's length
// (0–24). The network is then the address masked to that length, so
// that a lookup reads nothing but the two entries and the record.
//
// top has an entry per /16: an answer when one network of /16 or
// shorter holds the whole /16 and nothing longer is in it, or
// blockFlag | block number when networks from /17 on lie in it. A block
// has an entry per /24 of its /16, the same way, or fallback when a
// network longer than /24 lies in the /24: the address is then looked up
// in the trie (bart), which has the final word.
//
// It is built at Open from the trie's IPv4 networks, so that it gives
// the trie's answer for every address (TestFlatMatchesTable,
// TestTableMatchesTree); it never changes afterwards.
type flat4 struct {
	top    [1 << 16]uint32
	blocks []uint32 // 256 entries per block
}

const (
	// flatBits is how many low bits of an answer hold the network's
	// length.
	flatBits = 5
	// blockFlag marks a top entry that names a block; no answer has it.
	blockFlag = 1 << 31
	// fallback marks a /24 with a network longer than /24 in it.
	fallback = 1<<32 - 1
	// maxFlatRecords bounds the records, so that no answer reaches
	// blockFlag.
	maxFlatRecords = blockFlag>>flatBits - 1
)

// newFlat4 flattens the IPv4 networks of t, whose leaves index nrecs
// records. It returns nil for a table without IPv4 networks, or with
// more records than an answer holds.
func newFlat4(t *bart.Table[leaf], nrecs int) *flat4 {
	type pl struct {
		p netip.Prefix
		l leaf
	}
	var all []pl
	for p, l := range t.All4() {
		all = append(all, pl{p, l})
	}
	if len(all) == 0 || nrecs > maxFlatRecords {
		return nil
	}
	// Shorter networks first: a longer one, painted later, overrides the
	// part of a shorter one it covers, as the longest match does.
	slices.SortStableFunc(all, func(a, b pl) int { return a.p.Bits() - b.p.Bits() })
	f := &flat4{}
	block := func(i16 uint32) []uint32 {
		t := f.top[i16]
		if t&blockFlag == 0 {
			n := uint32(len(f.blocks) / 256)
			for range 256 {
				f.blocks = append(f.blocks, t)
			}
			f.top[i16] = blockFlag | n
			t = f.top[i16]
		}
		n := int(t &^ blockFlag)
		return f.blocks[n*256 : n*256+256]
	}
	for _, x := range all {
		a := x.p.Masked().Addr().As4()
		i16 := uint32(a[0])<<8 | uint32(a[1])
		bits := x.p.Bits()
		if bits > 24 {
			block(i16)[a[2]] = fallback
			continue
		}
		v := (x.l.rec+1)<<flatBits | uint32(bits)
		if bits <= 16 {
			// No block exists yet: blocks come from longer networks.
			n := uint32(1) << (16 - bits)
			for i := i16; i < i16+n; i++ {
				f.top[i] = v
			}
			continue
		}
		b := block(i16)
		n := 1 << (24 - bits)
		for i := int(a[2]); i < int(a[2])+n; i++ {
			b[i] = v
		}
	}
	f.blocks = slices.Clip(f.blocks)
	return f
}

// lookup answers for an IPv4 address: 0 when no network holds it,
// fallback when the trie must answer, or an answer (see flat4): the
// record is recs[v>>flatBits-1], the network flatNetwork(a, v).
func (f *flat4) lookup(a [4]byte) uint32 {
	t := f.top[uint32(a[0])<<8|uint32(a[1])]
	if t&blockFlag != 0 {
		t = f.blocks[(t&^blockFlag)<<8|uint32(a[2])]
	}
	return t
}

// flatNetwork is the network of answer v that holds a.
func flatNetwork(a [4]byte, v uint32) netip.Prefix {
	bits := int(v & (1<<flatBits - 1))
	u := binary.BigEndian.Uint32(a[:]) & uint32(^uint64(0)<<(32-bits))
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], u)
	return netip.PrefixFrom(netip.AddrFrom4(m), bits)
}

// bytes is the memory the flat table takes.
func (f *flat4) bytes() int {
	if f == nil {
		return 0
	}
	return len(f.top)*4 + cap(f.blocks)*4
}
