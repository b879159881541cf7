// Package workflow runs the dialogue's work on a node: filing incident
// reports and assistance requests, moving requests through their states,
// hotline messages and communication checks, threat assessments, meetings
// and statements, and the figures and summary computed from the shared
// record. The CLI and the JSON API call it; both go through the same
// rules here.
//
// Every item is a STIX object (internal/stix: Parley's types) added to a
// channel's collection through the node's write store, so that it is an
// entry of this node's log and travels to the peer; the peer's items
// arrive the same way in the same collection. State is computed from the
// objects of both sides and the clock, never stored by hand. The party an
// item comes from is its created_by_ref, which the write rules guarantee
// (internal/write: a dialogue object names its party or is refused, on
// write and on receipt).
//
// It must not reach the network or the database directly: the store and
// the clock are given.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/write"
)

// Store is what the workflows need of a node's store.
type Store = write.Store

// Service runs the workflows of one node.
type Service struct {
	// Store is the node's store, for reads.
	Store Store
	// Write is the store writes go through: the party's write.Writer
	// over Store.
	Write Store
	// Self is this node's party.
	Self dialogue.Party
	// Now is the clock; tests set it.
	Now func() time.Time

	// folds keeps the read paths' folds of channels (readcache.go).
	folds *foldCache
	// gate decides who may read and write what (dialogue.Gate); the TLP
	// views of channels read their reports' markings from the fold cache.
	gate *dialogue.Gate
	// viewer, when set (As), is who the service reads and writes for.
	viewer *dialogue.Viewer
}

// As returns the service as viewer v uses it: its reads leave out the
// channels v may not read (a channel named is KindNotFound, as an unknown
// one) and the objects v may not see; its writes need v's write access.
// The copy shares the service's caches and costs nothing to make.
func (s *Service) As(v dialogue.Viewer) *Service {
	c := *s
	c.viewer = &v
	return &c
}

// CheckEvidence returns nil when the service's viewer may read the
// evidence file sum (64 lower-case hex digits) of a channel
// (dialogue.Gate.CheckEvidence); the operator may read every one.
func (s *Service) CheckEvidence(ctx context.Context, channelID, sum string) error {
	if s.viewer == nil {
		return nil
	}
	return s.gate.CheckEvidence(ctx, *s.viewer, channelID, sum)
}

// Gate is the node's gate: the one place that decides who may read and
// write what.
func (s *Service) Gate() *dialogue.Gate { return s.gate }

// Channels lists the channels that have a collection on this node (see
// dialogue.Channel.HasCollection) and that the service's viewer may read
// (As; every one without a viewer), oldest first: a proposal a peer made
// and nobody accepted is no channel with content, and every listing of
// items goes through here so that a pending proposal breaks none.
func (s *Service) Channels(ctx context.Context) ([]*dialogue.Channel, error) { return s.channels(ctx) }

func (s *Service) channels(ctx context.Context) ([]*dialogue.Channel, error) {
	all, err := s.Store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0:0]
	for _, ch := range all {
		if !ch.HasCollection() {
			continue
		}
		if s.viewer != nil {
			acc, err := s.gate.Access(ctx, *s.viewer, ch.ID)
			if err != nil {
				return nil, err
			}
			if !acc.Read {
				continue
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// New returns the workflows of the node named name, whose log key is
// logKey, over st.
func New(st Store, name, logKey string) *Service {
	self := dialogue.Party{Name: name, IdentityID: dialogue.IdentityID(logKey), Local: true}
	s := &Service{Store: st, Write: write.New(st, self), Self: self, Now: time.Now, folds: &foldCache{}}
	s.gate = dialogue.NewGate(st, stix.ReadTLP)
	s.gate.Markings = s.reportMarkings
	s.gate.ReadMarking = stix.ReadMarking
	s.gate.Evidence = stix.EvidenceSHA256
	s.gate.Incident = stix.IsIncidentReport
	return s
}

// Channel finds a channel by id or title and returns it with its two
// parties: this node's and the peer's. A channel that is not active yet
// is KindConflict for the workflows that send; one a peer proposed and
// nobody accepted here (no collection) is KindConflict for every workflow.
func (s *Service) Channel(ctx context.Context, idOrTitle string) (*dialogue.Channel, dialogue.Party, error) {
	const op = "workflow.Channel"
	ch, err := s.Store.Channel(ctx, idOrTitle)
	if err == nil && s.viewer != nil {
		var acc dialogue.Access
		if acc, err = s.gate.Access(ctx, *s.viewer, ch.ID); err == nil && !acc.Read {
			err = dialogue.ErrNotFound // as an unknown one: the viewer learns nothing of it
		}
	}
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindNotFound, "no channel %q: list them with 'parley channel list'", idOrTitle)
		}
		return nil, dialogue.Party{}, err
	}
	if !ch.HasCollection() {
		if ch.State == dialogue.ChannelDeclined {
			return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindConflict, "channel %q proposed by %s was declined here", idOrTitle, ch.Peer)
		}
		return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindConflict, "channel %q proposed by %s is not accepted yet: accept it with 'parley channel accept %s' or decline it with 'parley channel decline %s'", idOrTitle, ch.Peer, ch.ID, ch.ID)
	}
	p, err := s.Store.Peer(ctx, ch.Peer)
	if err != nil {
		return nil, dialogue.Party{}, err
	}
	return ch, dialogue.Party{Name: p.Name, IdentityID: dialogue.IdentityID(p.LogKey)}, nil
}

