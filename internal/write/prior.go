package write

import (
	"context"

	"github.com/parleyhq/parley/internal/dialogue"
)

// lookupIDs is how many ids one lookup names.
const lookupIDs = 200

// priorSet holds the stored versions of the ids of a batch, in one
// collection, to tell who issued an object before a new version of it is
// written or applied.
type priorSet struct {
	st   Store
	coll string
	byID map[string][]*dialogue.Object
}

// priors reads the stored versions of the ids of objs in the collection.
func priors(ctx context.Context, st Store, collectionID string, objs []*dialogue.Object) (*priorSet, error) {
	p := &priorSet{st: st, coll: collectionID, byID: map[string][]*dialogue.Object{}}
	var ids []string
	seen := map[string]bool{}
	for _, o := range objs {
		if !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	for start := 0; start < len(ids); start += lookupIDs {
		f := dialogue.ObjectFilter{IDs: ids[start:min(start+lookupIDs, len(ids))], Versions: dialogue.VersionMatch{All: true}}
		for {
			page, err := st.FindObjects(ctx, collectionID, f)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				p.byID[o.ID] = append(p.byID[o.ID], o)
			}
			if !page.More {
				break
			}
			f.After = page.Next
		}
	}
	return p, nil
}

// of returns what is stored of obj's object besides obj's version. When
// obj's version is stored already, nothing new is written (the store
// finds it unchanged or in conflict), and the Prior is empty.
func (p *priorSet) of(ctx context.Context, obj *dialogue.Object) (dialogue.Prior, error) {
	stored := p.byID[obj.ID]
	if len(stored) == 0 {
		return dialogue.Prior{}, nil
	}
	v := obj.Version()
	for _, o := range stored {
		if o.Version().Equal(v) {
			return dialogue.Prior{}, nil
		}
	}
	prior := dialogue.Prior{Stored: true}
	for _, o := range stored {
		if c := dialogue.CreatorOf(o.Raw); c != "" {
			prior.Creator = c
			return prior, nil
		}
	}
	// No stored version names its creator: who sent it.
	from, err := p.st.Origin(ctx, p.coll, obj.ID, stored[0].TAXIIVersion())
	if err != nil {
		return dialogue.Prior{}, err
	}
	prior.From = from
	return prior, nil
}
