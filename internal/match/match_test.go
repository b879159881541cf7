package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/telemetry"
)

// universe is a small world of values so that random indicators and
// random events meet often.
type universe struct{ r *rand.Rand }

func (u universe) pick(l []string) string { return l[u.r.IntN(len(l))] }

var (
	labels  = []string{"a", "b", "evil", "example", "mail", "cdn"}
	tlds    = []string{"com", "net", "example"}
	ipv4s   = []string{"10.0.0.1", "10.0.0.2", "10.0.1.7", "192.0.2.9", "198.51.100.3", "203.0.113.200"}
	ipv4Net = []string{"10.0.0.0/8", "10.0.0.0/24", "10.0.1.0/24", "198.51.100.0/25", "0.0.0.0/0", "192.0.2.9/32", "10.0.0.1/31"}
	ipv6s   = []string{"2001:db8::1", "2001:db8::2", "2001:db8:1::5", "fe80::1"}
	ipv6Net = []string{"2001:db8::/32", "2001:db8:1::/48", "2001:db8::/127", "::/0"}
	md5s    = []string{"d41d8cd98f00b204e9800998ecf8427e", "79054025255fb1a26e4bc422aef54eb4", "0123456789abcdef0123456789abcdef"}
	sha256s = []string{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
)

func (u universe) domain() string {
	n := 1 + u.r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = u.pick(labels)
	}
	return strings.Join(parts, ".") + "." + u.pick(tlds)
}

func (u universe) url() string   { return "http://" + u.domain() + "/p" + fmt.Sprint(u.r.IntN(3)) }
func (u universe) email() string { return "u" + fmt.Sprint(u.r.IntN(3)) + "@" + u.domain() }

// maybeUpper writes s in upper case now and then (the normalisation must
// make both paths agree on it).
func (u universe) maybeUpper(s string) string {
	if u.r.IntN(5) == 0 {
		return strings.ToUpper(s)
	}
	return s
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// comparison is one random comparison, of a fast form or not.
func (u universe) comparison() string {
	switch u.r.IntN(16) {
	case 0:
		return "ipv4-addr:value = " + q(u.pick(ipv4s))
	case 1:
		return "ipv4-addr:value = " + q(u.pick(ipv4Net))
	case 2:
		return "ipv4-addr:value ISSUBSET " + q(u.pick(ipv4Net))
	case 3:
		return "ipv4-addr:value IN (" + q(u.pick(ipv4s)) + ", " + q(u.pick(ipv4Net)) + ")"
	case 4:
		return "ipv6-addr:value = " + q(u.maybeUpper(u.pick(ipv6s)))
	case 5:
		return "ipv6-addr:value ISSUBSET " + q(u.pick(ipv6Net))
	case 6:
		return "domain-name:value = " + q(u.maybeUpper(u.domain()))
	case 7:
		return "domain-name:value LIKE " + q("%."+u.domain())
	case 8:
		return "domain-name:value IN (" + q(u.domain()) + ", " + q(u.domain()+".") + ")"
	case 9:
		return "url:value = " + q(u.url())
	case 10:
		return "email-addr:value = " + q(u.email())
	case 11:
		return "file:hashes.MD5 = " + q(u.maybeUpper(u.pick(md5s)))
	case 12:
		return "file:hashes.'SHA-256' IN (" + q(u.pick(sha256s)) + ", " + q(u.pick(sha256s)) + ")"
	// Forms for the evaluator.
	case 13:
		return "domain-name:value LIKE " + q("%"+u.pick(labels)+"%")
	case 14:
		return "ipv4-addr:value NOT = " + q(u.pick(ipv4s))
	default:
		return "url:value MATCHES " + q("^http://"+u.pick(labels)+`\\.`)
	}
}

func (u universe) pattern() string {
	br := func() string {
		c := u.comparison()
		for u.r.IntN(3) == 0 {
			op := " OR "
			if u.r.IntN(4) == 0 {
				op = " AND "
			}
			c += op + u.comparison()
		}
		return "[" + c + "]"
	}
	p := br()
	switch u.r.IntN(6) {
	case 0:
		p += " OR " + br()
	case 1:
		p = "(" + p + ") WITHIN 5 SECONDS"
	}
	return p
}

func (u universe) event(t time.Time) *telemetry.Event {
	ev := &telemetry.Event{Time: t}
	for range 1 + u.r.IntN(5) {
		switch u.r.IntN(7) {
		case 0:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.IPv4, Addr: netip.MustParseAddr(u.pick(ipv4s))})
		case 1:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.IPv6, Addr: netip.MustParseAddr(u.pick(ipv6s))})
		case 2:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.Domain, Text: []byte(u.domain())})
		case 3:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.URL, Text: []byte(u.url())})
		case 4:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.Email, Text: []byte(u.email())})
		case 5:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.MD5, Text: []byte(u.pick(md5s))})
		default:
			ev.Values = append(ev.Values, telemetry.Value{Kind: telemetry.SHA256, Text: []byte(u.pick(sha256s))})
		}
	}
	return ev
}

