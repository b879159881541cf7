package match

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetry/gen"
)

// The benchmarks load one million synthetic indicators (internal/
// telemetry/gen, seed 1) and match synthetic Suricata EVE lines with a
// 1% hit rate. Run them with -cpu 1 for per-core figures:
//
//	go test -run '^$' -bench . -benchtime 3x -cpu 1 ./internal/match

const benchIndicators = 1_000_000

// cpuTime is the CPU time the process has used (user and system): on a
// shared machine, work per CPU second says more than work per second of
// wall time, which includes the time other processes had the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchSet = sync.OnceValue(func() *gen.Set { return gen.NewSet(1, benchIndicators) })

func indicators(s *gen.Set) []Indicator {
	out := make([]Indicator, len(s.Indicators))
	for i, ind := range s.Indicators {
		out[i] = Indicator{ID: "indicator--" + strconv.Itoa(i), Pattern: ind.Pattern}
	}
	return out
}

var benchCompiled = sync.OnceValue(func() *Set { return Compile(indicators(benchSet()), Options{}) })

var benchEVE = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if err := benchSet().WriteEVE(&b, gen.EVEOptions{Seed: 2, Events: 200_000, HitRate: 0.01}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// BenchmarkCompile1M compiles one million indicators and reports the
// heap they hold once compiled (after a GC), in MB.
func BenchmarkCompile1M(b *testing.B) {
	inds := indicators(benchSet())
	var heap float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := Compile(inds, Options{})
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
		if len(s.Problems()) != 0 || s.Fast() != len(inds) {
			b.Fatalf("problems %d, fast %d", len(s.Problems()), s.Fast())
		}
		runtime.KeepAlive(s)
	}
	b.ReportMetric(heap, "heap-MB")
	b.ReportMetric(float64(len(inds))*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
}

// BenchmarkEVE1M is the end-to-end figure: EVE JSON lines read, parsed
// and matched against one million indicators, as parley match does it
// (Feed). It reports events per second of the process's CPU time and of
// the benchmark thread's (locked to it): the two agree when nothing else
// in the process works (the collector has nothing to collect).
func BenchmarkEVE1M(b *testing.B) { benchEnd2End(b, benchCompiled()) }

// BenchmarkEVE10K is BenchmarkEVE1M with the first ten thousand
// indicators: their tables stay in the caches, so the difference is
// what a million costs in memory.
func BenchmarkEVE10K(b *testing.B) {
	benchEnd2End(b, Compile(indicators(benchSet())[:10_000], Options{}))
}

func benchEnd2End(b *testing.B, s *Set) {
	data := benchEVE()
	m := s.NewMatcher()
	var events int64
	b.SetBytes(int64(len(data)))
	runtime.GC() // the garbage of compiling is not this benchmark's work
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0, th0 := cpuTime(), threadCPU()
	for b.Loop() {
		r, err := telemetry.NewReader(bytes.NewReader(data), telemetry.EVE)
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
			m.Feed(r.Event())
		}
		m.Flush()
		if st := r.Stats(); st.Malformed != 0 {
			b.Fatalf("malformed lines: %v", st.Errors)
		}
		events += r.Stats().Events
	}
	st := m.Stats()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(events)/(threadCPU()-th0).Seconds(), "events/thread-cpu-s")
	b.ReportMetric(float64(st.MatchedEvents)/float64(st.Events), "matched/event")
}

// BenchmarkEVE1MParallel is BenchmarkEVE1M on as many goroutines as
// -cpu says: the lines cut in as many parts, a Reader and a Matcher for
// each over the one Set, their counts merged. It reports events per
// second of wall time, what several cores give together.
func BenchmarkEVE1MParallel(b *testing.B) {
	s, data := benchCompiled(), benchEVE()
	n := runtime.GOMAXPROCS(0)
	var parts [][]byte
	for rest := data; len(rest) > 0; {
		cut := min(len(rest), len(data)/n+1)
		if i := bytes.IndexByte(rest[cut-1:], '\n'); i >= 0 {
			cut += i
		} else {
			cut = len(rest)
		}
		parts, rest = append(parts, rest[:cut]), rest[cut:]
	}
	ms := make([]*Matcher, len(parts))
	for i := range ms {
		ms[i] = s.NewMatcher()
	}
	b.SetBytes(int64(len(data)))
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() {
				r, _ := telemetry.NewReader(bytes.NewReader(p), telemetry.EVE)
				for r.Next() {
					ms[i].Feed(r.Event())
				}
				ms[i].Flush()
			})
		}
		wg.Wait()
	}
	total := s.NewMatcher()
	for _, m := range ms {
		total.Merge(m)
	}
	st := total.Stats()
	if st.Events != int64(b.N)*200_000 {
		b.Fatalf("%d events, want %d", st.Events, b.N*200_000)
	}
	b.ReportMetric(float64(st.Events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(st.MatchedEvents)/float64(st.Events), "matched/event")
}

