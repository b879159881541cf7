package geo

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/parleyhq/parley/internal/dialogue"
)

// DemoType is the database_type of the files WriteDemo writes.
const DemoType = "Parley-Demo-Country-ASN"

// Territory is what a demo database says of some networks: their
// country and the autonomous system that routes them.
type Territory struct {
	// Country is an ISO 3166-1 alpha-2 code; a demo uses the
	// user-assigned ones (XA … XZ) so that no real state is named.
	Country string
	// ASN should be one of those reserved for documentation (64496–64511,
	// RFC 5398).
	ASN   uint32
	ASOrg string
	// Networks are the networks of the territory; they must not overlap
	// those of another territory.
	Networks []netip.Prefix
}

// DemoTerritories shares the address ranges reserved for documentation
// (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849:
// 2001:db8::/32) between two territories, a and b (ISO codes):
//
//	a, AS64496: 192.0.2.0/24, 203.0.113.0/25, 2001:db8::/33
//	b, AS64497: 198.51.100.0/24, 203.0.113.128/25, 2001:db8:8000::/33
//
// 203.0.113.0/24 and 2001:db8::/32 thus span both, for showing a network
// with mixed answers.
func DemoTerritories(a, b string) []Territory {
	p := netip.MustParsePrefix
	return []Territory{
		{Country: a, ASN: 64496, ASOrg: "Demo network of " + a,
			Networks: []netip.Prefix{p("192.0.2.0/24"), p("203.0.113.0/25"), p("2001:db8::/33")}},
		{Country: b, ASN: 64497, ASOrg: "Demo network of " + b,
			Networks: []netip.Prefix{p("198.51.100.0/24"), p("203.0.113.128/25"), p("2001:db8:8000::/33")}},
	}
}

// WriteDemo writes a MaxMind DB file at path (replacing it) that maps the
// territories' networks to their country (as country and
// registered_country) and autonomous system, in the layout of the
// GeoIP2/GeoLite2 files, so that Open reads it as it reads a real
// database. It holds no real data: it is for demos and tests. The file is
// written to a temporary name and renamed, and read back with Open before
// WriteDemo returns.
func WriteDemo(path string, territories ...Territory) error {
	const op = "geo.WriteDemo"
	if len(territories) == 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "no territory given")
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: DemoType,
		Description: map[string]string{
			"en": "Parley demo: address ranges reserved for documentation mapped to demo territories; no real data",
		},
		// The documentation ranges are reserved networks.
		IncludeReservedNetworks: true,
		IPVersion:               6,
		RecordSize:              24,
	})
	if err != nil {
		return dialogue.E(op, dialogue.KindOther, err)
	}
	var seen []netip.Prefix
	for i, t := range territories {
		if !isAlpha2(t.Country) {
			return dialogue.Errorf(op, dialogue.KindInvalid, "territory %d: country %q is not an ISO 3166-1 alpha-2 code (two capital letters)", i, t.Country)
		}
		if t.ASN == 0 {
			return dialogue.Errorf(op, dialogue.KindInvalid, "territory %s: the AS number is 0", t.Country)
		}
		if len(t.Networks) == 0 {
			return dialogue.Errorf(op, dialogue.KindInvalid, "territory %s: no network", t.Country)
		}
		cc := mmdbtype.Map{"iso_code": mmdbtype.String(t.Country)}
		rec := mmdbtype.Map{
			"country":                        cc,
			"registered_country":             cc,
			"autonomous_system_number":       mmdbtype.Uint32(t.ASN),
			"autonomous_system_organization": mmdbtype.String(t.ASOrg),
		}
		for _, n := range t.Networks {
			if !n.IsValid() || n != n.Masked() || n.Addr().Is4In6() || n.Addr().Zone() != "" {
				return dialogue.Errorf(op, dialogue.KindInvalid, "territory %s: network %s is not a network address with its prefix length", t.Country, n)
			}
			for _, s := range seen {
				if s.Overlaps(n) {
					return dialogue.Errorf(op, dialogue.KindInvalid, "territory %s: network %s overlaps %s", t.Country, n, s)
				}
			}
			seen = append(seen, n)
			ipnet := &net.IPNet{IP: n.Addr().AsSlice(), Mask: net.CIDRMask(n.Bits(), n.Addr().BitLen())}
			if err := tree.Insert(ipnet, rec); err != nil {
				return dialogue.E(op, dialogue.KindOther, fmt.Errorf("inserting %s: %w", n, err))
			}
		}
	}

	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("writing %s: %w", path, err))
	}
	defer os.Remove(f.Name()) // after a successful rename, there is nothing to remove
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("writing %s: %w", path, err))
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("writing %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("writing %s: %w", path, err))
	}
	// Read it back the way a node reads any database.
	db, err := Open(f.Name())
	if err != nil {
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("the file written does not read back: %w", err))
	}
	db.Close()
	if err := os.Rename(f.Name(), path); err != nil {
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("writing %s: %w", path, err))
	}
	return nil
}

// DemoFile is the name DemoDatabase gives the demo database in a node's
// geoip folder.
const DemoFile = "parley-demo.mmdb"

// DemoDatabase writes the demo database of two territories, a and b (ISO
// codes; DemoTerritories shares the documentation ranges between them),
// into the node's data folder dir as DIR/geoip/parley-demo.mmdb, making
// the geoip folder (mode 0755) when missing, and returns the file's path.
// A node reads it there like any database of its geoip folder
// (node.GeoIPFiles), through Open. Writing it again replaces it.
func DemoDatabase(dir, a, b string) (string, error) {
	const op = "geo.DemoDatabase"
	if a == b {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "territories: %q twice; want two different codes", a)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return "", dialogue.Errorf(op, dialogue.KindNotFound, "data folder %s: no such folder", dir)
	}
	// The folder's name is node.GeoIPDir (geo does not import node).
	gdir := filepath.Join(dir, "geoip")
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		return "", dialogue.E(op, dialogue.KindOther, fmt.Errorf("making %s: %w", gdir, err))
	}
	path := filepath.Join(gdir, DemoFile)
	if err := WriteDemo(path, DemoTerritories(a, b)...); err != nil {
		return "", dialogue.E(op, dialogue.KindOf(err), err)
	}
	return path, nil
}
