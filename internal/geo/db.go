package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gaissmai/bart"
	maxminddb "github.com/oschwald/maxminddb-golang/v2"

	"github.com/parleyhq/parley/internal/dialogue"
)

// DB is a set of opened database files. It is safe for concurrent use;
// nothing in it changes after Open.
type DB struct {
	sources []*source
}

// source is one opened file.
type source struct {
	info Source
	r    *maxminddb.Reader
	// recs holds the fields geo reads of every record that the search
	// tree reaches, decoded once at Open; records indexes it by the
	// record's offset in the file. Tables name a record by its index in
	// recs, so that a lookup reads no pointer but the one to recs.
	recs    []entry
	records map[uintptr]uint32
	// table is the search tree again, as a multibit trie: every network
	// of the tree (the IPv4 subtree of an IPv6 file under both its IPv4
	// and its ::/96 names, and its aliases) to its record. Lookups use it;
	// the file's own tree takes a cache miss per bit of the address.
	table *bart.Table[leaf]
	// flat is the table's IPv4 part flattened by /16 and /24 (flat.go):
	// IPv4 lookups read it first. Nil when the file has no IPv4 network.
	flat *flat4
	// flat6 is the table's IPv6 part as ranges of the first 64 bits
	// (flat6.go): IPv6 lookups read it first. Nil when the file has no
	// IPv6 network.
	flat6 *flat6
	// ipv4Only is true for a database without IPv6 (ip_version 4).
	ipv4Only bool
	// hasCountry and hasAS say whether any record has the field group.
	hasCountry, hasAS bool
}

// leaf is a network of a file's search tree and its record (an index
// in source.recs).
type leaf struct {
	rec     uint32
	network netip.Prefix
}

// entry is what geo reads of one record.
type entry struct {
	country, registered string
	asn                 uint32
	asOrg               string
}

func (e *entry) hasCountry() bool { return e.country != "" || e.registered != "" }
func (e *entry) hasAS() bool      { return e.asn != 0 }

// record is the part of a record that geo decodes; the rest of a record
// (names, cities, coordinates …) is skipped unread.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code,maxsize:64"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code,maxsize:64"`
	} `maxminddb:"registered_country"`
	// GeoLite2-ASN, GeoIP2-ISP and DB-IP ASN Lite put the AS at the top.
	ASN   uint32 `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization,maxsize:1024"`
	// GeoIP2-Enterprise puts it in traits.
	Traits struct {
		ASN   uint32 `maxminddb:"autonomous_system_number"`
		ASOrg string `maxminddb:"autonomous_system_organization,maxsize:1024"`
	} `maxminddb:"traits"`
}

// maxBuildEpoch is the last second of the year 9999: a later build time
// is no date (libmaxminddb-uint64-max-epoch.mmdb has 2^64-1).
const maxBuildEpoch = 253402300799

// Open opens the database files, checks each in full and returns them as
// one DB. The order matters: for each field, the first file whose record
// has a value answers (put a City file before a Country file to prefer
// it). Each file must hold a country or an autonomous system.
//
// A file that cannot be read, is not a MaxMind DB, is corrupt anywhere
// (metadata, search tree, data section) or holds a country code that is
// not two letters is refused: the error (kind invalid, or not found for a
// missing file) names the file and the reason. Open reads each file into
// memory, so a file replaced or truncated later cannot affect a DB that
// is open.
func Open(paths ...string) (*DB, error) {
	const op = "geo.Open"
	if len(paths) == 0 {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "no database file given")
	}
	db := &DB{}
	for _, p := range paths {
		s, err := openSource(p)
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOf(err), err)
		}
		db.sources = append(db.sources, s)
	}
	return db, nil
}

// Close releases the databases. A closed DB must not be used.
func (db *DB) Close() error {
	var errs []error
	for _, s := range db.sources {
		if err := s.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", s.info.File, err))
		}
	}
	return errors.Join(errs...)
}

// Sources describes the opened files, in the order given to Open.
func (db *DB) Sources() []Source {
	out := make([]Source, len(db.sources))
	for i, s := range db.sources {
		out[i] = s.info
	}
	return out
}