// TestFastPathAgreesWithEvaluator compiles random indicators twice, with
// and without the fast path, and checks that every random event matches
// the same indicators both ways (seeded, so a failure repeats).
func TestFastPathAgreesWithEvaluator(t *testing.T) {
	for seed := range uint64(5) {
		u := universe{rand.New(rand.NewPCG(seed, 7))}
		inds := make([]Indicator, 200)
		for i := range inds {
			inds[i] = Indicator{ID: fmt.Sprintf("indicator--%d", i), Pattern: u.pattern()}
		}
		fast := Compile(inds, Options{})
		slow := Compile(inds, Options{NoFastPath: true})
		if len(fast.Problems()) != 0 || len(slow.Problems()) != 0 {
			t.Fatalf("seed %d: problems: %v %v", seed, fast.Problems(), slow.Problems())
		}
		if fast.Fast() < 60 {
			t.Fatalf("seed %d: only %d of %d indicators on the fast path", seed, fast.Fast(), len(inds))
		}
		fm, sm := fast.NewMatcher(), slow.NewMatcher()
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		matched := 0
		for e := range 600 {
			ev := u.event(t0.Add(time.Duration(e) * time.Second))
			a := slices.Clone(fm.Match(ev))
			b := slices.Clone(sm.Match(ev))
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				var vals []string
				for _, v := range ev.Values {
					vals = append(vals, v.String())
				}
				t.Fatalf("seed %d event %v:\nfast path %v\nevaluator %v\npatterns: %s", seed, vals, a, b, describe(inds, a, b))
			}
			if len(a) > 0 {
				matched++
			}
		}
		if matched < 60 {
			t.Errorf("seed %d: only %d of 600 events matched: the test tests little", seed, matched)
		}
		if fs, ss := fm.Stats(), sm.Stats(); fs.EvalErrors != 0 || ss.EvalErrors != 0 {
			t.Errorf("seed %d: evaluation errors %v %v", seed, fs.FirstEvalError, ss.FirstEvalError)
		}
	}
}

func describe(inds []Indicator, a, b []uint32) string {
	var sb strings.Builder
	for _, i := range a {
		if !slices.Contains(b, i) {
			fmt.Fprintf(&sb, "\n  only fast: %s", inds[i].Pattern)
		}
	}
	for _, i := range b {
		if !slices.Contains(a, i) {
			fmt.Fprintf(&sb, "\n  only evaluator: %s", inds[i].Pattern)
		}
	}
	return sb.String()
}

func ev(t time.Time, vals ...telemetry.Value) *telemetry.Event {
	return &telemetry.Event{Time: t, Values: vals}
}

func ip(s string) telemetry.Value {
	a := netip.MustParseAddr(s)
	if a.Is4() {
		return telemetry.Value{Kind: telemetry.IPv4, Addr: a}
	}
	return telemetry.Value{Kind: telemetry.IPv6, Addr: a}
}

func txt(k telemetry.Kind, s string) telemetry.Value {
	return telemetry.Value{Kind: k, Text: []byte(s)}
}

