package geo_test

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

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
