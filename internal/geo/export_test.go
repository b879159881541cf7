package geo

import "net/netip"

// LookupTree is Lookup through the files' own search trees, for tests
// that check the tables against them.
func (db *DB) LookupTree(addr netip.Addr) (Result, error) { return db.lookup(addr, viaTree) }

// LookupTable is Lookup through the tries alone, without the flat IPv4
// tables, for tests and benchmarks that compare the two.
func (db *DB) LookupTable(addr netip.Addr) (Result, error) { return db.lookup(addr, viaTable) }

// FlatStats describes the files' flat tables.
type FlatStats struct {
	// Bytes4 and Bytes6 are the memory of the IPv4 and IPv6 tables.
	Bytes4, Bytes6 int
	// Fallbacks24 is how many /24s of the IPv4 tables fall back to the
	// trie; Ranges6 how many ranges the IPv6 tables have, Fallbacks64 how
	// many of them fall back.
	Fallbacks24, Ranges6, Fallbacks64 int
}

// FlatStats is the size of the files' flat tables and how much of them
// falls back to the trie.
func (db *DB) FlatStats() FlatStats {
	var st FlatStats
	for _, s := range db.sources {
		st.Bytes4 += s.flat.bytes()
		st.Bytes6 += s.flat6.bytes()
		if s.flat != nil {
			for _, v := range s.flat.blocks {
				if v == fallback {
					st.Fallbacks24++
				}
			}
		}
		if s.flat6 != nil {
			st.Ranges6 += len(s.flat6.ranges)
			for _, r := range s.flat6.ranges {
				if r.rec == fallback {
					st.Fallbacks64++
				}
			}
		}
	}
	return st
}

// Networks lists the networks of the tables, for the same tests.
func (db *DB) Networks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range db.sources {
		for p := range s.table.All() {
			out = append(out, p)
		}
	}
	return out
}