// TestForms checks the documented meaning of each fast form, and where
// each indicator runs.
func TestForms(t *testing.T) {
	tests := []struct {
		pattern string
		fast    bool
		match   []telemetry.Value
		nomatch []telemetry.Value
	}{
		{"[ipv4-addr:value = '198.51.100.3']", true, []telemetry.Value{ip("198.51.100.3")}, []telemetry.Value{ip("198.51.100.4"), ip("::ffff:198.51.100.4")}},
		{"[ipv4-addr:value = '198.51.100.0/24']", true, []telemetry.Value{ip("198.51.100.200")}, []telemetry.Value{ip("198.51.101.1")}},
		{"[ipv4-addr:value = '198.51.100.3/32']", true, []telemetry.Value{ip("198.51.100.3")}, nil},
		{"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", true, []telemetry.Value{ip("10.200.0.1")}, []telemetry.Value{ip("11.0.0.1")}},
		{"[ipv6-addr:value = '2001:DB8::1']", true, []telemetry.Value{ip("2001:db8::1")}, []telemetry.Value{ip("2001:db8::2")}},
		{"[ipv6-addr:value ISSUBSET '2001:db8::/32']", true, []telemetry.Value{ip("2001:db8:ffff::9")}, []telemetry.Value{ip("2001:db9::1")}},
		{"[ipv4-addr:value ISSUBSET '2001:db8::/32']", true, nil, []telemetry.Value{ip("2001:db8::1")}},
		{"[domain-name:value = 'Evil.Example.']", true, []telemetry.Value{txt(telemetry.Domain, "evil.example")}, []telemetry.Value{txt(telemetry.Domain, "www.evil.example")}},
		{"[domain-name:value LIKE '%.evil.example']", true, []telemetry.Value{txt(telemetry.Domain, "www.evil.example"), txt(telemetry.Domain, "a.b.evil.example")},
			[]telemetry.Value{txt(telemetry.Domain, "evil.example"), txt(telemetry.Domain, "notevil.example")}},
		{"[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']", true,
			[]telemetry.Value{txt(telemetry.Domain, "evil.example"), txt(telemetry.Domain, "x.evil.example")}, []telemetry.Value{txt(telemetry.Domain, "xevil.example")}},
		{"[url:value = 'http://evil.example/a']", true, []telemetry.Value{txt(telemetry.URL, "http://evil.example/a")}, []telemetry.Value{txt(telemetry.URL, "http://evil.example/a?")}},
		{"[email-addr:value IN ('a@evil.example', 'b@evil.example')]", true, []telemetry.Value{txt(telemetry.Email, "b@evil.example")}, []telemetry.Value{txt(telemetry.Email, "c@evil.example")}},
		{"[file:hashes.MD5 = '79054025255FB1A26E4BC422AEF54EB4']", true, []telemetry.Value{txt(telemetry.MD5, "79054025255fb1a26e4bc422aef54eb4")}, []telemetry.Value{txt(telemetry.SHA1, "79054025255fb1a26e4bc422aef54eb4")}},
		{"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] OR [ipv4-addr:value = '192.0.2.1']", true,
			[]telemetry.Value{ip("192.0.2.1"), txt(telemetry.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")}, nil},
		// The evaluator's.
		{"[domain-name:value LIKE 'evil.%']", false, []telemetry.Value{txt(telemetry.Domain, "evil.example")}, []telemetry.Value{txt(telemetry.Domain, "www.evil.example")}},
		{"[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", false, []telemetry.Value{ip("192.0.2.1")}, []telemetry.Value{ip("10.0.0.1")}},
		{"[url:value MATCHES '^https?://evil\\\\.']", false, []telemetry.Value{txt(telemetry.URL, "https://evil.example/")}, []telemetry.Value{txt(telemetry.URL, "http://good.example/")}},
		{"[ipv4-addr:value = '10.0.0.1'] START t'2024-01-01T00:00:00Z' STOP t'2025-01-01T00:00:00Z'", false, []telemetry.Value{ip("10.0.0.1")}, nil},
	}
	when := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			s := Compile([]Indicator{{ID: "indicator--x", Pattern: tt.pattern}}, Options{})
			if len(s.Problems()) > 0 {
				t.Fatal(s.Problems()[0].Err)
			}
			if got := s.Fast() == 1; got != tt.fast {
				t.Errorf("fast path = %v, want %v", got, tt.fast)
			}
			m := s.NewMatcher()
			for _, v := range tt.match {
				if len(m.Match(ev(when, v))) != 1 {
					t.Errorf("%s: no match, want one", v)
				}
			}
			for _, v := range tt.nomatch {
				if len(m.Match(ev(when, v))) != 0 {
					t.Errorf("%s: match, want none", v)
				}
			}
		})
	}
}

