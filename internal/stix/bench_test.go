package stix

import (
	"testing"

	"github.com/parleyhq/parley/internal/shareddata"
)

// BenchmarkParse validates every object of the ICS ATT&CK bundle; one
// iteration is one object, so ns/op is the time per object and objects/s
// is reported.
//
//	go test -run '^$' -bench BenchmarkParse -cpu 1 ./internal/stix
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
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := Parse(objs[i%len(objs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkParseBundle splits the ICS ATT&CK bundle (3.5 MB) into objects.
func BenchmarkParseBundle(b *testing.B) {
	data := shareddata.File(b, "attack", "ics-attack-18.1.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBundle(data); err != nil {
			b.Fatal(err)
		}
	}
}
