// Package match runs the STIX indicators of a node over telemetry
// events: it compiles a set of indicators once — the common forms into
// hash sets, CIDR tables and domain-suffix sets, the rest into
// internal/pattern's evaluator — and then tells, for each event, which
// indicators it matches, counting matches and first and last sightings.
//
// An event is judged on its own, as one observation: patterns that need
// more than one observation (AND or FOLLOWEDBY between observation
// expressions, REPEATS) are reported as problems, not run. The package
// must not read files, open stores or build STIX objects: callers feed
// it indicators and events (internal/telemetry) and do what they like
// with the counts. docs/design/match.md describes the forms and rules.
package match

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gaissmai/bart"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/telemetry"
)

// Indicator is what the matcher needs of a STIX indicator.
type Indicator struct {
	ID      string // indicator--…
	Pattern string // a STIX 2.1 pattern
}

// Problem is an indicator the set does not run, and why.
type Problem struct {
	ID  string
	Err error
}

// Options change how a set is compiled.
type Options struct {
	// NoFastPath sends every indicator through the evaluator (for tests
	// that compare the two paths, and for measuring them).
	NoFastPath bool
}

// posting is an indicator index, or with the high bit set an index into
// Set.multi when several indicators share a key.
type posting uint32

const multiBit = 1 << 31

// Set is a compiled set of indicators. It is read-only once compiled and
// safe for concurrent use by many Matchers.
type Set struct {
	ids      []string
	problems []Problem
	fast     int

	tab *table
	// v4lens are the IPv4 prefix lengths present, longest first. v4bits
	// has, for each length up to maxBitmapLen present, a bitmap of its
	// networks (8 KiB at most, in cache), so that short prefixes cost no
	// probe of the table when the bit is not set.
	v4lens []uint8
	v4bits [maxBitmapLen + 1][]uint64
	// Blocked Bloom filters in front of the table, each sized for its
	// class so that small classes stay in cache: v4exact holds the IPv4
	// addresses (the /32s: with a million indicators the big one, whose
	// word Feed prefetches), v4wide the /24 networks of the IPv4 networks
	// of 24 to 31 bits (an address tries them all with one look), v4mid
	// the networks of 17 to 23 bits, suffixes the domain suffixes.
	v4exact, v4wide, v4mid, suffixes bloom
	hasExact, hasWide, hasSuffix     bool
	filterKeys                       [4][]uint64             // the filters' hashes until Compile sizes them
	nets                             [2]*bart.Table[posting] // other networks: IPv6 of ipv6-addr:value, IPv6 of ipv4-addr:value (never matched)
	multi                            [][]uint32

	slow      []slowIndicator
	slowByObj [numObj][]int32
}

type slowIndicator struct {
	idx uint32
	p   *pattern.Pattern
}

// Object types the readers produce, for indexing the evaluator's work.
const (
	objIPv4 = iota
	objIPv6
	objDomain
	objURL
	objEmail
	objFile
	numObj
)

var objTypes = map[string]int{"ipv4-addr": objIPv4, "ipv6-addr": objIPv6, "domain-name": objDomain,
	"url": objURL, "email-addr": objEmail, "file": objFile}

func objOf(k telemetry.Kind) int {
	switch k {
	case telemetry.IPv4:
		return objIPv4
	case telemetry.IPv6:
		return objIPv6
	case telemetry.Domain:
		return objDomain
	case telemetry.URL:
		return objURL
	case telemetry.Email:
		return objEmail
	}
	return objFile
}

// suffixKind is the key class of domain suffixes.
const suffixKind = telemetry.NumKinds

// ipv6Class is the key class of IPv6 addresses.
const ipv6Class = telemetry.IPv6

// maxBitmapLen is the longest IPv4 prefix length kept in a bitmap
// beside the table (2^16 bits, 8 KiB).
const maxBitmapLen = 16

// bloom is a blocked Bloom filter: both bits of a key are in one 64-bit
// word, so a look-up costs one cache miss at most, 16 to 32 bits a key.
type bloom struct {
	words []uint64
	mask  uint64
}

