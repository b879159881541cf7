package stix

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shareddata"
)

// valid objects the bad cases start from, one per kind of rule
var bases = map[string]string{
	"indicator":     `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],"pattern":"[ipv4-addr:value = '203.0.113.1']","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"confidence":50,"external_references":[{"source_name":"capec","external_id":"CAPEC-98"}],"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"initial-access"}],"granular_markings":[{"marking_ref":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","selectors":["description"]}]}`,
	"observed-data": `{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"]}`,
	"relationship":  `{"type":"relationship","spec_version":"2.1","id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad","created":"2016-04-06T20:06:37.000Z","modified":"2016-04-06T20:06:37.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
	"sighting":      `{"type":"sighting","spec_version":"2.1","id":"sighting--ee20065d-2555-424f-ad9e-0f8113a6e4d2","created":"2016-04-06T20:06:37.000Z","modified":"2016-04-06T20:06:37.000Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","where_sighted_refs":["identity--b67d30ff-02ac-498a-92f9-32f845f448ff"],"observed_data_refs":["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"]}`,
	"marking":       `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`,
	"file":          `{"type":"file","spec_version":"2.1","id":"file--e277603e-1060-5ad4-9937-c26c97f1ca68","name":"foo.dll","hashes":{"SHA-256":"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"},"size":25536}`,
	"location":      `{"type":"location","spec_version":"2.1","id":"location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","latitude":48.8566,"longitude":2.3522}`,
	"extension-def": `{"type":"extension-definition","spec_version":"2.1","id":"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","created_by_ref":"identity--11b76a96-5d2b-45e0-8a5a-f6994f370731","name":"Extension Foo","schema":"https://www.example.com/schema-foo-1/v1/","version":"1.2.1","extension_types":["new-sdo"]}`,
	"malware":       `{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","is_family":true,"sample_refs":["file--e277603e-1060-5ad4-9937-c26c97f1ca68"]}`,
	"network":       `{"type":"network-traffic","spec_version":"2.1","id":"network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d","src_ref":"ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53","dst_port":443,"protocols":["ipv4","tcp"]}`,
	"email":         `{"type":"email-message","spec_version":"2.1","id":"email-message--0c57a381-2a17-5e61-8754-5ef96efb286c","is_multipart":false,"body":"hello","from_ref":"email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed"}`,
	"artifact":      `{"type":"artifact","spec_version":"2.1","id":"artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641","mime_type":"application/zip","payload_bin":"ZX7HIBWpr2PbhXmaNq8NvqhfLQDJqJSwXLXGMzvy0LkSdDI2GQfaD0Yp2Q6rHZg="}`,
	"custom":        `{"type":"x-mitre-tactic","spec_version":"2.1","id":"x-mitre-tactic--69da72d2-f550-41c5-ab9e-e8255707f28a","created":"2020-05-21T17:43:26.506Z","modified":"2022-05-06T17:47:24.000Z","name":"Evasion","x_mitre_shortname":"evasion"}`,
}

func mutate(t *testing.T, base string, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(bases[base]), &m); err != nil {
		t.Fatalf("base %s: %v", base, err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
func del(ks ...string) func(map[string]any) {
	return func(m map[string]any) {
		for _, k := range ks {
			delete(m, k)
		}
	}
}
func both(fs ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

func TestBasesAreValid(t *testing.T) {
	for name, js := range bases {
		if _, w, err := Parse([]byte(js)); err != nil || len(w) != 0 {
			t.Errorf("base %s: %v, warnings %v", name, err, w)
		}
	}
}

func TestBadObjects(t *testing.T) {
	const amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	for _, tc := range []struct {
		name, base string
		mut        func(map[string]any)
		ptr, rule  string
	}{
		{"no type", "indicator", del("type"), "/type", RuleRequired},
		{"type not a string", "indicator", set("type", 7), "/type", RuleValueType},
		{"type with capitals", "custom", set("type", "X-Mitre-Tactic"), "/type", RuleTypeName},
		{"type too short", "custom", set("type", "xy"), "/type", RuleTypeName},
		{"type with double hyphen", "custom", set("type", "x--y"), "/type", RuleTypeName},
		{"no id", "indicator", del("id"), "/id", RuleRequired},
		{"id of another type", "indicator", set("id", "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), "/id", RuleID},
		{"id not a UUID", "indicator", set("id", "indicator--1234"), "/id", RuleID},
		{"id with bad UUID version", "indicator", set("id", "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"), "/id", RuleID},
		{"id with bad UUID variant", "indicator", set("id", "indicator--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f"), "/id", RuleID},
		{"no spec_version on SDO", "indicator", del("spec_version"), "/spec_version", RuleSpecVersion},
		{"spec_version 2.0", "indicator", set("spec_version", "2.0"), "/spec_version", RuleSpecVersion},
		{"spec_version 2.0 on SCO", "file", set("spec_version", "2.0"), "/spec_version", RuleSpecVersion},
		{"no created", "indicator", del("created"), "/created", RuleRequired},
		{"no modified", "indicator", del("modified"), "/modified", RuleRequired},
		{"timestamp with offset", "indicator", set("created", "2016-04-06T20:03:48+02:00"), "/created", RuleTimestamp},
		{"timestamp without Z", "indicator", set("created", "2016-04-06T20:03:48.000"), "/created", RuleTimestamp},
		{"timestamp bad date", "indicator", set("modified", "2016-02-30T20:03:48.000Z"), "/modified", RuleTimestamp},
		{"timestamp bad hour", "indicator", set("modified", "2016-02-03T24:03:48.000Z"), "/modified", RuleTimestamp},
		{"timestamp date only", "indicator", set("valid_from", "2016-02-03"), "/valid_from", RuleTimestamp},
		{"timestamp not a string", "indicator", set("valid_from", 1459973028), "/valid_from", RuleValueType},
		{"modified before created", "indicator", set("modified", "2016-04-06T20:03:47.999Z"), "/modified", RuleTimeOrder},
		{"created_by_ref to malware", "indicator", set("created_by_ref", "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"), "/created_by_ref", RuleRefType},
		{"created_by_ref malformed", "indicator", set("created_by_ref", "identity"), "/created_by_ref", RuleRef},
		{"object_marking_refs to identity", "indicator", set("object_marking_refs", []any{amber, "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"}), "/object_marking_refs/1", RuleRefType},
		{"object_marking_refs empty", "indicator", set("object_marking_refs", []any{}), "/object_marking_refs", RuleEmptyList},
		{"labels not strings", "indicator", set("labels", []any{"a", 1}), "/labels/1", RuleValueType},
		{"confidence over 100", "indicator", set("confidence", 101), "/confidence", RuleRange},
		{"confidence negative", "indicator", set("confidence", -1), "/confidence", RuleRange},
		{"confidence not integer", "indicator", set("confidence", 50.5), "/confidence", RuleValueType},
		{"revoked not bool", "indicator", set("revoked", "yes"), "/revoked", RuleValueType},
		{"external reference without source_name", "indicator", set("external_references", []any{map[string]any{"url": "https://example.com"}}), "/external_references/0/source_name", RuleRequired},
		{"external reference with nothing", "indicator", set("external_references", []any{map[string]any{"source_name": "x"}}), "/external_references/0", RuleExtRef},
		{"external reference cve id", "indicator", set("external_references", []any{map[string]any{"source_name": "cve", "external_id": "2016-1234"}}), "/external_references/0/external_id", RuleExtRef},
		{"external reference bad hash", "indicator", set("external_references", []any{map[string]any{"source_name": "x", "url": "https://x", "hashes": map[string]any{"SHA-256": "abc"}}}), "/external_references/0/hashes/SHA-256", RuleHashes},
		{"kill chain phase without phase_name", "indicator", set("kill_chain_phases", []any{map[string]any{"kill_chain_name": "lockheed"}}), "/kill_chain_phases/0/phase_name", RuleRequired},
		{"kill chain phase not object", "indicator", set("kill_chain_phases", []any{"recon"}), "/kill_chain_phases/0", RuleValueType},
		{"granular marking without selectors", "indicator", set("granular_markings", []any{map[string]any{"marking_ref": amber}}), "/granular_markings/0/selectors", RuleRequired},
		{"granular marking bad selector", "indicator", set("granular_markings", []any{map[string]any{"marking_ref": amber, "selectors": []any{"labels..[x]"}}}), "/granular_markings/0/selectors/0", RuleGranular},
		{"granular marking both ref and lang", "indicator", set("granular_markings", []any{map[string]any{"marking_ref": amber, "lang": "en", "selectors": []any{"name"}}}), "/granular_markings/0", RuleGranular},
		{"granular marking ref to identity", "indicator", set("granular_markings", []any{map[string]any{"marking_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff", "selectors": []any{"name"}}}), "/granular_markings/0/marking_ref", RuleRefType},
		{"extensions empty", "indicator", set("extensions", map[string]any{}), "/extensions", RuleExtension},
		{"extension bad type", "indicator", set("extensions", map[string]any{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": map[string]any{"extension_type": "new-thing"}}), "/extensions/extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e/extension_type", RuleEnum},
		{"extension key malformed", "indicator", set("extensions", map[string]any{"Foo Ext": map[string]any{}}), "/extensions/Foo Ext", RuleExtension},
		{"custom property uppercase", "indicator", set("X_Custom", 1), "/X_Custom", RulePropertyName},
		{"custom property too short", "indicator", set("xy", 1), "/xy", RulePropertyName},
		{"custom property with hyphen", "custom", set("x-mitre-thing", 1), "/x-mitre-thing", RulePropertyName},
		{"no pattern", "indicator", del("pattern"), "/pattern", RuleRequired},
		{"empty pattern", "indicator", set("pattern", " "), "/pattern", RulePattern},
		{"unbalanced stix pattern", "indicator", set("pattern", "[ipv4-addr:value = '1.2.3.4'"), "/pattern", RulePattern},
		{"no pattern_type", "indicator", del("pattern_type"), "/pattern_type", RuleRequired},
		{"no valid_from", "indicator", del("valid_from"), "/valid_from", RuleRequired},
		{"valid_until before valid_from", "indicator", set("valid_until", "2016-04-06T20:03:48.000Z"), "/valid_until", RuleTimeOrder},
		{"indicator_types empty", "indicator", set("indicator_types", []any{}), "/indicator_types", RuleEmptyList},
		{"observed-data both objects and refs", "observed-data", set("objects", map[string]any{"0": map[string]any{"type": "file"}}), "/objects", RuleExclusive},
		{"observed-data neither", "observed-data", del("object_refs"), "/object_refs", RuleExclusive},
		{"number_observed zero", "observed-data", set("number_observed", 0), "/number_observed", RuleRange},
		{"number_observed too big", "observed-data", set("number_observed", 1000000000), "/number_observed", RuleRange},
		{"no last_observed", "observed-data", del("last_observed"), "/last_observed", RuleRequired},
		{"last_observed before first", "observed-data", set("last_observed", "2015-12-21T18:59:59Z"), "/last_observed", RuleTimeOrder},
		{"observed-data refs an SDO", "observed-data", set("object_refs", []any{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}), "/object_refs/0", RuleRefType},
		{"relationship without source", "relationship", del("source_ref"), "/source_ref", RuleRequired},
		{"relationship to a marking", "relationship", set("target_ref", amber), "/target_ref", RuleRefType},
		{"relationship type with spaces", "relationship", set("relationship_type", "Related To"), "/relationship_type", RuleRelationType},
		{"stop_time not after start_time", "relationship", both(set("start_time", "2016-01-01T00:00:00Z"), set("stop_time", "2016-01-01T00:00:00Z")), "/stop_time", RuleTimeOrder},
		{"sighting of an SCO", "sighting", set("sighting_of_ref", "file--e277603e-1060-5ad4-9937-c26c97f1ca68"), "/sighting_of_ref", RuleRefType},
		{"where_sighted_refs to malware", "sighting", set("where_sighted_refs", []any{"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}), "/where_sighted_refs/0", RuleRefType},
		{"observed_data_refs to indicator", "sighting", set("observed_data_refs", []any{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}), "/observed_data_refs/0", RuleRefType},
		{"sighting count negative", "sighting", set("count", -1), "/count", RuleRange},
		{"marking without definition", "marking", del("definition"), "/definition", RuleDependency},
		{"marking with neither", "marking", del("definition", "definition_type"), "/definition_type", RuleMarking},
		{"marking bad definition_type", "marking", set("definition_type", "color"), "/definition_type", RuleEnum},
		{"TLP 1.0 bad level", "marking", set("definition", map[string]any{"tlp": "blue"}), "/definition/tlp", RuleEnum},
		{"TLP 1.0 wrong id", "marking", set("id", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41db"), "/id", RuleTLP},
		{"statement without statement", "marking", both(set("definition_type", "statement"), set("definition", map[string]any{})), "/definition/statement", RuleRequired},
		{"TLP 2.0 wrong id", "marking", both(del("definition", "definition_type"), set("extensions", map[string]any{TLP2ExtensionID: map[string]any{"extension_type": "property-extension", "tlp_2_0": "red"}})), "/id", RuleTLP},
		{"TLP 2.0 bad level", "marking", both(del("definition", "definition_type"), set("extensions", map[string]any{TLP2ExtensionID: map[string]any{"extension_type": "property-extension", "tlp_2_0": "white"}})), "/extensions/" + TLP2ExtensionID + "/tlp_2_0", RuleEnum},
		{"file with neither hashes nor name", "file", del("hashes", "name"), "", RuleAtLeastOne},
		{"file MD5 too short", "file", set("hashes", map[string]any{"MD5": "abcd"}), "/hashes/MD5", RuleHashes},
		{"file hashes empty", "file", set("hashes", map[string]any{}), "/hashes", RuleHashes},
		{"file size negative", "file", set("size", -5), "/size", RuleRange},
		{"file parent not a directory", "file", set("parent_directory_ref", "file--e277603e-1060-5ad4-9937-c26c97f1ca68"), "/parent_directory_ref", RuleRefType},
		{"file magic not hex", "file", set("magic_number_hex", "zz"), "/magic_number_hex", RuleEncoding},
		{"location latitude out of range", "location", set("latitude", 91), "/latitude", RuleRange},
		{"location latitude alone", "location", del("longitude"), "/latitude", RuleDependency},
		{"location empty", "location", del("longitude", "latitude"), "", RuleAtLeastOne},
		{"malware family without name", "malware", del("name"), "/name", RuleRequired},
		{"malware without is_family", "malware", del("is_family"), "/is_family", RuleRequired},
		{"malware sample_refs to url", "malware", set("sample_refs", []any{"url--c1477287-23ac-5971-a010-5c287877fa60"}), "/sample_refs/0", RuleRefType},
		{"network-traffic without ends", "network", del("src_ref"), "", RuleAtLeastOne},
		{"network-traffic port too big", "network", set("dst_port", 65536), "/dst_port", RuleRange},
		{"network-traffic active with end", "network", both(set("is_active", true), set("end", "2016-01-01T00:00:00Z")), "/end", RuleDependency},
		{"network-traffic no protocols", "network", del("protocols"), "/protocols", RuleRequired},
		{"email body with multipart", "email", set("is_multipart", true), "/body", RuleDependency},
		{"email from_ref to url", "email", set("from_ref", "url--c1477287-23ac-5971-a010-5c287877fa60"), "/from_ref", RuleRefType},
		{"artifact with neither payload nor url", "artifact", del("payload_bin"), "", RuleAtLeastOne},
		{"artifact both payload and url", "artifact", set("url", "https://example.com/x"), "/url", RuleExclusive},
		{"artifact bad base64", "artifact", set("payload_bin", "not base64!"), "/payload_bin", RuleEncoding},
		{"artifact bad encryption", "artifact", set("encryption_algorithm", "rot13"), "/encryption_algorithm", RuleEnum},
		{"extension-definition bad extension_types", "extension-def", set("extension_types", []any{"new-sdo", "new-thing"}), "/extension_types/1", RuleEnum},
		{"extension-definition without schema", "extension-def", del("schema"), "/schema", RuleRequired},
		{"extension-definition without created_by_ref", "extension-def", del("created_by_ref"), "/created_by_ref", RuleRequired},
		{"custom object without id", "custom", del("id"), "/id", RuleRequired},
		{"custom object modified before created", "custom", set("modified", "2019-01-01T00:00:00.000Z"), "/modified", RuleTimeOrder},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := mutate(t, tc.base, tc.mut)
			o, _, err := Parse(raw)
			if err == nil {
				t.Fatalf("accepted %s (%s)", raw, o.ID)
			}
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			var id struct{ ID string }
			_ = json.Unmarshal(raw, &id)
			for _, e := range es {
				if e.Pointer == tc.ptr && e.Rule == tc.rule {
					if e.ObjectID != id.ID {
						t.Errorf("error names object %q, want %q", e.ObjectID, id.ID)
					}
					if e.Message == "" || !strings.Contains(e.Error(), tc.rule) {
						t.Errorf("poor message: %q", e.Error())
					}
					return
				}
			}
			t.Errorf("got %v; want rule %s at %q", err, tc.rule, tc.ptr)
		})
	}
}

// Parse lists every broken rule of an object, not only the first.
func TestParseReportsEveryError(t *testing.T) {
	raw := mutate(t, "indicator", both(del("pattern"), set("confidence", 200), set("created_by_ref", "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
		set("modified", "2015-01-01T00:00:00Z")))
	_, _, err := Parse(raw)
	es, _ := err.(Errors)
	got := map[string]string{}
	for _, e := range es {
		got[e.Pointer] = e.Rule
	}
	want := map[string]string{"/pattern": RuleRequired, "/confidence": RuleRange, "/created_by_ref": RuleRefType, "/modified": RuleTimeOrder}
	for p, r := range want {
		if got[p] != r {
			t.Errorf("missing %s at %s in %v", r, p, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, base string
		mut        func(map[string]any)
		ptr        string
	}{
		{"indicator_types outside vocabulary", "indicator", set("indicator_types", []any{"nasty"}), "/indicator_types/0"},
		{"pattern_type outside vocabulary", "indicator", both(set("pattern_type", "kql"), set("pattern", "x")), "/pattern_type"},
		{"kill chain phase with capitals", "indicator", set("kill_chain_phases", []any{map[string]any{"kill_chain_name": "lockheed", "phase_name": "Recon"}}), "/kill_chain_phases/0/phase_name"},
		{"hash algorithm outside vocabulary", "file", set("hashes", map[string]any{"sha256x": "00"}), "/hashes/sha256x"},
		{"deprecated objects", "observed-data", both(del("object_refs"), set("objects", map[string]any{"0": map[string]any{"type": "file"}})), "/objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := Parse(mutate(t, tc.base, tc.mut))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			for _, w := range warns {
				if w.Pointer == tc.ptr && w.ObjectID != "" && w.Message != "" {
					return
				}
			}
			t.Errorf("warnings %v; want one at %s", warns, tc.ptr)
		})
	}
}

func TestBadJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `{"type":"indicator",}`, `{"a":1 "b":2}`, `[1,]`, `{"a":tru}`, `{"a":01}`, `{"a":"\x"}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{} {}`, `<{}>`, strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		_, _, err := Parse([]byte(in))
		es, ok := err.(Errors)
		if !ok || len(es) != 1 || es[0].Rule != RuleJSON {
			t.Errorf("Parse(%q) = %v, want one json error", in, err)
		}
	}
	if _, _, err := Parse([]byte(`[]`)); err == nil || err.(Errors)[0].Rule != RuleObject {
		t.Errorf("a list is not an object: %v", err)
	}
}

// TestBadJSONMembers is JSON every reader parses but not alike: a
// duplicate member name at any level, a number outside the range of a
// double, an integer outside ±(2^53-1). Each is refused with the JSON
// pointer of the member at fault.
func TestBadJSONMembers(t *testing.T) {
	obj := func(extra string) string {
		return strings.TrimSuffix(bases["custom"], "}") + "," + extra + "}"
	}
	for _, tc := range []struct{ in, ptr, rule string }{
		{`{"a":1,"a":2}`, "/a", RuleDuplicate},
		{obj(`"name":"again"`), "/name", RuleDuplicate},
		{obj(`"x_d":{"k":1,"j":2,"k":3}`), "/x_d/k", RuleDuplicate},
		{obj(`"x_l":[{},{"k":[{"a":1,"a":1}]}]`), "/x_l/1/k/0/a", RuleDuplicate},
		{obj(`"x_\u0061b":1,"x_ab":2`), "/x_ab", RuleDuplicate},
		{obj(`"x_count":1e999999`), "/x_count", RuleNumber},
		{obj(`"x_count":-1e999999`), "/x_count", RuleNumber},
		{obj(`"x_count":2e308`), "/x_count", RuleNumber},
		{obj(`"x_count":` + strings.Repeat("7", 100_000)), "/x_count", RuleNumber},
		{obj(`"x_count":9007199254740992`), "/x_count", RuleNumber},
		{obj(`"x_count":-9007199254740992`), "/x_count", RuleNumber},
		{obj(`"x_l":[0,[1,{"a~b/c":12345678901234567890}]]`), "/x_l/1/1/a~0b~1c", RuleNumber},
		{`{"confidence":1e400}`, "/confidence", RuleNumber},
	} {
		_, _, err := Parse([]byte(tc.in))
		es, ok := err.(Errors)
		if !ok || len(es) != 1 || es[0].Pointer != tc.ptr || es[0].Rule != tc.rule {
			t.Errorf("Parse(%.80s) = %.200v; want %s at %s", tc.in, err, tc.rule, tc.ptr)
		}
	}
	// the edges of the ranges are accepted
	for _, n := range []string{"9007199254740991", "-9007199254740991", "1.7976931348623157e308", "-1.7976931348623157e308",
		"9007199254740992.0", "1e300", "4.9e-324", "1e-400", "0", "-0", "123456789012345678901234567890.5"} {
		if _, _, err := Parse([]byte(obj(`"x_count":` + n))); err != nil {
			t.Errorf("x_count %s: %v", n, err)
		}
	}
	// many members: the sorted hashes the duplicate check switches to find the
	// duplicate too, wherever it is
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, `"x_%d":1,`, i)
	}
	for _, dup := range []string{`"x_0":1`, `"x_57":1`, `"x_99":1`, `"name":1`} {
		_, _, err := Parse([]byte(obj(b.String() + dup)))
		if es, ok := err.(Errors); !ok || es[0].Rule != RuleDuplicate {
			t.Errorf("100 members and %s: %v", dup, err)
		}
	}
	// nested: each object with many members has its own hashes above
	// its parent's on the stack, and they are gone when it ends
	dict := `"x_d":{` + strings.ReplaceAll(strings.TrimSuffix(b.String(), ","), `"x_`, `"k_`)
	for _, tc := range []struct{ members, ptr string }{
		{b.String() + dict + `,"k_5":2}`, "/x_d/k_5"},
		{b.String() + dict + `},"x_5":2`, "/x_5"},
		{b.String() + dict + `,"k_100":{` + b.String() + `"x_99":2,"x_99":3}}`, "/x_d/k_100/x_99"},
		{b.String() + dict + `,"k_100":{` + b.String() + `"x_100":2}},"x_d":1`, "/x_d"},
	} {
		for range 2 {
			_, _, err := Parse([]byte(obj(tc.members)))
			if es, ok := err.(Errors); !ok || es[0].Rule != RuleDuplicate || es[0].Pointer != tc.ptr {
				t.Errorf("nested, want a duplicate at %s: %v", tc.ptr, err)
			}
		}
	}
	if _, _, err := Parse([]byte(obj(b.String() + dict + `,"k_100":{` + b.String() + `"x_100":2}}`))); err != nil {
		t.Errorf("nested, no duplicate: %v", err)
	}
}

func TestParseBundleErrors(t *testing.T) {
	for _, tc := range []struct{ in, ptr, rule string }{
		{`{"type":"bundle","objects":[]}`, "/id", RuleRequired},
		{`{"type":"bundel","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c"}`, "/type", RuleBundle},
		{`{"type":"bundle","id":"report--63ab8e67-acac-4817-845a-d09f0e86954c"}`, "/id", RuleID},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":{}}`, "/objects", RuleValueType},
		{`{"type":"bundle","id":"bundle--63ab8e67-acac-4817-845a-d09f0e86954c","objects":[{},3]}`, "/objects/1", RuleObject},
		{`{"type":"bundle",`, "", RuleJSON},
	} {
		_, err := ParseBundle([]byte(tc.in))
		es, _ := err.(Errors)
		if len(es) == 0 || es[0].Pointer != tc.ptr || es[0].Rule != tc.rule {
			t.Errorf("ParseBundle(%s) = %v; want %s at %q", tc.in, err, tc.rule, tc.ptr)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, js := range bases {
		f.Add([]byte(js))
	}
	b, err := ParseBundle(shareddata.File(f, "stix", "examples", "threat-reports", "poisonivy.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range b.Objects {
		f.Add([]byte(o))
	}
	f.Add(wideObject("properties", 40))
	f.Add(wideObject("nested", 3))
	f.Add([]byte(`{"a":1e999999,"b":9007199254740992,"c":{"d":1,"d":2}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, _, err := Parse(data)
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !ValidID(o.ID) || IDType(o.ID) != o.Type {
			t.Fatalf("accepted object with id %q, type %q", o.ID, o.Type)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add(shareddata.File(f, "stix", "examples", "infrastructure.json"))
	f.Add(shareddata.File(f, "stix", "examples", "indicator-for-c2-ip-address.json"))
	f.Add(shareddata.File(f, "stix", "validator", "tlp-amber.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !ValidID(b.ID) || IDType(b.ID) != "bundle" {
			t.Fatalf("accepted bundle with id %q", b.ID)
		}
		for _, o := range b.Objects {
			if !json.Valid(o) {
				t.Fatalf("object slice is not JSON: %q", o)
			}
			if obj, _, err := Parse(o); err == nil && !ValidID(obj.ID) {
				t.Fatalf("accepted object with id %q", obj.ID)
			}
		}
	})
}
