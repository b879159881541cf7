package stix

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/shareddata"
)

// The machine these run on is shared and busy, so besides wall time per
// operation the benchmarks report the process's CPU time per operation
// (cpu-ns/op, user and system time of every thread, GC included), which
// other processes inflate much less.
//
//	go test -run '^$' -bench 'Parse' -benchmem -cpu 1 -count 5 ./internal/stix

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParse validates every object of the ICS ATT&CK bundle; one
// iteration is one object, so ns/op is the time per object and objects/s
// is reported (by wall time, and by CPU time as cpu-objects/s).
func BenchmarkParse(b *testing.B) {
	bundle, err := ParseBundle(shareddata.File(b, "attack", "ics-attack-18.1.json"))
	if err != nil {
		b.Fatal(err)
	}
	objs := bundle.Objects
	var size int64
	for _, o := range objs {
		size += int64(len(o))
	}
	b.SetBytes(size / int64(len(objs)))
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for i := 0; b.Loop(); i++ {
		if _, _, err := Parse(objs[i%len(objs)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "cpu-objects/s")
}

// BenchmarkParseBundle splits the ICS ATT&CK bundle (3.5 MB, 1,800
// objects) into objects; objects/s counts the objects split.
func BenchmarkParseBundle(b *testing.B) {
	data := shareddata.File(b, "attack", "ics-attack-18.1.json")
	bundle, err := ParseBundle(data)
	if err != nil {
		b.Fatal(err)
	}
	n := len(bundle.Objects)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		if _, err := ParseBundle(data); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(data))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
}

// BenchmarkParseWide validates one object with 10,000 and with 100,000
// members of each shape (custom properties, dictionary keys, list
// elements, small nested objects, string escapes); ns/member is the
// cost per member, which must not grow with their number (cpu-ns/member
// the same by CPU time, garbage collection included). Every
// iteration starts with a new decoder (coldParse), as one wide object
// arriving does.
//
//	go test -run '^$' -bench 'ParseWide' -benchmem -cpu 1 -count 5 ./internal/stix
func BenchmarkParseWide(b *testing.B) {
	for _, shape := range wideShapes {
		for _, n := range []int{10_000, 100_000} {
			data := wideObject(shape, n)
			b.Run(fmt.Sprintf("%s-%d", shape, n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					if err := coldParse(data); err != nil {
						b.Fatal(err)
					}
				}
				cpu := cpuTime(b) - cpu0
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/member")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/member")
			})
		}
	}
}

// BenchmarkParseWideWarm is BenchmarkParseWide's custom properties with
// the pool's decoder, as wide objects arriving one after another are
// parsed: what a decoder keeps after a wide object (its stacks, its
// hash stack) is reused.
//
//	go test -run '^$' -bench 'ParseWide' -benchmem -cpu 1 -count 5 ./internal/stix
func BenchmarkParseWideWarm(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		data := wideObject("properties", n)
		b.Run(fmt.Sprintf("properties-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/member")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/member")
		})
	}
}

// BenchmarkReadTLP reads the TLP of an indicator about as a TAXII page
// serves it (the gate reads every object of a page).
//
//	go test -run '^$' -bench ReadTLP -benchmem ./internal/stix
func BenchmarkReadTLP(b *testing.B) {
	raw := benchTLPObject
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if level, _, _ := ReadTLP(raw); level != "red" {
			b.Fatal(level)
		}
	}
}

// BenchmarkReadMarking reads the marking of the same indicator as the
// gate does for each object of a page it has not read before.
//
//	go test -run '^$' -bench 'ReadTLP|ReadMarking' -benchmem ./internal/stix
func BenchmarkReadMarking(b *testing.B) {
	raw := benchTLPObject
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if level, _ := ReadMarking(raw); level != "red" {
			b.Fatal(level)
		}
	}
}

// benchTLPObject is an indicator about as a TAXII page serves it.
var benchTLPObject = []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--7d0f9ed2-c1a1-4a5e-8a0d-0c8b7c4f2e11","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"bench indicator 1","description":"An indicator of the TAXII benchmark, about as long as a real one with a sentence of text.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00.000Z","labels":["bench"],"object_marking_refs":["` +
	TLPRed.ID + `"],"extensions":{"` + ParleyExtensionID + `":{"extension_type":"property-extension","recipients":["alice","role:duty"]}}}`)
