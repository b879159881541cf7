package peer_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
)

// What a party sends on a channel arrives as it was given (nothing adds
// a creator to it: a change would need a new version), received from the
// party; the peer receives Parley's extension-definition and the party's
// identity object first; a collection that is no channel is written as it
// is too.
func TestOriginAsGiven(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	raws := indicators(3, "unsigned")
	var in []json.RawMessage
	for _, r := range raws {
		in = append(in, r)
	}
	if rep, err := ingest.Objects(ctx, server.WriteStore(a.store()), id, in, ingest.AllOrNothing); err != nil || rep.Added != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
	waitFor(t, 15*time.Second, "b holds the extension-definition, the identity and the 3 indicators", func() bool { return count(t, b, id) == 5 })
	me := peer.IdentityID(a.store().LogKey())
	page, err := b.store().Store.FindObjects(ctx, id, dialogue.ObjectFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	seenIdentity, seenExtension := false, false
	for _, o := range page.Objects {
		var m map[string]any
		json.Unmarshal(o.Raw, &m)
		switch o.Type {
		case "extension-definition":
			seenExtension = o.ID == stix.ParleyExtensionID && string(o.Raw) == string(stix.ParleyExtension())
		case "identity":
			seenIdentity = o.ID == me && m["name"] == "party-a"
		case "indicator":
			given := false
			for _, r := range raws {
				given = given || string(r) == string(o.Raw)
			}
			if !given {
				t.Errorf("%s arrived changed: %s", o.ID, o.Raw)
			}
			if from, err := b.store().Store.Origin(ctx, id, o.ID, o.Version()); err != nil || from != "party-a" {
				t.Errorf("b received %s from %q, %v; want party-a", o.ID, from, err)
			}
		}
	}
	if !seenIdentity {
		t.Errorf("b did not receive party-a's identity %s", me)
	}
	if !seenExtension {
		t.Errorf("b did not receive Parley's extension-definition as every node emits it")
	}
	// The local collection is no channel: written as it is.
	local, err := a.store().Store.FindCollection(ctx, dialogue.DefaultCollectionTitle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Objects(ctx, server.WriteStore(a.store()), local.ID, in[:1], ingest.AllOrNothing); err != nil {
		t.Fatal(err)
	}
	page, err = a.store().Store.FindObjects(ctx, local.ID, dialogue.ObjectFilter{Limit: 10})
	if err != nil || len(page.Objects) != 1 || string(page.Objects[0].Raw) != string(raws[0]) {
		t.Errorf("the local collection's object was changed: %v", err)
	}
}
