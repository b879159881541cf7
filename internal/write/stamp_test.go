package write

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"

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

func TestWriterRefusesForeignDialogueObjects(t *testing.T) {
	// The wrapper's rule, without a store: a Parley object naming another
	// creator is rejected before the store is asked.
	const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	raw, err := stix.NewParleyObject(stix.TypeHotline, time.Now(), "identity--1a5e1b2c-3d4e-5f60-8172-839405a6b7c8", map[string]any{"text": "x"})
	if err != nil {
		t.Fatal(err)
	}
	o, _, _ := stix.Parse(raw)
	st := New(channelOnly{}, dialogue.Party{IdentityID: me, Name: "a"})
	res, err := st.AddObjects(context.Background(), "6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21", []*dialogue.Object{{ID: o.ID, Type: o.Type, SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Raw: o.Raw}})
	if err != nil || len(res) != 1 || res[0].Status != dialogue.Rejected || dialogue.KindOf(res[0].Err) != dialogue.KindForbidden {
		t.Fatalf("%+v, %v", res, err)
	}
}

// AddObjectsAndBlobs applies the same rule before the store is asked
// (channelOnly's store is nil: asking it would panic), so that a report
// filed with evidence entries cannot speak for another party.
func TestWriterChecksObjectsWithBlobs(t *testing.T) {
	const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	raw, err := stix.NewParleyObject(stix.TypeHotline, time.Now(), "identity--1a5e1b2c-3d4e-5f60-8172-839405a6b7c8", map[string]any{"text": "x"})
	if err != nil {
		t.Fatal(err)
	}
	o, _, _ := stix.Parse(raw)
	st := New(channelOnly{}, dialogue.Party{IdentityID: me, Name: "a"})
	res, err := st.AddObjectsAndBlobs(context.Background(), "6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21",
		[]*dialogue.Object{{ID: o.ID, Type: o.Type, SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Raw: o.Raw}},
		[]dialogue.BlobRef{{SHA256: [32]byte{1}, Size: 1}})
	if err != nil || len(res) != 1 || res[0].Status != dialogue.Rejected || dialogue.KindOf(res[0].Err) != dialogue.KindForbidden {
		t.Fatalf("%+v, %v", res, err)
	}
}

// channelOnly is a Store whose every collection is an active channel that
// holds the party's identity already; it stores nothing.
type channelOnly struct{ Store }

func (channelOnly) Channel(_ context.Context, id string) (*dialogue.Channel, error) {
	return &dialogue.Channel{ID: id, State: dialogue.ChannelActive}, nil
}

func (channelOnly) FindObjects(context.Context, string, dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	return &dialogue.ObjectPage{Objects: []*dialogue.Object{{}}}, nil
}
