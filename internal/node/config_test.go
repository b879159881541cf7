package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

const goodConfig = `{
  "name": "cert-a.example",
  "listen": "127.0.0.1:8443",
  "max_body_bytes": 10485760,
  "database": "parley.db",
  "tls_cert": "tls/cert.pem",
  "tls_key": "tls/key.pem"
}
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "cert-a.example", Listen: "127.0.0.1:8443", MaxBodyBytes: 10 << 20,
		Database: "parley.db", TLSCert: "tls/cert.pem", TLSKey: "tls/key.pem"}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("got %+v, want %+v", *c, want)
	}
	// What marshal writes, ParseConfig reads back.
	c2, err := ParseConfig(c.marshal())
	if err != nil || !reflect.DeepEqual(*c2, want) {
		t.Fatalf("round trip: %+v, %v", c2, err)
	}
}

func TestParseConfigBad(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(goodConfig, old) {
			t.Fatalf("test table: %q not in config", old)
		}
		return strings.Replace(goodConfig, old, new, 1)
	}
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"empty", "", []string{"empty"}},
		{"not json", "name = x", []string{"not valid JSON"}},
		{"truncated", goodConfig[:40], []string{"not valid JSON"}},
		{"trailing", goodConfig + "{}", []string{"after the JSON object"}},
		{"array", "[]", []string{"must be"}},
		{"unknown field", edit(`"listen"`, `"listne"`), []string{`"listne"`, "unknown field"}},
		{"name missing", edit(`"name": "cert-a.example",`, ``), []string{`"name"`, "required"}},
		{"name bad char", edit(`cert-a.example`, `cert a`), []string{`"name"`, "not allowed"}},
		{"name leading dash", edit(`cert-a.example`, `-cert`), []string{`"name"`, "not allowed"}},
		{"name empty label", edit(`cert-a.example`, `a..b`), []string{`"name"`, "empty label"}},
		{"name too long", edit(`cert-a.example`, strings.Repeat("a", 64)), []string{`"name"`, "longer than 63"}},
		{"name number", edit(`"cert-a.example"`, `7`), []string{`"name"`, "must be a string"}},
		{"listen no port", edit(`127.0.0.1:8443`, `127.0.0.1`), []string{`"listen"`, "not host:port"}},
		{"listen no host", edit(`127.0.0.1:8443`, `:8443`), []string{`"listen"`, "no host"}},
		{"listen bad port", edit(`127.0.0.1:8443`, `127.0.0.1:http`), []string{`"listen"`, "port"}},
		{"listen big port", edit(`127.0.0.1:8443`, `127.0.0.1:70000`), []string{`"listen"`, "0 to 65535"}},
		{"body string", edit(`10485760`, `"10MiB"`), []string{`"max_body_bytes"`, "must be a number"}},
		{"body small", edit(`10485760`, `10`), []string{`"max_body_bytes"`, "out of range"}},
		{"body huge", edit(`10485760`, `99999999999`), []string{`"max_body_bytes"`, "out of range"}},
		{"body fraction", edit(`10485760`, `1.5`), []string{`"max_body_bytes"`, "must be a number"}},
		{"database empty", edit(`"parley.db"`, `""`), []string{`"database"`, "missing"}},
		{"cert missing", edit(`"tls_cert": "tls/cert.pem",`, ``), []string{`"tls_cert"`, "missing"}},
		{"key nul", edit(`tls/key.pem`, `tls/key\u0000.pem`), []string{`"tls_key"`, "NUL"}},
		{"geoip string", edit(`"database"`, `"geoip": "a.mmdb", "database"`), []string{`"geoip"`, "must be a list"}},
		{"geoip number", edit(`"database"`, `"geoip": [7], "database"`), []string{`"geoip"`, "must be a string"}},
		{"geoip empty path", edit(`"database"`, `"geoip": ["a.mmdb", ""], "database"`), []string{`"geoip" item 2`, "empty path"}},
		{"geoip nul", edit(`"database"`, `"geoip": ["a\u0000.mmdb"], "database"`), []string{`"geoip" item 1`, "NUL"}},
		{"pending negative", edit(`"database"`, `"max_pending_proposals": -1, "database"`), []string{`"max_pending_proposals"`, "out of range"}},
		{"pending huge", edit(`"database"`, `"max_pending_proposals": 100000, "database"`), []string{`"max_pending_proposals"`, "out of range"}},
		{"pending string", edit(`"database"`, `"max_pending_proposals": "ten", "database"`), []string{`"max_pending_proposals"`, "must be a number"}},
		{"geoip twice", edit(`"database"`, `"geoip": ["geo/a.mmdb", "geo//a.mmdb"], "database"`), []string{`"geoip" item 2`, "listed twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Errorf("kind %v, want invalid", dialogue.KindOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseConfigGeoIP(t *testing.T) {
	in := strings.Replace(goodConfig, `"database"`, `"geoip": ["geo/GeoLite2-Country.mmdb", "/srv/GeoLite2-ASN.mmdb"], "database"`, 1)
	c, err := ParseConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"geo/GeoLite2-Country.mmdb", "/srv/GeoLite2-ASN.mmdb"}
	if !reflect.DeepEqual(c.GeoIP, want) {
		t.Fatalf("geoip = %q, want %q", c.GeoIP, want)
	}
	c2, err := ParseConfig(c.marshal())
	if err != nil || !reflect.DeepEqual(c2, c) {
		t.Fatalf("round trip: %+v, %v", c2, err)
	}
	// Without the field, nothing is written for it.
	c.GeoIP = nil
	if strings.Contains(string(c.marshal()), "geoip") {
		t.Errorf("marshal writes an empty geoip field:\n%s", c.marshal())
	}
}

// TestGeoIPFiles: the configured files first, in order and resolved
// against the data folder, then DIR/geoip/*.mmdb in name order, each once.
func TestGeoIPFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, GeoIPDir), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.mmdb", "a.mmdb", "notes.txt", "c.mmdb"} {
		if err := os.WriteFile(filepath.Join(dir, GeoIPDir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n := &Node{Dir: dir, Config: Config{GeoIP: []string{"geoip/c.mmdb", "/srv/x.mmdb"}}}
	got, err := n.GeoIPFiles()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "geoip/c.mmdb"), "/srv/x.mmdb", filepath.Join(dir, "geoip/a.mmdb"), filepath.Join(dir, "geoip/b.mmdb")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GeoIPFiles = %q, want %q", got, want)
	}
	// No configuration and no folder: no file.
	n = &Node{Dir: t.TempDir()}
	if got, err := n.GeoIPFiles(); err != nil || len(got) != 0 {
		t.Fatalf("GeoIPFiles = %q, %v; want none", got, err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(`{"name":"x"}`))
	f.Add([]byte(`{"max_body_bytes":-1}`))
	f.Add([]byte(strings.Replace(goodConfig, `"database"`, `"geoip": ["a.mmdb"], "database"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if c != nil {
				t.Fatal("config and error")
			}
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("kind %v for %v", dialogue.KindOf(err), err)
			}
			return
		}
		// Whatever is accepted is valid and survives a round trip.
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		c2, err := ParseConfig(c.marshal())
		if err != nil || !reflect.DeepEqual(*c2, *c) {
			t.Fatalf("round trip: %+v vs %+v, %v", c2, c, err)
		}
	})
}
