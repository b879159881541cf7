package geo_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
)

// writeTestDB writes a database of the given IP version with one record
// per network.
func writeTestDB(t *testing.T, ipVersion int, records map[string]mmdbtype.DataType) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "Test-Geo",
		Description:             map[string]string{"en": "geo test"},
		IncludeReservedNetworks: true,
		IPVersion:               ipVersion,
		RecordSize:              24,
	})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeIPv4Only writes an IPv4-only database (ip_version 4) that puts
// 192.0.2.0/24 in XA.
func writeIPv4Only(t *testing.T) string {
	return writeTestDB(t, 4, map[string]mmdbtype.DataType{
		"192.0.2.0/24": mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("XA")}},
	})
}

// TestOpenRefusesRecords: a well-formed file whose records hold wrong
// values for the fields geo reads is refused, naming the network, the
// field and the reason: an answer from it could be wrong.
func TestOpenRefusesRecords(t *testing.T) {
	cc := func(s string) mmdbtype.Map { return mmdbtype.Map{"iso_code": mmdbtype.String(s)} }
	tests := []struct {
		name string
		rec  mmdbtype.DataType
		want string
	}{
		{"lower-case country", mmdbtype.Map{"country": cc("fr")},
			`record for 192.0.2.0/24: country.iso_code "fr" is not an ISO 3166-1 alpha-2 code`},
		{"alpha-3 registered country", mmdbtype.Map{"registered_country": cc("FRA")},
			`registered_country.iso_code "FRA" is not an ISO 3166-1 alpha-2 code`},
		{"numeric country", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.Uint32(250)}},
			"record for 192.0.2.0/24"},
		{"AS number as text", mmdbtype.Map{"autonomous_system_number": mmdbtype.String("AS64496")},
			"record for 192.0.2.0/24"},
		{"AS organisation without number", mmdbtype.Map{"autonomous_system_organization": mmdbtype.String("Example")},
			`autonomous_system_organization "Example" without an autonomous_system_number`},
		{"not a map", mmdbtype.String("XA"),
			"record for 192.0.2.0/24: the record is not a map of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestDB(t, 6, map[string]mmdbtype.DataType{"192.0.2.0/24": tt.rec})
			db, err := geo.Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded; want an error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s and say %q", err, path, tt.want)
			}
			if k := dialogue.KindOf(err); k != dialogue.KindInvalid {
				t.Errorf("kind %v, want invalid", k)
			}
		})
	}
}