// openSource reads, opens and checks one file. Its errors name the file.
func openSource(path string) (s *source, err error) {
	bad := func(format string, args ...any) error {
		return &dialogue.Error{Kind: dialogue.KindInvalid,
			Err: fmt.Errorf("database %s: %s", path, fmt.Sprintf(format, args...))}
	}
	// The reader is meant not to panic on any input; if it does all the
	// same, the file is refused rather than the program stopped.
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, bad("the MaxMind DB reader failed on it (%v); the file is corrupt", v)
		}
	}()

	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &dialogue.Error{Kind: dialogue.KindNotFound, Err: fmt.Errorf("database %s: no such file", path)}
	case err != nil:
		return nil, &dialogue.Error{Kind: dialogue.KindInvalid, Err: fmt.Errorf("database %s: %w", path, err)}
	case len(data) == 0:
		return nil, bad("the file is empty")
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, bad("not a readable MaxMind DB: %v", err)
	}
	m := r.Metadata
	switch {
	case m.BinaryFormatMajorVersion != 2:
		return nil, bad("binary_format_major_version is %d; only 2 is read", m.BinaryFormatMajorVersion)
	case m.DatabaseType == "" || !utf8.ValidString(m.DatabaseType):
		return nil, bad("database_type is empty or not UTF-8")
	case m.IPVersion != 4 && m.IPVersion != 6:
		return nil, bad("ip_version is %d; want 4 or 6", m.IPVersion)
	case m.RecordSize != 24 && m.RecordSize != 28 && m.RecordSize != 32:
		return nil, bad("record_size is %d; want 24, 28 or 32", m.RecordSize)
	case m.NodeCount == 0:
		return nil, bad("node_count is 0: the search tree is empty")
	case m.BuildEpoch > maxBuildEpoch:
		return nil, bad("build_epoch %d is not a date", m.BuildEpoch)
	}
	s = &source{
		info:     Source{File: path, Type: m.DatabaseType, Built: time.Unix(int64(m.BuildEpoch), 0).UTC()},
		r:        r,
		records:  make(map[uintptr]uint32),
		table:    new(bart.Table[leaf]),
		ipv4Only: m.IPVersion == 4,
	}
	if err := s.index(); err != nil {
		return nil, bad("%v", err)
	}
	s.flat = newFlat4(s.table, len(s.recs))
	if !s.ipv4Only && len(s.recs) < fallback {
		s.flat6 = newFlat6(s.table)
	}
	if len(m.Description) == 0 {
		return nil, bad("the metadata has no description, which the format requires: the file is damaged or was not written as a MaxMind DB")
	}
	// Verify checks what the walk does not touch: every node of the tree,
	// the separator, every record of the data section, the metadata.
	if err := r.Verify(); err != nil {
		return nil, bad("integrity check failed: %v", err)
	}
	if !s.hasCountry && !s.hasAS {
		return nil, bad("it holds neither a country (country.iso_code, registered_country.iso_code) nor an autonomous system (autonomous_system_number): it is no geolocation or ASN database")
	}
	return s, nil
}

// index walks every network of the search tree and decodes, once per
// record, the fields geo reads.
func (s *source) index() error {
	// A tree of n nodes has at most 2n records, each reached at most
	// four times (IPv4 under ::/96 and its three aliases); more networks
	// than that means a cycle in a corrupt tree, which would never end.
	limit := 8*s.r.Metadata.NodeCount + 8
	var seen uint
	for res := range s.r.Networks(maxminddb.IncludeNetworksWithoutData(), maxminddb.IncludeAliasedNetworks()) {
		if err := res.Err(); err != nil {
			return fmt.Errorf("search tree: %v", err)
		}
		seen++
		if seen > limit {
			return fmt.Errorf("search tree: more networks than its %d nodes allow; the tree is corrupt", s.r.Metadata.NodeCount)
		}
		if !res.Found() {
			continue
		}
		i, ok := s.records[res.Offset()]
		if !ok {
			e, err := decode(res)
			if err != nil {
				return fmt.Errorf("record for %s: %v", res.Prefix(), err)
			}
			i = uint32(len(s.recs))
			s.recs = append(s.recs, e)
			s.records[res.Offset()] = i
			s.hasCountry = s.hasCountry || e.hasCountry()
			s.hasAS = s.hasAS || e.hasAS()
		}
		p := res.Prefix()
		s.table.Insert(p, leaf{i, p})
		if p.Addr().Is4() && !s.ipv4Only {
			// The file answers ::a.b.c.d (IPv6) from the same record.
			var a [16]byte
			v4 := p.Addr().As4()
			copy(a[12:], v4[:])
			p6 := netip.PrefixFrom(netip.AddrFrom16(a), p.Bits()+96)
			s.table.Insert(p6, leaf{i, p6})
		}
	}
	s.recs = slices.Clip(s.recs)
	return nil
}

