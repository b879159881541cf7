package taxii

import (
	"net/http"

	"github.com/parleyhq/parley/internal/dialogue"
)

// TLP on the TAXII read paths (docs/design/tlp.md). Every TAXII client is a
// local user of the node, so AMBER+STRICT is served to the readers of the
// collection; RED only to its named recipients. A page is filtered after
// the store has cut it: its more and next stay the store's, so paging
// skips and repeats nothing; a page may hold fewer objects than the limit,
// or none, which TAXII 2.1 allows.

// tlpView is the requesting user's view of a collection, whose access
// collectionFor decided (acc).
func (s *Server) tlpView(r *http.Request, collectionID string, acc dialogue.Access) (*dialogue.TLPView, error) {
	u, err := user(r)
	if err != nil {
		return nil, err
	}
	return s.gate.ViewWith(dialogue.UserViewer(u), collectionID, acc), nil
}

// visiblePage returns page with only the objects the user may see; the
// objects must carry their Raw.
func (s *Server) visiblePage(r *http.Request, op, collectionID string, acc dialogue.Access, page *dialogue.ObjectPage) (*dialogue.ObjectPage, error) {
	v, err := s.tlpView(r, collectionID, acc)
	if err != nil {
		return nil, err
	}
	objs, err := v.Filter(r.Context(), page.Objects)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	out := *page
	out.Objects = objs
	return &out, nil
}

// objectVisible reports, as KindNotFound worded as for
// an unknown object, unless some version of id in the collection is one
// the user may see. So a RED object is not there for the others.
func (s *Server) objectVisible(r *http.Request, op, collectionID string, acc dialogue.Access, id string) error {
	v, err := s.tlpView(r, collectionID, acc)
	if err != nil {
		return err
	}
	f := dialogue.ObjectFilter{IDs: []string{id}, Versions: dialogue.VersionMatch{All: true}}
	for {
		page, err := s.find(r, op, collectionID, f)
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			ok, err := v.Visible(r.Context(), o)
			if err != nil {
				return dialogue.E(op, dialogue.KindOther, err)
			}
			if ok {
				return nil
			}
		}
		if !page.More {
			return dialogue.Errorf(op, dialogue.KindNotFound, "no object %s in collection %s", id, collectionID)
		}
		f.After = page.Next
	}
}
