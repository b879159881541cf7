package telemetry

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSWAR checks the eight-bytes-at-a-time searches against plain loops
// on random buffers rich in the bytes sought (and in their neighbours:
// borrows between bytes are where such code goes wrong).
func TestSWAR(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("\"\\{}[]yY\x00\x01\x1f\x20\x21az\x7f\x80\xff\x5c\x22")
	naive := func(b []byte, i int, stop func(byte) bool) int {
		for ; i < len(b) && !stop(b[i]); i++ {
		}
		return i
	}
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		i := 0
		if len(b) > 0 {
			i = r.IntN(len(b) + 1)
		}
		if got, want := firstStrStop(b, i), naive(b, i, func(c byte) bool { return strStop[c] }); got != want {
			t.Fatalf("firstStrStop(%q, %d) = %d, want %d", b, i, got, want)
		}
		if got, want := firstQuoteOrBackslash(b, i), naive(b, i, func(c byte) bool { return c == '"' || c == '\\' }); got != want {
			t.Fatalf("firstQuoteOrBackslash(%q, %d) = %d, want %d", b, i, got, want)
		}
		if len(b) >= 8 {
			x := binary.LittleEndian.Uint64(b)
			c := alphabet[r.IntN(len(alphabet))]
			var want uint64
			for j := range 8 {
				if b[j] == c {
					want |= 0x80 << (8 * j)
				}
			}
			if got := exactEq(x, c); got != want {
				t.Fatalf("exactEq(%q, %q) = %#x, want %#x", b[:8], c, got, want)
			}
		}
	}
}

// refSkipNested is skipNested as it was written first, a bracket or
// quote at a time: the reference TestSkipNested holds the word-at-a-time
// version to.
func (s *scanner) refSkipNested() error {
	var stack [maxDepth]byte
	depth := 0
	b := s.b
	for i := s.i; i < len(b); i++ {
		c := b[i]
		switch c {
		case '"':
			s.i = i
			if _, err := s.skipStr(); err != nil {
				return err
			}
			i = s.i - 1
		case '{', '[':
			if s.depth+depth >= maxDepth {
				s.i = i
				return s.fail("nested too deeply")
			}
			stack[depth] = c
			depth++
		case '}', ']':
			want := byte('{')
			if c == ']' {
				want = '['
			}
			if depth == 0 || stack[depth-1] != want {
				s.i = i
				return s.fail("unbalanced " + string(c))
			}
			depth--
			if depth == 0 {
				s.i = i + 1
				return nil
			}
		}
	}
	s.i = len(b)
	return s.fail("unexpected end of line")
}

// TestSkipNested holds skipNested to the reference on random nested
// values rich in quotes, backslashes and brackets (and, for skipFlat,
// on values where they are rare, so that many are flat): same end, same
// error.
func TestSkipNested(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("\"\\{}[]{[\"\"ab:,yY_\x00")
	flat := 0
	for _, every := range []int{3, 12} {
		for n := range 150000 {
			b := make([]byte, 1+r.IntN(60))
			b[0] = "{["[r.IntN(2)]
			for i := 1; i < len(b); i++ {
				if r.IntN(every) == 0 {
					b[i] = alphabet[r.IntN(len(alphabet))]
				} else {
					b[i] = byte('a' + r.IntN(26))
				}
			}
			depth := r.IntN(3) * 31
			a, want := scanner{b: b, depth: depth}, scanner{b: b, depth: depth}
			if f := (scanner{b: b, depth: depth}); f.skipFlat() {
				flat++
			}
			err, wantErr := a.skipNested(), want.refSkipNested()
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || a.i != want.i {
				t.Fatalf("case %d/%d: skipNested(%q) = %d, %v; want %d, %v", every, n, b, a.i, err, want.i, wantErr)
			}
		}
	}
	if flat < 10000 {
		t.Errorf("only %d flat values: the test does not exercise skipFlat", flat)
	}
}