func newBloom(hashes []uint64) bloom {
	n := max(1, 1<<bits.Len(uint(len(hashes)/4)))
	f := bloom{make([]uint64, n), uint64(n - 1)}
	for _, h := range hashes {
		f.words[f.word(h)] |= filterBits(h)
	}
	return f
}

// word is the word of the key of hash h: from bits the table's slots and
// tags do not use first, so that the filter's false positives are not
// also the table's.
func (f *bloom) word(h uint64) uint64 { return h >> 24 & f.mask }

func (f *bloom) has(h uint64) bool {
	b := filterBits(h)
	return f.words[f.word(h)]&b == b
}

func filterBits(h uint64) uint64 { return 1<<(h>>52&63) | 1<<(h>>58) }

// ErrMultiObservation is the problem of a pattern that no single event
// can match.
var ErrMultiObservation = fmt.Errorf("the pattern needs more than one observation; parley match judges each event on its own")

// ErrNoTelemetryType is the problem of a pattern that tests only object
// types the telemetry readers never produce.
var ErrNoTelemetryType = fmt.Errorf("the pattern tests no object type that telemetry carries (ipv4-addr, ipv6-addr, domain-name, url, email-addr, file)")

// Compile compiles indicators into a set. Indicators whose pattern does
// not compile, needs more than one observation, or tests nothing the
// readers produce are listed in Problems and left out; the indexes of
// the others are their positions in inds.
func Compile(inds []Indicator, opt Options) *Set {
	s := &Set{ids: make([]string, len(inds))}
	s.nets[0], s.nets[1] = new(bart.Table[posting]), new(bart.Table[posting])
	tb := newTableBuilder(s)
	// Each pattern is parsed and compiled on its own, on every core, a
	// batch at a time (a batch's trees are held until it is added); the
	// table is built from them in order, on one.
	workers := runtime.GOMAXPROCS(0)
	var batch [compileBatch]prepared
	for start := 0; start < len(inds); start += compileBatch {
		part := inds[start:min(start+compileBatch, len(inds))]
		var wg sync.WaitGroup
		for w := range min(workers, len(part)) {
			wg.Go(func() {
				for k := w; k < len(part); k += workers {
					batch[k] = prepare(part[k].Pattern, opt)
				}
			})
		}
		wg.Wait()
		for k, ind := range part {
			i, pr := start+k, &batch[k]
			s.ids[i] = ind.ID
			switch {
			case pr.err != nil:
				s.problems = append(s.problems, Problem{ind.ID, pr.err})
			case pr.fast:
				for _, c := range pr.comps {
					s.addFast(tb, uint32(i), c)
				}
				s.fast++
			default:
				n := int32(len(s.slow))
				s.slow = append(s.slow, slowIndicator{uint32(i), pr.p})
				for o := range numObj {
					if pr.mask&(1<<o) != 0 {
						s.slowByObj[o] = append(s.slowByObj[o], n)
					}
				}
			}
			*pr = prepared{}
		}
	}
	s.tab = tb.build()
	for i, f := range []*bloom{&s.v4wide, &s.v4mid, &s.suffixes, &s.v4exact} {
		*f = newBloom(s.filterKeys[i])
	}
	s.filterKeys = [4][]uint64{}
	return s
}

// compileBatch is how many patterns Compile prepares at once.
const compileBatch = 4096

// prepared is one pattern made ready for the set: its fast-path keys, or
// its compiled form for the evaluator and the object types it tests, or
// why it cannot run.
type prepared struct {
	fast  bool
	comps []fastComparison
	p     *pattern.Pattern
	mask  int
	err   error
}

// prepare parses and compiles one pattern (on any goroutine).
func prepare(src string, opt Options) prepared {
	e, err := pattern.Parse(src)
	if err != nil {
		return prepared{err: dialogue.E("match.Compile", dialogue.KindInvalid, err)}
	}
	if minObservations(e) > 1 {
		return prepared{err: dialogue.E("match.Compile", dialogue.KindInvalid, ErrMultiObservation)}
	}
	normalize(e)
	if !opt.NoFastPath {
		if comps, ok := fastForm(e, nil); ok {
			return prepared{fast: true, comps: comps}
		}
	}
	p, err := pattern.Compile(e.String())
	if err != nil {
		return prepared{err: err}
	}
	mask := 0
	walkComparisons(e, func(c *pattern.Comparison) {
		if o, ok := objTypes[c.Path.Type]; ok {
			mask |= 1 << o
		}
	})
	if mask == 0 {
		return prepared{err: dialogue.E("match.Compile", dialogue.KindInvalid, ErrNoTelemetryType)}
	}
	return prepared{p: p, mask: mask}
}

