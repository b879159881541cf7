package enrich_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
)

// indicator is the JSON of an indicator with pattern p.
func indicator(p string) string {
	b, _ := json.Marshal(p)
	return `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":` + string(b) + `}`
}

// found is Found as "addr via".
func found(s *enrich.Scanned) []string {
	var out []string
	for _, f := range s.Addrs {
		out = append(out, f.Target.String()+" "+f.Via)
	}
	return out
}

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      []string // "addr via"
		refs      []string
	}{
		{"equal", indicator(`[ipv4-addr:value = '198.51.100.7']`), []string{"198.51.100.7 pattern"}, nil},
		{"in", indicator(`[ipv4-addr:value IN ('192.0.2.1', '10.0.0.1', 'not an address', '192.0.2.1')]`),
			[]string{"192.0.2.1 pattern", "10.0.0.1 pattern"}, nil},
		{"issubset cidr", indicator(`[ipv4-addr:value ISSUBSET '203.0.113.0/24']`), []string{"203.0.113.0/24 pattern"}, nil},
		{"issuperset", indicator(`[ipv4-addr:value ISSUPERSET '198.51.100.13']`), []string{"198.51.100.13 pattern"}, nil},
		{"ipv6", indicator(`[ipv6-addr:value = '2001:db8::1'] OR [ipv6-addr:value ISSUBSET '2001:db8:8000::/48']`),
			[]string{"2001:db8::1 pattern", "2001:db8:8000::/48 pattern"}, nil},
		{"network-traffic refs", indicator(`[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 443] FOLLOWEDBY [network-traffic:src_ref.value ISSUBSET '2001:db8::/32'] WITHIN 60 SECONDS`),
			[]string{"192.0.2.9 pattern", "2001:db8::/32 pattern"}, nil},
		{"resolves_to_refs", indicator(`[domain-name:resolves_to_refs[*].value = '198.51.100.1']`), []string{"198.51.100.1 pattern"}, nil},
		{"nested parens", indicator(`([ipv4-addr:value = '192.0.2.1' OR (ipv4-addr:value = '192.0.2.2' AND ipv4-addr:value != '192.0.2.3')]) REPEATS 2 TIMES`),
			[]string{"192.0.2.1 pattern", "192.0.2.2 pattern"}, nil},
		{"not", indicator(`[ipv4-addr:value NOT = '192.0.2.1']`), nil, nil},
		{"not equal", indicator(`[ipv4-addr:value != '192.0.2.1']`), nil, nil},
		{"like", indicator(`[ipv4-addr:value LIKE '192.0.2.%']`), nil, nil},
		{"other property", indicator(`[ipv4-addr:x_note = '192.0.2.1']`), nil, nil},
		{"mac", indicator(`[network-traffic:src_ref.value = '00:00:5e:00:53:af']`), nil, nil},
		{"domain", indicator(`[domain-name:value = 'example.com']`), nil, nil},
		{"other pattern type", `{"type":"indicator","id":"indicator--1","pattern_type":"sigma","pattern":"title: x"}`, nil, nil},
		{"stix 2.0", `{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '192.0.2.1'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"}`,
			[]string{"192.0.2.1 pattern"}, nil},
		{"ipv4-addr", `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1","value":"198.51.100.3"}`, []string{"198.51.100.3 value"}, nil},
		{"ipv6-addr cidr", `{"type":"ipv6-addr","id":"ipv6-addr--1","value":"2001:db8::/64"}`, []string{"2001:db8::/64 value"}, nil},
		{"observed-data", `{"type":"observed-data","id":"observed-data--1","object_refs":["ipv4-addr--a","network-traffic--b"],` +
			`"objects":{"1":{"type":"network-traffic","src_ref":"0"},"0":{"type":"ipv4-addr","value":"192.0.2.4"},"2":{"type":"ipv6-addr","value":"2001:db8::4"},"3":{"type":"domain-name","value":"192.0.2.5"}}}`,
			[]string{"192.0.2.4 objects.0", "2001:db8::4 objects.2"}, []string{"ipv4-addr--a", "network-traffic--b"}},
		{"network-traffic", `{"type":"network-traffic","id":"network-traffic--1","src_ref":"ipv4-addr--a","dst_ref":"ipv6-addr--b"}`,
			nil, []string{"ipv4-addr--a", "ipv6-addr--b"}},
		{"infrastructure", `{"type":"infrastructure","id":"infrastructure--1","name":"192.0.2.77","description":"a C2 server","x_hosts":[{"addr":"2001:db8::77"}],"created_by_ref":"identity--1","x_target_ref":"192.0.2.78"}`,
			[]string{"192.0.2.77 name", "2001:db8::77 x_hosts[0].addr"}, nil},
		{"malware", `{"type":"malware","id":"malware--1","name":"192.0.2.1"}`, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := enrich.Scan([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := found(s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("addresses = %q, want %q", got, tc.want)
			}
			if !reflect.DeepEqual(s.Refs, tc.refs) {
				t.Errorf("refs = %q, want %q", s.Refs, tc.refs)
			}
		})
	}
}

