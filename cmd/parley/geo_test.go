package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/shareddata"
)

// TestGeoLookupMaxMind runs geo lookup --json on MaxMind's test databases
// (City before ASN), for addresses their JSON sources answer: each field
// from its own file.
func TestGeoLookupMaxMind(t *testing.T) {
	dir := shareddata.Dir(t, "mmdb", "test-data")
	city := filepath.Join(dir, "GeoIP2-City-Test.mmdb")
	asn := filepath.Join(dir, "GeoLite2-ASN-Test.mmdb")
	out, err := runMain(t, "", "geo", "lookup", "--json", "--geoip", city, "--geoip", asn,
		"2.125.160.216", "1.128.0.1", "2001:218::1", "81.2.69.160/27", "8.8.8.8")
	if err != nil {
		t.Fatal(err)
	}
	type source struct{ Type, File string }
	type line struct {
		IP                string
		Country           *string
		RegisteredCountry *string `json:"registered_country"`
		ASN               *uint32
		ASOrg             *string `json:"as_org"`
		DB                struct{ Country, AS *source }
		MixedCountry      *bool `json:"mixed_country"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, v)
	}
	if len(got) != 5 {
		t.Fatalf("%d lines, want 5:\n%s", len(got), out)
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	num := func(p *uint32) uint32 {
		if p == nil {
			return 0
		}
		return *p
	}
	want := []struct {
		ip, country, registered string
		asn                     uint32
		countryDB, asDB         string
	}{
		{"2.125.160.216", "GB", "FR", 0, city, ""},
		{"1.128.0.1", "null", "null", 1221, "", asn},
		{"2001:218::1", "JP", "JP", 0, city, ""},
		{"81.2.69.160/27", "GB", "US", 0, city, ""},
		{"8.8.8.8", "null", "null", 0, "", ""},
	}
	for i, w := range want {
		g := got[i]
		if g.IP != w.ip || str(g.Country) != w.country || str(g.RegisteredCountry) != w.registered || num(g.ASN) != w.asn {
			t.Errorf("line %d: %s %s/%s AS%d; want %s %s/%s AS%d", i, g.IP, str(g.Country), str(g.RegisteredCountry), num(g.ASN),
				w.ip, w.country, w.registered, w.asn)
		}
		if (g.DB.Country == nil) != (w.countryDB == "") || g.DB.Country != nil && (g.DB.Country.File != w.countryDB || g.DB.Country.Type != "GeoIP2-City") {
			t.Errorf("line %d: country db %+v, want %q", i, g.DB.Country, w.countryDB)
		}
		if (g.DB.AS == nil) != (w.asDB == "") || g.DB.AS != nil && (g.DB.AS.File != w.asDB || g.DB.AS.Type != "GeoLite2-ASN") {
			t.Errorf("line %d: AS db %+v, want %q", i, g.DB.AS, w.asDB)
		}
	}
	if got[3].MixedCountry == nil || *got[3].MixedCountry {
		t.Errorf("81.2.69.160/27: mixed_country %v, want false (one network of the City file)", got[3].MixedCountry)
	}
}

// TestGeoLookupBadData: every corrupt database stops geo lookup with an
// error naming the file, and nothing is answered.
func TestGeoLookupBadData(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shareddata.Dir(t, "mmdb", "bad-data"), "*", "*.mmdb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad-data files (%v)", err)
	}
	for _, f := range files {
		m, stdout, stderr := newMain("")
		if err := m.ParseFlags(t.Context(), []string{"geo", "lookup", "--geoip", f, "1.1.1.1"}); err != nil {
			t.Fatal(err)
		}
		err := m.Run(t.Context())
		m.Close()
		if err == nil {
			t.Errorf("%s: no error", f)
			continue
		}
		m.PrintError(err)
		if line := strings.SplitN(stderr.String(), "\n", 2)[0]; !strings.HasPrefix(line, "parley: error: database "+f+": ") {
			t.Errorf("%s: stderr %q does not start with the file", f, stderr)
		}
		if stdout.String() != "" {
			t.Errorf("%s: answered %q", f, stdout)
		}
	}
}

// TestGeoLookupNodeConfig: geo lookup --dir reads the files the node's
// configuration lists (geoip) before DIR/geoip/*.mmdb.
func TestGeoLookupNodeConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a")
	mustRun(t, "", "init", "--dir", dir, "--name", "a")
	// The configured file maps the documentation ranges to XC/XD; the
	// demo file in DIR/geoip to XA/XB: the configured one answers first.
	conf := filepath.Join(t.TempDir(), "conf.mmdb")
	if err := geo.WriteDemo(conf, geo.DemoTerritories("XC", "XD")...); err != nil {
		t.Fatal(err)
	}
	if _, err := geo.DemoDatabase(dir, "XA", "XB"); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, node.ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["geoip"] = []string{conf}
	data, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", "geo", "lookup", "--dir", dir, "--json", "192.0.2.1")
	if !strings.Contains(out, `"country":"XC"`) || !strings.Contains(out, `"file":"`+conf+`"`) {
		t.Errorf("configured file not read first:\n%s", out)
	}
	// Without it, the demo file of DIR/geoip answers.
	cfg["geoip"] = nil
	data, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "", "geo", "lookup", "--dir", dir, "--json", "192.0.2.1")
	if !strings.Contains(out, `"country":"XA"`) || !strings.Contains(out, geo.DemoFile) {
		t.Errorf("DIR/geoip file not read:\n%s", out)
	}
	// A configured file that is missing is named.
	cfg["geoip"] = []string{"missing.mmdb"}
	data, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runMain(t, "", "geo", "lookup", "--dir", dir, "192.0.2.1"); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing.mmdb")+": no such file") {
		t.Errorf("missing configured file: %v", err)
	}
}