// BenchmarkParseEVE is the reading and parsing alone, for comparison.
func BenchmarkParseEVE(b *testing.B) {
	data := benchEVE()
	var events int64
	b.SetBytes(int64(len(data)))
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r, _ := telemetry.NewReader(bytes.NewReader(data), telemetry.EVE)
		for r.Next() {
		}
		events += r.Stats().Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkSplitEVE is the floor under the reader: the same lines read
// through a bufio.Reader of the reader's size and split at newlines,
// nothing parsed. EVE1M and ParseEVE over it, in one run, are ratios that
// the machine's load moves less than the figures themselves.
func BenchmarkSplitEVE(b *testing.B) {
	data := benchEVE()
	var events int64
	b.SetBytes(int64(len(data)))
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		br := bufio.NewReaderSize(bytes.NewReader(data), telemetry.MaxLine)
		for {
			line, err := br.ReadSlice('\n')
			if len(line) > 0 {
				events++
			}
			if err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkLookup1M is the compiled look-ups alone: the values of parsed
// events looked up in the set of one million indicators as Feed looks
// them up, the places of each event's values in the tables asked for
// (prefetched) before the event is looked up.
func BenchmarkLookup1M(b *testing.B) { benchLookup(b, benchCompiled(), 8) }

// BenchmarkLookupPlain1M is BenchmarkLookup1M through Lookup, without
// the prefetch: each look-up waits for its memory.
func BenchmarkLookupPlain1M(b *testing.B) { benchLookup(b, benchCompiled(), 0) }

// BenchmarkLookup10K is BenchmarkLookup1M with the first ten thousand
// indicators only: the tables fit in the caches, so the difference with
// 1M is the cost of memory.
func BenchmarkLookup10K(b *testing.B) {
	benchLookup(b, Compile(indicators(benchSet())[:10_000], Options{}), 8)
}

func benchLookup(b *testing.B, s *Set, ahead int) {
	// The events are laid out one after the other, their values in one
	// slice and their texts in one arena, in the order they were read:
	// a pass reads them sequentially, as the matcher sees a reader's
	// lines, so that what is timed is the look-ups and not the fetching
	// of values scattered over the heap.
	r, _ := telemetry.NewReader(bytes.NewReader(benchEVE()), telemetry.EVE)
	var (
		evs   []telemetry.Event
		vals  []telemetry.Value
		ends  []int
		arena []byte
		offs  [][2]int
	)
	for r.Next() {
		ev := r.Event()
		evs = append(evs, telemetry.Event{Time: ev.Time})
		for _, v := range ev.Values {
			offs = append(offs, [2]int{len(arena), len(arena) + len(v.Text)})
			arena = append(arena, v.Text...)
			v.Text = nil
			vals = append(vals, v)
		}
		ends = append(ends, len(vals))
	}
	for i := range vals {
		if o := offs[i]; o[1] > o[0] {
			vals[i].Text = arena[o[0]:o[1]:o[1]]
		}
	}
	start := 0
	for i := range evs {
		evs[i].Values = vals[start:ends[i]:ends[i]]
		start = ends[i]
	}
	values := len(vals)
	m := s.NewMatcher()
	var hits []uint32
	runtime.GC()
	b.ResetTimer()
	n := 0
	cpu0 := cpuTime()
	var ring [][]uint64
	if ahead > 0 {
		ring = make([][]uint64, ahead)
	}
	for b.Loop() {
		if ahead == 0 {
			for i := range evs {
				hits = m.Lookup(&evs[i], hits[:0])
			}
			n += values
			continue
		}
		// Each event's places are asked for ahead events before it is
		// looked up: the look-ups alone go faster than memory answers,
		// where in parley match the reading of an event is time enough.
		for i := range min(ahead, len(evs)) {
			ring[i] = m.hashes(&evs[i], ring[i][:0])
			m.prefetch(&evs[i], ring[i])
		}
		for i := range evs {
			hits = m.lookup(&evs[i], ring[i%ahead], hits[:0])
			if j := i + ahead; j < len(evs) {
				ring[j%ahead] = m.hashes(&evs[j], ring[j%ahead][:0])
				m.prefetch(&evs[j], ring[j%ahead])
			}
		}
		n += values
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "lookups/cpu-s")
}

// BenchmarkVsGrep writes the indicator values and the EVE lines to files
// and times grep -F -f over them beside parley's matcher over the same
// file; it reports the ratio and grep's false positives (lines grep
// prints that no indicator matches: grep finds substrings).
func BenchmarkVsGrep(b *testing.B) {
	dir := b.TempDir()
	vals, eve := filepath.Join(dir, "indicators.txt"), filepath.Join(dir, "eve.json")
	f, err := os.Create(vals)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchSet().WriteValues(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(eve, benchEVE(), 0o644); err != nil {
		b.Fatal(err)
	}
	s := benchCompiled()
	for b.Loop() {
		t0 := time.Now()
		cmd := exec.Command("grep", "-n", "-F", "-f", vals, eve)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("grep: %v", err)
		}
		grepTime := time.Since(t0)
		grepCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()

		// The matcher's counters (28 MB for a million indicators) are
		// made before the clock starts, as parley match makes them
		// once for all its files.
		m := s.NewMatcher()
		matched := make(map[int]bool, 8192)
		t0 = time.Now()
		cpu0 := cpuTime()
		in, err := os.Open(eve)
		if err != nil {
			b.Fatal(err)
		}
		r, _ := telemetry.NewReader(in, telemetry.EVE)
		line := 0
		for r.Next() {
			line++
			if len(m.Match(r.Event())) > 0 {
				matched[line] = true
			}
		}
		in.Close()
		ourTime := time.Since(t0)
		ourCPU := cpuTime() - cpu0

		grepLines, fp := 0, 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			grepLines++
			n, _, _ := bytes.Cut(sc.Bytes(), []byte(":"))
			ln, _ := strconv.Atoi(string(n))
			if !matched[ln] {
				fp++
			}
		}
		b.ReportMetric(grepTime.Seconds()/ourTime.Seconds(), "grep/parley")
		b.ReportMetric(grepCPU.Seconds()/ourCPU.Seconds(), "grep/parley-cpu")
		b.ReportMetric(float64(grepLines), "grep-lines")
		b.ReportMetric(float64(fp), "grep-false-pos")
		b.ReportMetric(float64(len(matched)), "parley-lines")
		b.ReportMetric(float64(line)/ourTime.Seconds(), "parley-events/s")
		b.ReportMetric(float64(line)/grepTime.Seconds(), "grep-lines/s")
		fmt.Fprintf(os.Stderr, "grep %v (CPU %v), parley %v (CPU %v)\n", grepTime, grepCPU, ourTime, ourCPU)
	}
}

// eveLine is what BenchmarkStdlibEVE decodes: the fields the EVE reader
// takes, for a baseline with encoding/json on the same lines.
type eveLine struct {
	Timestamp string `json:"timestamp"`
	SrcIP     string `json:"src_ip"`
	DestIP    string `json:"dest_ip"`
	DNS       *struct {
		RRName  string `json:"rrname"`
		Answers []struct {
			RData string `json:"rdata"`
		} `json:"answers"`
	} `json:"dns"`
	HTTP *struct {
		Hostname string `json:"hostname"`
		URL      string `json:"url"`
	} `json:"http"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	FileInfo *struct {
		MD5    string `json:"md5"`
		SHA256 string `json:"sha256"`
	} `json:"fileinfo"`
}

// BenchmarkStdlibEVE decodes the same lines with encoding/json: the
// baseline the hand-written reader is compared with, in the same run.
func BenchmarkStdlibEVE(b *testing.B) {
	data := benchEVE()
	var events int64
	b.SetBytes(int64(len(data)))
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		rest := data
		for len(rest) > 0 {
			line, after, _ := bytes.Cut(rest, []byte("\n"))
			rest = after
			var e eveLine
			if err := json.Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
			events++
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}
