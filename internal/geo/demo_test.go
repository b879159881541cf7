package geo_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
)

// writeDemo writes the demo database for territories XA and XB.
func writeDemo(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.mmdb")
	if err := geo.WriteDemo(path, geo.DemoTerritories("XA", "XB")...); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriteDemo(t *testing.T) {
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	path := writeDemo(t)
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := db.Sources()[0]
	if src.Type != geo.DemoType || src.File != path || src.Built.Before(before) || src.Built.After(time.Now()) {
		t.Errorf("source %+v: want type %s, file %s, built now", src, geo.DemoType, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	tests := []struct {
		addr    string
		country string
		asn     uint32
		network string
	}{
		{"192.0.2.0", "XA", 64496, "192.0.2.0/24"},
		{"192.0.2.255", "XA", 64496, "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "XA", 64496, "192.0.2.0/24"}, // IPv4-mapped: answered as IPv4
		{"203.0.113.127", "XA", 64496, "203.0.113.0/25"},
		{"203.0.113.128", "XB", 64497, "203.0.113.128/25"},
		{"198.51.100.1", "XB", 64497, "198.51.100.0/24"},
		{"2001:db8::1", "XA", 64496, "2001:db8::/33"},
		{"2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "XA", 64496, "2001:db8::/33"},
		{"2001:db8:8000::", "XB", 64497, "2001:db8:8000::/33"},
		{"fe80::1%eth0", "", 0, ""}, // zone dropped, no answer
		{"192.0.3.0", "", 0, ""},
		{"8.8.8.8", "", 0, ""},
		{"2001:db9::", "", 0, ""},
	}
	for _, tt := range tests {
		got, err := db.Lookup(netip.MustParseAddr(tt.addr))
		if err != nil {
			t.Fatalf("Lookup(%s): %v", tt.addr, err)
		}
		if got.Country != tt.country || got.RegisteredCountry != tt.country || got.ASN != tt.asn {
			t.Errorf("Lookup(%s) = %s/%s AS%d, want %s AS%d", tt.addr, got.Country, got.RegisteredCountry, got.ASN, tt.country, tt.asn)
		}
		if tt.country == "" {
			if got.Known() || got.CountryDB != nil || got.ASDB != nil {
				t.Errorf("Lookup(%s) = %+v, want nothing known", tt.addr, got)
			}
			continue
		}
		if want := "Demo network of " + tt.country; got.ASOrg != want {
			t.Errorf("Lookup(%s): AS org %q, want %q", tt.addr, got.ASOrg, want)
		}
		if got.CountryDB == nil || got.CountryDB.File != path || got.ASDB != got.CountryDB {
			t.Errorf("Lookup(%s): databases %v and %v, want %s for both", tt.addr, got.CountryDB, got.ASDB, path)
		}
		if got.CountryNetwork.String() != tt.network || got.ASNetwork.String() != tt.network {
			t.Errorf("Lookup(%s): networks %s %s, want %s", tt.addr, got.CountryNetwork, got.ASNetwork, tt.network)
		}
		if got.Addr.Is4In6() || got.Addr.Zone() != "" {
			t.Errorf("Lookup(%s): Addr %s, want it unmapped and without zone", tt.addr, got.Addr)
		}
	}
}

func TestWriteDemoRefuses(t *testing.T) {
	p := netip.MustParsePrefix
	dir := t.TempDir()
	tests := []struct {
		name string
		ts   []geo.Territory
		want string
	}{
		{"none", nil, "no territory given"},
		{"lower case", []geo.Territory{{Country: "xa", ASN: 64496, Networks: []netip.Prefix{p("192.0.2.0/24")}}},
			`territory 0: country "xa" is not an ISO 3166-1 alpha-2 code`},
		{"three letters", []geo.Territory{{Country: "XAA", ASN: 64496, Networks: []netip.Prefix{p("192.0.2.0/24")}}},
			`country "XAA" is not an ISO 3166-1 alpha-2 code`},
		{"no AS", []geo.Territory{{Country: "XA", Networks: []netip.Prefix{p("192.0.2.0/24")}}},
			"territory XA: the AS number is 0"},
		{"no network", []geo.Territory{{Country: "XA", ASN: 64496}}, "territory XA: no network"},
		{"host bits", []geo.Territory{{Country: "XA", ASN: 64496, Networks: []netip.Prefix{p("192.0.2.1/24")}}},
			"network 192.0.2.1/24 is not a network address"},
		{"invalid", []geo.Territory{{Country: "XA", ASN: 64496, Networks: []netip.Prefix{{}}}},
			"is not a network address"},
		{"overlap", []geo.Territory{
			{Country: "XA", ASN: 64496, Networks: []netip.Prefix{p("192.0.2.0/24")}},
			{Country: "XB", ASN: 64497, Networks: []netip.Prefix{p("192.0.2.128/25")}}},
			"territory XB: network 192.0.2.128/25 overlaps 192.0.2.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".mmdb")
			err := geo.WriteDemo(path, tt.ts...)
			if err == nil {
				t.Fatal("WriteDemo succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "geo.WriteDemo: ") {
				t.Errorf("error %q, want geo.WriteDemo: …%s…", err, tt.want)
			}
			if k := dialogue.KindOf(err); k != dialogue.KindInvalid {
				t.Errorf("kind %v, want invalid", k)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("%s exists after a refused write (%v)", path, err)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLookupPrefix(t *testing.T) {
	demo := writeDemo(t)
	db, err := geo.Open(demo)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		prefix           string
		masked           string
		country          string
		asn              uint32
		mixedCC, mixedAS bool
	}{
		{"192.0.2.0/24", "192.0.2.0/24", "XA", 64496, false, false},
		{"192.0.2.64/26", "192.0.2.64/26", "XA", 64496, false, false}, // inside one network
		{"192.0.2.77/26", "192.0.2.64/26", "XA", 64496, false, false}, // masked
		{"192.0.2.9/32", "192.0.2.9/32", "XA", 64496, false, false},
		{"203.0.113.0/24", "203.0.113.0/24", "XA", 64496, true, true}, // both territories
		{"192.0.2.0/23", "192.0.2.0/23", "XA", 64496, true, true},     // a known and an unknown half
		{"192.0.0.0/16", "192.0.0.0/16", "", 0, true, true},           // unknown at the start, known inside
		{"10.0.0.0/8", "10.0.0.0/8", "", 0, false, false},             // unknown throughout
		{"2001:db8::/32", "2001:db8::/32", "XA", 64496, true, true},   // both territories
		{"2001:db8::/40", "2001:db8::/40", "XA", 64496, false, false}, // inside XA's half
		{"2001:db8:8000::/48", "2001:db8:8000::/48", "XB", 64497, false, false},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", "XA", 64496, false, false}, // IPv4-mapped
		{"0.0.0.0/0", "0.0.0.0/0", "", 0, true, true},
		{"::/0", "::/0", "", 0, true, true},
	}
	for _, tt := range tests {
		got, err := db.LookupPrefix(netip.MustParsePrefix(tt.prefix))
		if err != nil {
			t.Fatalf("LookupPrefix(%s): %v", tt.prefix, err)
		}
		if got.Prefix.String() != tt.masked || got.Country != tt.country || got.ASN != tt.asn ||
			got.MixedCountry != tt.mixedCC || got.MixedAS != tt.mixedAS || got.Mixed() != (tt.mixedCC || tt.mixedAS) {
			t.Errorf("LookupPrefix(%s) = %s %q AS%d mixed %v/%v; want %s %q AS%d mixed %v/%v", tt.prefix,
				got.Prefix, got.Country, got.ASN, got.MixedCountry, got.MixedAS,
				tt.masked, tt.country, tt.asn, tt.mixedCC, tt.mixedAS)
		}
	}
	if _, err := db.LookupPrefix(netip.Prefix{}); dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Errorf("LookupPrefix(invalid): %v, want an invalid error", err)
	}
	if _, err := db.Lookup(netip.Addr{}); dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Errorf("Lookup(invalid): %v, want an invalid error", err)
	}
}

// TestSeveralFiles: each field comes from the first file that has it, and
// names its file; a mixed answer is found across files.
func TestSeveralFiles(t *testing.T) {
	dir := shareddata.Dir(t, "mmdb", "test-data")
	country := filepath.Join(dir, "GeoLite2-Country-Test.mmdb")
	asn := filepath.Join(dir, "GeoLite2-ASN-Test.mmdb")
	demo := writeDemo(t)
	db, err := geo.Open(country, asn, demo)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Sources(); len(got) != 3 || got[0].File != country || got[1].File != asn || got[2].File != demo {
		t.Fatalf("Sources() = %+v", got)
	}

	// 2.125.160.216 is GB in GeoLite2-Country; 1.128.0.0 is AS1221 in
	// GeoLite2-ASN (see the JSON sources).
	r, err := db.Lookup(netip.MustParseAddr("2.125.160.216"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Country != "GB" || r.CountryDB.File != country || r.ASDB != nil {
		t.Errorf("2.125.160.216: %q from %v, AS from %v; want GB from %s, no AS", r.Country, r.CountryDB, r.ASDB, country)
	}
	r, err = db.Lookup(netip.MustParseAddr("1.128.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ASN != 1221 || r.ASOrg != "Telstra Pty Ltd" || r.ASDB.File != asn || r.ASDB.Type != "GeoLite2-ASN" {
		t.Errorf("1.128.0.0: AS%d %q from %v; want AS1221 Telstra Pty Ltd from %s", r.ASN, r.ASOrg, r.ASDB, asn)
	}
	// The demo file answers where the others know nothing.
	r, err = db.Lookup(netip.MustParseAddr("198.51.100.7"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Country != "XB" || r.ASN != 64497 || r.CountryDB.File != demo || r.ASDB.File != demo {
		t.Errorf("198.51.100.7: %q AS%d from %v / %v; want XB AS64497 from the demo file", r.Country, r.ASN, r.CountryDB, r.ASDB)
	}
	if s := r.CountryDB.String(); !strings.HasPrefix(s, geo.DemoType+" built ") || !strings.HasSuffix(s, "("+demo+")") {
		t.Errorf("String() = %q", s)
	}

	// 1.128.0.0/11 is one network of GeoLite2-ASN: uniform AS. The
	// Country file has nothing there, so the country is uniformly unknown.
	pr, err := db.LookupPrefix(netip.MustParsePrefix("1.128.0.0/11"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.ASN != 1221 || pr.MixedAS || pr.MixedCountry || pr.CountryDB != nil {
		t.Errorf("1.128.0.0/11: %+v; want AS1221 uniform, no country", pr)
	}
	// 1.0.0.0/8 holds several ASN networks (and unknown space).
	pr, err = db.LookupPrefix(netip.MustParsePrefix("1.0.0.0/8"))
	if err != nil {
		t.Fatal(err)
	}
	if !pr.MixedAS || pr.ASN != 15169 {
		t.Errorf("1.0.0.0/8: AS%d mixed %v; want AS15169 (at 1.0.0.0) and mixed", pr.ASN, pr.MixedAS)
	}
}

// TestIPv4OnlyFile: an IPv4-only database answers IPv4 and has nothing to
// say of IPv6, without error.
func TestIPv4OnlyFile(t *testing.T) {
	// MaxMind-DB-test-ipv4-24.mmdb has no country; write an IPv4-only file
	// with one through the test helper.
	path := writeIPv4Only(t)
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Lookup(netip.MustParseAddr("192.0.2.1"))
	if err != nil || r.Country != "XA" {
		t.Errorf("192.0.2.1: %+v, %v; want XA", r, err)
	}
	r, err = db.Lookup(netip.MustParseAddr("2001:db8::1"))
	if err != nil || r.Known() {
		t.Errorf("2001:db8::1: %+v, %v; want nothing known, no error", r, err)
	}
	pr, err := db.LookupPrefix(netip.MustParsePrefix("2001:db8::/32"))
	if err != nil || pr.Known() || pr.Mixed() {
		t.Errorf("2001:db8::/32: %+v, %v; want nothing known, no error", pr, err)
	}
}

// TestDemoDatabase: the demo database lands in DIR/geoip of a data folder
// (made when missing), answers for both territories, and is refused for a
// missing folder or twice the same code.
func TestDemoDatabase(t *testing.T) {
	dir := t.TempDir()
	path, err := geo.DemoDatabase(dir, "XA", "XB")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "geoip", geo.DemoFile); path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	// Again: replaced, not refused.
	if _, err := geo.DemoDatabase(dir, "XA", "XB"); err != nil {
		t.Fatalf("second time: %v", err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for addr, want := range map[string]string{"192.0.2.1": "XA", "198.51.100.7": "XB", "2001:db8:8000::1": "XB", "203.0.113.1": "XA"} {
		r, err := db.Lookup(netip.MustParseAddr(addr))
		if err != nil || r.Country != want {
			t.Errorf("%s: %q, %v; want %s", addr, r.Country, err, want)
		}
	}
	for _, c := range []struct {
		dir, a, b string
		kind      dialogue.Kind
		msg       string
	}{
		{filepath.Join(dir, "nosuch"), "XA", "XB", dialogue.KindNotFound, "nosuch: no such folder"},
		{dir, "XA", "XA", dialogue.KindInvalid, `territories: "XA" twice`},
		{dir, "XA", "xb", dialogue.KindInvalid, `country "xb" is not an ISO 3166-1 alpha-2 code`},
	} {
		_, err := geo.DemoDatabase(c.dir, c.a, c.b)
		if dialogue.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("DemoDatabase(%s, %s, %s) = %v; want %v containing %q", c.dir, c.a, c.b, err, c.kind, c.msg)
		}
	}
}