// BenchmarkSkip compares, pass by pass in one run, skipNested (which
// tries skipFlat first) with skipWords alone on the objects EVE flow
// lines carry, and reports the CPU-time ratio.
func BenchmarkSkip(b *testing.B) {
	objs := [][]byte{
		[]byte(`{"pkts_toserver":10,"pkts_toclient":12,"bytes_toserver":1200,"bytes_toclient":9000,"start":"2021-06-25T12:44:59.000000+0000","end":"2021-06-25T12:45:02.000000+0000","age":3,"state":"closed","reason":"timeout","alerted":false}`),
		[]byte(`{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}`),
		[]byte(`{"action":"allowed","gid":1,"signature_id":2018358,"rev":10,"signature":"ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1","category":"Potentially Bad Traffic","severity":2}`),
		[]byte(`{"hash":"e7eca2baf4458d095b7f45da28c16c34"}`),
		[]byte(`[]`),
	}
	var d [2]time.Duration
	for b.Loop() {
		for v := range 2 {
			t0 := time.Now()
			for range 1000 {
				for _, o := range objs {
					s := scanner{b: o}
					var err error
					if v == 0 {
						err = s.skipNested()
					} else {
						err = s.skipWords()
					}
					if err != nil || s.i != len(o) {
						b.Fatal(err)
					}
				}
			}
			d[v] += time.Since(t0)
		}
	}
	b.ReportMetric(d[1].Seconds()/d[0].Seconds(), "words/nested")
	b.ReportMetric(float64(d[0].Nanoseconds())/float64(b.N*1000), "nested-ns/line")
	b.ReportMetric(float64(d[1].Nanoseconds())/float64(b.N*1000), "words-ns/line")
}

// refQuotedIPv4 is quotedIPv4 in two passes, as it was: find the
// closing quote, then parseIPv4.
func refQuotedIPv4(b []byte) (netip.Addr, int, bool) {
	if len(b) < 9 || b[0] != '"' {
		return netip.Addr{}, 0, false
	}
	end := 1
	for end < len(b) && end <= 16 && (b[end] == '.' || b[end]-'0' <= 9) {
		end++
	}
	if end >= len(b) || b[end] != '"' {
		return netip.Addr{}, 0, false
	}
	a, ok := parseIPv4(b[1:end])
	return a, end + 1, ok
}

// TestQuotedIPv4 holds the one-pass quotedIPv4 to the two-pass reference
// on random strings of digits, dots and quotes.
func TestQuotedIPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("0123456789.....\"\"25,x")
	ok := 0
	for n := range 500000 {
		var b []byte
		if r.IntN(2) == 0 {
			b = []byte(fmt.Sprintf(`"%d.%d.%d.%d"`, r.IntN(300), r.IntN(300), r.IntN(300), r.IntN(300)))
			if r.IntN(3) == 0 {
				b[1+r.IntN(len(b)-1)] = alphabet[r.IntN(len(alphabet))]
			}
		} else {
			b = make([]byte, 1+r.IntN(20))
			b[0] = '"'
			for i := 1; i < len(b); i++ {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		b = append(b, ",\"x\""[:r.IntN(4)]...)
		a, i, good := quotedIPv4(b)
		wa, wi, wgood := refQuotedIPv4(b)
		if good != wgood || (good && (a != wa || i != wi)) {
			t.Fatalf("case %d: quotedIPv4(%q) = %v, %d, %v; want %v, %d, %v", n, b, a, i, good, wa, wi, wgood)
		}
		if good {
			ok++
		}
	}
	if ok < 50000 {
		t.Errorf("only %d addresses read: the test does not exercise quotedIPv4", ok)
	}
}

// BenchmarkQuotedIPv4 compares quotedIPv4 with its two-pass reference,
// pass by pass in one run.
func BenchmarkQuotedIPv4(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	var addrs [][]byte
	for range 1000 {
		addrs = append(addrs, []byte(fmt.Sprintf(`"%d.%d.%d.%d","src_port":1`, r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))))
	}
	var d [2]time.Duration
	for b.Loop() {
		for v := range 2 {
			t0 := time.Now()
			for _, a := range addrs {
				var ok bool
				if v == 0 {
					_, _, ok = quotedIPv4(a)
				} else {
					_, _, ok = refQuotedIPv4(a)
				}
				if !ok {
					b.Fatal(string(a))
				}
			}
			d[v] += time.Since(t0)
		}
	}
	b.ReportMetric(d[1].Seconds()/d[0].Seconds(), "ref/new")
	b.ReportMetric(float64(d[0].Nanoseconds())/float64(b.N*len(addrs)), "new-ns/addr")
}

