package enrich_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/internal/enrich"
)

// BenchmarkScanLookup is the work of enriching one indicator without the
// store: decoding its JSON, parsing its pattern, looking up its two
// addresses in the demo database.
func BenchmarkScanLookup(b *testing.B) {
	db := demoDB(b, "XA", "XB")
	raw := []byte(ind(1, `[ipv4-addr:value = '198.51.100.7'] OR [network-traffic:dst_ref.value ISSUBSET '2001:db8::/48' AND network-traffic:dst_port = 443]`))
	b.ReportAllocs()
	for b.Loop() {
		s, err := enrich.Scan(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := enrich.Lookup(db, s.Addrs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCatchUp enriches again every object of a collection of 10,000
// (indicators with one or two addresses, address objects, observed-data
// naming them) in a real SQLite store: reading, scanning, looking up,
// saving the records. ns/object is the cost of one object version.
func BenchmarkCatchUp(b *testing.B) {
	ctx := context.Background()
	st, coll := openStore(b)
	const n = 10000
	var raws []string
	for i := range n / 4 {
		ip := fmt.Sprintf("ipv4-addr--%08x-0000-4000-8000-000000000000", i)
		raws = append(raws,
			ind(2*i, fmt.Sprintf(`[ipv4-addr:value = '198.51.100.%d']`, i%256)),
			ind(2*i+1, fmt.Sprintf(`[ipv4-addr:value IN ('192.0.2.%d', '203.0.113.%d')]`, i%256, i%256)),
			sco("ipv4-addr", ip, fmt.Sprintf("192.0.2.%d", i%256)),
			fmt.Sprintf(`{"type":"observed-data","spec_version":"2.1","id":"observed-data--%08x-0000-4000-8000-000000000000",%s,"first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[%q]}`, i, stamp, ip))
	}
	for i := 0; i < len(raws); i += 1000 {
		add(b, st, coll, raws[i:min(i+1000, len(raws))]...)
	}
	e := enrich.New(demoDB(b, "XA", "XB"), st, nil)
	b.ResetTimer()
	for b.Loop() {
		s, err := e.CatchUp(ctx, coll, enrich.Options{All: true})
		if err != nil {
			b.Fatal(err)
		}
		if s.Scanned != n || s.Enriched != n {
			b.Fatalf("stats %+v", s)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/object")
}