// decode reads and checks the fields geo uses of one record.
func decode(res maxminddb.Result) (entry, error) {
	var rec record
	if err := res.Decode(&rec); err != nil {
		var te maxminddb.UnmarshalTypeError
		if errors.As(err, &te) && te.Type == reflect.TypeFor[record]() {
			return entry{}, fmt.Errorf("the record is not a map of fields, as in a geolocation or ASN database (it holds %s)", te.Value)
		}
		return entry{}, err
	}
	e := entry{
		country:    rec.Country.ISOCode,
		registered: rec.RegisteredCountry.ISOCode,
		asn:        rec.ASN,
		asOrg:      rec.ASOrg,
	}
	if e.asn == 0 && e.asOrg == "" {
		e.asn, e.asOrg = rec.Traits.ASN, rec.Traits.ASOrg
	}
	if err := checkCountry("country.iso_code", e.country); err != nil {
		return entry{}, err
	}
	if err := checkCountry("registered_country.iso_code", e.registered); err != nil {
		return entry{}, err
	}
	if !utf8.ValidString(e.asOrg) {
		return entry{}, errors.New("autonomous_system_organization is not UTF-8")
	}
	if e.asn == 0 && e.asOrg != "" {
		return entry{}, fmt.Errorf("autonomous_system_organization %q without an autonomous_system_number", e.asOrg)
	}
	return e, nil
}

// checkCountry accepts "" or two capital ASCII letters.
func checkCountry(field, cc string) error {
	if cc == "" || isAlpha2(cc) {
		return nil
	}
	return fmt.Errorf("%s %q is not an ISO 3166-1 alpha-2 code", field, cc)
}

func isAlpha2(cc string) bool {
	return len(cc) == 2 && 'A' <= cc[0] && cc[0] <= 'Z' && 'A' <= cc[1] && cc[1] <= 'Z'
}

// Lookup answers for one address. Its error (never expected from a file
// that Open accepted) names the file that failed; the Result is then
// empty.
func (db *DB) Lookup(addr netip.Addr) (Result, error) {
	return db.lookup(addr, viaFlat)
}

// How lookup finds a file's record: through the flat IPv4 table or the
// IPv6 ranges, then the trie where they fall back (what Lookup does), through the trie alone, or through the file's
// own search tree. The last two are the references of the tests.
type via int

const (
	viaFlat via = iota
	viaTable
	viaTree
)

// lookup is Lookup by the given way.
func (db *DB) lookup(addr netip.Addr, how via) (Result, error) {
	const op = "geo.Lookup"
	if !addr.IsValid() {
		return Result{}, dialogue.Errorf(op, dialogue.KindInvalid, "the address is empty")
	}
	addr = addr.WithZone("").Unmap()
	res := Result{Addr: addr}
	for _, s := range db.sources {
		needCountry := res.CountryDB == nil && s.hasCountry
		needAS := res.ASDB == nil && s.hasAS
		if !needCountry && !needAS {
			continue
		}
		if s.ipv4Only && addr.Is6() {
			continue
		}
		var e *entry
		var network netip.Prefix
		var err error
		switch how {
		case viaTree:
			e, network, err = s.lookupTree(addr)
		case viaTable:
			e, network, err = s.lookupTable(addr)
		default:
			e, network, err = s.lookup(addr)
		}
		if err != nil {
			return Result{}, dialogue.E(op, dialogue.KindOther, err)
		}
		if e == nil {
			continue
		}
		if needCountry && e.hasCountry() {
			res.Country, res.RegisteredCountry = e.country, e.registered
			res.CountryDB, res.CountryNetwork = &s.info, network
		}
		if needAS && e.hasAS() {
			res.ASN, res.ASOrg = e.asn, e.asOrg
			res.ASDB, res.ASNetwork = &s.info, network
		}
	}
	return res, nil
}

// lookup finds the record for addr in one file: nil when the file has
// none.
func (s *source) lookup(addr netip.Addr) (*entry, netip.Prefix, error) {
	if s.flat != nil && addr.Is4() {
		a := addr.As4()
		if v := s.flat.lookup(a); v != fallback {
			if v == 0 {
				return nil, netip.Prefix{}, nil
			}
			return &s.recs[v>>flatBits-1], flatNetwork(a, v), nil
		}
	} else if s.flat6 != nil && addr.Is6() {
		a := addr.As16()
		r := s.flat6.lookup(binary.BigEndian.Uint64(a[:8]))
		switch r.rec {
		case 0:
			return nil, netip.Prefix{}, nil
		case fallback:
		default:
			return &s.recs[r.rec-1], flatNetwork6(a, int(r.bits)), nil
		}
	}
	return s.lookupTable(addr)
}

