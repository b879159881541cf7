package peer

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/internal/stix"
)

func TestStamp(t *testing.T) {
	const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	ind := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z"}`
	stamped := Stamp(json.RawMessage(ind), me)
	o, _, err := stix.Parse(stamped)
	if err != nil {
		t.Fatalf("stamped object does not validate: %v\n%s", err, stamped)
	}
	var m map[string]any
	json.Unmarshal(stamped, &m)
	if m["created_by_ref"] != me || o.ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" {
		t.Errorf("got %s", stamped)
	}
	if string(Stamp(stamped, me)) != string(stamped) {
		t.Error("stamping twice changed the object again")
	}
	for _, keep := range []string{
		`{"type":"indicator","created_by_ref":"identity--1a5e1b2c-3d4e-5f60-8172-839405a6b7c8","created":"2016-04-06T20:03:48.000Z"}`,
		`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`,
		string(stix.TLPAmber.JSON),
		`not json`,
		`[1,2]`,
	} {
		if got := Stamp(json.RawMessage(keep), me); string(got) != keep {
			t.Errorf("changed %s into %s", keep, got)
		}
	}
}

func FuzzStamp(f *testing.F) {
	f.Add([]byte(`{"type":"note","created":"2016-04-06T20:03:48.000Z"}`))
	f.Add([]byte(` { } `))
	f.Fuzz(func(t *testing.T, raw []byte) {
		const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
		got := Stamp(raw, me)
		if string(got) == string(raw) {
			return
		}
		// Whatever was stamped stays valid JSON and names the creator.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("stamped %q into invalid JSON %q: %v", raw, got, err)
		}
		if string(m["created_by_ref"]) != `"`+me+`"` {
			t.Fatalf("stamped %q: created_by_ref %s", raw, m["created_by_ref"])
		}
	})
}
