package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

// The hotline and the communication checks: POST /hotline, POST
// /hotline/{id}/ack, GET /hotline; POST /checks, POST /checks/{id}/answer,
// GET /checks. The person who acknowledges or answers is the
// authenticated user.

func init() {
	Register(hotlineEndpoints)
	str := map[string]any{"type": "string"}
	ts := map[string]any{"type": "string", "format": "date-time"}
	tsOrNull := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	numOrNull := map[string]any{"type": []string{"number", "null"}}
	Schemas["Hotline"] = map[string]any{
		"type":        "object",
		"description": "A hotline message with where it stands, computed from the record and the clock.",
		"properties": map[string]any{
			"id": str, "channel": str,
			"from":                map[string]any{"type": "string", "description": "the sending party's name"},
			"to":                  map[string]any{"type": "string", "description": "the receiving party's name"},
			"outgoing":            map[string]any{"type": "boolean", "description": "true when this node's party sent it"},
			"text":                str,
			"priority":            map[string]any{"type": "string", "enum": []string{"normal", "urgent"}},
			"ack_within":          map[string]any{"type": "integer", "description": "seconds the sender expects a person's acknowledgement within"},
			"about_refs":          map[string]any{"type": "array", "items": str},
			"sent":                ts,
			"ack_due":             ts,
			"state":               map[string]any{"type": "string", "enum": []string{"sent", "delivered", "acknowledged"}},
			"delivered":           map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "when the receiving node had it (its automatic receipt)"},
			"delivery_ref":        str,
			"acknowledged":        tsOrNull,
			"acknowledged_by":     map[string]any{"type": "string", "description": "the person: name (role)"},
			"acknowledgement_ref": str,
			"overdue":             map[string]any{"type": "boolean", "description": "not acknowledged and past ack_due"},
			"ack_late":            map[string]any{"type": "boolean", "description": "acknowledged after ack_due"},
			"escalation_ref":      map[string]any{"type": "string", "description": "the escalation event, once written"},
		},
		"required": []string{"id", "channel", "from", "to", "outgoing", "text", "priority", "ack_within", "sent", "ack_due", "state", "delivered", "acknowledged", "overdue", "ack_late"},
	}
	Schemas["HotlineMessage"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"channel":    map[string]any{"type": "string", "description": "the channel's id or title"},
			"text":       map[string]any{"type": "string", "maxLength": workflow.MaxHotlineText},
			"priority":   map[string]any{"type": "string", "enum": []string{"normal", "urgent"}, "default": "normal"},
			"ack_within": map[string]any{"type": "integer", "minimum": int(workflow.MinAckWithin / time.Second), "maximum": int(workflow.MaxAckWithin / time.Second), "description": "seconds; default by priority: " + workflow.DefaultComms.AckWithinUrgent.String() + " urgent, " + workflow.DefaultComms.AckWithinNormal.String() + " normal"},
			"about_refs": map[string]any{"type": "array", "items": str},
		},
		"required":             []string{"channel", "text"},
		"additionalProperties": false,
	}
	Schemas["Check"] = map[string]any{
		"type":        "object",
		"description": "A communication check (a ping) with where it stands.",
		"properties": map[string]any{
			"id": str, "channel": str,
			"from":           map[string]any{"type": "string", "description": "the checking party's name"},
			"to":             map[string]any{"type": "string", "description": "the checked party's name"},
			"outgoing":       map[string]any{"type": "boolean"},
			"trigger":        map[string]any{"type": "string", "enum": []string{"scheduled", "on-demand"}},
			"sent":           ts,
			"state":          map[string]any{"type": "string", "enum": []string{"sent", "delivered", "answered"}},
			"delivered":      tsOrNull,
			"delivery_ref":   str,
			"answered":       tsOrNull,
			"answered_by":    str,
			"answer_ref":     str,
			"answer_seconds": numOrNull,
		},
		"required": []string{"id", "channel", "from", "to", "outgoing", "trigger", "sent", "state", "delivered", "answered", "answer_seconds"},
	}
	Schemas["CheckFigure"] = map[string]any{
		"type":        "object",
		"description": "How one party answered the checks the other party of a channel sent it; the same on both nodes.",
		"properties": map[string]any{
			"channel": str, "party": str, "party_ref": str,
			"sent":                  map[string]any{"type": "integer", "description": "checks it received"},
			"answered":              map[string]any{"type": "integer"},
			"answer_rate":           map[string]any{"type": []string{"number", "null"}, "description": "answered / sent; null when none was sent"},
			"median_answer_seconds": map[string]any{"type": []string{"number", "null"}, "description": "null when none was answered"},
		},
		"required": []string{"channel", "party", "party_ref", "sent", "answered", "answer_rate", "median_answer_seconds"},
	}
	Schemas["CheckRequest"] = map[string]any{
		"type":                 "object",
		"properties":           map[string]any{"channel": map[string]any{"type": "string", "description": "the channel's id or title"}},
		"required":             []string{"channel"},
		"additionalProperties": false,
	}
}

// hotlineMessage is the body of POST /hotline.
type hotlineMessage struct {
	Channel   string   `json:"channel"`
	Text      string   `json:"text"`
	Priority  string   `json:"priority"`
	AckWithin int64    `json:"ack_within"`
	About     []string `json:"about_refs"`
}

func hotlineEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	content := func(schema any) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	idParam := []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}}
	channelParam := []any{map[string]any{"name": "channel", "in": "query", "required": false, "schema": map[string]any{"type": "string"},
		"description": "only this channel (id or title)"}}
	return []Endpoint{
		{
			Method: http.MethodPost, Path: "/hotline", Write: true, Handler: s.sendHotline,
			Operation: map[string]any{
				"operationId": "sendHotline",
				"summary":     "Send a hotline message on a channel",
				"description": "The other party's node writes a delivery receipt by itself; a person there acknowledges it within ack_within, else this node writes an escalation event.",
				"requestBody": map[string]any{"required": true, "content": content(ref("HotlineMessage"))},
				"responses":   map[string]any{"201": map[string]any{"description": "The message.", "content": content(ref("Hotline"))}},
			},
		},
		{
			Method: http.MethodPost, Path: "/hotline/{id}/ack", Write: true, Handler: s.ackHotline,
			Operation: map[string]any{
				"operationId": "ackHotline",
				"summary":     "Acknowledge the other party's hotline message as the authenticated user",
				"description": "Only the receiving party acknowledges, and once: 403 for the sender, 409 for a second acknowledgement, 404 for an unknown id.",
				"parameters":  idParam,
				"responses":   map[string]any{"200": map[string]any{"description": "The message, acknowledged.", "content": content(ref("Hotline"))}},
			},
		},
		{
			Method: http.MethodGet, Path: "/hotline", Handler: s.listHotline,
			Operation: map[string]any{
				"operationId": "listHotline",
				"summary":     "List the hotline messages both ways, with receipts and acknowledgements",
				"parameters":  channelParam,
				"responses": map[string]any{"200": map[string]any{"description": "The messages, oldest first.", "content": content(map[string]any{
					"type": "object", "properties": map[string]any{"hotline": map[string]any{"type": "array", "items": ref("Hotline")}}, "required": []string{"hotline"}})}},
			},
		},
		{
			Method: http.MethodPost, Path: "/checks", Write: true, Handler: s.sendCheck,
			Operation: map[string]any{
				"operationId": "sendCheck",
				"summary":     "Ping the other party of a channel now (an on-demand communication check)",
				"requestBody": map[string]any{"required": true, "content": content(ref("CheckRequest"))},
				"responses":   map[string]any{"201": map[string]any{"description": "The check.", "content": content(ref("Check"))}},
			},
		},
		{
			Method: http.MethodPost, Path: "/checks/{id}/answer", Write: true, Handler: s.answerCheck,
			Operation: map[string]any{
				"operationId": "answerCheck",
				"summary":     "Answer the other party's communication check as the authenticated user",
				"description": "Only the checked party answers, and once: 403 for the checking party, 409 for a second answer, 404 for an unknown id.",
				"parameters":  idParam,
				"responses":   map[string]any{"200": map[string]any{"description": "The check, answered.", "content": content(ref("Check"))}},
			},
		},
		{
			Method: http.MethodGet, Path: "/checks", Handler: s.listChecks,
			Operation: map[string]any{
				"operationId": "listChecks",
				"summary":     "List the communication checks both ways, with answer times and each party's answer rate",
				"parameters":  channelParam,
				"responses": map[string]any{"200": map[string]any{"description": "The checks, oldest first, and the figures per channel and party.", "content": content(map[string]any{
					"type": "object", "properties": map[string]any{
						"checks":  map[string]any{"type": "array", "items": ref("Check")},
						"figures": map[string]any{"type": "array", "items": ref("CheckFigure")},
					}, "required": []string{"checks", "figures"}})}},
			},
		},
	}
}

func (s *Server) sendHotline(w http.ResponseWriter, r *http.Request) {
	const op = "api.sendHotline"
	var in hotlineMessage
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if in.Channel == "" {
		httpapi.Error(w, r, dialogue.Errorf(op, dialogue.KindInvalid, "channel: required"))
		return
	}
	if in.AckWithin < 0 || in.AckWithin > int64(workflow.MaxAckWithin/time.Second) {
		httpapi.Error(w, r, dialogue.Errorf(op, dialogue.KindInvalid, "ack_within %d: want seconds between %d and %d", in.AckWithin, workflow.MinAckWithin/time.Second, workflow.MaxAckWithin/time.Second))
		return
	}
	h, err := s.wf(r).SendHotline(r.Context(), workflow.HotlineInput{Channel: in.Channel, Text: in.Text, Priority: workflow.Priority(in.Priority),
		AckWithin: time.Duration(in.AckWithin) * time.Second, About: in.About})
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, h)
}

func (s *Server) ackHotline(w http.ResponseWriter, r *http.Request) {
	h, err := s.wf(r).AckHotline(r.Context(), chi.URLParam(r, "id"), httpapi.UserFrom(r.Context()))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, h)
}

func (s *Server) listHotline(w http.ResponseWriter, r *http.Request) {
	hs, err := s.wf(r).ListHotline(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"hotline": hs})
}

func (s *Server) sendCheck(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Channel string `json:"channel"`
	}
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if in.Channel == "" {
		httpapi.Error(w, r, dialogue.Errorf("api.sendCheck", dialogue.KindInvalid, "channel: required"))
		return
	}
	k, err := s.wf(r).SendCheck(r.Context(), in.Channel)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, k)
}

func (s *Server) answerCheck(w http.ResponseWriter, r *http.Request) {
	k, err := s.wf(r).AnswerCheck(r.Context(), chi.URLParam(r, "id"), httpapi.UserFrom(r.Context()))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, k)
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) {
	ks, figs, err := s.wf(r).ListChecks(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"checks": ks, "figures": figs})
}
