package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// StampedStore is a peering store that lists objects with their log
// indexes and stamps them: what RunStamped tests.
type StampedStore interface {
	PeerStore
	dialogue.StampedLister
}

// RunStamped runs the contract of dialogue.StampedLister on stores that
// open returns. open is called once per subtest and must return a new,
// empty store; RunStamped closes it.
func RunStamped(t *testing.T, open func(t *testing.T) StampedStore) {
	runEach(t, open, []subtest[StampedStore]{
		{"IndexedObjects", testIndexedObjects},
		{"IndexedObjectsErrors", testIndexedErrors},
		{"ObjectStamp", testObjectStamp},
	})
}

// The dialogue types the tests list (received log indexes are kept for
// Parley's types only).
const (
	typeRequest    = "parley-request"
	typeTransition = "parley-transition"
)

func indexed(t *testing.T, s StampedStore, coll string, types ...string) []dialogue.IndexedObject {
	t.Helper()
	var out []dialogue.IndexedObject
	must(t, s.IndexedObjects(ctx, coll, types, func(o dialogue.IndexedObject) error {
		out = append(out, o)
		return nil
	}))
	return out
}

func testIndexedObjects(t *testing.T, s StampedStore) {
	b := addPeer(t, s, "node-b.example")
	ch := activeChannel(t, s, b.Name, "from b")
	req1, trans1, ind, req1new := sdo(typeRequest, 1, 0), sdo(typeTransition, 2, 0), sdo("indicator", 3, 0), sdo(typeRequest, 1, 10)
	add(t, s, ch.ID, req1, trans1)
	add(t, s, ch.ID, ind)
	add(t, s, ch.ID, req1new)
	req2, req3 := sdo(typeRequest, 4, 0), sdo(typeRequest, 5, 0)
	_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 1,
		Objects: []*dialogue.Object{received(req2)}, Indexes: []int64{7}})
	must(t, err)
	// Without indexes: none is recorded.
	_, err = s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 1, To: 2,
		Objects: []*dialogue.Object{received(req3)}})
	must(t, err)

	got := indexed(t, s, ch.ID, typeRequest, typeTransition)
	objs := make([]*dialogue.Object, len(got))
	for i, o := range got {
		objs[i] = o.Object
	}
	// The latest version of each, in the order they were added: the
	// first version of req1 is superseded, the indicator of another type.
	sameKeys(t, "IndexedObjects(request, transition)", objs, trans1, req1new, req2, req3)
	for i, o := range got {
		if i > 0 && !o.Object.DateAdded.After(got[i-1].Object.DateAdded) {
			t.Errorf("%s: DateAdded %v not after the previous one's %v", o.Object.ID, o.Object.DateAdded, got[i-1].Object.DateAdded)
		}
		want := []*dialogue.Object{trans1, req1new, req2, req3}[i]
		if !bytes.Equal(o.Object.Raw, want.Raw) || o.Object.Type != want.Type || !o.Object.Created.Equal(want.Created) || !o.Object.Modified.Equal(want.Modified) {
			t.Errorf("%s: read %s %q created %v modified %v, want %s %q %v %v", o.Object.ID, o.Object.Type, o.Object.Raw, o.Object.Created, o.Object.Modified,
				want.Type, want.Raw, want.Created, want.Modified)
		}
	}
	// This node's own: their entries in its log.
	for _, o := range got[:2] {
		if o.Origin != "" || !o.Indexed {
			t.Errorf("%s (own): origin %q, indexed %v; want \"\", true", o.Object.ID, o.Origin, o.Indexed)
			continue
		}
		es, err := s.LogEntries(ctx, ch.ID, o.LogIndex, o.LogIndex+1)
		must(t, err)
		if len(es) != 1 || !bytes.Equal(es[0], o.Object.Raw) {
			t.Errorf("%s (own): log entry %d is %q, not the object", o.Object.ID, o.LogIndex, es)
		}
	}
	if got[0].LogIndex != 1 || got[1].LogIndex != 3 {
		t.Errorf("own log indexes %d, %d; want 1, 3 (after req1's first version and the indicator)", got[0].LogIndex, got[1].LogIndex)
	}
	// Received: the peer's index when the exchange gave it.
	if o := got[2]; o.Origin != b.Name || !o.Indexed || o.LogIndex != 7 {
		t.Errorf("%s (received at 7): origin %q, indexed %v, index %d", o.Object.ID, o.Origin, o.Indexed, o.LogIndex)
	}
	if o := got[3]; o.Origin != b.Name || o.Indexed {
		t.Errorf("%s (received, no index): origin %q, indexed %v, index %d", o.Object.ID, o.Origin, o.Indexed, o.LogIndex)
	}

	// One type.
	objs = objs[:0]
	for _, o := range indexed(t, s, ch.ID, typeTransition) {
		objs = append(objs, o.Object)
	}
	sameKeys(t, "IndexedObjects(transition)", objs, trans1)
	if got := indexed(t, s, ch.ID, "malware"); len(got) != 0 {
		t.Errorf("IndexedObjects(malware) = %d objects, want none", len(got))
	}

	// fn's error stops the listing and is returned.
	stop := errors.New("stop")
	n := 0
	err = s.IndexedObjects(ctx, ch.ID, []string{typeRequest}, func(dialogue.IndexedObject) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn failing: %v after %d calls, want the error after 1", err, n)
	}
}

