package match

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// table is the fast path's one hash table: every key of every class (a
// kind's exact values, domain suffixes, IPv4 networks, IPv6 addresses)
// in a single open-addressing table with linear probing, whose slots
// are one-byte tags (seven bits of the key's hash, never 0) beside the
// keys' indexes. Most values in telemetry are in no indicator; the tags
// answer those from one cache line (64 slots a line, at most half of
// them full; 2 MB of tags for a million keys), and a key is read only
// when its tag matches (one probe in 64 or so), to keep answers exact.
//
// A look-up of an absent key costs a probable cache miss with 1M
// indicators, but a branch that is nearly always predicted right
// (absent), so the processor runs ahead into the next values and their
// misses overlap.
type table struct {
	tags  []uint8  // per slot: 0x80 | seven bits of the hash; 0 when empty
	ents  []uint32 // per slot: the key's index in keys
	keys  []tkey
	arena []byte // the bytes of string and IPv6 keys
	mask  uint64
	seed  maphash.Seed
	// v4seed keys the hashes of IPv4 networks (and of their /24s in the
	// filter), random per table like seed: indicators chosen to collide
	// (a peer's, say) cannot be made to pile up in one run of slots.
	v4seed uint64
}

// tkey is one key and its posting. A string or IPv6 key is arena[a:a+b];
// an IPv4 network is a = address, b = prefix length.
type tkey struct {
	a, b  uint32
	class uint8
	post  posting
}

// Key classes beyond the kinds (the kinds themselves are the classes of
// their exact values; telemetry.IPv6 that of IPv6 addresses).
const classV4Net = suffixKind + 1

// salt separates the classes in the hash.
func salt(class uint8) uint64 { return uint64(class) * 0x9e3779b97f4a7c15 }

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// tag is the part of a hash kept in a slot: bits the slot index does
// not use, never 0.
func tag(h uint64) uint8 { return uint8(h>>57) | 0x80 }

func (t *table) hashBytes(class uint8, b []byte) uint64 {
	return maphash.Bytes(t.seed, b) ^ salt(class)
}

func (t *table) hashV4(k uint64) uint64 { return mix(k ^ t.v4seed) }

// hash24 is the filter hash of a /24 network number: one multiply (the
// filter takes its bits from the top half, which the multiply mixes
// best), where the table's hashes need mix's two.
func (t *table) hash24(n uint64) uint64 {
	return bits.RotateLeft64((n^t.v4seed)*0x9e3779b97f4a7c15, 32)
}

// v4Key is an IPv4 network as a number: address << 8 | length.
func v4Key(addr uint32, length uint8) uint64 { return uint64(addr)<<8 | uint64(length) }

// tableBuilder gathers keys, merging the postings of a key given by
// several indicators, until the table's size is known.
type tableBuilder struct {
	t     *table
	index map[string]uint32 // class byte + key bytes -> index in t.keys
	set   *Set
	kbuf  []byte
}

func newTableBuilder(s *Set) *tableBuilder {
	seed := maphash.MakeSeed()
	return &tableBuilder{t: &table{seed: seed, v4seed: maphash.Comparable(seed, 0) ^ salt(uint8(classV4Net))}, index: map[string]uint32{}, set: s}
}

// add adds indicator i under the key (class, a, b, bytes).
func (tb *tableBuilder) add(i uint32, class uint8, a, b uint32, key []byte) {
	tb.kbuf = append(tb.kbuf[:0], class)
	if key == nil {
		tb.kbuf = binary.BigEndian.AppendUint32(tb.kbuf, a)
		tb.kbuf = binary.BigEndian.AppendUint32(tb.kbuf, b)
	} else {
		tb.kbuf = append(tb.kbuf, key...)
	}
	t := tb.t
	if k, ok := tb.index[string(tb.kbuf)]; ok {
		t.keys[k].post = tb.set.post(t.keys[k].post, true, i)
		return
	}
	tb.index[string(tb.kbuf)] = uint32(len(t.keys))
	if key != nil {
		a, b = uint32(len(t.arena)), uint32(len(key))
		t.arena = append(t.arena, key...)
	}
	t.keys = append(t.keys, tkey{a: a, b: b, class: class, post: posting(i)})
}

// overflow is how many slots follow the last one a hash can pick:
// probing runs on into them instead of wrapping around, so that eight
// tags from any slot are always one load.
const overflow = 64

// build lays the keys out in slots, at most half of them full.
func (tb *tableBuilder) build() *table {
	t := tb.t
	tb.index = nil
	t.arena = t.arena[:len(t.arena):len(t.arena)]
	for n := max(16, 1<<bits.Len(uint(2*len(t.keys)-1))); !t.place(n); n *= 2 {
	}
	return t
}

// place lays the keys out in n slots (and the overflow), or reports
// that a run of full slots reached the end.
func (t *table) place(n int) bool {
	t.tags, t.ents, t.mask = make([]uint8, n+overflow), make([]uint32, n+overflow), uint64(n-1)
	for k := range t.keys {
		h := t.hashKey(&t.keys[k])
		s := h & t.mask
		for t.tags[s] != 0 {
			s++
		}
		if s >= uint64(n+overflow-8) {
			return false
		}
		t.tags[s], t.ents[s] = tag(h), uint32(k)
	}
	return true
}

// maybe reports whether the key of hash h may be in the table, from the
// eight tags at its slot: a tag equal to h's before the first empty
// slot, or no empty slot among the eight. A false answer is final.
func (t *table) maybe(h uint64) bool {
	w := binary.LittleEndian.Uint64(t.tags[h&t.mask:])
	empty := ^w & 0x8080808080808080 // full tags have their high bit set
	x := w ^ 0x0101010101010101*uint64(tag(h))
	eq := (x - 0x0101010101010101) & ^x & 0x8080808080808080
	// Bytes above the first equal one may be flagged wrongly (borrows),
	// which only sends a look-up to find.
	return empty == 0 || eq&(empty^(empty-1)) != 0
}

func (t *table) hashKey(k *tkey) uint64 {
	switch k.class {
	case uint8(classV4Net):
		return t.hashV4(v4Key(k.a, uint8(k.b)))
	}
	return t.hashBytes(k.class, t.arena[k.a:k.a+k.b])
}

// find returns the posting of key, whose hash is h.
func (t *table) find(h uint64, class uint8, key []byte, num uint64) (posting, bool) {
	tg := tag(h)
	for s := h & t.mask; ; s++ {
		f := t.tags[s]
		if f == 0 {
			return 0, false
		}
		if f == tg {
			k := &t.keys[t.ents[s]]
			if k.class == class && t.equal(k, key, num) {
				return k.post, true
			}
		}
	}
}

func (t *table) equal(k *tkey, key []byte, num uint64) bool {
	if k.class == uint8(classV4Net) {
		return v4Key(k.a, uint8(k.b)) == num
	}
	return string(t.arena[k.a:k.a+k.b]) == string(key)
}
