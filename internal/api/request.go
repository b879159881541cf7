package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	Register(requestEndpoints)
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	ts := map[string]any{"type": "string", "format": "date-time"}
	states := []string{"submitted", "acknowledged", "answered", "closed", "declined"}
	Schemas["RequestTransition"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id": str, "action": map[string]any{"type": "string", "enum": []string{"file", "acknowledge", "answer", "decline", "close"}},
			"from_state": str, "to_state": str, "by": str, "at": ts, "kind": str, "reason": str, "text": str, "object_refs": strs,
			"log":       map[string]any{"type": "string", "description": `"own" (this node's log) or "peer's log"`},
			"log_index": map[string]any{"type": "integer", "description": "the entry's index in that log, when known on this node"},
			"refused":   map[string]any{"type": "string", "description": "why the transition was ignored"},
		},
		"required": []string{"id", "action", "to_state", "by", "at", "log"},
	}
	Schemas["Request"] = map[string]any{
		"type":        "object",
		"description": "An assistance request as computed now: its state from both sides' transitions, its deadlines and whether it is overdue.",
		"properties": map[string]any{
			"id": str, "channel": str, "name": str, "text": str, "state": map[string]any{"type": "string", "enum": states},
			"from": str, "to": str, "about": strs, "infrastructure": strs, "sectors": strs, "off_limits": map[string]any{"type": "boolean"},
			"submitted": ts, "ack_deadline": ts, "answer_deadline": ts,
			"overdue": map[string]any{"type": "boolean"}, "ack_overdue": map[string]any{"type": "boolean"}, "answer_overdue": map[string]any{"type": "boolean"},
			"history": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/RequestTransition"}},
			"refused": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/RequestTransition"}},
			"log":     str, "log_index": map[string]any{"type": "integer"},
		},
		"required": []string{"id", "state", "from", "to", "ack_deadline", "answer_deadline", "overdue", "history"},
	}
	Schemas["RequestFiling"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"channel": str, "about": strs, "infrastructure": strs, "text": str, "name": str, "sectors": strs,
		},
		"required":             []string{"channel", "about", "text"},
		"additionalProperties": false,
	}
	kinds := make([]string, len(dialogue.ResponseKinds))
	for i, k := range dialogue.ResponseKinds {
		kinds[i] = string(k)
	}
	Schemas["RequestMove"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"kind": map[string]any{"type": "string", "enum": kinds, "description": "an answer's kind (answer only)"},
			"text": map[string]any{"type": "string", "description": "free text; the reason of a decline or a cannot-act answer"},
			"refs": map[string]any{"type": "array", "items": str, "description": "objects an answer carries"},
		},
		"additionalProperties": false,
	}
}

// requestMove is the body of POST /requests/{id}/{action}.
type requestMove struct {
	Kind string   `json:"kind"`
	Text string   `json:"text"`
	Refs []string `json:"refs"`
}

func requestEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	content := func(schema any) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	created := map[string]any{"201": map[string]any{"description": "The new object's id.", "content": content(map[string]any{
		"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}, "required": []string{"id"}})}}
	eps := []Endpoint{
		{
			Method: http.MethodPost, Path: "/requests", Write: true, Handler: s.fileRequest,
			Operation: map[string]any{
				"operationId": "fileRequest",
				"summary":     "Ask the channel's other party for assistance about incident reports",
				"requestBody": map[string]any{"required": true, "content": content(ref("RequestFiling"))},
				"responses":   created,
			},
		},
		{
			Method: http.MethodGet, Path: "/requests", Handler: s.listRequests,
			Operation: map[string]any{
				"operationId": "listRequests",
				"summary":     "List the assistance requests",
				"parameters": []any{
					map[string]any{"name": "channel", "in": "query", "schema": map[string]any{"type": "string"}, "description": "only this channel (id or title)"},
					map[string]any{"name": "state", "in": "query", "schema": map[string]any{"type": "string", "enum": []string{"submitted", "acknowledged", "answered", "closed", "declined"}}},
					map[string]any{"name": "overdue", "in": "query", "schema": map[string]any{"type": "boolean"}, "description": "only overdue requests"},
				},
				"responses": map[string]any{"200": map[string]any{"description": "The requests, oldest first.", "content": content(map[string]any{"type": "array", "items": ref("Request")})}},
			},
		},
		{
			Method: http.MethodGet, Path: "/requests/{id}", Handler: s.showRequest,
			Operation: map[string]any{
				"operationId": "showRequest",
				"summary":     "Show an assistance request with its history",
				"parameters":  []any{idParam},
				"responses":   map[string]any{"200": map[string]any{"description": "The request.", "content": content(ref("Request"))}},
			},
		},
	}
	for _, a := range []struct {
		path, summary string
		act           dialogue.RequestAction
	}{
		{"acknowledge", "Acknowledge a request (the receiving party)", dialogue.ActionAcknowledge},
		{"answer", "Answer a request with its kind (the receiving party)", dialogue.ActionAnswer},
		{"decline", "Decline a request with the reason in text (the receiving party)", dialogue.ActionDecline},
		{"close", "Close an answered request (the requesting party)", dialogue.ActionClose},
	} {
		act := a.act
		eps = append(eps, Endpoint{
			Method: http.MethodPost, Path: "/requests/{id}/" + a.path, Write: true,
			Handler: func(w http.ResponseWriter, r *http.Request) { s.moveRequest(w, r, act) },
			Operation: map[string]any{
				"operationId": string(act) + "Request",
				"summary":     a.summary,
				"parameters":  []any{idParam},
				"requestBody": map[string]any{"required": false, "content": content(ref("RequestMove"))},
				"responses":   created,
			},
		})
	}
	return eps
}

func (s *Server) fileRequest(w http.ResponseWriter, r *http.Request) {
	var in workflow.RequestFiling
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).FileRequest(r.Context(), in)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) moveRequest(w http.ResponseWriter, r *http.Request, act dialogue.RequestAction) {
	var in requestMove
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			httpapi.Error(w, r, err)
			return
		}
	}
	id, err := s.wf(r).MoveRequest(r.Context(), chi.URLParam(r, "id"), workflow.Move{Action: act, Kind: dialogue.ResponseKind(in.Kind), Text: in.Text, Refs: in.Refs})
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := workflow.RequestFilter{Channel: q.Get("channel")}
	if st := q.Get("state"); st != "" {
		state, err := workflow.ParseRequestState(st)
		if err != nil {
			httpapi.Error(w, r, err)
			return
		}
		f.State = state
	}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		httpapi.Error(w, r, dialogue.Errorf("api.listRequests", dialogue.KindInvalid, "overdue %q: want true or false", q.Get("overdue")))
		return
	}
	rs, err := s.wf(r).Requests(r.Context(), f)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if rs == nil {
		rs = []*workflow.Request{}
	}
	WriteJSON(w, http.StatusOK, rs)
}

func (s *Server) showRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.wf(r).Request(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, req)
}
