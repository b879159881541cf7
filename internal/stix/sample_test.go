package stix

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// officialSchemas compiles the OASIS STIX 2.1 JSON Schemas from the
// shared data folder (shareddata.STIXSchemas).
func officialSchemas(t *testing.T) func(typ string) *jsonschema.Schema {
	t.Helper()
	schemas := shareddata.STIXSchemas(t)
	return func(typ string) *jsonschema.Schema {
		t.Helper()
		s, ok := schemas(typ)
		if !ok {
			t.Fatalf("no official schema for type %q", typ)
		}
		return s
	}
}

func TestSampleIncidentValidatesAgainstOfficialSchemas(t *testing.T) {
	schema := officialSchemas(t)
	now := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	objs, err := SampleIncidentWith(SampleOptions{Now: now, IdentityID: "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8", IdentityName: "party-a",
		Evidence: []SampleEvidence{{SHA256: [32]byte{1, 2, 3}, MimeType: "application/vnd.tcpdump.pcap", URL: "https://party-a.example:8443/peer/v1/blobs/0102"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range TLP2Markings {
		objs = append(objs, m.JSON)
	}
	// the schemas are real: they reject an indicator without a pattern
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z"}`))
	if err := schema("indicator").Validate(bad); err == nil {
		t.Fatal("the indicator schema accepts an indicator without pattern")
	}
	seen := map[string]int{}
	for _, raw := range objs {
		o, warns, err := Parse(raw)
		if err != nil {
			t.Errorf("Parse: %v\n%s", err, raw)
			continue
		}
		if len(warns) > 0 {
			t.Errorf("%s: warnings %v", o.ID, warns)
		}
		seen[o.Type]++
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema(o.Type).Validate(doc); err != nil {
			t.Errorf("%s fails the official %s schema: %v\n%s", o.ID, o.Type, err, raw)
		}
	}
	for typ, n := range map[string]int{"identity": 1, "artifact": 1, "marking-definition": 6, "report": 1, "incident": 1, "indicator": 4,
		"infrastructure": 1, "attack-pattern": 1, "malware": 1, "observed-data": 1, "ipv4-addr": 1, "domain-name": 1} {
		if seen[typ] != n {
			t.Errorf("%d objects of type %s, want %d", seen[typ], typ, n)
		}
	}
	if seen["relationship"] < 5 {
		t.Errorf("only %d relationships", seen["relationship"])
	}
}

// The sample's story holds together: everything marked AMBER and created
// by the identity, the report references every other object, and the
// patterns cover an address in 203.0.113.0/24, a domain, a URL and a
// SHA-256 hash.
func TestSampleIncidentContents(t *testing.T) {
	objs, err := SampleIncident(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var identity string
	var report map[string]any
	all := map[string]map[string]any{}
	var patterns []string
	for _, raw := range objs {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		all[m["id"].(string)] = m
		switch m["type"] {
		case "identity":
			identity = m["id"].(string)
		case "report":
			report = m
		case "indicator":
			patterns = append(patterns, m["pattern"].(string))
		}
	}
	for id, m := range all {
		if m["type"] == "marking-definition" {
			continue
		}
		if refs, _ := m["object_marking_refs"].([]any); len(refs) != 1 || refs[0] != TLPAmber.ID {
			t.Errorf("%s is not marked TLP:AMBER: %v", id, m["object_marking_refs"])
		}
		if IsSCO(m["type"].(string)) || m["type"] == "identity" {
			continue
		}
		if m["created_by_ref"] != identity {
			t.Errorf("%s: created_by_ref %v, want %s", id, m["created_by_ref"], identity)
		}
	}
	refs := map[string]bool{}
	for _, r := range report["object_refs"].([]any) {
		refs[r.(string)] = true
	}
	for id := range all {
		if id != report["id"] && !refs[id] {
			t.Errorf("report does not reference %s", id)
		}
	}
	joined := strings.Join(patterns, "\n")
	for _, want := range []string{"[ipv4-addr:value = '203.0.113.", "[domain-name:value = '", "[url:value = '", "[file:hashes.'SHA-256' = '"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no indicator pattern with %q in\n%s", want, joined)
		}
	}
}

// Known vectors: the first is the example of STIX 2.1 §2.9 (Identifier),
// the others were computed independently (Python's uuid.uuid5 over the
// JCS text).
func TestSCOID(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		in   map[string]any
		want string
	}{
		{"ipv4-addr", map[string]any{"value": "198.51.100.3"}, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"domain-name", map[string]any{"value": "example.com"}, "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"},
		{"autonomous-system", map[string]any{"number": 15139}, "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff"},
		{"file", map[string]any{"name": "foo.exe", "hashes": map[string]string{"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
			"file--e9779ddb-6076-5829-bd92-61c8a3689c0f"},
	} {
		got, err := SCOID(tc.typ, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("SCOID(%s, %v) = %s, %v; want %s", tc.typ, tc.in, got, err, tc.want)
		}
	}
	if _, err := SCOID("ipv4-addr", nil); err == nil {
		t.Error("SCOID with no properties: no error")
	}
	if _, err := SCOID("IPv4", map[string]any{"value": "x"}); err == nil {
		t.Error("SCOID with a bad type name: no error")
	}
}

func TestCanonicalJSON(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": []any{true, nil, "x"}}, `{"a":[true,null,"x"],"b":1}`},
		// RFC 8785 §3.2.3: sorted by UTF-16 code units, so U+20AC sorts
		// before U+1F600 (D83D DE00) and after U+00E9.
		{map[string]any{"\u20ac": 1, "\r": 2, "\U0001F600": 3, "\u00e9": 4}, "{\"\\r\":2,\"é\":4,\"€\":1,\"\U0001F600\":3}"},
		{"a\"b\\c\n\u0001<>&", `"a\"b\\c\n\u0001<>&"`},
		{1e21, "1e+21"}, {1.5e-7, "1.5e-7"}, {333333333.3333333, "333333333.3333333"}, {100, "100"},
	} {
		got, err := canonicalJSON(nil, tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("canonicalJSON(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID("indicator"), NewID("indicator")
	if a == b || !ValidID(a) || IDType(a) != "indicator" || a[len("indicator--")+14] != '4' {
		t.Errorf("NewID: %s, %s", a, b)
	}
}

func TestTLP(t *testing.T) {
	for _, m := range append(TLP2Markings, TLP1White, TLP1Green, TLP1Amber, TLP1Red) {
		got, ok := TLP(m.ID)
		if !ok || got != m {
			t.Errorf("TLP(%s) = %v, %v", m.ID, got, ok)
		}
		o, _, err := Parse(m.JSON)
		if err != nil || o.ID != m.ID {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	if _, ok := TLP("marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"); ok {
		t.Error("a non-TLP marking reported as TLP")
	}
	// The official TLP:AMBER object of the shared validator data is the
	// one Parley emits.
	var b struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(shareddata.File(t, "stix", "validator", "tlp-amber.json"), &b); err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(b.Objects[0], &want)
	_ = json.Unmarshal(TLPAmber.JSON, &got)
	if w, g := mustJSON(want), mustJSON(got); w != g {
		t.Errorf("TLPAmber.JSON differs from the official object:\n got %s\nwant %s", g, w)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The sample meets the SHOULDs the OASIS validator checks with --strict
// on the objects it holds: every indicator has a name and a description
// (303), no incident carries kill_chain_phases (not an incident property
// in STIX 2.1; 401), and an external reference with a url has hashes (302).
func TestSampleIncidentBestPractices(t *testing.T) {
	objs, err := SampleIncident(time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range objs {
		var o struct {
			Type, ID, Name, Description string
			KillChain                   json.RawMessage  `json:"kill_chain_phases"`
			Refs                        []map[string]any `json:"external_references"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		if o.Type == "indicator" && (o.Name == "" || o.Description == "") {
			t.Errorf("%s: an indicator without name or description", o.ID)
		}
		if o.Type == "incident" && o.KillChain != nil {
			t.Errorf("%s: an incident with kill_chain_phases", o.ID)
		}
		for _, r := range o.Refs {
			if _, url := r["url"]; url && r["hashes"] == nil {
				t.Errorf("%s: external reference %v has a url and no hashes", o.ID, r["source_name"])
			}
		}
	}
}
