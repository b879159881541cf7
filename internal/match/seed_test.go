package match

import (
	"net/netip"
	"testing"

	"github.com/parleyhq/parley/internal/telemetry"
)

// The IPv4 hashes are keyed per compiled set, as the string hashes are:
// two compilations of the same indicators place 198.51.100.0/24 in
// unrelated slots (so nobody can choose indicators that collide), and
// both still match the same event.
func TestIPv4HashSeeded(t *testing.T) {
	inds := []Indicator{
		{ID: "indicator--a", Pattern: "[ipv4-addr:value = '198.51.100.0/24']"},
		{ID: "indicator--b", Pattern: "[ipv4-addr:value = '203.0.113.7']"},
	}
	k := v4Key(0xc6336400, 24)
	seen := map[uint64]bool{}
	for range 8 {
		s := Compile(inds, Options{})
		seen[s.tab.hashV4(k)] = true
		m := s.NewMatcher()
		ev := &telemetry.Event{Values: []telemetry.Value{{Kind: telemetry.IPv4, Addr: netip.MustParseAddr("198.51.100.9")}}}
		if got := m.Match(ev); len(got) != 1 || s.ID(int(got[0])) != "indicator--a" {
			t.Fatalf("198.51.100.9 matches %v", got)
		}
	}
	if len(seen) < 8 {
		t.Errorf("8 compilations gave %d distinct hashes of one network: the IPv4 hash is not keyed", len(seen))
	}
}
