package api

import (
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

// The leadership summary, the responsiveness figures and the channels'
// request deadlines.

func init() {
	Register(summaryEndpoints)
	num := map[string]any{"type": []string{"number", "null"}}
	integer := map[string]any{"type": "integer"}
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	ts := map[string]any{"type": "string", "format": "date-time"}
	obj := func(props map[string]any, required ...string) map[string]any {
		m := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			m["required"] = required
		}
		return m
	}
	requests := obj(map[string]any{
		"received": integer, "declined": integer,
		"ack_due": integer, "ack_in_time": integer, "ack_in_time_share": num, "median_ack_seconds": num,
		"answer_due": integer, "answer_in_time": integer, "answer_in_time_share": num, "median_answer_seconds": num,
	}, "received", "ack_due", "ack_in_time", "ack_in_time_share", "median_ack_seconds", "answer_due", "answer_in_time", "answer_in_time_share", "median_answer_seconds")
	checks := obj(map[string]any{"sent": integer, "answered": integer, "answer_rate": num, "median_answer_seconds": num}, "sent", "answered", "answer_rate", "median_answer_seconds")
	party := obj(map[string]any{"party": str, "party_ref": str, "requests": requests, "checks": checks}, "party", "party_ref", "requests", "checks")
	byParty := map[string]any{"type": "object", "additionalProperties": party, "description": "keyed by the party's name"}
	Schemas["Responsiveness"] = map[string]any{
		"type":        "object",
		"description": "Each party's responsiveness, per channel and pooled by party: the requests addressed to it acknowledged and answered in time (a request still open before its deadline counts nowhere yet; a decline counts as the acknowledgement and takes the request out of the answer figures), the median times from filing, and the communication checks the other party sent it. The same on both nodes at the same time.",
		"properties": map[string]any{
			"as_of":    ts,
			"channels": map[string]any{"type": "array", "items": obj(map[string]any{"channel": str, "title": str, "parties": map[string]any{"type": "array", "items": party}}, "channel", "parties")},
			"parties":  byParty,
		},
		"required": []string{"as_of", "channels", "parties"},
	}
	level := map[string]any{"type": "integer", "minimum": 1, "maximum": 5}
	Schemas["Summary"] = map[string]any{
		"type":        "object",
		"description": "The leadership summary: nothing marked above TLP:GREEN, no indicator values, patterns, evidence or free text of reports, requests and hotline messages.",
		"properties": map[string]any{
			"as_of": ts, "node": str, "policy": str,
			"counts": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []string{"integer", "object"}}},
			"threat": map[string]any{"type": "array", "items": obj(map[string]any{
				"channel": str, "title": str, "off_limits": strs,
				"sectors": map[string]any{"type": "array", "items": obj(map[string]any{
					"sector": str, "off_limits": map[string]any{"type": "boolean"},
					"stated":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []string{"integer", "null"}, "minimum": 1, "maximum": 5}},
					"computed": obj(map[string]any{"level": level, "score": map[string]any{"type": "number"}, "incidents": integer}, "level", "score", "incidents"),
					"trend":    map[string]any{"enum": []string{"rising", "falling", "steady"}},
				}, "sector", "stated", "computed", "trend")},
			}, "channel", "sectors")},
			"requests": map[string]any{"type": "object", "additionalProperties": integer, "description": "counts by state, with total, overdue and off_limits"},
			"overdue": map[string]any{"type": "array", "items": obj(map[string]any{
				"kind": map[string]any{"enum": []string{"request", "hotline", "action-item"}}, "id": str, "channel": str,
				"priority": map[string]any{"enum": []string{"top", "urgent", "normal"}}, "late": str, "due": ts, "from": str, "owner": str, "index": integer,
			}, "kind", "id", "priority", "due")},
			"statements": map[string]any{"type": "array", "items": obj(map[string]any{
				"id": str, "channel": str, "kind": str, "agreed_at": ts, "sectors": strs, "meeting_ref": str,
				"texts": map[string]any{"type": "object", "additionalProperties": str},
			}, "id", "kind", "agreed_at")},
			"responsiveness": byParty,
			"origins":        map[string]any{"type": "array", "items": Schemas["Origins"], "description": "per channel, attacks by origin territory and AS, from the TLP:CLEAR and TLP:GREEN reports"},
		},
		"required": []string{"as_of", "counts", "threat", "requests", "overdue", "statements", "responsiveness", "origins"},
	}
	pair := obj(map[string]any{"ack_seconds": integer, "answer_seconds": integer, "default": map[string]any{"type": "boolean"}}, "ack_seconds", "answer_seconds", "default")
	Schemas["Deadlines"] = map[string]any{
		"type":        "object",
		"description": "The deadlines this node gives the other party of a channel to acknowledge and answer its requests, normally and when an agreed off-limits sector is hit; written into each request when it is filed.",
		"properties":  map[string]any{"channel": str, "title": str, "normal": pair, "off_limits": pair},
		"required":    []string{"channel", "normal", "off_limits"},
	}
	Schemas["DeadlinesSetting"] = map[string]any{
		"type":        "object",
		"description": "New deadlines in seconds (between 60 and 7776000); 0 or absent: the default. The off-limits ones may be no longer than the normal ones.",
		"properties": map[string]any{
			"channel": str, "ack_seconds": integer, "answer_seconds": integer, "off_limits_ack_seconds": integer, "off_limits_answer_seconds": integer,
		},
		"required":             []string{"channel"},
		"additionalProperties": false,
	}
}