// TestProblems: indicators that cannot run are listed with the reason.
func TestProblems(t *testing.T) {
	s := Compile([]Indicator{
		{ID: "indicator--bad", Pattern: "[ipv4-addr:value = ]"},
		{ID: "indicator--two", Pattern: "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'a.example']"},
		{ID: "indicator--rep", Pattern: "[ipv4-addr:value = '10.0.0.1'] REPEATS 3 TIMES"},
		{ID: "indicator--proc", Pattern: "[process:name = 'evil.exe']"},
		{ID: "indicator--re", Pattern: "[url:value MATCHES '(?<=a']"},
		{ID: "indicator--ok", Pattern: "[ipv4-addr:value = '10.0.0.1'] OR ([ipv4-addr:value = '10.0.0.2'] AND [ipv4-addr:value = '10.0.0.3'])"},
	}, Options{})
	want := map[string]string{
		"indicator--bad":  "position 19",
		"indicator--two":  "more than one observation",
		"indicator--rep":  "more than one observation",
		"indicator--proc": "no object type that telemetry carries",
		"indicator--re":   "missing closing )",
	}
	got := map[string]error{}
	for _, p := range s.Problems() {
		got[p.ID] = p.Err
	}
	for id, w := range want {
		if got[id] == nil || !strings.Contains(got[id].Error(), w) {
			t.Errorf("%s: problem %v, want one saying %q", id, got[id], w)
		}
		if dialogue.KindOf(got[id]) != dialogue.KindInvalid {
			t.Errorf("%s: kind %v, want invalid", id, dialogue.KindOf(got[id]))
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems %v, want %d", got, len(want))
	}
	if !errors.Is(got["indicator--two"], ErrMultiObservation) {
		t.Errorf("FOLLOWEDBY: %v is not ErrMultiObservation", got["indicator--two"])
	}
	m := s.NewMatcher()
	if hits := m.Match(ev(time.Now(), ip("10.0.0.1"))); len(hits) != 1 || s.ID(int(hits[0])) != "indicator--ok" {
		t.Errorf("hits %v, want indicator--ok", hits)
	}
}

// TestCounts: count, first and last seen per indicator; an indicator
// counts once per event however many of its values the event has.
func TestCounts(t *testing.T) {
	s := Compile([]Indicator{
		{ID: "indicator--a", Pattern: "[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')] OR [domain-name:value = 'a.example']"},
		{ID: "indicator--b", Pattern: "[ipv4-addr:value ISSUBSET '10.0.0.0/24']"},
		{ID: "indicator--c", Pattern: "[ipv4-addr:value = '10.0.0.1']"},
	}, Options{})
	m := s.NewMatcher()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	m.Match(ev(t0.Add(time.Hour), ip("10.0.0.1"), ip("10.0.0.2"), txt(telemetry.Domain, "a.example")))
	m.Match(ev(t0, ip("10.0.0.2")))
	m.Match(ev(t0.Add(2*time.Hour), ip("192.0.2.1")))
	m.Match(ev(t0.Add(3*time.Hour), ip("10.0.0.9")))
	got := m.Results()
	want := []Result{
		{0, "indicator--a", 2, t0, t0.Add(time.Hour)},
		{1, "indicator--b", 3, t0, t0.Add(3 * time.Hour)},
		{2, "indicator--c", 1, t0.Add(time.Hour), t0.Add(time.Hour)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("results\n%v\nwant\n%v", got, want)
	}
	if st := m.Stats(); st.Events != 4 || st.MatchedEvents != 3 {
		t.Errorf("stats %+v, want 4 events, 3 matched", st)
	}
	// Merge doubles every count and keeps the bounds.
	m2 := s.NewMatcher()
	m2.Match(ev(t0.Add(-time.Hour), ip("10.0.0.1")))
	m.Merge(m2)
	if r := m.Results()[0]; r.Count != 3 || !r.First.Equal(t0.Add(-time.Hour)) {
		t.Errorf("after Merge: %+v", r)
	}
}

// TestFastPathNoAllocs checks that matching an event against fast-path
// indicators allocates nothing once the hit list has grown: an
// allocation an event would bring the garbage collector, whose marking
// walks the compiled set and evicts it from the caches.
func TestFastPathNoAllocs(t *testing.T) {
	s := Compile([]Indicator{
		{"indicator--a", "[ipv4-addr:value = '192.0.2.9']"},
		{"indicator--b", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"},
		{"indicator--c", "[domain-name:value LIKE '%.evil.example']"},
		{"indicator--d", "[url:value = 'http://a.evil.example/x']"},
		{"indicator--e", "[ipv6-addr:value = '2001:db8::1']"},
		{"indicator--f", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
	}, Options{})
	if s.Fast() != 6 {
		t.Fatalf("%d of 6 indicators on the fast path", s.Fast())
	}
	m := s.NewMatcher()
	e := ev(time.Now(), ip("192.0.2.9"), ip("10.1.2.3"), ip("2001:db8::1"), txt(telemetry.Domain, "a.evil.example"),
		txt(telemetry.URL, "http://a.evil.example/x"), txt(telemetry.MD5, "d41d8cd98f00b204e9800998ecf8427e"))
	if n := len(m.Match(e)); n != 6 {
		t.Fatalf("%d hits, want 6", n)
	}
	if n := testing.AllocsPerRun(100, func() { m.Match(e) }); n != 0 {
		t.Errorf("%v allocations an event", n)
	}
}

// TestFeedSameAsMatch feeds random events to one matcher and matches
// them on another: after Flush the counts, bounds and stats are the same
// (1999 events: the last batch is not full).
// The fed events live in one reused event whose texts are overwritten
// after each Feed, as a reader's are by its next line: Feed must have
// kept its own copy of the event it holds back.
func TestFeedSameAsMatch(t *testing.T) {
	u := universe{rand.New(rand.NewPCG(9, 7))}
	inds := make([]Indicator, 300)
	for i := range inds {
		inds[i] = Indicator{ID: fmt.Sprintf("indicator--%d", i), Pattern: u.pattern()}
	}
	s := Compile(inds, Options{})
	mm, mf := s.NewMatcher(), s.NewMatcher()
	mf.Flush() // nothing held: nothing counted
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var reused telemetry.Event
	var buf []byte
	for e := range 2000 - 1 {
		ev := u.event(t0.Add(time.Duration(e%97) * time.Minute))
		mm.Match(ev)
		buf = buf[:0]
		for _, v := range ev.Values {
			buf = append(buf, v.Text...)
		}
		reused.Time, reused.Values = ev.Time, append(reused.Values[:0], ev.Values...)
		at := 0
		for i := range reused.Values {
			n := len(reused.Values[i].Text)
			reused.Values[i].Text = buf[at : at+n]
			at += n
		}
		mf.Feed(&reused)
		for i := range buf {
			buf[i] = 'x'
		}
	}
	if want := int64(1999 - 1999%feedBatch); mf.Stats().Events != want {
		t.Errorf("before Flush: %d events counted, want %d (the rest held back)", mf.Stats().Events, want)
	}
	mf.Flush()
	mf.Flush()
	if mm.Stats() != mf.Stats() {
		t.Errorf("stats: Match %+v, Feed %+v", mm.Stats(), mf.Stats())
	}
	if a, b := mm.Results(), mf.Results(); !slices.Equal(a, b) || len(a) < 30 {
		t.Errorf("results differ or too few (%d, %d matched indicators)", len(a), len(b))
	}
}

// TestFeedNoAllocs: feeding allocates nothing once its buffers have grown.
func TestFeedNoAllocs(t *testing.T) {
	s := Compile([]Indicator{
		{"indicator--a", "[ipv4-addr:value = '192.0.2.9']"},
		{"indicator--c", "[domain-name:value LIKE '%.evil.example']"},
		{"indicator--e", "[ipv6-addr:value = '2001:db8::1']"},
	}, Options{})
	m := s.NewMatcher()
	e := ev(time.Now(), ip("192.0.2.9"), ip("10.1.2.3"), ip("2001:db8::1"), txt(telemetry.Domain, "a.evil.example"),
		txt(telemetry.URL, "http://a.evil.example/x"))
	for range 2 * feedBatch { // every held slot used once
		m.Feed(e)
	}
	// Counted exactly (AllocsPerRun's average rounds down). The count is
	// the process's, so a goroutine of another part of the runtime may
	// add to one round; what Feed allocates is in every round, so the
	// fewest of three rounds is Feed's.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 1000 {
			m.Feed(e)
		}
		runtime.ReadMemStats(&after)
		least = min(least, after.Mallocs-before.Mallocs)
	}
	if least != 0 {
		t.Errorf("%d allocations in 1000 events (the fewest of three rounds)", least)
	}
	m.Flush()
	if st := m.Stats(); st.Events != 3000+2*feedBatch || st.MatchedEvents != st.Events {
		t.Errorf("stats %+v, want %d events all matched", st, 3000+2*feedBatch)
	}
}
