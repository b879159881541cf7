package geo_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
)

// TestTableMatchesTree: Lookup (through the tables built at Open) gives
// exactly the answers of the files' own search trees, for the first,
// last, previous and next address of every network of every test file
// that Open accepts, and for random addresses everywhere, in particular
// in the ranges an IPv6 file maps to its IPv4 tree (::/96,
// ::ffff:0:0/96, 2001::/32, 2002::/16).
func TestTableMatchesTree(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shareddata.Dir(t, "mmdb", "test-data"), "*.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	demo := writeDemo(t)
	opened := 0
	for _, f := range append(files, demo, writeIPv4Only(t)) {
		db, err := geo.Open(f)
		if err != nil {
			continue // refused files are TestOpenRefuses' business
		}
		opened++
		t.Run(filepath.Base(f), func(t *testing.T) {
			defer db.Close()
			var addrs []netip.Addr
			for _, p := range db.Networks() {
				first := p.Masked().Addr()
				last := lastAddr(p)
				addrs = append(addrs, first, last, first.Prev(), last.Next())
			}
			r := rand.New(rand.NewPCG(7, 8))
			for _, base := range []string{"::", "::ffff:0:0", "2001::", "2002::", "2000::", "::"} {
				b := netip.MustParsePrefix(base + "/3")
				switch base {
				case "::", "::ffff:0:0":
					b = netip.MustParsePrefix(base + "/96")
				case "2001::":
					b = netip.MustParsePrefix("2001::/32")
				case "2002::":
					b = netip.MustParsePrefix("2002::/16")
				}
				for range 2000 {
					addrs = append(addrs, randomIn(r, b))
				}
			}
			for range 5000 {
				addrs = append(addrs, randomIn(r, netip.MustParsePrefix("0.0.0.0/0")), randomIn(r, netip.MustParsePrefix("::/0")))
			}
			known := 0
			for _, a := range addrs {
				if !a.IsValid() {
					continue
				}
				got, err := db.Lookup(a)
				if err != nil {
					t.Fatalf("Lookup(%s): %v", a, err)
				}
				want, err := db.LookupTree(a)
				if err != nil {
					t.Fatalf("LookupTree(%s): %v", a, err)
				}
				if got != want {
					t.Fatalf("%s: table %+v\ntree %+v", a, got, want)
				}
				if got.Known() {
					known++
				}
			}
			if known == 0 {
				t.Fatal("no address known: the comparison proves nothing")
			}
			t.Logf("%d addresses, %d known, identical", len(addrs), known)
		})
	}
	if opened < 10 {
		t.Errorf("only %d files opened", opened)
	}
}

// randomIn is a random address of p.
func randomIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		if r.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

