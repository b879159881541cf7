package geo

import "net/netip"

// LookupTree is Lookup through the files' own search trees, for tests
// that check the tables against them.
func (db *DB) LookupTree(addr netip.Addr) (Result, error) { return db.lookup(addr, true) }

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
