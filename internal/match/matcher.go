package match

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"github.com/gaissmai/bart"

	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/telemetry"
)

// Matcher matches events against a Set and keeps the counts. One Matcher
// is used by one goroutine; run several over one Set and Merge them.
type Matcher struct {
	set  *Set
	mark []uint32 // the event number an indicator last matched in
	gen  uint32
	hits []uint32

	count       []int64
	first, last []int64 // unix nanoseconds

	stats Stats
	obs   [1]pattern.Observation
	hash  []uint64 // the hashes of the event being looked up

	// The events Feed holds back: copies of their values, their texts
	// (all in heldTxt, one after the other) and their hashes.
	held    [feedBatch]telemetry.Event
	heldH   [feedBatch][]uint64
	heldTxt []byte
	nheld   int
}

// feedBatch is how many events Feed holds before it looks them up.
const feedBatch = 16

// Stats counts a Matcher's work.
type Stats struct {
	Events        int64 // events matched
	MatchedEvents int64 // events that matched at least one indicator
	// EvalErrors counts evaluations that failed (an event the evaluator
	// could not judge); FirstEvalError is the first.
	EvalErrors     int64
	FirstEvalError error
}

// NewMatcher returns a matcher over the set, with every count at zero.
func (s *Set) NewMatcher() *Matcher {
	n := len(s.ids)
	return &Matcher{set: s, mark: make([]uint32, n), count: make([]int64, n),
		first: make([]int64, n), last: make([]int64, n)}
}

// Match returns the indexes of the indicators the event matches, each
// once, and counts them. The slice is valid until the next call.
func (m *Matcher) Match(ev *telemetry.Event) []uint32 {
	m.hits = m.Lookup(ev, m.hits[:0])
	m.tally(ev, m.hits)
	return m.hits
}

// tally counts the event and its hits.
func (m *Matcher) tally(ev *telemetry.Event, hits []uint32) {
	m.stats.Events++
	if len(hits) > 0 {
		m.stats.MatchedEvents++
		t := ev.Time.UnixNano()
		for _, i := range hits {
			if m.count[i] == 0 || t < m.first[i] {
				m.first[i] = t
			}
			if m.count[i] == 0 || t > m.last[i] {
				m.last[i] = t
			}
			m.count[i]++
		}
	}
}

// Lookup appends to hits the indexes of the indicators the event
// matches, each once, without counting.
func (m *Matcher) Lookup(ev *telemetry.Event, hits []uint32) []uint32 {
	m.hash = m.hashes(ev, m.hash[:0])
	return m.lookup(ev, m.hash, hits)
}

// Feed matches events as Match does and counts them, a few events
// late: it works out where in the tables each value of ev will be looked
// for and asks the processor to fetch those places (in memory, not in
// the caches, with a million indicators), keeps a copy of the event, and
// looks the held events up together once it holds feedBatch of them,
// their places arrived meanwhile, while the reader was reading the next
// ones. Call Flush after the last event. The counts are Match's; Feed
// reports no indexes. Use Feed or Match on one Matcher, not both.
func (m *Matcher) Feed(ev *telemetry.Event) {
	k := m.nheld
	h := m.hashes(ev, m.heldH[k][:0])
	m.heldH[k] = h
	m.prefetch(ev, h)
	// Hold ev: its values point into the reader's buffer, which the
	// next line overwrites. The texts are pointed at heldTxt when the
	// batch is looked up (the appends may move it).
	e := &m.held[k]
	e.Time = ev.Time
	e.Values = append(e.Values[:0], ev.Values...)
	for i := range ev.Values {
		m.heldTxt = append(m.heldTxt, ev.Values[i].Text...)
	}
	m.nheld++
	if m.nheld == feedBatch {
		m.matchHeld()
	}
}

// Flush matches the events Feed holds back.
func (m *Matcher) Flush() {
	if m.nheld > 0 {
		m.matchHeld()
	}
}

// matchHeld looks up and counts the events Feed holds, with the hashes
// worked out when they were fed.
func (m *Matcher) matchHeld() {
	at := 0
	for k := range m.nheld {
		e := &m.held[k]
		for i := range e.Values {
			v := &e.Values[i]
			if n := len(v.Text); n > 0 {
				v.Text = m.heldTxt[at : at+n : at+n]
				at += n
			}
		}
	}
	for k := range m.nheld {
		m.hits = m.lookup(&m.held[k], m.heldH[k], m.hits[:0])
		m.tally(&m.held[k], m.hits)
	}
	m.nheld = 0
	m.heldTxt = m.heldTxt[:0]
}