// TestFlatMatchesTable: the flat IPv4 tables and the IPv6 ranges give
// exactly the answers of the tries and of the files' own search trees, on
// files made to stress them: IPv4 networks of every length from /6 to
// /32, nested (a /9 holding /16s holding /24s holding /30s), in an IPv4
// file and in the IPv4 subtree of an IPv6 file; IPv6 networks from /1 to
// /128, nested likewise (2001:db8::/32 holding /48s holding /64s holding
// /100s), in the IPv6 file; inserted in random order, read alone and
// after another file. Addresses: the first, last, previous and next
// address of every network, and random ones in the nested ranges.
func TestFlatMatchesTable(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var nets []netip.Prefix
	for range 3000 {
		// Half in 10.0.0.0/9 and 100.64.0.0/10, so that they nest.
		var base netip.Prefix
		switch r.IntN(4) {
		case 0:
			base = netip.MustParsePrefix("10.0.0.0/9")
		case 1:
			base = netip.MustParsePrefix("100.64.0.0/10")
		default:
			base = netip.MustParsePrefix("0.0.0.0/0")
		}
		min := max(base.Bits(), 6)
		bits := min + r.IntN(33-min)
		nets = append(nets, netip.PrefixFrom(randomIn(r, base), bits).Masked())
	}
	// Mostly shorter first, so that longer networks stay nested in the
	// shorter ones (a shorter one written later replaces what it covers).
	slices.SortStableFunc(nets[:2700], func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })
	// IPv6, clear of the ranges an IPv6 file aliases to its IPv4 tree
	// (::/96 …, 2001::/32, 2002::/16).
	var nets6 []netip.Prefix
	bases6 := []string{"2001:db8::/32", "2001:db8:100::/40", "2400::/6", "3000::/4", "8000::/1"}
	for range 3000 {
		base := netip.MustParsePrefix(bases6[r.IntN(len(bases6))])
		bits := base.Bits() + r.IntN(129-base.Bits())
		if r.IntN(3) > 0 {
			// Most at the lengths of real files.
			bits = max(base.Bits(), 24+r.IntN(41))
		}
		nets6 = append(nets6, netip.PrefixFrom(randomIn(r, base), bits).Masked())
	}
	// All shorter first: a wide network written late would wipe out the
	// long ones inside it.
	slices.SortStableFunc(nets6, func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })
	paths := map[string]string{}
	for _, ipv := range []int{4, 6} {
		all := nets
		if ipv == 6 {
			all = append(slices.Clip(nets), nets6...)
		}
		paths[fmt.Sprintf("ipv%d", ipv)] = writeNets(t, ipv, all, r)
	}
	demo := writeDemo(t)
	for _, c := range []struct {
		name  string
		files []string
	}{
		{"ipv4", []string{paths["ipv4"]}},
		{"ipv6", []string{paths["ipv6"]}},
		{"demo+ipv6", []string{demo, paths["ipv6"]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := geo.Open(c.files...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ipv6 := c.name != "ipv4"
			st := db.FlatStats()
			if st.Fallbacks24 == 0 {
				t.Fatal("no /24 falls back to the trie: the test does not reach that path")
			}
			if ipv6 && (st.Fallbacks64 < 10 || st.Ranges6 < 3000) {
				t.Fatalf("%d IPv6 ranges, %d falling back to the trie: the test does not reach both paths", st.Ranges6, st.Fallbacks64)
			}
			var addrs []netip.Addr
			for _, p := range slices.Concat(db.Networks(), nets, nets6) {
				if p.Addr().Is6() && !ipv6 {
					continue
				}
				first, last := p.Masked().Addr(), lastAddr(p)
				addrs = append(addrs, first, last, first.Prev(), last.Next())
			}
			bases := []string{"10.0.0.0/9", "100.64.0.0/10", "0.0.0.0/0", "192.0.2.0/24"}
			if ipv6 {
				bases = append(bases, "2001:db8::/32", "2001:db8:100::/40", "2400::/6", "::/0", "::/64", "2001::/32", "2002::/16")
			}
			for range 3000 {
				for _, b := range bases {
					addrs = append(addrs, randomIn(r, netip.MustParsePrefix(b)))
				}
			}
			known := 0
			for _, a := range addrs {
				if !a.IsValid() || (a.Is6() && !ipv6) {
					continue
				}
				got, err := db.Lookup(a)
				if err != nil {
					t.Fatalf("Lookup(%s): %v", a, err)
				}
				trie, err := db.LookupTable(a)
				if err != nil {
					t.Fatalf("LookupTable(%s): %v", a, err)
				}
				tree, err := db.LookupTree(a)
				if err != nil {
					t.Fatalf("LookupTree(%s): %v", a, err)
				}
				if got != trie || got != tree {
					t.Fatalf("%s: flat %+v\ntrie %+v\ntree %+v", a, got, trie, tree)
				}
				if got.Known() {
					known++
				}
			}
			if known < len(addrs)/10 {
				t.Fatalf("only %d of %d addresses known: the comparison proves little", known, len(addrs))
			}
			t.Logf("%d addresses, %d known, %d /24s falling back, %d IPv6 ranges (%d falling back), identical",
				len(addrs), known, st.Fallbacks24, st.Ranges6, st.Fallbacks64)
		})
	}
}

// writeNets writes a database of the networks (ip_version ipv), each
// with a country and an AS of its own, inserted in the order given.
func writeNets(t *testing.T, ipv int, nets []netip.Prefix, r *rand.Rand) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "Test-Nested", Description: map[string]string{"en": "geo flat table test"},
		IncludeReservedNetworks: true, IPVersion: ipv, RecordSize: 28,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range nets {
		cc := mmdbtype.Map{"iso_code": mmdbtype.String([]byte{byte('A' + i/26%26), byte('A' + i%26)})}
		rec := mmdbtype.Map{"country": cc, "autonomous_system_number": mmdbtype.Uint32(64512 + r.IntN(1000))}
		ip := net.IP(p.Addr().AsSlice())
		bits := p.Bits()
		mask := net.CIDRMask(bits, 32)
		if p.Addr().Is6() {
			mask = net.CIDRMask(bits, 128)
		} else if ipv == 6 {
			// Under ::/96, where an IPv6 file keeps its IPv4 tree.
			ip, mask = append(net.IP(make([]byte, 12)), ip...), net.CIDRMask(bits+96, 128)
		}
		if err := tree.Insert(&net.IPNet{IP: ip, Mask: mask}, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("nested-%d.mmdb", ipv))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
