package write

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"

	"github.com/parleyhq/parley/internal/stix"
)

// TestWriterKeepsBytes: the Writer hands the store each object exactly as
// it was given: it adds neither a creator nor a marking to an object that
// names none (a change would need a new version, which only the creator
// issues; STIX 2.1 §3.6).
func TestWriterKeepsBytes(t *testing.T) {
	const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	var objs []*dialogue.Object
	for _, raw := range []string{
		`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z"}`,
		`{ "type": "incident", "spec_version": "2.1", "id": "incident--0b3c4d5e-6f70-4182-9a3b-4c5d6e7f8091", "created": "2024-01-02T03:04:05.000Z", "modified": "2024-01-02T03:04:05.000Z", "name": "Beacon" }`,
		`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`,
	} {
		o, _, err := stix.Parse(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Raw: json.RawMessage(raw)})
	}
	rec := &recording{}
	st := New(rec, dialogue.Party{IdentityID: me, Name: "a"})
	res, err := st.AddObjects(context.Background(), "6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21", objs)
	if err != nil || len(res) != len(objs) {
		t.Fatalf("%+v, %v", res, err)
	}
	// A channel's first write adds Parley's extension-definition and this
	// party's identity before the objects given.
	if len(rec.got) != len(objs)+2 || rec.got[0].ID != stix.ParleyExtensionID || rec.got[1].ID != me {
		t.Fatalf("the store got %d objects, want the extension-definition, %s and %d given", len(rec.got), me, len(objs))
	}
	for i, o := range rec.got[2:] {
		if string(o.Raw) != string(objs[i].Raw) {
			t.Errorf("the store got\n%s\nfor\n%s", o.Raw, objs[i].Raw)
		}
	}
}

// recording is channelOnly that records what it is asked to add.
type recording struct {
	channelOnly
	got []*dialogue.Object
}

func (r *recording) AddObjects(_ context.Context, _ string, objs []*dialogue.Object, _ ...dialogue.AddOption) ([]dialogue.AddResult, error) {
	r.got = append(r.got, objs...)
	out := make([]dialogue.AddResult, len(objs))
	for i, o := range objs {
		out[i] = dialogue.AddResult{ID: o.ID, Version: o.Version(), Status: dialogue.Added}
	}
	return out, nil
}

func TestWriterRefusesForeignDialogueObjects(t *testing.T) {
	// The wrapper's rule, without a store: a Parley object naming another
	// creator, or none (nothing adds one), is rejected before the store
	// is asked.
	const me = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	for _, by := range []string{"identity--1a5e1b2c-3d4e-5f60-8172-839405a6b7c8", ""} {
		raw, err := stix.NewParleyObject(stix.TypeHotline, time.Now(), by, map[string]any{"text": "x"})
		if err != nil {
			t.Fatal(err)
		}
		o, _, _ := stix.Parse(raw)
		st := New(channelOnly{}, dialogue.Party{IdentityID: me, Name: "a"})
		res, err := st.AddObjects(context.Background(), "6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21", []*dialogue.Object{{ID: o.ID, Type: o.Type, SpecVersion: "2.1", Created: o.Created, Modified: o.Modified, Raw: o.Raw}})
		if err != nil || len(res) != 1 || res[0].Status != dialogue.Rejected || dialogue.KindOf(res[0].Err) != dialogue.KindForbidden {
			t.Fatalf("creator %q: %+v, %v", by, res, err)
		}
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
