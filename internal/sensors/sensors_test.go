package sensors

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/match"
)

var inds = []match.Indicator{
	{ID: "indicator--1", Pattern: "[ipv4-addr:value = '198.51.100.3'] OR [ipv6-addr:value = '2001:DB8::1']"},
	{ID: "indicator--2", Pattern: "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
	{ID: "indicator--3", Pattern: "[domain-name:value IN ('Evil.Example', 'c2.evil.example')]"},
	{ID: "indicator--4", Pattern: "[domain-name:value LIKE '%.evil.example']"},
	{ID: "indicator--5", Pattern: "[url:value = 'http://evil.example/a b?x=1']"},
	{ID: "indicator--6", Pattern: "[email-addr:value = 'boss@evil.example']"},
	{ID: "indicator--7", Pattern: "[file:hashes.MD5 = '79054025255FB1A26E4BC422AEF54EB4' OR file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
	{ID: "indicator--8", Pattern: "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
	{ID: "indicator--9", Pattern: "[process:name = 'evil.exe']"},
	{ID: "indicator--10", Pattern: "[ipv4-addr:value = '198.51.100.3']"},
}

func TestSuricataDatasets(t *testing.T) {
	entries, skips := Entries(inds)
	if len(skips) != 1 || skips[0].IndicatorID != "indicator--9" || !strings.Contains(skips[0].Reason, "not a list of values") {
		t.Errorf("skips %v", skips)
	}
	dir := t.TempDir()
	sets, skips, err := WriteSuricataDatasets(dir, entries)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range sets {
		names = append(names, d.Name+":"+d.Type)
	}
	if want := []string{"parley-domain:string", "parley-email:string", "parley-ipv4:ipv4", "parley-ipv6:ip", "parley-md5:md5", "parley-sha256:sha256", "parley-url:string"}; !slices.Equal(names, want) {
		t.Errorf("datasets %v, want %v", names, want)
	}
	read := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(dir, name+".lst"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// Suricata's documentation: string datasets hold base64, md5 and
	// sha256 hex, ipv4 dotted quads, ip (IPv6) the usual text.
	for name, want := range map[string][]string{
		"parley-ipv4":   {"198.51.100.3"},
		"parley-ipv6":   {"2001:db8::1"},
		"parley-domain": {b64("evil.example"), b64("c2.evil.example")},
		"parley-url":    {b64("http://evil.example/a b?x=1")},
		"parley-email":  {b64("boss@evil.example")},
		"parley-md5":    {"79054025255fb1a26e4bc422aef54eb4"},
		"parley-sha256": {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	} {
		if got := read(name); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	var reasons []string
	for _, s := range skips {
		reasons = append(reasons, s.IndicatorID+": "+s.Reason)
	}
	for _, w := range []string{"indicator--2: Suricata datasets hold addresses, not networks (203.0.113.0/24)", "indicator--4: Suricata datasets match whole values, not domain suffixes (.evil.example)", "indicator--8: Suricata datasets have no type for SHA-1 hashes"} {
		if !slices.Contains(reasons, w) {
			t.Errorf("skips %q lack %q", reasons, w)
		}
	}
	for _, d := range sets {
		r := SuricataRule(d, 1000001)
		if d.Name == "parley-domain" && r != `alert dns any any -> any any (msg:"parley: DNS query of a listed domain"; dns.query; dataset:isset,parley-domain,type string,load parley-domain.lst; sid:1000001; rev:1;)` {
			t.Errorf("rule %s", r)
		}
	}
}

func TestZeekIntel(t *testing.T) {
	entries, _ := Entries(inds)
	var b bytes.Buffer
	n, skips, err := WriteZeekIntel(&b, entries, "parley")
	if err != nil {
		t.Fatal(err)
	}
	// Zeek's Intel framework documentation: a #fields header, tab
	// separated, types Intel::ADDR, SUBNET, DOMAIN, URL (without the
	// scheme), EMAIL, FILE_HASH.
	want := "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n" +
		"198.51.100.3\tIntel::ADDR\tparley\tindicator--1\n" +
		"2001:db8::1\tIntel::ADDR\tparley\tindicator--1\n" +
		"203.0.113.0/24\tIntel::SUBNET\tparley\tindicator--2\n" +
		"evil.example\tIntel::DOMAIN\tparley\tindicator--3\n" +
		"c2.evil.example\tIntel::DOMAIN\tparley\tindicator--3\n" +
		"evil.example/a b?x=1\tIntel::URL\tparley\tindicator--5\n" +
		"boss@evil.example\tIntel::EMAIL\tparley\tindicator--6\n" +
		"79054025255fb1a26e4bc422aef54eb4\tIntel::FILE_HASH\tparley\tindicator--7\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\tIntel::FILE_HASH\tparley\tindicator--7\n" +
		"da39a3ee5e6b4b0d3255bfef95601890afd80709\tIntel::FILE_HASH\tparley\tindicator--8\n" +
		"198.51.100.3\tIntel::ADDR\tparley\tindicator--10\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if n != 11 || len(skips) != 1 || !strings.Contains(skips[0].Reason, "not suffixes") {
		t.Errorf("n %d, skips %v", n, skips)
	}
	// A value with a tab cannot be written.
	_, skips, _ = WriteZeekIntel(&b, []Entry{{"indicator--t", match.Term{Kind: 4, Value: "http://a\tb"}}}, "parley")
	if len(skips) != 1 || !strings.Contains(skips[0].Reason, "tab-separated") {
		t.Errorf("tab: %v", skips)
	}
}
