package api

import (
	"encoding/json"
	"net/http"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

// TLP on the JSON API (docs/design/tlp.md): every list and show answers
// only what the requesting user may see. Lists leave the rest out (counts
// included); a show of a hidden item is NOT-FOUND, worded as for an
// unknown id. The endpoints call VisibleItems and Visible, or the
// workflows' *For functions that do the same.

// Visible reports whether the requesting user may see a stored object of
// a channel (its JSON as stored).
func (s *Server) Visible(r *http.Request, channelID string, raw json.RawMessage) (bool, error) {
	var p struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	json.Unmarshal(raw, &p)
	return s.WF.TLPView(channelID, httpapi.UserFrom(r.Context())).Visible(r.Context(), &dialogue.Object{ID: p.ID, Type: p.Type, Raw: raw})
}

// VisibleItems returns the items of a list the requesting user may see, in
// their order; of says which channel each item is in and its stored JSON.
func VisibleItems[T any](s *Server, r *http.Request, items []T, of func(T) (channelID string, raw json.RawMessage)) ([]T, error) {
	u := httpapi.UserFrom(r.Context())
	views := map[string]*dialogue.TLPView{}
	out := make([]T, 0, len(items))
	for _, it := range items {
		ch, raw := of(it)
		v, ok := views[ch]
		if !ok {
			v = s.WF.TLPView(ch, u)
			views[ch] = v
		}
		var p struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		json.Unmarshal(raw, &p)
		vis, err := v.Visible(r.Context(), &dialogue.Object{ID: p.ID, Type: p.Type, Raw: raw})
		if err != nil {
			return nil, err
		}
		if vis {
			out = append(out, it)
		}
	}
	return out, nil
}

// wf is the workflows as the request's user uses them (workflow.Service.As):
// every read and write of an endpoint passes the node's gate with that
// viewer.
func (s *Server) wf(r *http.Request) *workflow.Service {
	return s.WF.As(dialogue.UserViewer(httpapi.UserFrom(r.Context())))
}
