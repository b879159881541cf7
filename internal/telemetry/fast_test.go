package telemetry

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/telemetry/gen"
)

// threadCPU is the CPU time of the calling thread (Linux RUSAGE_THREAD):
// with the goroutine locked to its thread, what the work cost, without
// the time other processes had the core.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// genEVE is synthetic EVE telemetry (internal/telemetry/gen), split by
// event type; "all" is every line.
func genEVE(tb testing.TB, events int) map[string][]byte {
	var buf bytes.Buffer
	if err := gen.NewSet(1, 10_000).WriteEVE(&buf, gen.EVEOptions{Seed: 2, Events: events, HitRate: 0.01}); err != nil {
		tb.Fatal(err)
	}
	re := regexp.MustCompile(`"event_type":"([a-z]+)"`)
	by := map[string][]byte{"all": buf.Bytes()}
	for _, l := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if m := re.FindSubmatch(l); m != nil {
			by[string(m[1])] = append(by[string(m[1])], l...)
		}
	}
	return by
}

// BenchmarkFastPath reads the same EVE lines with the fast path and with
// the general path only, alternating run by run in one process and
// timing each on the thread's CPU clock, per event type: the ratio is
// what the fast path gains, with the machine's load the same for both.
func BenchmarkFastPath(b *testing.B) {
	data := genEVE(b, 100_000)
	for _, typ := range []string{"all", "flow", "dns", "http", "tls", "fileinfo", "alert"} {
		lines := data[typ]
		n := bytes.Count(lines, []byte("\n"))
		b.Run(typ, func(b *testing.B) {
			read := func(fast bool) time.Duration {
				noFast = !fast
				defer func() { noFast = false }()
				t0 := threadCPU()
				r, _ := NewReader(bytes.NewReader(lines), EVE)
				for r.Next() {
				}
				if st := r.Stats(); st.Events != int64(n) {
					b.Fatalf("%d events of %d: %v", st.Events, n, st.Errors)
				}
				return threadCPU() - t0
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var fast, general time.Duration
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					fast += read(true)
					general += read(false)
				} else {
					general += read(false)
					fast += read(true)
				}
			}
			lines := float64(n) * float64(b.N)
			b.ReportMetric(general.Seconds()/fast.Seconds(), "speedup")
			b.ReportMetric(fast.Seconds()*1e9/lines, "fast-ns/line")
			b.ReportMetric(general.Seconds()*1e9/lines, "general-ns/line")
		})
	}
}

// sameAsGeneral checks the fast path's promise on one line: when it
// reads the line, the general path accepts the line with the same event.
// It reports whether the fast path read it.
func sameAsGeneral(t testing.TB, line []byte) bool {
	var fs scanner
	var fev Event
	fs.reset(line)
	if !eveFast(&fs, &fev) {
		return false
	}
	noFast = true
	var gev Event
	err := ParseLine(EVE, line, &gev)
	noFast = false
	if err != nil {
		t.Fatalf("the fast path read a line the general path refuses (%v):\n%s", err, line)
	}
	if !fev.Time.Equal(gev.Time) || !slices.Equal(values(&fev), values(&gev)) {
		t.Fatalf("the paths disagree on\n%s\nfast:    %v %v\ngeneral: %v %v", line, fev.Time, values(&fev), gev.Time, values(&gev))
	}
	return true
}

