package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Origin marks what this node sends on a channel as its party's: each
// object that can name its creator and does not is stamped with
// created_by_ref = the party's identity (IdentityID of its log key) before
// it is stored and logged, and the identity object itself is sent first,
// once per channel. So the peer reads, in every object, who said it. Objects
// that name another creator (a feed's, MITRE's) keep it: the channel's log
// still proves who relayed them. Outside channels nothing changes.
type Origin struct {
	// IdentityID is the party's STIX identity id; Name its name.
	IdentityID, Name string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Wrap returns st, but its AddObjects stamps the objects added to a
// channel (see Origin) and stores the party's identity object in the
// channel first when the channel lacks it (its own entry, so that the
// results still match the objects passed). It rejects an object received
// from a peer on another channel (see crossChannel). Every write path of a node
// (TAXII, import, pull, the dialogue) goes through it.
func (o *Origin) Wrap(st Store) Store { return &stamping{Store: st, o: o} }

type stamping struct {
	Store
	o *Origin
}

func (s *stamping) AddObjects(ctx context.Context, collectionID string, objs []*dialogue.Object, opts ...dialogue.AddOption) ([]dialogue.AddResult, error) {
	ch, err := s.Store.Channel(ctx, collectionID)
	if dialogue.KindOf(err) == dialogue.KindNotFound || err == nil && ch.ID != collectionID {
		return s.Store.AddObjects(ctx, collectionID, objs, opts...)
	}
	if err != nil {
		return nil, err
	}
	page, err := s.Store.FindObjects(ctx, collectionID, dialogue.ObjectFilter{IDs: []string{s.o.IdentityID}, Limit: 1, MetaOnly: true})
	if err != nil {
		return nil, err
	}
	if len(page.Objects) == 0 {
		id, _, err := stix.Parse(s.o.identity())
		if err != nil {
			return nil, dialogue.Errorf("peer.Origin", dialogue.KindInvalid, "this party's identity object is invalid: %v", err)
		}
		obj := &dialogue.Object{ID: id.ID, Type: id.Type, SpecVersion: id.SpecVersion, Created: id.Created, Modified: id.Modified, Raw: id.Raw}
		if _, err := s.Store.AddObjects(ctx, collectionID, []*dialogue.Object{obj}); err != nil {
			return nil, err
		}
	}
	refused, err := s.crossChannel(ctx, collectionID, objs)
	if err != nil {
		return nil, err
	}
	out := make([]*dialogue.Object, 0, len(objs))
	results := make([]dialogue.AddResult, len(objs))
	var idx []int // positions in objs of what goes to the store
	for i, obj := range objs {
		if err := refused[obj.ID]; err != nil {
			results[i] = dialogue.AddResult{ID: obj.ID, Version: obj.Version(), Status: dialogue.Rejected, Err: err}
			continue
		}
		if stix.IsParleyType(obj.Type) {
			// A dialogue object speaks for its party: this node writes only
			// its own party's.
			var probe struct {
				CreatedByRef *string `json:"created_by_ref"`
			}
			json.Unmarshal(obj.Raw, &probe)
			if probe.CreatedByRef != nil && *probe.CreatedByRef != s.o.IdentityID {
				results[i] = dialogue.AddResult{ID: obj.ID, Version: obj.Version(), Status: dialogue.Rejected,
					Err: dialogue.Errorf("peer.Origin", dialogue.KindForbidden, "%s names %s as its creator: this node sends dialogue objects only as its own party, %s", obj.ID, *probe.CreatedByRef, s.o.IdentityID)}
				continue
			}
		}
		idx = append(idx, i)
		if obj.Created.IsZero() || obj.Type == "marking-definition" || stix.IsSCO(obj.Type) || bytes.Contains(obj.Raw, []byte(`"created_by_ref"`)) {
			out = append(out, obj)
			continue
		}
		c := *obj
		// Validated, with created, not an SCO or a marking definition,
		// naming no creator: Stamp's probe would only decide it again.
		c.Raw = insertCreator(obj.Raw, s.o.IdentityID)
		out = append(out, &c)
	}
	if dialogue.AllOrNothing.In(opts) && len(out) < len(objs) {
		dialogue.Refuse("peer.Origin", results)
		return results, nil
	}
	if len(out) == 0 {
		return results, nil
	}
	added, err := s.Store.AddObjects(ctx, collectionID, out, opts...)
	if err != nil {
		return nil, err
	}
	for k, r := range added {
		results[idx[k]] = r
	}
	return results, nil
}

// identity is the party's identity object, as first sent on a channel.
func (o *Origin) identity() json.RawMessage {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	ts := stix.FormatTime(now().UTC().Truncate(time.Millisecond))
	b, _ := json.Marshal(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": o.IdentityID, "created": ts, "modified": ts,
		"name": o.Name, "identity_class": "organization",
		"description": "The party whose Parley node sent this channel's objects; its id is derived from the node's pinned log key.",
	})
	return b
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
