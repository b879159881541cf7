package storetest

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// VersionStore is a peering store that also lists the versions added
// after a stamp: what RunVersions tests.
type VersionStore interface {
	PeerStore
	dialogue.VersionLister
}

// RunVersions runs the contract of dialogue.VersionLister on stores that
// open returns (a new, empty store each time; RunVersions closes it).
func RunVersions(t *testing.T, open func(t *testing.T) VersionStore) {
	runEach(t, open, []subtest[VersionStore]{
		{"VersionsAdded", testVersionsAdded},
		{"VersionsAddedErrors", testVersionsErrors},
	})
}

// added lists the versions of types added in (after, upTo].
func added(t *testing.T, s VersionStore, coll string, after, upTo int64, types ...string) []dialogue.AddedVersion {
	t.Helper()
	var out []dialogue.AddedVersion
	must(t, s.VersionsAdded(ctx, coll, types, after, upTo, func(v dialogue.AddedVersion) error {
		out = append(out, v)
		return nil
	}))
	return out
}

func testVersionsAdded(t *testing.T, s VersionStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	other := newCollection(t, s, "other")
	types := []string{typeRequest, typeTransition}
	stamp := func() dialogue.ObjectStamp {
		t.Helper()
		st, err := s.ObjectStamp(ctx, ch.ID, types)
		must(t, err)
		return st
	}
	// since checks the versions added between the stamp before and now:
	// the objects want, in order, with their latest flags and version
	// counts, and that they account for the stamps' difference.
	type want struct {
		o        *dialogue.Object
		latest   bool
		versions int
		origin   string
	}
	before := stamp()
	since := func(what string, ws ...want) {
		t.Helper()
		now := stamp()
		got := added(t, s, ch.ID, before.LastAdded, now.LastAdded, types...)
		if len(got) != len(ws) {
			t.Fatalf("%s: %d versions added, want %d", what, len(got), len(ws))
		}
		for i, w := range ws {
			g := got[i]
			if key(g.Object) != key(w.o) || string(g.Object.Raw) != string(w.o.Raw) || g.Latest != w.latest || g.Versions != w.versions || g.Origin != w.origin {
				t.Errorf("%s: version %d is %s (latest %v, %d versions, origin %q), want %s (%v, %d, %q)",
					what, i, key(g.Object), g.Latest, g.Versions, g.Origin, key(w.o), w.latest, w.versions, w.origin)
			}
			if i > 0 && !g.Object.DateAdded.After(got[i-1].Object.DateAdded) {
				t.Errorf("%s: %s added %v, not after the previous %v", what, key(g.Object), g.Object.DateAdded, got[i-1].Object.DateAdded)
			}
		}
		if before.Versions+int64(len(got)) != now.Versions {
			t.Errorf("%s: %d versions before, %d added, %d now", what, before.Versions, len(got), now.Versions)
		}
		before = now
	}
	since("nothing written")

	req1, trans1 := sdo(typeRequest, 1, 0), sdo(typeTransition, 2, 0)
	add(t, s, ch.ID, req1)
	add(t, s, ch.ID, sdo("indicator", 3, 0))
	add(t, s, other.ID, sdo(typeRequest, 4, 0))
	add(t, s, ch.ID, trans1)
	since("two own objects, an indicator and another collection's request", want{req1, true, 1, ""}, want{trans1, true, 1, ""})

	req1new := sdo(typeRequest, 1, 10)
	add(t, s, ch.ID, req1new)
	since("a new version", want{req1new, true, 2, ""})
	req1mid := sdo(typeRequest, 1, 5)
	add(t, s, ch.ID, req1mid)
	since("an older version arriving late", want{req1mid, false, 3, ""})

	req2 := sdo(typeRequest, 5, 0)
	_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 1,
		Objects: []*dialogue.Object{received(req2)}, Indexes: []int64{0}})
	must(t, err)
	since("a received request", want{req2, true, 1, b.Name})

	// upTo bounds the listing: a version added after it is not given.
	at := stamp()
	req3 := sdo(typeRequest, 6, 0)
	add(t, s, ch.ID, req3)
	if got := added(t, s, ch.ID, before.LastAdded, at.LastAdded, types...); len(got) != 0 {
		t.Errorf("versions up to a stamp taken before the request: %d, want none", len(got))
	}
	if got := added(t, s, ch.ID, before.LastAdded, at.LastAdded+1<<40, typeTransition); len(got) != 0 {
		t.Errorf("transitions added since: %d, want none (a request was added)", len(got))
	}
	since("a request after the bound", want{req3, true, 1, ""})

	// A removal shows as versions missing from the stamps' difference.
	_, err = s.DeleteObject(ctx, ch.ID, req1.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{First: true}})
	must(t, err)
	req4 := sdo(typeRequest, 7, 0)
	add(t, s, ch.ID, req4)
	now := stamp()
	got := added(t, s, ch.ID, before.LastAdded, now.LastAdded, types...)
	if len(got) != 1 || key(got[0].Object) != key(req4) || before.Versions+1 == now.Versions {
		t.Errorf("a version removed and one added: %d added, %d versions before, %d now; want req4 alone and the counts not adding up", len(got), before.Versions, now.Versions)
	}

	// fn's error stops the listing and is returned.
	stop := errors.New("stop")
	n := 0
	err = s.VersionsAdded(ctx, ch.ID, types, 0, now.LastAdded, func(dialogue.AddedVersion) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn failing: %v after %d calls, want the error after 1", err, n)
	}
}

func testVersionsErrors(t *testing.T, s VersionStore) {
	c := newCollection(t, s, "c")
	none := func(dialogue.AddedVersion) error { return nil }
	wantErr(t, "VersionsAdded(unknown collection)", s.VersionsAdded(ctx, "no-such", []string{typeRequest}, 0, 1, none), dialogue.KindNotFound, "no-such")
	wantErr(t, "VersionsAdded(no types)", s.VersionsAdded(ctx, c.ID, nil, 0, 1, none), dialogue.KindInvalid, "types")
}
