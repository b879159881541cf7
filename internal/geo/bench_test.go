package geo_test

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

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

// BenchmarkLookup measures Lookup ("flat": the flat IPv4 table or the
// IPv6 ranges, then the trie where they fall back) and, for comparison, the same through the tries alone ("trie",
// what Lookup did before the flat table) and through the files' own
// search trees ("tree"): ns/op is one address
// answered from all the files given (lookups/s per core with -cpu 1).
// Large is a file the size of a real country database, where the tree
// takes a cache miss per level.
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
		{"Demo", nil, nil},
		{"Large", nil, nil},
		{"Large4", nil, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var db *geo.DB
			var addrs []netip.Addr
			switch c.name {
			case "Demo":
				db = openBench(b, writeDemo(b))
				addrs = demoAddrs(1 << 12)
			case "Large", "Large4":
				var path string
				path, addrs = writeLarge(b)
				db = openBench(b, path)
				if c.name == "Large4" {
					// Its IPv4 addresses alone: the flat table's case.
					var v4 []netip.Addr
					for _, a := range addrs {
						if a.Is4() {
							v4 = append(v4, a)
						}
					}
					addrs = v4[:1<<15]
				}
			default:
				db = openBench(b, c.files...)
				addrs = benchAddrs(b, 1<<12, c.sources...)
			}
			if c.name == "Large4" {
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				again := openBench(b, db.Sources()[0].File)
				runtime.GC()
				runtime.ReadMemStats(&m1)
				st := again.FlatStats()
				b.Logf("Open: heap +%.1f MiB, of which the flat IPv4 table %.1f MiB (%d /24s fall back to the trie), the IPv6 ranges %.1f MiB (%d ranges, %d fall back)",
					float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), float64(st.Bytes4)/(1<<20), st.Fallbacks24,
					float64(st.Bytes6)/(1<<20), st.Ranges6, st.Fallbacks64)
			}
			for _, path := range []string{"flat", "trie", "tree"} {
				lookup := db.Lookup
				switch path {
				case "trie":
					lookup = db.LookupTable
				case "tree":
					lookup = db.LookupTree
				}
				b.Run(path, func(b *testing.B) {
					b.ReportAllocs()
					known := 0
					cpu0 := cpuTime()
					for i := 0; b.Loop(); i++ {
						r, err := lookup(addrs[i&(len(addrs)-1)])
						if err != nil {
							b.Fatal(err)
						}
						if r.Known() {
							known++
						}
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
					b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "lookups/cpu-s")
					b.ReportMetric(float64(known)/float64(b.N), "known/op")
				})
			}
		})
	}
}

// cpuTime is the CPU time the process has used: with -cpu 1 and no
// allocation in the loop, the benchmark's own, whatever else the machine
// runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// demoAddrs is n addresses in and around the demo database's ranges.
func demoAddrs(n int) []netip.Addr {
	r := rand.New(rand.NewPCG(3, 4))
	bases := []netip.Addr{
		netip.MustParseAddr("192.0.2.0"), netip.MustParseAddr("198.51.100.0"),
		netip.MustParseAddr("203.0.113.0"), netip.MustParseAddr("192.0.3.0"),
	}
	out := make([]netip.Addr, n)
	for i := range out {
		if i%4 == 3 {
			a := netip.MustParseAddr("2001:db8::").As16()
			for j := 4; j < 16; j++ {
				a[j] = byte(r.Uint32())
			}
			out[i] = netip.AddrFrom16(a)
			continue
		}
		a := bases[r.IntN(len(bases))].As4()
		a[3] = byte(r.Uint32())
		out[i] = netip.AddrFrom4(a)
	}
	return out
}

// writeLarge writes a database the size of a real country file (a
// quarter of a million networks: /20 to /24 IPv4 networks all over the
// space, /32 to /48 IPv6 networks in 2400::/6, 250 countries, an AS each)
// and returns it with addresses to look up, most of them in its networks.
func writeLarge(b *testing.B) (string, []netip.Addr) {
	b.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "Test-Large", Description: map[string]string{"en": "geo benchmark"},
		IncludeReservedNetworks: true, IPVersion: 6, RecordSize: 28,
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	recs := make([]mmdbtype.Map, 250)
	for i := range recs {
		cc := mmdbtype.Map{"iso_code": mmdbtype.String([]byte{byte('A' + i/26%26), byte('A' + i%26)})}
		recs[i] = mmdbtype.Map{"country": cc, "registered_country": cc,
			"autonomous_system_number": mmdbtype.Uint32(64512 + i), "autonomous_system_organization": mmdbtype.String("Org " + strconv.Itoa(i))}
	}
	var addrs []netip.Addr
	for i := range 250_000 {
		var ipnet *net.IPNet
		var a netip.Addr
		if i%5 == 4 {
			ip := make(net.IP, 16)
			for j := range ip[:8] {
				ip[j] = byte(r.Uint32())
			}
			ip[0] = 0x24 | ip[0]&0x03 // 2400::/6, clear of the aliased 2001::/32 and 2002::/16
			bits := 32 + r.IntN(17)
			ipnet = &net.IPNet{IP: ip.Mask(net.CIDRMask(bits, 128)), Mask: net.CIDRMask(bits, 128)}
			a = netip.AddrFrom16([16]byte(ipnet.IP))
		} else {
			ip := net.IPv4(byte(1+r.IntN(222)), byte(r.Uint32()), byte(r.Uint32()), 0).To4()
			bits := 20 + r.IntN(5)
			ipnet = &net.IPNet{IP: ip.Mask(net.CIDRMask(bits, 32)), Mask: net.CIDRMask(bits, 32)}
			a = netip.AddrFrom4([4]byte(ipnet.IP))
		}
		if err := tree.Insert(ipnet, recs[r.IntN(len(recs))]); err != nil {
			b.Fatal(err)
		}
		if len(addrs) < 1<<16 {
			addrs = append(addrs, a.Next())
		}
	}
	path := filepath.Join(b.TempDir(), "large.mmdb")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	r.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	return path, addrs
}
