package write

import (
	"context"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Received returns, by position in objs, why each object that the peer
// from sent on a channel may not be applied (dialogue.Parties.
// CheckReceived): one that names another party than the peer as its
// creator (this node's party, or any other party this node pins), or a
// new version of an object another party issued, as this node stores it.
// objs are parsed and validated; an object of the same batch counts as
// not stored yet. self is this node's party.
func Received(ctx context.Context, st Store, self dialogue.Party, from *dialogue.Peer, collectionID string, objs []*dialogue.Object) (map[int]error, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	peers, err := st.Peers(ctx)
	if err != nil {
		return nil, err
	}
	parties := dialogue.NewParties(self, peers)
	sender := dialogue.Party{Name: from.Name, IdentityID: dialogue.IdentityID(from.LogKey)}
	prior, err := priors(ctx, st, collectionID, objs)
	if err != nil {
		return nil, err
	}
	var refused map[int]error
	for i, obj := range objs {
		p, err := prior.of(ctx, obj)
		if err != nil {
			return nil, err
		}
		if err := parties.CheckReceived(sender, obj.ID, claim(obj, dialogue.CreatorOf(obj.Raw)), p); err != nil {
			if refused == nil {
				refused = map[int]error{}
			}
			refused[i] = err
		}
	}
	return refused, nil
}
