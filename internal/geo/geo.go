// Package geo answers, offline, in which territory (ISO 3166-1 alpha-2
// country) and in which autonomous system (number and organisation) an IP
// address or network lies, from MaxMind-format (.mmdb) database files:
// GeoLite2 and GeoIP2 Country, City and ASN, DB-IP Lite, or any file that
// stores the same fields.
//
// Several files are used together: a Country or City file gives the
// country, an ASN file the autonomous system, and every answer says which
// file (its type and build date) gave it. Files are checked in full when
// they are opened, so that a broken file is refused at start-up with an
// error naming it, and a lookup never crashes nor gives a wrong answer.
//
// Attribution here is to infrastructure and territory: the package names
// where an address is and who routes it, never who used it. It does not
// fetch or update databases (a node is given its files), and it does not
// write to the files it reads.
package geo

import (
	"fmt"
	"net/netip"
	"time"
)

// Source is one database file that answered: what a Result records for
// each field it gives.
type Source struct {
	// File is the path the database was opened from.
	File string
	// Type is the database_type of its metadata ("GeoLite2-Country",
	// "DBIP-ASN-Lite (compat=GeoLite2-ASN)", …).
	Type string
	// Built is the build time in its metadata (UTC).
	Built time.Time
}

// String is "GeoLite2-ASN built 2024-05-01 (path/to/file.mmdb)".
func (s *Source) String() string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%s built %s (%s)", s.Type, s.Built.Format(time.DateOnly), s.File)
}

// Result is what the databases know of one address.
//
// Each group of fields comes from the first database, in the order given
// to Open, whose record for the address has a value for it; the *DB field
// of the group names that database, or is nil when none knew.
type Result struct {
	// Addr is the address looked up (IPv4-mapped IPv6 addresses are
	// answered, and given back, as IPv4; zones are dropped).
	Addr netip.Addr

	// Country is the ISO 3166-1 alpha-2 code of the country where the
	// address is located ("" when unknown). RegisteredCountry is the
	// country in which the network is registered, which may differ
	// (a multinational's block, a satellite provider). Both come from
	// the same record.
	Country           string
	RegisteredCountry string
	// CountryDB is the database that gave Country and RegisteredCountry;
	// CountryNetwork is the network of its record that holds Addr.
	CountryDB      *Source
	CountryNetwork netip.Prefix

	// ASN is the autonomous system number (0 when unknown) and ASOrg the
	// organisation that the database names for it ("" when it names
	// none).
	ASN   uint32
	ASOrg string
	// ASDB is the database that gave ASN and ASOrg; ASNetwork is the
	// network of its record that holds Addr.
	ASDB      *Source
	ASNetwork netip.Prefix
}

// Known reports whether any database knew anything of the address.
func (r Result) Known() bool { return r.CountryDB != nil || r.ASDB != nil }

// PrefixResult is what the databases know of a network (a CIDR).
type PrefixResult struct {
	// Prefix is the network looked up, masked (10.1.2.3/8 is 10.0.0.0/8).
	Prefix netip.Prefix
	// Result is the answer for the first address of Prefix. When the
	// network lies inside one record of each database, it is the answer
	// for every address of it.
	Result
	// MixedCountry is true when addresses of Prefix get different
	// countries (or some get none); MixedAS likewise for the autonomous
	// system. The fields of Result then hold the answer for the first
	// address only.
	MixedCountry bool
	MixedAS      bool
}

// Mixed reports whether the network spans records with different answers.
func (r PrefixResult) Mixed() bool { return r.MixedCountry || r.MixedAS }
