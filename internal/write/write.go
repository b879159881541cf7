// Package write is the one way this node writes to its store: every write
// path (TAXII, import, pulls from feeds, the dialogue's workflows, the API
// and web UI through them, sightings of `parley match`) adds objects
// through a Writer, which decides, on a channel, what this node's party
// may send in it: its objects carry its identity as creator, nothing is
// written in another party's name or as a new version of another party's
// object (dialogue.Parties), and nothing received on one channel leaves on
// another (docs/design/tlp.md). Check decides the same for what a peer
// sends, before it is applied.
//
// It is domain code: it reaches the database only through the store it
// wraps and imports no transport and no driver.
package write

import (
	"bytes"
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

// AddObjects adds objs to the collection. On a channel, each object that
// can name its creator and names none is stamped with this party's
// identity (Stamp), Parley's extension-definition and the party's identity
// object are added first when the channel lacks them (needsFirst; in the
// same call; their results are not returned), and an
// object is Rejected (KindForbidden, naming it and the party) when:
//
//   - it is one of Parley's dialogue objects naming another creator: a
//     dialogue object speaks for its party;
//   - it names another party as its creator, or is a new version of an
//     object another party created (dialogue.Parties.CheckWrite);
//   - it was received from a peer on another channel and is not TLP:CLEAR.
//
// With dialogue.AllOrNothing one rejected object rejects the call:
// nothing is written (dialogue.Refuse).
func (w *Writer) AddObjects(ctx context.Context, collectionID string, objs []*dialogue.Object, opts ...dialogue.AddOption) ([]dialogue.AddResult, error) {
	const op = "write.AddObjects"
	ch, err := w.Store.Channel(ctx, collectionID)
	if dialogue.KindOf(err) == dialogue.KindNotFound || err == nil && ch.ID != collectionID {
		return w.Store.AddObjects(ctx, collectionID, objs, opts...)
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
		if stix.IsParleyType(obj.Type) && creator != "" && creator != w.Self.IdentityID {
			reject(dialogue.Errorf(op, dialogue.KindForbidden, "%s names %s as its creator: this node sends dialogue objects only as its own party, %s", obj.ID, creator, w.Self.IdentityID))
			continue
		}
		c := obj
		if creator == "" && stampable(obj) {
			c = new(*obj)
			// Validated, with created, not an SCO or a marking
			// definition, naming no creator: Stamp's probe would only
			// decide it again.
			c.Raw = insertCreator(obj.Raw, w.Self.IdentityID)
			creator = w.Self.IdentityID
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
		out = append(out, c)
	}
	if dialogue.AllOrNothing.In(opts) && dialogue.Refuse(op, results) {
		return results, nil
	}
	if len(out) == 0 {
		return results, nil
	}
	first, err := w.needsFirst(ctx, collectionID)
	if err != nil {
		return nil, err
	}
	out = append(first, out...)
	added, err := w.Store.AddObjects(ctx, collectionID, out, opts...)
	if err != nil {
		return nil, err
	}
	for k, r := range added[:len(first)] {
		if r.Status == dialogue.Rejected && !dialogue.AllOrNothing.In(opts) {
			return nil, dialogue.Errorf(op, dialogue.KindOf(r.Err), "%s, added first to the channel: %s", first[k].ID, dialogue.Message(r.Err))
		}
	}
	added = added[len(first):]
	for k, r := range added {
		results[idx[k]] = r
	}
	if dialogue.AllOrNothing.In(opts) {
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

// stampable reports whether a validated object can name a creator: it has
// created and is not an SCO or a marking definition.
func stampable(obj *dialogue.Object) bool {
	return !obj.Created.IsZero() && obj.Type != "marking-definition" && !stix.IsSCO(obj.Type) && !bytes.Contains(obj.Raw, []byte(`"created_by_ref"`))
}

// Stamp returns raw with "created_by_ref":creator added first when raw is
// an object that can name a creator (it has "created": an SDO, SRO or
// custom object; not a marking definition) and names none. Otherwise raw
// is returned as it is.
func Stamp(raw json.RawMessage, creator string) json.RawMessage {
	var probe struct {
		Type         string           `json:"type"`
		Created      *json.RawMessage `json:"created"`
		CreatedByRef *json.RawMessage `json:"created_by_ref"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.Created == nil || probe.CreatedByRef != nil ||
		probe.Type == "marking-definition" || stix.IsSCO(probe.Type) {
		return raw
	}
	return insertCreator(raw, creator)
}

// insertCreator adds "created_by_ref":creator as the first member of the
// JSON object raw, whose eligibility the caller has decided.
func insertCreator(raw json.RawMessage, creator string) json.RawMessage {
	i := bytes.IndexByte(raw, '{')
	if i < 0 {
		return raw
	}
	rest := bytes.TrimLeft(raw[i+1:], " \t\r\n")
	sep := ","
	if len(rest) > 0 && rest[0] == '}' {
		sep = ""
	}
	out := make([]byte, 0, len(raw)+len(creator)+22)
	out = append(out, raw[:i+1]...)
	out = append(out, `"created_by_ref":"`...)
	out = append(out, creator...)
	out = append(out, '"')
	out = append(out, sep...)
	return append(out, raw[i+1:]...)
}