// deadlinesSetting is the body of PUT /deadlines.
type deadlinesSetting struct {
	Channel                string `json:"channel"`
	AckSeconds             int64  `json:"ack_seconds"`
	AnswerSeconds          int64  `json:"answer_seconds"`
	OffLimitsAckSeconds    int64  `json:"off_limits_ack_seconds"`
	OffLimitsAnswerSeconds int64  `json:"off_limits_answer_seconds"`
}

func summaryEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	content := func(schema any) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	channel := func(required bool) map[string]any {
		return map[string]any{"name": "channel", "in": "query", "required": required, "schema": map[string]any{"type": "string"}, "description": "the channel (id or title)"}
	}
	return []Endpoint{
		{
			Method: http.MethodGet, Path: "/summary", Handler: s.summary,
			Operation: map[string]any{
				"operationId": "summary",
				"summary":     "The leadership summary: counts, threat levels, overdue items, agreed statements, responsiveness (nothing above TLP:GREEN)",
				"responses":   map[string]any{"200": map[string]any{"description": "The summary at the node's clock.", "content": content(ref("Summary"))}},
			},
		},
		{
			Method: http.MethodGet, Path: "/responsiveness", Handler: s.responsiveness,
			Operation: map[string]any{
				"operationId": "responsiveness",
				"summary":     "Each party's responsiveness: requests acknowledged and answered in time, median times, check answer rate",
				"parameters":  []any{channel(false)},
				"responses":   map[string]any{"200": map[string]any{"description": "The figures at the node's clock.", "content": content(ref("Responsiveness"))}},
			},
		},
		{
			Method: http.MethodGet, Path: "/deadlines", Handler: s.deadlines,
			Operation: map[string]any{
				"operationId": "showDeadlines",
				"summary":     "The deadlines of the requests this node files on a channel",
				"parameters":  []any{channel(true)},
				"responses":   map[string]any{"200": map[string]any{"description": "The deadlines.", "content": content(ref("Deadlines"))}},
			},
		},
		{
			Method: http.MethodPut, Path: "/deadlines", Handler: s.setDeadlines, Write: true,
			Operation: map[string]any{
				"operationId": "setDeadlines",
				"summary":     "Set the deadlines of the requests this node files on a channel (requests filed before keep theirs)",
				"requestBody": map[string]any{"required": true, "content": content(ref("DeadlinesSetting"))},
				"responses":   map[string]any{"200": map[string]any{"description": "The deadlines now.", "content": content(ref("Deadlines"))}},
			},
		},
	}
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.wf(r).Summary(r.Context())
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, sum)
}

func (s *Server) responsiveness(w http.ResponseWriter, r *http.Request) {
	f, err := s.wf(r).Responsiveness(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, f)
}

func (s *Server) deadlines(w http.ResponseWriter, r *http.Request) {
	ch := r.URL.Query().Get("channel")
	if ch == "" {
		httpapi.Error(w, r, dialogue.Errorf("api.deadlines", dialogue.KindInvalid, "channel: required: the channel's id or title"))
		return
	}
	d, err := s.wf(r).RequestDeadlines(r.Context(), ch)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, d)
}

func (s *Server) setDeadlines(w http.ResponseWriter, r *http.Request) {
	var in deadlinesSetting
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if in.Channel == "" {
		httpapi.Error(w, r, dialogue.Errorf("api.setDeadlines", dialogue.KindInvalid, "channel: required: the channel's id or title"))
		return
	}
	secs := func(n int64) time.Duration {
		// Out of range: refused by the workflow, naming the deadline.
		switch {
		case n < 0:
			return -time.Second
		case n > int64(workflow.MaxDeadline/time.Second):
			return workflow.MaxDeadline + time.Second
		}
		return time.Duration(n) * time.Second
	}
	d, err := s.wf(r).SetRequestDeadlines(r.Context(), in.Channel,
		dialogue.Deadlines{Ack: secs(in.AckSeconds), Answer: secs(in.AnswerSeconds)},
		dialogue.Deadlines{Ack: secs(in.OffLimitsAckSeconds), Answer: secs(in.OffLimitsAnswerSeconds)})
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, d)
}