// hashes appends the hash each value of ev is looked up by: its key's
// in the table (for an IPv4 address, the key of the address as a /32).
func (m *Matcher) hashes(ev *telemetry.Event, h []uint64) []uint64 {
	s := m.set
	t := s.tab
	for vi := range ev.Values {
		v := &ev.Values[vi]
		var x uint64
		switch v.Kind {
		case telemetry.IPv4:
			b := v.Addr.As4()
			x = t.hashV4(v4Key(binary.BigEndian.Uint32(b[:]), 32))
		case telemetry.IPv6:
			a := v.Addr.As16()
			x = t.hashBytes(uint8(ipv6Class), a[:])
		default:
			x = t.hashBytes(uint8(v.Kind), v.Text)
		}
		h = append(h, x)
	}
	return h
}

// prefetch asks for the memory the look-ups of ev's values read first.
func (m *Matcher) prefetch(ev *telemetry.Event, h []uint64) {
	s := m.set
	t := s.tab
	for vi := range ev.Values {
		switch ev.Values[vi].Kind {
		case telemetry.IPv4:
			if s.hasExact {
				prefetch(unsafe.Pointer(&s.v4exact.words[s.v4exact.word(h[vi])]))
			}
		default:
			prefetch(unsafe.Pointer(&t.tags[h[vi]&t.mask]))
		}
	}
}

// lookup is Lookup with the values' hashes.
func (m *Matcher) lookup(ev *telemetry.Event, h []uint64, hits []uint32) []uint32 {
	m.gen++
	if m.gen == 0 { // wrapped: clear the marks
		clear(m.mark)
		m.gen = 1
	}
	s := m.set
	t := s.tab
	for vi := range ev.Values {
		v := &ev.Values[vi]
		switch v.Kind {
		case telemetry.IPv4:
			b := v.Addr.As4()
			u := uint64(binary.BigEndian.Uint32(b[:]))
			wide := s.hasWide && s.v4wide.has(t.hash24(u>>8))
			for _, l := range s.v4lens {
				switch {
				case l == 32:
					if !s.v4exact.has(h[vi]) {
						continue
					}
				case l >= 24:
					if !wide {
						continue
					}
				case l <= maxBitmapLen:
					if n := u >> (32 - uint64(l)); s.v4bits[l][n/64]&(1<<(n%64)) == 0 {
						continue
					}
				}
				k := (u&^(1<<(32-uint64(l))-1))<<8 | uint64(l)
				hk := t.hashV4(k)
				if l > maxBitmapLen && l < 24 && !s.v4mid.has(hk) {
					continue
				}
				if post, ok := t.find(hk, uint8(classV4Net), nil, k); ok {
					hits = m.add(hits, post)
				}
			}
		case telemetry.IPv6:
			if t.maybe(h[vi]) {
				a := v.Addr.As16()
				if post, ok := t.find(h[vi], uint8(ipv6Class), a[:], 0); ok {
					hits = m.add(hits, post)
				}
			}
		default:
			if t.maybe(h[vi]) {
				if post, ok := t.find(h[vi], uint8(v.Kind), v.Text, 0); ok {
					hits = m.add(hits, post)
				}
			}
			if v.Kind == telemetry.Domain && s.hasSuffix {
				for i := 0; ; {
					d := bytes.IndexByte(v.Text[i+1:], '.')
					if d < 0 {
						break
					}
					i += 1 + d
					suf := v.Text[i:]
					if hs := t.hashBytes(uint8(suffixKind), suf); s.suffixes.has(hs) {
						if post, ok := t.find(hs, uint8(suffixKind), suf, 0); ok {
							hits = m.add(hits, post)
						}
					}
				}
			}
		}
	}
	if s.nets[1].Size() > 0 {
		for vi := range ev.Values {
			if v := &ev.Values[vi]; v.Kind == telemetry.IPv6 {
				hits = m.nets(hits, s.nets[1], v.Addr)
			}
		}
	}
	if len(s.slow) > 0 {
		// The object types the event has, for the evaluator's indexes
		// (only then: most sets have no indicator for the evaluator).
		objs := 0
		for vi := range ev.Values {
			objs |= 1 << objOf(ev.Values[vi].Kind)
		}
		if objs != 0 {
			hits = m.evaluate(ev, objs, hits)
		}
	}
	return hits
}

