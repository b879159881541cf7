package enrich_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/sqlite"
)

// openStore opens a new store with one collection in t's temporary folder.
func openStore(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &dialogue.Collection{Title: "local"}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return st, c.ID
}

// demoDB writes the demo database for territories a and b and opens it.
func demoDB(t testing.TB, a, b string) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.mmdb")
	if err := geo.WriteDemo(path, geo.DemoTerritories(a, b)...); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// object makes a stored object of its JSON.
func object(t testing.TB, raw string) *dialogue.Object {
	t.Helper()
	var h struct {
		ID, Type, SpecVersion string `json:"-"`
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	h.ID, _ = m["id"].(string)
	h.Type, _ = m["type"].(string)
	o := &dialogue.Object{ID: h.ID, Type: h.Type, SpecVersion: "2.1", Raw: []byte(raw)}
	for k, p := range map[string]*time.Time{"created": &o.Created, "modified": &o.Modified} {
		if s, ok := m[k].(string); ok {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			*p = tm
		}
	}
	return o
}

func add(t testing.TB, st dialogue.Store, coll string, raws ...string) []*dialogue.Object {
	t.Helper()
	objs := make([]*dialogue.Object, len(raws))
	for i, r := range raws {
		objs[i] = object(t, r)
	}
	res, err := st.AddObjects(context.Background(), coll, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != dialogue.Added {
			t.Fatalf("%s: %v %v", r.ID, r.Status, r.Err)
		}
	}
	return objs
}

func ind(n int, p string) string {
	b, _ := json.Marshal(p)
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":%s}`, n, b)
}

func sco(typ, id, value string) string {
	return fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"value":%q}`, typ, id, value)
}

// record reads the stored enrichment of an object ("" version: the
// object's only one), nil when it has none.
func record(t testing.TB, st *sqlite.DB, coll, id string, version time.Time) *enrich.Record {
	t.Helper()
	e, err := st.Enrichment(context.Background(), coll, id, version)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := enrich.ParseRecord(e.Record)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// summary is a record as "addr via country ASN" lines; "-" for unknown,
// "*" after a mixed answer.
func summary(r *enrich.Record) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, a := range r.Addresses {
		c, asn := "-", "-"
		if a.Country != nil {
			c = *a.Country
		}
		if a.MixedCountry {
			c += "*"
		}
		if a.ASN != nil {
			asn = fmt.Sprintf("AS%d", *a.ASN)
		}
		if a.MixedAS {
			asn += "*"
		}
		out = append(out, a.Addr+" "+a.Via+" "+c+" "+asn)
	}
	return out
}

func check(t *testing.T, st *sqlite.DB, coll, id string, version time.Time, want ...string) {
	t.Helper()
	got := summary(record(t, st, coll, id, version))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", id, got, want)
	}
}

var v1 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	ipA   = "ipv4-addr--0a000000-0000-4000-8000-000000000000"
	ipB   = "ipv6-addr--0b000000-0000-4000-8000-000000000000"
	ipC   = "ipv4-addr--0c000000-0000-4000-8000-000000000000"
	ntN   = "network-traffic--0d000000-0000-4000-8000-000000000000"
	od1   = "observed-data--01000000-0000-4000-8000-000000000000"
	od2   = "observed-data--02000000-0000-4000-8000-000000000000"
	inf1  = "infrastructure--01000000-0000-4000-8000-000000000000"
	inf2  = "infrastructure--02000000-0000-4000-8000-000000000000"
	rel1  = "relationship--01000000-0000-4000-8000-000000000000"
	stamp = `"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z"`
)

func indID(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }

// TestEnrich enriches indicators, observed-data, infrastructure and
// address objects from the demo database, in a real store, including
// objects that name others arriving later.
func TestEnrich(t *testing.T) {
	ctx := context.Background()
	st, coll := openStore(t)
	e := enrich.New(demoDB(t, "XA", "XB"), st, nil)
	e.PageSize = 3 // several pages

	add(t, st, coll,
		ind(1, `[ipv4-addr:value = '198.51.100.7'] OR [ipv6-addr:value ISSUBSET '2001:db8:8000::/48']`),
		ind(2, `[ipv4-addr:value IN ('192.0.2.1', '10.0.0.1', '198.51.100.9')]`),
		ind(3, `[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port = 443]`),
		ind(4, `[ipv4-addr:value NOT = '192.0.2.1']`),
		ind(5, `[domain-name:value = 'example.com']`),
		sco("ipv4-addr", ipA, "192.0.2.5"),
		`{"type":"network-traffic","spec_version":"2.1","id":"`+ntN+`","src_ref":"`+ipA+`","dst_ref":"`+ipB+`","protocols":["tcp"]}`,
		`{"type":"observed-data","spec_version":"2.1","id":"`+od1+`",`+stamp+`,"first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":["`+ipA+`","`+ntN+`"]}`,
		`{"type":"observed-data","spec_version":"2.1","id":"`+od2+`",`+stamp+`,"first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"objects":{"0":{"type":"ipv4-addr","value":"198.51.100.1"},"1":{"type":"network-traffic","src_ref":"0","protocols":["tcp"]}}}`,
		`{"type":"infrastructure","spec_version":"2.1","id":"`+inf1+`",`+stamp+`,"name":"C2 server"}`,
		`{"type":"infrastructure","spec_version":"2.1","id":"`+inf2+`",`+stamp+`,"name":"relay","x_address":"2001:db8::99"}`,
	)
	var reported []string
	stats, err := e.CatchUp(ctx, coll, enrich.Options{Report: func(r enrich.Result) { reported = append(reported, r.ObjectID) }})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Scanned != 11 {
		t.Errorf("scanned %d, want 11", stats.Scanned)
	}
	check(t, st, coll, indID(1), v1, "198.51.100.7 pattern XB AS64497", "2001:db8:8000::/48 pattern XB AS64497")
	check(t, st, coll, indID(2), v1, "192.0.2.1 pattern XA AS64496", "10.0.0.1 pattern - -", "198.51.100.9 pattern XB AS64497")
	check(t, st, coll, indID(3), v1, "203.0.113.0/24 pattern XA* AS64496*")
	check(t, st, coll, indID(4), v1)
	check(t, st, coll, indID(5), v1)
	check(t, st, coll, ipA, time.Time{}, "192.0.2.5 value XA AS64496")
	// ipB is not there yet.
	check(t, st, coll, od1, v1, "192.0.2.5 "+ipA+" XA AS64496")
	check(t, st, coll, od2, v1, "198.51.100.1 objects.0 XB AS64497")
	check(t, st, coll, inf1, v1)
	check(t, st, coll, inf2, v1, "2001:db8::99 x_address XA AS64496")
	if len(reported) != 10 { // five indicators, ipA, two observed-data, two infrastructure; not network-traffic
		t.Errorf("reported %d objects (%q), want 10", len(reported), reported)
	}

	// What the database said, per field.
	r := record(t, st, coll, indID(2), v1)
	if r.Addresses[0].DB.Country == nil || r.Addresses[0].DB.Country.Type != geo.DemoType || r.Addresses[0].DB.AS.Type != geo.DemoType ||
		r.Addresses[0].DB.Country.Built.IsZero() || r.Computed.IsZero() {
		t.Errorf("databases of a known address: %+v, computed %v", r.Addresses[0].DB, r.Computed)
	}
	if a := r.Addresses[1]; a.Known() || a.DB.Country != nil || a.DB.AS != nil || a.Country != nil || a.ASN != nil || a.ASOrg != nil {
		t.Errorf("unknown address recorded as %+v", a)
	}
	e2, _ := st.Enrichment(ctx, coll, indID(2), v1)
	if !strings.Contains(string(e2.Record), `{"addr":"10.0.0.1","via":"pattern","country":null,"registered_country":null,"asn":null,"as_org":null,"db":{"country":null,"as":null}}`) {
		t.Errorf("stored record: %s", e2.Record)
	}

	// Later: the address the network-traffic names, and a relationship
	// of the infrastructure to an address object.
	add(t, st, coll,
		sco("ipv6-addr", ipB, "2001:db8:8000::1"),
		sco("ipv4-addr", ipC, "203.0.113.200"),
		`{"type":"relationship","spec_version":"2.1","id":"`+rel1+`",`+stamp+`,"relationship_type":"consists-of","source_ref":"`+inf1+`","target_ref":"`+ipC+`"}`,
	)
	if _, err := e.CatchUp(ctx, coll, enrich.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, st, coll, od1, v1, "192.0.2.5 "+ipA+" XA AS64496", "2001:db8:8000::1 "+ipB+" XB AS64497")
	check(t, st, coll, inf1, v1, "203.0.113.200 "+ipC+" XB AS64497")
	check(t, st, coll, ipB, time.Time{}, "2001:db8:8000::1 value XB AS64497")

	// A relationship before its address object: the infrastructure is
	// enriched again when the address arrives.
	const ipD = "ipv4-addr--0e000000-0000-4000-8000-000000000000"
	add(t, st, coll, `{"type":"relationship","spec_version":"2.1","id":"relationship--02000000-0000-4000-8000-000000000000",`+stamp+`,"relationship_type":"uses","source_ref":"malware--01000000-0000-4000-8000-000000000000","target_ref":"`+inf2+`"}`,
		`{"type":"relationship","spec_version":"2.1","id":"relationship--03000000-0000-4000-8000-000000000000",`+stamp+`,"relationship_type":"consists-of","source_ref":"`+inf2+`","target_ref":"`+ipD+`"}`)
	if _, err := e.CatchUp(ctx, coll, enrich.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, st, coll, inf2, v1, "2001:db8::99 x_address XA AS64496")
	add(t, st, coll, sco("ipv4-addr", ipD, "192.0.2.200"))
	if _, err := e.CatchUp(ctx, coll, enrich.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, st, coll, inf2, v1, "2001:db8::99 x_address XA AS64496", "192.0.2.200 "+ipD+" XA AS64496")

	// Nothing new: nothing scanned.
	if s, err := e.CatchUp(ctx, coll, enrich.Options{}); err != nil || s.Scanned != 0 {
		t.Errorf("catch-up with nothing new: %+v, %v", s, err)
	}
	// A new version is enriched on its own; the old keeps its record.
	v2 := v1.Add(time.Hour)
	add(t, st, coll, strings.Replace(ind(1, `[ipv4-addr:value = '192.0.2.8']`), `"modified":"2024-01-01T00:00:00Z"`, `"modified":"2024-01-01T01:00:00Z"`, 1))
	if _, err := e.CatchUp(ctx, coll, enrich.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, st, coll, indID(1), v2, "192.0.2.8 pattern XA AS64496")
	check(t, st, coll, indID(1), v1, "198.51.100.7 pattern XB AS64497", "2001:db8:8000::/48 pattern XB AS64497")

	// Deleting a version deletes its record.
	if _, err := st.DeleteObject(ctx, coll, indID(2), dialogue.ObjectFilter{}); err != nil {
		t.Fatal(err)
	}
	if r := record(t, st, coll, indID(2), v1); r != nil {
		t.Errorf("record of a deleted object: %+v", r)
	}
}