func TestScanRelationship(t *testing.T) {
	s, err := enrich.Scan([]byte(`{"type":"relationship","id":"relationship--1","relationship_type":"consists-of","source_ref":"infrastructure--1","target_ref":"ipv4-addr--2"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "infrastructure--1" || s.Target != "ipv4-addr--2" || len(s.Addrs) != 0 {
		t.Fatalf("scan = %+v", s)
	}
}

func TestScanTruncated(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("[ipv4-addr:value IN (")
	for i := range enrich.MaxAddresses + 5 {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("'10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + "'")
	}
	sb.WriteString(")]")
	s, err := enrich.Scan([]byte(indicator(sb.String())))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Addrs) != enrich.MaxAddresses || !s.Truncated {
		t.Fatalf("%d addresses, truncated %v; want %d, true", len(s.Addrs), s.Truncated, enrich.MaxAddresses)
	}
}

// TestScanBad: each error is invalid and names the property and reason.
func TestScanBad(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      []string
	}{
		{"not json", `{"type":`, []string{"not a STIX object"}},
		{"array", `[]`, []string{"not a STIX object", "array"}},
		{"pattern syntax", indicator(`[ipv4-addr:value = '192.0.2.1'`), []string{`"pattern"`, "position"}},
		{"pattern empty", indicator(``), []string{`"pattern"`, "empty"}},
		{"pattern not string", `{"type":"indicator","id":"indicator--1","pattern":7}`, []string{"not a STIX object", "pattern"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enrich.Scan([]byte(tc.raw))
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

func FuzzScan(f *testing.F) {
	f.Add([]byte(indicator(`[ipv4-addr:value IN ('192.0.2.1', '2001:db8::/32')]`)))
	f.Add([]byte(`{"type":"observed-data","object_refs":["x"],"objects":{"0":{"type":"ipv4-addr","value":"192.0.2.1"}}}`))
	f.Add([]byte(`{"type":"infrastructure","name":"192.0.2.1","x":[[["2001:db8::1"]]]}`))
	f.Add([]byte(`{"type":"indicator","spec_version":"2.0","pattern":"[ipv4-addr:value = '1.2.3.4'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := enrich.Scan(data)
		if err != nil {
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("kind %v for %v", dialogue.KindOf(err), err)
			}
			return
		}
		if len(s.Addrs) > enrich.MaxAddresses {
			t.Fatalf("%d addresses", len(s.Addrs))
		}
		seen := map[string]bool{}
		for _, a := range s.Addrs {
			if !a.Target.Prefix.IsValid() || seen[a.Target.String()] {
				t.Fatalf("bad or repeated address %v", a)
			}
			seen[a.Target.String()] = true
		}
	})
}
