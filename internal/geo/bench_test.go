package geo_test

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
)

// benchAddrs is n addresses for a benchmark: three in four inside the
// networks of the given JSON sources (IPv4 and IPv6, each at a random
// place in its network), one in four random, mostly unknown.
func benchAddrs(b *testing.B, n int, sources ...string) []netip.Addr {
	var nets []netip.Prefix
	for _, s := range sources {
		for _, sn := range readSource(&testing.T{}, s) {
			nets = append(nets, sn.prefix)
		}
	}
	if len(nets) == 0 {
		b.Fatal("no networks")
	}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Addr, n)
	for i := range out {
		var a [16]byte
		for j := range a {
			a[j] = byte(r.Uint32())
		}
		if i%4 == 3 {
			if i%8 == 3 {
				out[i] = netip.AddrFrom4([4]byte(a[:4]))
			} else {
				out[i] = netip.AddrFrom16(a)
			}
			continue
		}
		p := nets[r.IntN(len(nets))]
		base := p.Addr().As16()
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 96
		}
		for k := bits; k < 128; k++ {
			if a[k/8]&(0x80>>(k%8)) != 0 {
				base[k/8] |= 0x80 >> (k % 8)
			}
		}
		out[i] = netip.AddrFrom16(base).Unmap()
	}
	return out
}

func openBench(b *testing.B, files ...string) *geo.DB {
	b.Helper()
	dir := shareddata.Dir(b, "mmdb", "test-data")
	var paths []string
	for _, f := range files {
		if filepath.IsAbs(f) {
			paths = append(paths, f)
		} else {
			paths = append(paths, filepath.Join(dir, f))
		}
	}
	db, err := geo.Open(paths...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkLookup measures Lookup: ns/op is one address answered from
// all the files given (lookups/s per core = 1e9 / ns/op with -cpu 1).
func BenchmarkLookup(b *testing.B) {
	cases := []struct {
		name    string
		files   []string
		sources []string
	}{
		{"Country", []string{"GeoLite2-Country-Test.mmdb"}, []string{"GeoLite2-Country-Test.json"}},
		{"City", []string{"GeoIP2-City-Test.mmdb"}, []string{"GeoIP2-City-Test.json"}},
		{"ASN", []string{"GeoLite2-ASN-Test.mmdb"}, []string{"GeoLite2-ASN-Test.json"}},
		{"Country+ASN", []string{"GeoLite2-Country-Test.mmdb", "GeoLite2-ASN-Test.mmdb"},
			[]string{"GeoLite2-Country-Test.json", "GeoLite2-ASN-Test.json"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			db := openBench(b, c.files...)
			addrs := benchAddrs(b, 1<<12, c.sources...)
			b.ReportAllocs()
			b.ResetTimer()
			known := 0
			for i := 0; b.Loop(); i++ {
				r, err := db.Lookup(addrs[i&(len(addrs)-1)])
				if err != nil {
					b.Fatal(err)
				}
				if r.Known() {
					known++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}
