package geo

import "net/netip"

// LookupTree is Lookup through the files' own search trees, for tests
// that check the tables against them.
func (db *DB) LookupTree(addr netip.Addr) (Result, error) { return db.lookup(addr, viaTree) }

// LookupTable is Lookup through the tries alone, without the flat IPv4
// tables, for tests and benchmarks that compare the two.
func (db *DB) LookupTable(addr netip.Addr) (Result, error) { return db.lookup(addr, viaTable) }

// FlatBytes is the memory of the files' flat IPv4 tables, and how many
// of their /24s fall back to the trie.
func (db *DB) FlatBytes() (bytes, fallbacks int) {
	for _, s := range db.sources {
		bytes += s.flat.bytes()
		if s.flat != nil {
			for _, v := range s.flat.blocks {
				if v == fallback {
					fallbacks++
				}
			}
		}
	}
	return bytes, fallbacks
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
