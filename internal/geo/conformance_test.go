package geo_test

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
)

// sourceRecord is what the conformance test reads of a record of the
// MaxMind test databases' JSON sources.
type sourceRecord struct {
	Country struct {
		ISOCode string `json:"iso_code"`
	} `json:"country"`
	RegisteredCountry struct {
		ISOCode string `json:"iso_code"`
	} `json:"registered_country"`
	ASN   uint32 `json:"autonomous_system_number"`
	ASOrg string `json:"autonomous_system_organization"`
}

// sourceNetwork is one network of a JSON source, in file order.
type sourceNetwork struct {
	text   string // as written in the source
	prefix netip.Prefix
	rec    sourceRecord
}

// readSource reads a JSON source: a list of one-key objects, network to
// record.
func readSource(t *testing.T, name string) []sourceNetwork {
	t.Helper()
	var raw []map[string]sourceRecord
	if err := json.Unmarshal(shareddata.File(t, "mmdb", "source-data", name), &raw); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []sourceNetwork
	for i, m := range raw {
		if len(m) != 1 {
			t.Fatalf("%s: item %d has %d networks, want 1", name, i, len(m))
		}
		for k, rec := range m {
			p, err := netip.ParsePrefix(k)
			if err != nil {
				t.Fatalf("%s: item %d: %v", name, i, err)
			}
			out = append(out, sourceNetwork{text: k, prefix: p.Masked(), rec: rec})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no networks", name)
	}
	return out
}

// expected is the source's answer for addr: the record of the most
// specific network that holds it, the later one among equals (as the
// writer inserts them in order).
func expected(nets []sourceNetwork, addr netip.Addr) (sourceRecord, bool) {
	best := -1
	for i, n := range nets {
		if n.prefix.Contains(addr) && (best < 0 || n.prefix.Bits() >= nets[best].prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return sourceRecord{}, false
	}
	return nets[best].rec, true
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := range 8 {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestConformance checks that every network of the MaxMind test
// databases' JSON sources gets exactly the answer the source gives, at
// its first and its last address, each as written (IPv6 for the IPv4
// networks of an IPv6 database, ::a.b.c.d) and, for those, as IPv4.
func TestConformance(t *testing.T) {
	tests := []struct {
		source, db string
		country    bool // the source's records carry countries
		as         bool // … autonomous systems
	}{
		{"GeoLite2-Country-Test.json", "GeoLite2-Country-Test.mmdb", true, false},
		{"GeoIP2-Country-Test.json", "GeoIP2-Country-Test.mmdb", true, false},
		{"GeoLite2-City-Test.json", "GeoLite2-City-Test.mmdb", true, false},
		{"GeoIP2-City-Test.json", "GeoIP2-City-Test.mmdb", true, false},
		{"GeoLite2-ASN-Test.json", "GeoLite2-ASN-Test.mmdb", false, true},
		{"GeoIP2-ISP-Test.json", "GeoIP2-ISP-Test.mmdb", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			nets := readSource(t, tt.source)
			path := filepath.Join(shareddata.Dir(t, "mmdb", "test-data"), tt.db)
			db, err := geo.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			wantType := strings.TrimSuffix(tt.db, "-Test.mmdb")
			if got := db.Sources()[0].Type; got != wantType {
				t.Errorf("database type %q, want %q", got, wantType)
			}
			checked := 0
			for _, n := range nets {
				for _, addr := range []netip.Addr{n.prefix.Addr(), lastAddr(n.prefix)} {
					want, ok := expected(nets, addr)
					if !ok {
						t.Fatalf("%s: %s is in no network of the source", n.text, addr)
					}
					addrs := []netip.Addr{addr}
					if v4 := netip.PrefixFrom(addr, 96).Masked(); addr.Is6() && v4.Addr() == netip.IPv6Unspecified() && n.prefix.Bits() >= 96 {
						addrs = append(addrs, netip.AddrFrom4([4]byte(addr.AsSlice()[12:])))
					}
					for _, a := range addrs {
						got, err := db.Lookup(a)
						if err != nil {
							t.Fatalf("%s: Lookup(%s): %v", n.text, a, err)
						}
						checkAnswer(t, n.text, a, got, want, tt.country, tt.as)
						checked++
					}
				}
			}
			t.Logf("%d networks, %d addresses checked", len(nets), checked)
		})
	}
}

func checkAnswer(t *testing.T, network string, addr netip.Addr, got geo.Result, want sourceRecord, country, as bool) {
	t.Helper()
	if got.Country != want.Country.ISOCode || got.RegisteredCountry != want.RegisteredCountry.ISOCode {
		t.Errorf("%s: %s: country %q registered %q, want %q and %q", network, addr,
			got.Country, got.RegisteredCountry, want.Country.ISOCode, want.RegisteredCountry.ISOCode)
	}
	if got.ASN != want.ASN || got.ASOrg != want.ASOrg {
		t.Errorf("%s: %s: AS %d %q, want %d %q", network, addr, got.ASN, got.ASOrg, want.ASN, want.ASOrg)
	}
	hasCountry := want.Country.ISOCode != "" || want.RegisteredCountry.ISOCode != ""
	if (got.CountryDB != nil) != hasCountry {
		t.Errorf("%s: %s: CountryDB %v, want a database: %v", network, addr, got.CountryDB, hasCountry)
	}
	if (got.ASDB != nil) != (want.ASN != 0) {
		t.Errorf("%s: %s: ASDB %v, want a database: %v", network, addr, got.ASDB, want.ASN != 0)
	}
	if got.CountryDB != nil && !got.CountryNetwork.Contains(addr) {
		t.Errorf("%s: %s: CountryNetwork %s does not hold the address", network, addr, got.CountryNetwork)
	}
	if got.ASDB != nil && !got.ASNetwork.Contains(addr) {
		t.Errorf("%s: %s: ASNetwork %s does not hold the address", network, addr, got.ASNetwork)
	}
	if !country && hasCountry || !as && want.ASN != 0 {
		t.Fatalf("%s: the source has fields the test did not expect", network)
	}
}