// TestReenrich: after the databases change, the cursor is stale and
// every object is enriched again; All does it whatever the cursor says.
func TestReenrich(t *testing.T) {
	ctx := context.Background()
	st, coll := openStore(t)
	add(t, st, coll, ind(1, `[ipv4-addr:value = '198.51.100.7']`), ind(2, `[ipv4-addr:value = '89.160.20.113']`))

	db1 := demoDB(t, "XA", "XB")
	if _, err := enrich.New(db1, st, nil).CatchUp(ctx, coll, enrich.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, st, coll, indID(1), v1, "198.51.100.7 pattern XB AS64497")
	check(t, st, coll, indID(2), v1, "89.160.20.113 pattern - -")

	// The same databases again: nothing to do, unless All.
	e1 := enrich.New(db1, st, nil)
	if s, err := e1.CatchUp(ctx, coll, enrich.Options{}); err != nil || s.Scanned != 0 {
		t.Fatalf("same databases: %+v, %v", s, err)
	}
	if s, err := e1.CatchUp(ctx, coll, enrich.Options{All: true}); err != nil || s.Scanned != 2 || s.Enriched != 2 {
		t.Fatalf("all: %+v, %v", s, err)
	}

	// Other databases: MaxMind's country and ASN test files before the
	// demo. Each field records the file that gave it.
	testData := shareddata.Dir(t, "mmdb", "test-data")
	db2, err := geo.Open(filepath.Join(testData, "GeoIP2-Country-Test.mmdb"), filepath.Join(testData, "GeoLite2-ASN-Test.mmdb"), db1.Sources()[0].File)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	e2 := enrich.New(db2, st, nil)
	if e2.Databases() == e1.Databases() {
		t.Fatalf("same fingerprint %q for other databases", e2.Databases())
	}
	if s, err := e2.CatchUp(ctx, coll, enrich.Options{}); err != nil || s.Scanned != 2 {
		t.Fatalf("new databases: %+v, %v", s, err)
	}
	check(t, st, coll, indID(1), v1, "198.51.100.7 pattern XB AS64497")
	check(t, st, coll, indID(2), v1, "89.160.20.113 pattern SE AS29518")
	a := record(t, st, coll, indID(2), v1).Addresses[0]
	if a.DB.Country.Type != "GeoIP2-Country" || a.DB.AS.Type != "GeoLite2-ASN" || *a.ASOrg != "Bredband2 AB" {
		t.Errorf("databases per field: country %+v, AS %+v, %q", a.DB.Country, a.DB.AS, *a.ASOrg)
	}
	a = record(t, st, coll, indID(1), v1).Addresses[0]
	if a.DB.Country.Type != geo.DemoType || a.DB.AS.Type != geo.DemoType {
		t.Errorf("databases per field: country %+v, AS %+v", a.DB.Country, a.DB.AS)
	}
	// The cursor now has the new databases: nothing more to do.
	if s, err := e2.CatchUp(ctx, coll, enrich.Options{}); err != nil || s.Scanned != 0 {
		t.Fatalf("again: %+v, %v", s, err)
	}
}