func testIndexedErrors(t *testing.T, s StampedStore) {
	c := newCollection(t, s, "c")
	err := s.IndexedObjects(ctx, "no-such", []string{typeRequest}, func(dialogue.IndexedObject) error { return nil })
	wantErr(t, "IndexedObjects(unknown collection)", err, dialogue.KindNotFound, "no-such")
	err = s.IndexedObjects(ctx, c.ID, nil, func(dialogue.IndexedObject) error { return nil })
	wantErr(t, "IndexedObjects(no types)", err, dialogue.KindInvalid, "types")
	_, err = s.ObjectStamp(ctx, "no-such", []string{typeRequest})
	wantErr(t, "ObjectStamp(unknown collection)", err, dialogue.KindNotFound, "no-such")
	_, err = s.ObjectStamp(ctx, c.ID, nil)
	wantErr(t, "ObjectStamp(no types)", err, dialogue.KindInvalid, "types")
}

func testObjectStamp(t *testing.T, s StampedStore) {
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
	last := stamp()
	if again := stamp(); again != last {
		t.Errorf("two stamps with nothing written: %+v, %+v", last, again)
	}
	step := func(what string, changes bool, write func()) {
		t.Helper()
		write()
		st := stamp()
		if (st != last) != changes {
			t.Errorf("%s: stamp %+v after, %+v before; want changed: %v", what, st, last, changes)
		}
		last = st
	}
	req1 := sdo(typeRequest, 1, 0)
	step("a request added", true, func() { add(t, s, ch.ID, req1) })
	step("an indicator added", false, func() { add(t, s, ch.ID, sdo("indicator", 2, 0)) })
	step("a request added to another collection", false, func() { add(t, s, other.ID, sdo(typeRequest, 3, 0)) })
	step("the same request again", false, func() { add(t, s, ch.ID, received(req1)) })
	step("a transition added", true, func() { add(t, s, ch.ID, sdo(typeTransition, 4, 0)) })
	req1new := sdo(typeRequest, 1, 10)
	step("a new version of the request", true, func() { add(t, s, ch.ID, req1new) })
	step("an older version arriving late", true, func() { add(t, s, ch.ID, sdo(typeRequest, 1, 5)) })
	step("a request received with its index", true, func() {
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 0, To: 1,
			Objects: []*dialogue.Object{sdo(typeRequest, 5, 0)}, Indexes: []int64{0}})
		must(t, err)
	})
	// Another dialogue type received with its index: neither the version
	// nor its index is one of the types' (a node receiving the peer's
	// hotline traffic keeps its readers of requests).
	step("an event received with its index", false, func() {
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 1, To: 2,
			Objects: []*dialogue.Object{sdo("parley-event", 6, 0)}, Indexes: []int64{1}})
		must(t, err)
	})
	// A request received without its index, then again with it: the
	// index alone changes the stamp.
	late := sdo(typeRequest, 9, 0)
	step("a request received without its index", true, func() {
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 2, To: 3,
			Objects: []*dialogue.Object{received(late)}})
		must(t, err)
	})
	step("the same request's index recorded", true, func() {
		_, err := s.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: b.Name, CollectionID: ch.ID, From: 3, To: 4,
			Objects: []*dialogue.Object{received(late)}, Indexes: []int64{3}})
		must(t, err)
	})
	step("the request's first version deleted", true, func() {
		_, err := s.DeleteObject(ctx, ch.ID, req1.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{First: true}})
		must(t, err)
	})
	step("the request's latest version deleted", true, func() {
		_, err := s.DeleteObject(ctx, ch.ID, req1.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{Last: true}})
		must(t, err)
	})
	// A delete and an add in between two stamps.
	step("a delete and an add", true, func() {
		_, err := s.DeleteObject(ctx, ch.ID, req1.ID, dialogue.ObjectFilter{})
		must(t, err)
		add(t, s, ch.ID, sdo(typeRequest, 7, 0))
	})
}
