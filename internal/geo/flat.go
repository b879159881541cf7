package geo

import (
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// flat4 is the IPv4 part of a file's table flattened to /24 granularity,
// for the lookups of IPv4 addresses: two array reads instead of a walk
// through the trie's nodes, which on a country-sized file takes a cache
// miss per level for random addresses.
//
// top has an entry per /16: 0 when no network holds it, leaf index + 1
// when one network of /16 or shorter holds the whole /16 and nothing
// longer is in it, or blockFlag | block number when networks from /17 on
// lie in it. A block has an entry per /24 of its /16, the same way, or
// fallback when a network longer than /24 lies in the /24: the address
// is then looked up in the trie (bart), which has the final word.
//
// It is built at Open from the trie's IPv4 networks, so that it gives
// the trie's answer for every address (TestFlatMatchesTable,
// TestTableMatchesTree); it never changes afterwards.
type flat4 struct {
	top    [1 << 16]uint32
	blocks []uint32 // 256 entries per block
	leaves []leaf
}

const (
	// blockFlag marks a top entry that names a block.
	blockFlag = 1 << 31
	// fallback marks a /24 with a network longer than /24 in it.
	fallback = 1<<32 - 1
	// maxFlatLeaves bounds the leaves, so that an index + 1 never reaches
	// blockFlag.
	maxFlatLeaves = blockFlag - 2
)

// newFlat4 flattens the IPv4 networks of t. It returns nil for a table
// without IPv4 networks, or one with more networks than an index holds.
func newFlat4(t *bart.Table[leaf]) *flat4 {
	type pl struct {
		p netip.Prefix
		l leaf
	}
	var all []pl
	for p, l := range t.All4() {
		all = append(all, pl{p, l})
	}
	if len(all) == 0 || len(all) > maxFlatLeaves {
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
		f.leaves = append(f.leaves, x.l)
		v := uint32(len(f.leaves)) // index + 1
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
	f.leaves = slices.Clip(f.leaves)
	return f
}

// lookup answers for an IPv4 address: the leaf holding it (nil when no
// network does), or ok false when the trie must answer.
func (f *flat4) lookup(a [4]byte) (l *leaf, ok bool) {
	t := f.top[uint32(a[0])<<8|uint32(a[1])]
	if t&blockFlag != 0 {
		t = f.blocks[(t&^blockFlag)<<8|uint32(a[2])]
		if t == fallback {
			return nil, false
		}
	}
	if t == 0 {
		return nil, true
	}
	return &f.leaves[t-1], true
}

// leafSize is the size of a leaf in memory: a pointer and a netip.Prefix.
const leafSize = 8 + 32

// bytes is the memory the flat table takes.
func (f *flat4) bytes() int {
	if f == nil {
		return 0
	}
	return len(f.top)*4 + cap(f.blocks)*4 + cap(f.leaves)*leafSize
}