// TestFastSameAsGeneral holds the fast path to the general path on the
// generator's lines, the sample lines and 300,000 random mutations of
// them (bytes deleted, doubled or replaced by ones that matter to JSON):
// what the fast path reads, the general path reads the same; and the
// fast path does read every generated line (else it would be dead code
// that this test could not tell from a correct one).
func TestFastSameAsGeneral(t *testing.T) {
	var lines [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(genEVE(t, 5_000)["all"]), []byte("\n")) {
		if !sameAsGeneral(t, l) {
			t.Fatalf("the fast path does not read a generated line:\n%s", l)
		}
		lines = append(lines, l)
	}
	read := 0
	for _, l := range []string{sampleAlert, sampleDNS, sampleHTTP, sampleTLS, sampleFile, sampleFlow, sampleSMTP} {
		if sameAsGeneral(t, []byte(l)) {
			read++
		}
		lines = append(lines, []byte(l))
	}
	if read < 5 { // sampleHTTP has escapes, sampleTLS an IPv6 address the fast path leaves
		t.Errorf("the fast path read %d of the 7 samples", read)
	}
	// Lines at the fast path's edges: each either read the same by both
	// paths or left to the general one.
	ts := `{"timestamp":"2024-05-01T00:00:00.5+0000",`
	for _, l := range []string{
		ts + `"flow":{"a":1]}`, ts + `"flow":[1,2}}`, ts + `"flow":{"a":{"b":1}}}`, ts + `"flow":{"a":"}"}}`,
		ts + `"flow":{"a":"]","b":"["}}`, ts + `"flow":{"a":"x}`, ts + `"flow":{}}`, ts + `"flow":[]}`,
		ts + `"a":01}`, ts + `"a":-1}`, ts + `"a":1.5}`, ts + `"a":1e5}`, ts + `"a":1.}`, ts + `"a":12x}`,
		ts + `"a":true}`, ts + `"a":tru}`, ts + `"a":null}`, ts + `"a" :1}`, ts + `"a":1 }`, ts + `"a":1} `,
		ts + `"a":1}x`, ts + `"a":1,}`, ts + `"a"}`, ts + `"a":}`, `{"a":1}`, `{}`, `{"timestamp":"x"}`,
		ts + `"timestamp":"2024-05-01T00:00:01Z"}`, ts + `"src_ip":"10.0.0.1","src_ip":"10.0.0.1"}`,
		ts + `"src_ip":7}`, ts + `"src_ip":{"a":"10.0.0.1"}}`, ts + `"src_ip":"2001:db8::1"}`, ts + `"src_ip":"x.x.250.50"}`,
		ts + `"src_ip":"010.0.0.1"}`, ts + `"src_ip":"10.0.0.256"}`, ts + `"src_ip":"10.0.0.1.2"}`,
		ts + `"dns":{}}`, ts + `"dns":[]}`, ts + `"dns":7}`, ts + `"dns":{"rrname":7}}`, ts + `"dns":{"rrname":"A.Example."}}`,
		ts + `"dns":{"answers":[1,{"rdata":"1.2.3.4"}]}}`, ts + `"dns":{"answers":[{}]}}`, ts + `"dns":{"answers":[]}}`,
		ts + `"dns":{"answers":{"rdata":"1.2.3.4"}}}`, ts + `"dns":{"grouped":{"A":"1.2.3.4"}}}`, ts + `"dns":{"grouped":{"A":[1,"1.2.3.4"]}}}`,
		ts + `"dns":{"grouped":{"A":[]}}}`, ts + `"dns":{"grouped":{"CNAME":["X.example"],"TXT":["a"]}}}`,
		ts + `"http":{"hostname":"h.example","url":"/x"}}`, ts + `"http":{"url":"http://a.example/"}}`, ts + `"http":{"hostname":1}}`,
		ts + `"http":{"hostname":"1.2.3.4","url":"/"}}`, ts + `"tls":{"sni":"A.example"}}`, ts + `"tls":{"sni":1}}`,
		ts + `"fileinfo":{"md5":"AB","sha1":"cd","sha256":"Ef"}}`, ts + `"fileinfo":{"md5":["AB"]}}`,
		ts + `"smtp":{"mail_from":"<a@b.example>"}}`, ts + "\"a\":\"x\ty\"}", ts + `"a":"\u0041"}`,
	} {
		sameAsGeneral(t, []byte(l))
		lines = append(lines, []byte(l))
	}
	r := rand.New(rand.NewPCG(21, 22))
	alphabet := []byte(`{}[]":,\ 0123456789.-abcdefxyzAZ` + "\t\x00\x1f\xc3\xa9")
	accepted := 0
	for range 300_000 {
		l := slices.Clone(lines[r.IntN(len(lines))])
		for range 1 + r.IntN(3) {
			if len(l) == 0 {
				break
			}
			i := r.IntN(len(l))
			switch r.IntN(3) {
			case 0:
				l = slices.Delete(l, i, i+1)
			case 1:
				l = slices.Insert(l, i, l[i])
			default:
				l[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		if sameAsGeneral(t, l) {
			accepted++
		}
	}
	if accepted < 50_000 {
		t.Errorf("the fast path read only %d of the mutated lines: the test does not exercise it", accepted)
	}
}

// FuzzEVEFast: on any line, what the fast path reads the general path
// reads the same.
func FuzzEVEFast(f *testing.F) {
	for _, l := range []string{sampleAlert, sampleDNS, sampleHTTP, sampleTLS, sampleFile, sampleFlow, sampleSMTP} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) { sameAsGeneral(t, line) })
}

// TestQuoteBits holds the vector code to the word-at-a-time reference on
// random bytes of every length up to 300, rich in the bytes it marks.
func TestQuoteBits(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	alphabet := []byte(`"{}[]\ax` + "\x00\x1f\x20\x7b\x5b\xfb\xdd")
	for n := range 300 {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			w := (n + 63) / 64
			q, k := make([]uint64, w), make([]uint64, w)
			plain := quoteBits(b, q, k)
			// The reference: byte by byte.
			wq, wk := make([]uint64, w), make([]uint64, w)
			wplain := true
			for i, c := range b {
				switch c {
				case '"':
					wq[i/64] |= 1 << (i % 64)
				case '{', '}', '[', ']':
					wk[i/64] |= 1 << (i % 64)
				case '\\':
					wplain = false
				}
				if c < 0x20 {
					wplain = false
				}
			}
			if plain != wplain || !slices.Equal(q, wq) || !slices.Equal(k, wk) {
				t.Fatalf("quoteBits(%q) = %x %x %v, want %x %x %v", b, q, k, plain, wq, wk, wplain)
			}
			if n%64 == 0 && n > 0 {
				gq, gk := make([]uint64, w), make([]uint64, w)
				if gp := quoteBlocksGo(b, gq, gk); gp != wplain || !slices.Equal(gq, wq) || !slices.Equal(gk, wk) {
					t.Fatalf("quoteBlocksGo(%q) disagrees", b)
				}
			}
		}
	}
}
