package geo_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String()
		network bool
		bits    int
	}{
		{"192.0.2.1", "192.0.2.1", false, 32},
		{"192.0.2.0/24", "192.0.2.0/24", true, 24},
		{"192.0.2.77/24", "192.0.2.77/24", true, 24}, // host bits kept
		{"192.0.2.1/32", "192.0.2.1/32", true, 32},
		{"0.0.0.0/0", "0.0.0.0/0", true, 0},
		{"2001:db8::1", "2001:db8::1", false, 128},
		{"2001:DB8:0:0::1", "2001:db8::1", false, 128},
		{"2001:db8::/32", "2001:db8::/32", true, 32},
		{"::/0", "::/0", true, 0},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1", false, 128},
		{"fe80::1%eth0", "fe80::1", false, 128}, // the zone is dropped
	}
	for _, tt := range tests {
		got, err := geo.ParseTarget(tt.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want || got.Network != tt.network || got.Prefix.Bits() != tt.bits {
			t.Errorf("ParseTarget(%q) = %s network %v /%d; want %s network %v /%d", tt.in,
				got, got.Network, got.Prefix.Bits(), tt.want, tt.network, tt.bits)
		}
	}
}

// TestParseTargetBad: each error quotes the text and says why.
func TestParseTargetBad(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `address "": it is empty`},
		{strings.Repeat("1", 101), "it is 101 characters long"},
		{" 192.0.2.1", `contains ' '`},
		{"192.0.2.1\n", `contains '\n'`},
		{"192.0.2.1 ", `contains ' '`},
		{"192.0.2.1\x00", `contains '\x00'`},
		{"192.0.2.1é", `contains 'é'`},
		{"\xff", `contains '�'`},
		{"example.org", "not an IPv4 or IPv6 address: unexpected character"},
		{"192.0.2", "not an IPv4 or IPv6 address: IPv4 address too short"},
		{"192.0.2.256", "not an IPv4 or IPv6 address: IPv4 field has value >255"},
		{"192.0.02.1", "not an IPv4 or IPv6 address: IPv4 field has octet with leading zero"},
		{"2001:db8:::1", "not an IPv4 or IPv6 address"},
		{"[2001:db8::1]", "not an IPv4 or IPv6 address"},
		{"192.0.2.1:443", "not an IPv4 or IPv6 address"},
		{"192.0.2.1%eth0", "not an IPv4 or IPv6 address"},
		{"192.0.2.0/", "no prefix length after '/'"},
		{"/24", "not an IPv4 or IPv6 address"},
		{"192.0.2.0/33", "prefix length 33 is more than the 32 bits of an IPv4 address"},
		{"2001:db8::/129", "prefix length 129 is more than the 128 bits of an IPv6 address"},
		{"192.0.2.0/024", `prefix length "024" is not a number`},
		{"192.0.2.0/+24", `prefix length "+24" is not a number`},
		{"192.0.2.0/-1", `prefix length "-1" is not a number`},
		{"192.0.2.0/24/25", `prefix length "24/25" is not a number`},
		{"192.0.2.0/x", `prefix length "x" is not a number`},
		{"fe80::%eth0/64", "a network cannot have a zone (%eth0)"},
	}
	for _, tt := range tests {
		_, err := geo.ParseTarget(tt.in)
		if err == nil {
			t.Errorf("ParseTarget(%q) succeeded; want an error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTarget(%q): %q does not say %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "geo.ParseTarget: address ") {
			t.Errorf("ParseTarget(%q): %q does not name the operation and the field", tt.in, err)
		}
		if k := dialogue.KindOf(err); k != dialogue.KindInvalid {
			t.Errorf("ParseTarget(%q): kind %v, want invalid", tt.in, k)
		}
	}
}

// FuzzParseTarget: never a panic; what is accepted prints back to text
// that reads the same; what is refused gets an invalid error that names
// the address.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.0/24", "2001:db8::/32", "fe80::1%eth0",
		"::ffff:1.2.3.4/120", "1.2.3.4/033", "", "1.2.3", "[::1]", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := geo.ParseTarget(s)
		if err != nil {
			if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "address ") {
				t.Fatalf("ParseTarget(%q): %v (kind %v)", s, err, dialogue.KindOf(err))
			}
			return
		}
		if !got.Prefix.IsValid() {
			t.Fatalf("ParseTarget(%q) = invalid prefix", s)
		}
		if !got.Network && !got.Prefix.IsSingleIP() {
			t.Fatalf("ParseTarget(%q): an address that is not a single IP: %v", s, got.Prefix)
		}
		again, err := geo.ParseTarget(got.String())
		if err != nil {
			t.Fatalf("ParseTarget(%q) = %s, which does not parse: %v", s, got, err)
		}
		if again != got {
			t.Fatalf("ParseTarget(%q) = %+v, but its text %s reads as %+v", s, got, got, again)
		}
	})
}