// Len is the number of indicators given to Compile.
func (s *Set) Len() int { return len(s.ids) }

// ID is the id of indicator i.
func (s *Set) ID(i int) string { return s.ids[i] }

// Problems lists the indicators left out, and why.
func (s *Set) Problems() []Problem { return s.problems }

// Fast is how many indicators run on the compiled fast path.
func (s *Set) Fast() int { return s.fast }

// Slow is how many indicators run through the evaluator.
func (s *Set) Slow() int { return len(s.slow) }

// minObservations is the fewest observations that can match e.
func minObservations(e pattern.Expr) int64 {
	switch e := e.(type) {
	case *pattern.Paren:
		return minObservations(e.X)
	case *pattern.Binary:
		l, r := minObservations(e.L), minObservations(e.R)
		if e.Op == pattern.ObsOr {
			return min(l, r)
		}
		return l + r
	case *pattern.Qualified:
		if e.Kind == pattern.Repeats {
			return e.Times * minObservations(e.X)
		}
		return minObservations(e.X)
	}
	return 1
}

func walkComparisons(e pattern.Expr, f func(*pattern.Comparison)) {
	var cmp func(c pattern.Cmp)
	cmp = func(c pattern.Cmp) {
		switch c := c.(type) {
		case *pattern.CmpParen:
			cmp(c.X)
		case *pattern.CmpBinary:
			cmp(c.L)
			cmp(c.R)
		case *pattern.Comparison:
			f(c)
		}
	}
	var expr func(e pattern.Expr)
	expr = func(e pattern.Expr) {
		switch e := e.(type) {
		case *pattern.Bracket:
			cmp(e.Cmp)
		case *pattern.Paren:
			expr(e.X)
		case *pattern.Binary:
			expr(e.L)
			expr(e.R)
		case *pattern.Qualified:
			expr(e.X)
		}
	}
	expr(e)
}

// fastComparison is one key of the fast path.
type fastComparison struct {
	kind   telemetry.Kind // suffixKind for a domain suffix
	str    string
	net    netip.Prefix
	isNet  bool
	family int // for networks: 0 ipv4-addr:value, 1 ipv6-addr:value
}

// fastForm collects the keys of a pattern made only of ORs of fast
// comparisons, or reports that it is not one.
func fastForm(e pattern.Expr, out []fastComparison) ([]fastComparison, bool) {
	switch e := e.(type) {
	case *pattern.Paren:
		return fastForm(e.X, out)
	case *pattern.Binary:
		if e.Op != pattern.ObsOr {
			return nil, false
		}
		out, ok := fastForm(e.L, out)
		if !ok {
			return nil, false
		}
		return fastForm(e.R, out)
	case *pattern.Bracket:
		return fastCmp(e.Cmp, out)
	}
	return nil, false
}

var hashKinds = map[string]telemetry.Kind{"MD5": telemetry.MD5, "SHA-1": telemetry.SHA1,
	"SHA-256": telemetry.SHA256, "SHA-512": telemetry.SHA512}