// TestParseIPv6 holds parseIPv6 to netip.ParseAddr on random text with
// colons: random groups, ellipses and IPv4 tails, and random bytes.
func TestParseIPv6(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	hexd := "0123456789abcdefABCDEF"
	alphabet := "0123456789abcdefABCDEF::::...gx"
	good := 0
	for n := range 400000 {
		var b []byte
		if r.IntN(2) == 0 {
			groups := r.IntN(10)
			for g := range groups {
				if g > 0 || r.IntN(4) == 0 {
					b = append(b, ':')
				}
				if r.IntN(8) == 0 {
					b = append(b, ':')
				}
				for range r.IntN(6) {
					b = append(b, hexd[r.IntN(len(hexd))])
				}
			}
			if r.IntN(4) == 0 {
				b = fmt.Appendf(b, ":%d.%d.%d.%d", r.IntN(300), r.IntN(256), r.IntN(256), r.IntN(256))
			}
			if r.IntN(6) == 0 {
				b = append(b, "::"[:1+r.IntN(2)]...)
			}
		} else {
			b = make([]byte, r.IntN(46))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		if bytes.IndexByte(b, ':') < 0 {
			continue
		}
		a, ok := parseIPv6(b)
		want, err := netip.ParseAddr(string(b))
		if ok != (err == nil) || ok && a != want {
			t.Fatalf("case %d: parseIPv6(%q) = %v, %v; netip: %v, %v", n, b, a, ok, want, err)
		}
		if ok {
			good++
		}
	}
	if good < 10000 {
		t.Errorf("only %d addresses read: the test tests little", good)
	}
	for _, in := range []string{"::", "::1", "1::", "2001:db8::1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "fe80::1:2"} {
		a, ok := parseIPv6([]byte(in))
		if want := netip.MustParseAddr(in); !ok || a != want {
			t.Errorf("parseIPv6(%q) = %v, %v; want %v", in, a, ok, want)
		}
	}
}

// refKey is key as it was: firstStrStop called for every name.
func (s *scanner) refKey() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.fail("expected a member name")
	}
	b := s.b
	start := s.i + 1
	i := firstStrStop(b, start)
	if i < len(b) && b[i] == '"' && i+1 < len(b) && b[i+1] == ':' {
		s.i = i + 2
		return b[start:i], nil
	}
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	if s.peek() != ':' {
		return nil, s.fail("expected :")
	}
	s.i++
	return k, nil
}

// keyPositions are the lines of the EVE samples and where each member
// name in them begins, at any depth.
func keyPositions() (lines [][]byte, at [][]int) {
	for _, l := range []string{sampleAlert, sampleDNS, sampleHTTP, sampleTLS, sampleFile, sampleFlow, sampleSMTP} {
		var pos []int
		for i := 0; i+1 < len(l); i++ {
			if (l[i] == '{' || l[i] == ',') && l[i+1] == '"' {
				if j := strings.IndexByte(l[i+2:], '"'); j >= 0 && i+3+j < len(l) && l[i+3+j] == ':' {
					pos = append(pos, i+1)
				}
			}
		}
		lines, at = append(lines, []byte(l)), append(at, pos)
	}
	return lines, at
}

// TestKey holds key to refKey at every member name of the samples and
// on random names.
func TestKey(t *testing.T) {
	lines, at := keyPositions()
	r := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		name := make([]byte, r.IntN(20))
		for i := range name {
			name[i] = "ab_\"\\\x01:"[r.IntN(7)]
		}
		lines = append(lines, append(append([]byte{'"'}, name...), `":1`[r.IntN(3):]...))
		at = append(at, []int{0})
	}
	for n, l := range lines {
		for _, p := range at[n] {
			a, b := scanner{b: l, i: p}, scanner{b: l, i: p}
			k, err := a.key()
			wk, werr := b.refKey()
			if string(k) != string(wk) || fmt.Sprint(err) != fmt.Sprint(werr) || a.i != b.i {
				t.Fatalf("key(%q at %d) = %q, %v, %d; want %q, %v, %d", l, p, k, err, a.i, wk, werr, b.i)
			}
		}
	}
}

// BenchmarkKey compares key with refKey, pass by pass in one run, at
// every member name of the EVE samples.
func BenchmarkKey(b *testing.B) {
	lines, at := keyPositions()
	scanners := make([]scanner, len(lines))
	for n, l := range lines {
		scanners[n].b = l
	}
	var d [2]time.Duration
	for b.Loop() {
		for v := range 2 {
			t0 := time.Now()
			for range 1000 {
				for n := range lines {
					s := &scanners[n]
					for _, p := range at[n] {
						s.i = p
						var err error
						if v == 0 {
							_, err = s.key()
						} else {
							_, err = s.refKey()
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			d[v] += time.Since(t0)
		}
	}
	b.ReportMetric(d[1].Seconds()/d[0].Seconds(), "ref/new")
}
