package match

import (
	"bytes"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/telemetry"
)

// On a shared machine the figure of one benchmark moves with the load
// more than most changes move it. The benchmarks below compare two ways
// of doing the same work in one process: the lines cut into chunks, each
// chunk done both ways one after the other (which goes first
// alternating), each timed on the thread's CPU clock. Both ways see the
// same machine, so their ratio holds still where the figures do not.

// threadCPU is the CPU time of the calling thread (Linux RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// abRun does a and b over every chunk, alternating which goes first, on
// one locked thread, and returns their CPU times.
func abRun(chunks [][]byte, a, b func([]byte)) (ta, tb time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i, c := range chunks {
		if i%2 == 0 {
			t0 := threadCPU()
			a(c)
			t1 := threadCPU()
			b(c)
			ta, tb = ta+t1-t0, tb+threadCPU()-t1
		} else {
			t0 := threadCPU()
			b(c)
			t1 := threadCPU()
			a(c)
			tb, ta = tb+t1-t0, ta+threadCPU()-t1
		}
	}
	return ta, tb
}

// eveChunks cuts EVE lines into chunks of n lines.
func eveChunks(data []byte, n int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := 0
		for k := 0; k < n && i < len(data); k++ {
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				i = len(data)
				break
			}
			i += j + 1
		}
		out, data = append(out, data[:i]), data[i:]
	}
	return out
}

// BenchmarkCost splits the end-to-end time into reading and matching:
// the same chunks read alone and read and fed to a matcher, with one
// million indicators (by Feed and by Match) and with ten thousand (whose
// tables stay in the caches).
func BenchmarkCost(b *testing.B) {
	chunks := eveChunks(benchEVE(), 20_000)
	for _, tc := range []struct {
		name string
		s    func() *Set
		feed bool
	}{
		{"1M-feed", benchCompiled, true},
		{"1M-match", benchCompiled, false},
		{"10K-feed", func() *Set { return Compile(indicators(benchSet())[:10_000], Options{}) }, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := tc.s().NewMatcher()
			runtime.GC()
			var read, both time.Duration
			for b.Loop() {
				x, y := abRun(chunks, func(c []byte) {
					r, _ := telemetry.NewReader(bytes.NewReader(c), telemetry.EVE)
					for r.Next() {
					}
				}, func(c []byte) {
					r, _ := telemetry.NewReader(bytes.NewReader(c), telemetry.EVE)
					if tc.feed {
						for r.Next() {
							m.Feed(r.Event())
						}
						m.Flush()
					} else {
						for r.Next() {
							m.Match(r.Event())
						}
					}
				})
				read, both = read+x, both+y
			}
			n := float64(b.N) * 200_000
			b.ReportMetric(n/both.Seconds(), "events/cpu-s")
			b.ReportMetric(read.Seconds()/n*1e9, "read-ns/event")
			b.ReportMetric((both-read).Seconds()/n*1e9, "match-ns/event")
		})
	}
}

// BenchmarkFeedVsMatch: end to end with one million indicators, Feed
// against Match, in one run; the two matchers' counts must agree.
func BenchmarkFeedVsMatch(b *testing.B) {
	s := benchCompiled()
	chunks := eveChunks(benchEVE(), 20_000)
	mm, mf := s.NewMatcher(), s.NewMatcher()
	runtime.GC()
	var tm, tf time.Duration
	for b.Loop() {
		x, y := abRun(chunks, func(c []byte) {
			r, _ := telemetry.NewReader(bytes.NewReader(c), telemetry.EVE)
			for r.Next() {
				mm.Match(r.Event())
			}
		}, func(c []byte) {
			r, _ := telemetry.NewReader(bytes.NewReader(c), telemetry.EVE)
			for r.Next() {
				mf.Feed(r.Event())
			}
			mf.Flush()
		})
		tm, tf = tm+x, tf+y
	}
	if mm.Stats() != mf.Stats() {
		b.Fatalf("the counts differ: Match %+v, Feed %+v", mm.Stats(), mf.Stats())
	}
	n := float64(b.N) * 200_000
	b.ReportMetric(n/tf.Seconds(), "feed-events/cpu-s")
	b.ReportMetric(n/tm.Seconds(), "match-events/cpu-s")
	b.ReportMetric(tm.Seconds()/tf.Seconds(), "speedup")
}
