package enrich

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
)

// PropertyName is the Parley extension property under which a node shows
// an object's enrichment, in a record of its own beside the object.
const PropertyName = "x_parley_enrichment"

// Record is the enrichment of one object version: the JSON object of its
// x_parley_enrichment property.
type Record struct {
	// Computed is when the lookups were made.
	Computed time.Time `json:"computed"`
	// Addresses are the addresses and networks the object names, in the
	// order found, each with what the databases know of it.
	Addresses []Address `json:"addresses"`
	// Truncated is true when the object names more than MaxAddresses.
	Truncated bool `json:"truncated,omitempty"`
}

// Address is what the databases know of one address or network. A field
// no database knows is null (nil): the address is recorded as unknown.
type Address struct {
	// Addr is the address, or the network in CIDR notation.
	Addr string `json:"addr"`
	// Via says where the object names it (Found.Via).
	Via               string  `json:"via"`
	Country           *string `json:"country"`
	RegisteredCountry *string `json:"registered_country"`
	ASN               *uint32 `json:"asn"`
	ASOrg             *string `json:"as_org"`
	// MixedCountry and MixedAS say that addresses of a network get other
	// answers than its first address, whose answer the fields hold.
	MixedCountry bool `json:"mixed_country,omitempty"`
	MixedAS      bool `json:"mixed_as,omitempty"`
	// DB names the database that gave the country and the one that gave
	// the AS (null when none knew).
	DB Databases `json:"db"`
}

// Databases names, per field group, the database that answered.
type Databases struct {
	Country *Database `json:"country"`
	AS      *Database `json:"as"`
}

// Database is one database file, by its type and build date.
type Database struct {
	Type  string    `json:"type"`
	Built time.Time `json:"built"`
}

// Known reports whether any database knew anything of the address.
func (a *Address) Known() bool { return a.DB.Country != nil || a.DB.AS != nil }

// ParseRecord reads a stored record (dialogue.Enrichment.Record). The
// error (kind invalid) says what is wrong.
func ParseRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, dialogue.Errorf("enrich.ParseRecord", dialogue.KindInvalid, "enrichment record: %v", err)
	}
	return &r, nil
}

// marshalRecord is r's JSON, as stored.
func marshalRecord(r *Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Lookup looks up each address or network found: an address with
// Lookup, a network with LookupPrefix.
func Lookup(db *geo.DB, found []Found) ([]Address, error) {
	out := make([]Address, len(found))
	for i, f := range found {
		var r geo.PrefixResult
		var err error
		if f.Target.Network {
			r, err = db.LookupPrefix(f.Target.Prefix)
		} else {
			r.Result, err = db.Lookup(f.Target.Prefix.Addr())
		}
		if err != nil {
			return nil, dialogue.E("enrich.Lookup", dialogue.KindOf(err), err)
		}
		a := Address{
			Addr: f.Target.String(), Via: f.Via,
			Country: nonEmpty(r.Country), RegisteredCountry: nonEmpty(r.RegisteredCountry), ASOrg: nonEmpty(r.ASOrg),
			MixedCountry: r.MixedCountry, MixedAS: r.MixedAS,
			DB: Databases{Country: database(r.CountryDB), AS: database(r.ASDB)},
		}
		if r.ASN != 0 {
			asn := r.ASN
			a.ASN = &asn
		}
		out[i] = a
	}
	return out, nil
}

func database(s *geo.Source) *Database {
	if s == nil {
		return nil
	}
	return &Database{Type: s.Type, Built: s.Built}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Fingerprint names a set of databases by their types and build dates, in
// order: an enrichment cursor made with another fingerprint is stale.
func Fingerprint(db *geo.DB) string {
	var parts []string
	for _, s := range db.Sources() {
		parts = append(parts, s.Type+"@"+s.Built.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, ";")
}