func fastCmp(c pattern.Cmp, out []fastComparison) ([]fastComparison, bool) {
	switch c := c.(type) {
	case *pattern.CmpParen:
		return fastCmp(c.X, out)
	case *pattern.CmpBinary:
		if c.Op != pattern.CmpOr {
			return nil, false
		}
		out, ok := fastCmp(c.L, out)
		if !ok {
			return nil, false
		}
		return fastCmp(c.R, out)
	case *pattern.Comparison:
		if c.Not {
			return nil, false
		}
		if isAddrPath(c.Path) {
			if c.Op != pattern.IsSubset || c.Value.Kind != pattern.StringLit {
				return nil, false
			}
			n, ok := parseNet(c.Value.Str)
			if !ok {
				return nil, false
			}
			fam := 0
			if c.Path.Type == "ipv6-addr" {
				fam = 1
			}
			return append(out, fastComparison{net: n, isNet: true, family: fam}), true
		}
		var kind telemetry.Kind
		switch {
		case isPath(c.Path, "domain-name", "value"):
			kind = telemetry.Domain
			if c.Op == pattern.Like {
				s := c.Value.Str
				if !strings.HasPrefix(s, "%.") || strings.ContainsAny(s[1:], "%_") || !ascii(s) {
					return nil, false
				}
				return append(out, fastComparison{kind: suffixKind, str: s[1:]}), true
			}
		case isPath(c.Path, "url", "value"):
			kind = telemetry.URL
		case isPath(c.Path, "email-addr", "value"):
			kind = telemetry.Email
		default:
			h, ok := hashKey(c.Path)
			if !ok {
				return nil, false
			}
			if kind, ok = hashKinds[h]; !ok {
				return nil, false
			}
		}
		switch c.Op {
		case pattern.Eq:
			if c.Value.Kind != pattern.StringLit {
				return nil, false
			}
			return append(out, fastComparison{kind: kind, str: c.Value.Str}), true
		case pattern.In:
			for _, l := range c.Set {
				if l.Kind != pattern.StringLit {
					return nil, false
				}
				out = append(out, fastComparison{kind: kind, str: l.Str})
			}
			return out, true
		}
	}
	return nil, false
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (s *Set) addFast(tb *tableBuilder, i uint32, c fastComparison) {
	switch {
	case c.isNet:
		if c.family == 0 && c.net.Addr().Is4() {
			v := c.net.Masked().Addr().As4()
			u := binary.BigEndian.Uint32(v[:])
			l := uint8(c.net.Bits())
			tb.add(i, uint8(classV4Net), u, uint32(l), nil)
			if !slices.Contains(s.v4lens, l) {
				s.v4lens = append(s.v4lens, l)
				slices.Sort(s.v4lens)
				slices.Reverse(s.v4lens)
			}
			switch {
			case l <= maxBitmapLen:
				if s.v4bits[l] == nil {
					s.v4bits[l] = make([]uint64, max(1, (1<<l)/64))
				}
				n := uint64(u) >> (32 - uint64(l))
				s.v4bits[l][n/64] |= 1 << (n % 64)
			case l < 24:
				s.filterKeys[1] = append(s.filterKeys[1], tb.t.hashV4(v4Key(u, l)))
			case l == 32:
				s.hasExact = true
				s.filterKeys[3] = append(s.filterKeys[3], tb.t.hashV4(v4Key(u, l)))
			default:
				s.hasWide = true
				s.filterKeys[0] = append(s.filterKeys[0], tb.t.hash24(uint64(u)>>8))
			}
			return
		}
		if c.family == 1 && c.net.IsSingleIP() && !c.net.Addr().Is4() {
			a := c.net.Addr().As16()
			tb.add(i, uint8(ipv6Class), 0, 0, a[:])
			return
		}
		t := s.nets[c.family]
		p := c.net.Masked()
		old, ok := t.Get(p)
		t.Insert(p, s.post(old, ok, i))
	case c.kind == suffixKind:
		s.hasSuffix = true
		tb.add(i, uint8(suffixKind), 0, 0, []byte(c.str))
		s.filterKeys[2] = append(s.filterKeys[2], tb.t.hashBytes(uint8(suffixKind), []byte(c.str)))
	default:
		tb.add(i, uint8(c.kind), 0, 0, []byte(c.str))
	}
}

// post adds indicator i to a posting.
func (s *Set) post(old posting, exists bool, i uint32) posting {
	if !exists {
		return posting(i)
	}
	if old&multiBit == 0 {
		if uint32(old) == i {
			return old
		}
		s.multi = append(s.multi, []uint32{uint32(old), i})
		return posting(len(s.multi)-1) | multiBit
	}
	l := s.multi[old&^multiBit]
	if l[len(l)-1] != i {
		s.multi[old&^multiBit] = append(l, i)
	}
	return old
}