// Item is a stored object of a channel with its decoded properties and the
// party it comes from.
type Item struct {
	Object *dialogue.Object
	Props  map[string]any
	From   dialogue.Party
}

// Str returns a string property ("" when absent or not a string).
func (it *Item) Str(name string) string {
	s, _ := it.Props[name].(string)
	return s
}

// Items returns the latest version of each object of the given types in a
// channel's collection, oldest first, with the party each comes from
// (matched by created_by_ref against the two parties; an item of neither
// is left out).
func (s *Service) Items(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, types ...string) ([]*Item, error) {
	return s.items(ctx, ch, other, dialogue.VersionMatch{}, types...)
}

// items is Items with the versions to list (zero: the latest of each).
func (s *Service) items(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, versions dialogue.VersionMatch, types ...string) ([]*Item, error) {
	// One listing per type: each walks the store's (type, date_added)
	// index, where a listing of several types would walk the whole
	// collection (a channel holds far more indicators than dialogue
	// items, and the scheduler asks every half second).
	if len(types) > 1 {
		var out []*Item
		for _, t := range types {
			items, err := s.items(ctx, ch, other, versions, t)
			if err != nil {
				return nil, err
			}
			out = append(out, items...)
		}
		slices.SortStableFunc(out, func(a, b *Item) int { return a.Object.DateAdded.Compare(b.Object.DateAdded) })
		return out, nil
	}
	var out []*Item
	f := dialogue.ObjectFilter{Types: types, Versions: versions}
	for {
		page, err := s.Store.FindObjects(ctx, ch.ID, f)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			it := &Item{Object: o}
			if err := json.Unmarshal(o.Raw, &it.Props); err != nil {
				continue
			}
			from := s.partyOf(other, it.Str("created_by_ref"))
			if from == nil {
				continue
			}
			it.From = *from
			out = append(out, it)
		}
		if !page.More {
			return out, nil
		}
		f.After = page.Next
	}
}

// decodeProps decodes an object's JSON into p, a struct of the
// properties read; a property of another type reads as absent, as
// Item.Str reads it. It is false when the object is not JSON.
func decodeProps(raw []byte, p any) bool {
	err := json.Unmarshal(raw, p)
	var te *json.UnmarshalTypeError
	return err == nil || errors.As(err, &te)
}

// File validates objects (STIX, and Parley's extension schema for
// Parley's types and reports: stix.ValidateParley) and adds them to the
// channel's collection as this node's party, all or nothing: in one
// transaction of the store, so that when any is refused (invalid, in
// conflict with what is stored, forbidden by the write rules) nothing is
// written or logged. It returns their ids. A command that writes several
// objects files them in one call.
func (s *Service) File(ctx context.Context, ch *dialogue.Channel, raws ...json.RawMessage) ([]string, error) {
	return s.file(ctx, ch, raws, nil)
}

// file is File entering, in the same transaction, the log entries of
// the evidence blobs (whose bytes are in the blob store already).
func (s *Service) file(ctx context.Context, ch *dialogue.Channel, raws []json.RawMessage, blobs []dialogue.BlobRef) ([]string, error) {
	const op = "workflow.File"
	if ch.State != dialogue.ChannelActive && ch.State != dialogue.ChannelProposed {
		return nil, dialogue.Errorf(op, dialogue.KindConflict, "channel %s is %s: accept it first with 'parley channel accept'", ch.ID, ch.State)
	}
	if s.viewer != nil {
		if err := s.gate.CheckWrite(ctx, *s.viewer, ch.ID); err != nil {
			return nil, err
		}
	}
	for _, raw := range raws {
		// Parley's objects, and reports carrying its property-extension,
		// must pass the extension's schema (the peer checks it too).
		if err := stix.ValidateParley(raw); err != nil {
			return nil, dialogue.E(op, dialogue.KindInvalid, err)
		}
	}
	var rep *ingest.Report
	var err error
	if len(blobs) > 0 {
		rep, err = ingest.ObjectsAndBlobs(ctx, s.Write, ch.ID, raws, blobs)
	} else {
		rep, err = ingest.Objects(ctx, s.Write, ch.ID, raws, ingest.AllOrNothing)
	}
	if err != nil {
		return nil, err
	}
	if rep.Refused || rep.Rejected > 0 {
		// Nothing was written (ingest.AllOrNothing): say why.
		for _, r := range rep.Results {
			if r.Err != nil {
				kind := dialogue.KindOf(r.Err)
				if kind == dialogue.KindOther {
					kind = dialogue.KindInvalid
				}
				return nil, dialogue.Errorf(op, kind, "object %s: %s; nothing was filed", r.ID, dialogue.Message(r.Err))
			}
		}
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "the objects were refused; nothing was filed")
	}
	ids := make([]string, 0, len(rep.Results))
	for _, r := range rep.Results {
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// NewObject builds one of Parley's objects created by this node's party
// at the service's clock.
func (s *Service) NewObject(typ string, props map[string]any) (json.RawMessage, error) {
	return stix.NewParleyObject(typ, s.Now(), s.Self.IdentityID, props)
}
