// Package write is the one way this node writes to its store: every write
// path (TAXII, import, pulls from feeds, the dialogue's workflows, the API
// and web UI through them, sightings of `parley match`) adds objects
// through a Writer, which decides, on a channel, what this node's party
// may send in it: objects are stored exactly as given (an object naming no
// creator belongs to the party whose node logged it first), nothing is
// written in another party's name or as a new version of another party's
// object (dialogue.Parties), and nothing received on one channel leaves on
// another (docs/design/tlp.md). Check decides the same for what a peer
// sends, before it is applied.
//
// It is domain code: it reaches the database only through the store it
// wraps and imports no transport and no driver.
package write

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Store is what a Writer wraps: a node's store with its record and its
// peers.
type Store interface {
	dialogue.Store
	dialogue.LogStore
	dialogue.PeerStore
}

// Writer is a Store whose AddObjects applies this party's rules to what is
// added to a channel; the other methods are the wrapped store's. Outside
// channels nothing changes: a collection that is no channel stays inside
// the node.
type Writer struct {
	Store
	// Self is this node's party (Name, IdentityID).
	Self dialogue.Party
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// New returns the Writer of the party self over st.
func New(st Store, self dialogue.Party) *Writer {
	self.Local = true
	return &Writer{Store: st, Self: self}
}

// AddObjects adds objs to the collection. On a channel, each object is
// stored with the bytes it was given: nothing is added to an object (a
// change would need a new version, which only the object's creator
// issues; STIX 2.1 §3.6). An object naming no creator is, for the rules
// below, of the party whose node logged it first. Parley's
// extension-definition and the party's identity object are added first
// when the channel lacks them (needsFirst; in the same call; their results
// are not returned), and an object is Rejected (KindForbidden, naming it
// and the party) when:
//
//   - it is one of Parley's dialogue objects naming another creator, or
//     none: a dialogue object speaks for its party;
//   - it names another party as its creator, or is a new version of an
//     object another party created (dialogue.Parties.CheckWrite);
//   - it was received from a peer on another channel and is not TLP:CLEAR.
//
// With dialogue.AllOrNothing one rejected object rejects the call:
// nothing is written (dialogue.Refuse).
func (w *Writer) AddObjects(ctx context.Context, collectionID string, objs []*dialogue.Object, opts ...dialogue.AddOption) ([]dialogue.AddResult, error) {
	return w.add(ctx, "write.AddObjects", collectionID, objs, func(objs []*dialogue.Object) ([]dialogue.AddResult, error) {
		return w.Store.AddObjects(ctx, collectionID, objs, opts...)
	}, dialogue.AllOrNothing.In(opts), false)
}

// AddObjectsAndBlobs is the wrapped store's AddObjectsAndBlobs with the
// objects checked as AddObjects checks them (AllOrNothing): a rejected
// object writes nothing, the blobs' entries neither.
func (w *Writer) AddObjectsAndBlobs(ctx context.Context, collectionID string, objs []*dialogue.Object, blobs []dialogue.BlobRef) ([]dialogue.AddResult, error) {
	return w.add(ctx, "write.AddObjectsAndBlobs", collectionID, objs, func(objs []*dialogue.Object) ([]dialogue.AddResult, error) {
		return w.Store.AddObjectsAndBlobs(ctx, collectionID, objs, blobs)
	}, true, true)
}

// add checks objs by the party's rules on a channel and passes what
// passes to store. With all (AllOrNothing), one rejected object rejects
// the call before store is called. With always, store is called even
// when no object is left to add (it enters blobs too).
func (w *Writer) add(ctx context.Context, op, collectionID string, objs []*dialogue.Object, store func([]*dialogue.Object) ([]dialogue.AddResult, error), all, always bool) ([]dialogue.AddResult, error) {
	ch, err := w.Store.Channel(ctx, collectionID)
	if dialogue.KindOf(err) == dialogue.KindNotFound || err == nil && ch.ID != collectionID {
		return store(objs)
	}
	if err != nil {
		return nil, err
	}
	refused, err := w.crossChannel(ctx, collectionID, objs)
	if err != nil {
		return nil, err
	}
	// The parties are read when an object names a creator other than
	// this party or has versions stored.
	var parties *dialogue.Parties
	partiesOf := func() (*dialogue.Parties, error) {
		if parties == nil {
			peers, err := w.Store.Peers(ctx)
			if err != nil {
				return nil, err
			}
			p := dialogue.NewParties(w.Self, peers)
			parties = &p
		}
		return parties, nil
	}
	prior, err := priors(ctx, w.Store, collectionID, objs)
	if err != nil {
		return nil, err
	}
	out := make([]*dialogue.Object, 0, len(objs)+1)
	results := make([]dialogue.AddResult, len(objs))
	var idx []int // positions in objs of what goes to the store
	for i, obj := range objs {
		reject := func(err error) {
			results[i] = dialogue.AddResult{ID: obj.ID, Version: obj.Version(), Status: dialogue.Rejected, Err: err}
		}
		if err := refused[obj.ID]; err != nil {
			reject(err)
			continue
		}
		creator := dialogue.CreatorOf(obj.Raw)
		if stix.IsParleyType(obj.Type) && creator != w.Self.IdentityID {
			if creator == "" {
				// Nothing is added to an object: a dialogue object names
				// its party itself (the peer refuses one that does not).
				reject(dialogue.Errorf(op, dialogue.KindForbidden, "%s names no creator: this node sends dialogue objects only as its own party; give it \"created_by_ref\": %q", obj.ID, w.Self.IdentityID))
				continue
			}
			reject(dialogue.Errorf(op, dialogue.KindForbidden, "%s names %s as its creator: this node sends dialogue objects only as its own party, %s", obj.ID, creator, w.Self.IdentityID))
			continue
		}
		p, err := prior.of(ctx, obj)
		if err != nil {
			return nil, err
		}
		if cl := claim(obj, creator); p.Stored || cl != "" && cl != w.Self.IdentityID {
			parties, err := partiesOf()
			if err != nil {
				return nil, err
			}
			if err := parties.CheckWrite(obj.ID, cl, p); err != nil {
				reject(err)
				continue
			}
		}
		idx = append(idx, i)
		out = append(out, obj)
	}
	if all && dialogue.Refuse(op, results) {
		return results, nil
	}
	if len(out) == 0 && !always {
		return results, nil
	}
	var first []*dialogue.Object
	if len(out) > 0 {
		if first, err = w.needsFirst(ctx, collectionID); err != nil {
			return nil, err
		}
	}
	out = append(first, out...)
	added, err := store(out)
	if err != nil {
		return nil, err
	}
	for k, r := range added[:len(first)] {
		if r.Status == dialogue.Rejected && !all {
			return nil, dialogue.Errorf(op, dialogue.KindOf(r.Err), "%s, added first to the channel: %s", first[k].ID, dialogue.Message(r.Err))
		}
	}
	added = added[len(first):]
	for k, r := range added {
		results[idx[k]] = r
	}
	if all {
		dialogue.Refuse(op, results)
	}
	return results, nil
}

// claim is whom an object speaks for: its creator, or, for an identity
// naming none, the identity itself (a party's identity object is its
// name).
func claim(obj *dialogue.Object, creator string) string {
	if creator == "" && obj.Type == "identity" {
		return obj.ID
	}
	return creator
}

// needsFirst returns what a channel must hold before this party's objects
// and lacks, in this order: Parley's extension-definition
// (stix.ParleyExtension), which every Parley object names, so that a
// consumer of the channel (its TAXII collection, an export) can resolve
// it; and this party's identity object. On a new channel they are its
// first entries; on a channel written before they were added, they come
// with the next write. The extension-definition is the same bytes on
// every node (fixed id and timestamps, created by the Parley project's
// identity, a third creator): when both parties add it, the second copy
// each receives is the same version, unchanged.
func (w *Writer) needsFirst(ctx context.Context, collectionID string) ([]*dialogue.Object, error) {
	want := []string{stix.ParleyExtensionID, w.Self.IdentityID}
	page, err := w.Store.FindObjects(ctx, collectionID, dialogue.ObjectFilter{IDs: want, Limit: len(want), MetaOnly: true})
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, o := range page.Objects {
		have[o.ID] = true
	}
	var out []*dialogue.Object
	for _, id := range want {
		if have[id] {
			continue
		}
		raw := stix.ParleyExtension()
		if id == w.Self.IdentityID {
			raw = w.identity()
		}
		o, _, err := stix.Parse(raw)
		if err != nil {
			return nil, dialogue.Errorf("write.AddObjects", dialogue.KindInvalid, "%s, added first to the channel, is invalid: %v", id, err)
		}
		out = append(out, &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw})
	}
	return out, nil
}

// identity is the party's identity object, as first sent on a channel.
func (w *Writer) identity() json.RawMessage {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := stix.FormatTime(now().UTC().Truncate(time.Millisecond))
	b, _ := json.Marshal(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": w.Self.IdentityID, "created": ts, "modified": ts,
		"name": w.Self.Name, "identity_class": "organization",
		"description": "The party whose Parley node sent this channel's objects; its id is derived from the node's pinned log key.",
	})
	return b
}
