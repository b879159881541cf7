package peer

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/write"
)

// Origin is the party a node writes as, for the callers that know it by
// its identity and name: Wrap returns the domain's writer (internal/write),
// which stamps what this node sends on a channel with the party's
// identity, sends the identity object first, and refuses what the party
// may not write (another party's name or objects, what came on another
// channel). The rules live there and in dialogue.Parties.
type Origin struct {
	// IdentityID is the party's STIX identity id; Name its name.
	IdentityID, Name string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Wrap returns st written through the party's write.Writer. Every write
// path of a node (TAXII, import, pulls, the dialogue) goes through it.
func (o *Origin) Wrap(st Store) Store {
	w := write.New(st, dialogue.Party{Name: o.Name, IdentityID: o.IdentityID})
	w.Now = o.Now
	return w
}

// stamping is Origin's wrapper of a store, as the tests build it.
type stamping struct {
	Store
	o *Origin
}

func (s *stamping) AddObjects(ctx context.Context, collectionID string, objs []*dialogue.Object, opts ...dialogue.AddOption) ([]dialogue.AddResult, error) {
	return s.o.Wrap(s.Store).AddObjects(ctx, collectionID, objs, opts...)
}

// Stamp is write.Stamp: raw with "created_by_ref":creator added when it
// can name a creator and names none.
func Stamp(raw json.RawMessage, creator string) json.RawMessage { return write.Stamp(raw, creator) }