func (m *Matcher) nets(hits []uint32, t *bart.Table[posting], a netip.Addr) []uint32 {
	if t.Size() == 0 {
		return hits
	}
	if _, ok := t.Lookup(a); !ok {
		return hits
	}
	for _, p := range t.Supernets(netip.PrefixFrom(a, a.BitLen())) {
		hits = m.add(hits, p)
	}
	return hits
}

func (m *Matcher) add(hits []uint32, p posting) []uint32 {
	if p&multiBit == 0 {
		return m.one(hits, uint32(p))
	}
	for _, i := range m.set.multi[p&^multiBit] {
		hits = m.one(hits, i)
	}
	return hits
}

func (m *Matcher) one(hits []uint32, i uint32) []uint32 {
	if m.mark[i] == m.gen {
		return hits
	}
	m.mark[i] = m.gen
	return append(hits, i)
}

// evaluate runs the evaluator's indicators that test an object type the
// event has.
func (m *Matcher) evaluate(ev *telemetry.Event, objs int, hits []uint32) []uint32 {
	built := false
	for o := range numObj {
		if objs&(1<<o) == 0 {
			continue
		}
		for _, si := range m.set.slowByObj[o] {
			sl := &m.set.slow[si]
			if m.mark[sl.idx] == m.gen {
				continue
			}
			if !built {
				m.obs[0] = Observation(ev)
				built = true
			}
			ok, err := sl.p.Match(m.obs[:])
			if err != nil {
				m.stats.EvalErrors++
				if m.stats.FirstEvalError == nil {
					m.stats.FirstEvalError = fmt.Errorf("%s: %w", m.set.ids[sl.idx], err)
				}
				continue
			}
			if ok {
				hits = m.one(hits, sl.idx)
			}
		}
	}
	return hits
}

// Observation is the event as the evaluator sees it: one observed-data
// seen once at the event's time, with one object per address, domain,
// URL and email address, and a file object holding the hashes (a hash
// of a kind the file object has already starts another file object).
func Observation(ev *telemetry.Event) pattern.Observation {
	o := pattern.Observation{FirstObserved: ev.Time, LastObserved: ev.Time, NumberObserved: 1}
	var files []map[string]any
	for i, v := range ev.Values {
		var typ string
		switch v.Kind {
		case telemetry.IPv4:
			typ = "ipv4-addr"
		case telemetry.IPv6:
			typ = "ipv6-addr"
		case telemetry.Domain:
			typ = "domain-name"
		case telemetry.URL:
			typ = "url"
		case telemetry.Email:
			typ = "email-addr"
		default:
			key := v.Kind.HashKey()
			placed := false
			for _, h := range files {
				if _, ok := h[key]; !ok {
					h[key] = string(v.Text)
					placed = true
					break
				}
			}
			if !placed {
				files = append(files, map[string]any{key: string(v.Text)})
			}
			continue
		}
		o.Objects = append(o.Objects, pattern.Object{Key: fmt.Sprint(i),
			Props: map[string]any{"type": typ, "value": v.String()}})
	}
	for i, h := range files {
		o.Objects = append(o.Objects, pattern.Object{Key: fmt.Sprint("file", i),
			Props: map[string]any{"type": "file", "hashes": h}})
	}
	return o
}

// Result is what one indicator matched.
type Result struct {
	Index       int
	ID          string
	Count       int64
	First, Last time.Time
}

// Results lists the indicators that matched at least once, in the
// order of the set.
func (m *Matcher) Results() []Result {
	var out []Result
	for i, c := range m.count {
		if c > 0 {
			out = append(out, Result{Index: i, ID: m.set.ids[i], Count: c,
				First: time.Unix(0, m.first[i]).UTC(), Last: time.Unix(0, m.last[i]).UTC()})
		}
	}
	return out
}

// Stats are the matcher's counts.
func (m *Matcher) Stats() Stats { return m.stats }

// Merge adds o's counts (a matcher over the same set) to m's.
func (m *Matcher) Merge(o *Matcher) {
	for i, c := range o.count {
		if c == 0 {
			continue
		}
		if m.count[i] == 0 || o.first[i] < m.first[i] {
			m.first[i] = o.first[i]
		}
		if m.count[i] == 0 || o.last[i] > m.last[i] {
			m.last[i] = o.last[i]
		}
		m.count[i] += c
	}
	m.stats.Events += o.stats.Events
	m.stats.MatchedEvents += o.stats.MatchedEvents
	m.stats.EvalErrors += o.stats.EvalErrors
	if m.stats.FirstEvalError == nil {
		m.stats.FirstEvalError = o.stats.FirstEvalError
	}
}
