package api

import (
	"net/http"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

// Access on the JSON API (docs/design/access.md): every endpoint calls the
// workflows as the requesting user (wf), so every list and show answers
// only what the gate lets that user see — lists leave the rest out (counts
// included), a show of a hidden item is NOT-FOUND worded as for an unknown
// id — and every write needs the user's write access.

// wf is the workflows as the request's user uses them (workflow.Service.As):
// every read and write of an endpoint passes the node's gate with that
// viewer.
func (s *Server) wf(r *http.Request) *workflow.Service {
	return s.WF.As(dialogue.UserViewer(httpapi.UserFrom(r.Context())))
}