// lookupTable is lookup through the trie alone.
func (s *source) lookupTable(addr netip.Addr) (*entry, netip.Prefix, error) {
	l, ok := s.table.Lookup(addr)
	if !ok {
		return nil, netip.Prefix{}, nil
	}
	return &s.recs[l.rec], l.network, nil
}

// lookupTree is lookup through the file's own search tree: the reference
// that the table must agree with (see the tests), and slower.
func (s *source) lookupTree(addr netip.Addr) (*entry, netip.Prefix, error) {
	res := s.r.Lookup(addr)
	if err := res.Err(); err != nil {
		return nil, netip.Prefix{}, fmt.Errorf("database %s: looking up %s: %v", s.info.File, addr, err)
	}
	if !res.Found() {
		return nil, netip.Prefix{}, nil
	}
	i, ok := s.records[res.Offset()]
	if !ok {
		// Open indexed every record the tree reaches; this is a record
		// it did not see.
		return nil, netip.Prefix{}, fmt.Errorf("database %s: looking up %s: record at offset %d was not indexed", s.info.File, addr, res.Offset())
	}
	return &s.recs[i], res.Prefix(), nil
}

// maxPrefixNetworks bounds how many networks LookupPrefix walks in one
// file before it calls the answer mixed. It keeps a lookup of ::/0 cheap.
const maxPrefixNetworks = 1 << 16

// LookupPrefix answers for a network: the answer for its first address,
// and whether other addresses of it get other answers (PrefixResult.Mixed).
// An address given as a single-address prefix (/32, /128) is the same as
// Lookup.
func (db *DB) LookupPrefix(p netip.Prefix) (PrefixResult, error) {
	const op = "geo.LookupPrefix"
	if !p.IsValid() {
		return PrefixResult{}, dialogue.Errorf(op, dialogue.KindInvalid, "the network is empty or invalid")
	}
	p = unmapPrefix(p).Masked()
	first, err := db.Lookup(p.Addr())
	if err != nil {
		return PrefixResult{}, dialogue.E(op, dialogue.KindOf(err), err)
	}
	out := PrefixResult{Prefix: p, Result: first}
	if p.IsSingleIP() {
		return out, nil
	}
	// For each field group, the file that answered for the first address
	// (or, when none did, every file that has the group) must give the
	// same answer everywhere in p, and the files before it none.
	countryDone, asDone := false, false
	for _, s := range db.sources {
		if s.ipv4Only && p.Addr().Is6() {
			continue
		}
		checkCountry := !countryDone && s.hasCountry
		checkAS := !asDone && s.hasAS
		if !checkCountry && !checkAS {
			continue
		}
		cUniform, aUniform, err := s.uniform(p, &first, checkCountry, checkAS)
		if err != nil {
			return PrefixResult{}, dialogue.E(op, dialogue.KindOther, err)
		}
		if checkCountry {
			out.MixedCountry = !cUniform
			countryDone = !cUniform || first.CountryDB == &s.info
		}
		if checkAS {
			out.MixedAS = !aUniform
			asDone = !aUniform || first.ASDB == &s.info
		}
	}
	return out, nil
}

// uniform reports, for each group asked, whether every address of p gets
// from this file the answer that first has from it (or, when first's
// answer came from another file, no answer from this one).
func (s *source) uniform(p netip.Prefix, first *Result, checkCountry, checkAS bool) (country, as bool, err error) {
	country, as = true, true
	ownCountry := first.CountryDB == &s.info
	ownAS := first.ASDB == &s.info
	n := 0
	for res := range s.r.NetworksWithin(p, maxminddb.IncludeNetworksWithoutData()) {
		if err := res.Err(); err != nil {
			return false, false, fmt.Errorf("database %s: networks within %s: %v", s.info.File, p, err)
		}
		if n++; n > maxPrefixNetworks {
			return false, false, nil
		}
		var e *entry
		if res.Found() {
			i, ok := s.records[res.Offset()]
			if !ok {
				return false, false, fmt.Errorf("database %s: networks within %s: record at offset %d was not indexed", s.info.File, p, res.Offset())
			}
			e = &s.recs[i]
		}
		if checkCountry && country {
			if ownCountry {
				country = e != nil && e.country == first.Country && e.registered == first.RegisteredCountry
			} else {
				country = e == nil || !e.hasCountry()
			}
		}
		if checkAS && as {
			if ownAS {
				as = e != nil && e.asn == first.ASN && e.asOrg == first.ASOrg
			} else {
				as = e == nil || !e.hasAS()
			}
		}
		if (!checkCountry || !country) && (!checkAS || !as) {
			break
		}
	}
	return country, as, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n ≥ 96) into a.b.c.d/(n-96).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return netip.PrefixFrom(a, p.Bits())
}
