package api

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

// Statements, off-limits sectors, meetings, threat assessments.

func init() {
	Register(statementEndpoints)
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	texts := map[string]any{"type": "object", "additionalProperties": str, "minProperties": 1, "description": "the text per language tag: {\"en\": …, \"ru\": …}"}
	signature := map[string]any{"type": "object", "properties": map[string]any{
		"id": str, "party": str, "signed_by": str, "text_sha256": str, "created": map[string]any{"type": "string", "format": "date-time"},
		"counts": map[string]any{"type": "boolean", "description": "false for a signature that names another text's hash or repeats the party's"}, "reason": str}}
	Schemas["Statement"] = map[string]any{
		"type":        "object",
		"description": "A statement and its state: agreed once both parties signed its text_sha256 (the SHA-256 of the RFC 8785 serialisation of texts).",
		"properties": map[string]any{
			"id": str, "channel": str, "kind": map[string]any{"enum": []string{"joint-statement", "minutes", "off-limits"}},
			"texts": texts, "text_sha256": str, "meeting_ref": str, "sectors": strs, "proposed_by": str,
			"created":    map[string]any{"type": "string", "format": "date-time"},
			"state":      map[string]any{"enum": []string{"proposed", "signed", "agreed", "invalid"}},
			"signed_by":  strs,
			"agreed_at":  map[string]any{"type": "string", "format": "date-time"},
			"problem":    str,
			"signatures": map[string]any{"type": "array", "items": signature},
		},
		"required": []string{"id", "channel", "kind", "texts", "text_sha256", "state", "signed_by", "signatures"},
	}
	Schemas["StatementProposal"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"channel": map[string]any{"type": "string", "description": "the channel's id or title"},
			"kind":    map[string]any{"enum": []string{"joint-statement", "minutes", "off-limits"}},
			"texts":   texts, "meeting_ref": str,
			"sectors": map[string]any{"type": "array", "items": str, "description": "off-limits only: sector codes"},
		},
		"required": []string{"channel", "kind", "texts"}, "additionalProperties": false,
	}
	Schemas["Meeting"] = map[string]any{
		"type":        "object",
		"description": "A meeting as it stands: the convening party's latest version, with its minutes' state.",
		"properties": map[string]any{
			"id": str, "channel": str, "name": str, "start": map[string]any{"type": "string", "format": "date-time"}, "convened_by": str,
			"participants": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"party": str, "name": str, "role": str}}},
			"agenda":       map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"title": str, "object_refs": strs}}},
			"minutes_ref":  str, "minutes": map[string]any{"$ref": "#/components/schemas/Statement"},
			"action_items": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"index": map[string]any{"type": "integer"}, "description": str, "owner": str, "due": map[string]any{"type": "string", "format": "date-time"},
				"status": map[string]any{"enum": []string{"open", "done", "dropped"}}, "overdue": map[string]any{"type": "boolean"}}}},
			"modified": map[string]any{"type": "string", "format": "date-time"}, "versions": map[string]any{"type": "integer"},
		},
		"required": []string{"id", "channel", "name", "start", "convened_by", "agenda", "action_items"},
	}
	level := map[string]any{"type": "integer", "minimum": 1, "maximum": 5}
	computed := map[string]any{"type": "object", "properties": map[string]any{"level": level, "score": map[string]any{"type": "number"}, "incidents": map[string]any{"type": "integer"}}}
	Schemas["Threat"] = map[string]any{
		"type":        "object",
		"description": "Per channel and sector: each party's latest stated level beside Parley's computed level and its trend. " + workflow.ThreatFormula,
		"properties": map[string]any{
			"as_of": map[string]any{"type": "string", "format": "date-time"}, "formula": str,
			"channels": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"channel": str, "title": str, "parties": strs, "off_limits": strs,
				"sectors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
					"sector": str, "off_limits": map[string]any{"type": "boolean"},
					"stated": map[string]any{"type": "object", "description": "by party name; null when the party stated none", "additionalProperties": map[string]any{
						"type": []string{"object", "null"}, "properties": map[string]any{"id": str, "level": level, "rationale": str,
							"valid_from": map[string]any{"type": "string", "format": "date-time"}, "previous": map[string]any{"type": "integer"},
							"changed_at": map[string]any{"type": "string", "format": "date-time"}}}},
					"computed": computed, "computed_7d_ago": computed, "computed_30d_ago": computed,
					"trend": map[string]any{"enum": []string{"rising", "falling", "steady"}},
				}}},
			}}},
		},
		"required": []string{"as_of", "formula", "channels"},
	}
}

type statementSign struct {
	TextSHA256 string `json:"text_sha256"`
}

type offLimitsProposal struct {
	Channel string            `json:"channel"`
	Texts   map[string]string `json:"texts"`
	Sectors []string          `json:"sectors"`
}

type statementProposal struct {
	Channel string `json:"channel"`
	workflow.StatementProposal
}

type meetingCreate struct {
	Channel string `json:"channel"`
	workflow.MeetingInput
}

type meetingAgenda struct {
	Items []workflow.AgendaItem `json:"items"`
}

type meetingMinutes struct {
	Texts map[string]string `json:"texts"`
}

type meetingAction struct {
	Description string    `json:"description,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Due         time.Time `json:"due,omitzero"`
	Index       *int      `json:"index,omitempty"`
	Status      string    `json:"status,omitempty"`
}

type assessment struct {
	Channel   string `json:"channel"`
	Sector    string `json:"sector"`
	Level     int    `json:"level"`
	Rationale string `json:"rationale"`
}

// signer is who signs through the API: the user's name and role.
func signer(r *http.Request) string {
	u := httpapi.UserFrom(r.Context())
	if u == nil {
		return "unknown"
	}
	return fmt.Sprintf("%s (%s)", u.Name, u.Role)
}

func statementEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	body := func(schema any) map[string]any {
		return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	resp := func(code, desc string, schema any) map[string]any {
		return map[string]any{code: map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}}
	}
	idOut := map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}, "required": []string{"id"}}
	idParam := func(what string) []any {
		return []any{map[string]any{"name": "id", "in": "path", "required": true, "description": what, "schema": map[string]any{"type": "string"}}}
	}
	channelParam := map[string]any{"name": "channel", "in": "query", "description": "one channel (id or title); all by default", "schema": map[string]any{"type": "string"}}
	obj := func(props map[string]any, required ...string) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	}
	str := map[string]any{"type": "string"}
	textsSchema := map[string]any{"type": "object", "additionalProperties": str, "minProperties": 1}
	stmtList := map[string]any{"type": "object", "properties": map[string]any{"statements": map[string]any{"type": "array", "items": ref("Statement")}}}
	return []Endpoint{
		{Method: http.MethodPost, Path: "/statements", Write: true, Handler: s.proposeStatement, Operation: map[string]any{
			"operationId": "proposeStatement", "summary": "Propose a statement (joint statement, minutes, off-limits) on a channel",
			"description": "Files a parley-statement with its texts per language and their hash (text_sha256, SHA-256 of the RFC 8785 serialisation of texts).",
			"requestBody": body(ref("StatementProposal")), "responses": resp("201", "The statement's id.", idOut)}},
		{Method: http.MethodPost, Path: "/statements/{id}/sign", Write: true, Handler: s.signStatement, Operation: map[string]any{
			"operationId": "signStatement", "summary": "Sign a statement's text by its hash, as this party",
			"description": "text_sha256 must be the statement's; a party signs once. The signature names the user and role.",
			"parameters":  idParam("the statement's id"),
			"requestBody": body(obj(map[string]any{"text_sha256": str}, "text_sha256")), "responses": resp("201", "The signature's id.", idOut)}},
		{Method: http.MethodGet, Path: "/statements", Handler: s.listStatements, Operation: map[string]any{
			"operationId": "listStatements", "summary": "List the statements and their state",
			"parameters": []any{channelParam, map[string]any{"name": "kind", "in": "query", "schema": map[string]any{"enum": []string{"joint-statement", "minutes", "off-limits"}}}},
			"responses":  resp("200", "The statements, oldest first.", stmtList)}},
		{Method: http.MethodGet, Path: "/statements/{id}", Handler: s.getStatement, Operation: map[string]any{
			"operationId": "getStatement", "summary": "A statement with its texts, signatures and state",
			"parameters": idParam("the statement's id"), "responses": resp("200", "The statement.", ref("Statement"))}},
		{Method: http.MethodPost, Path: "/offlimits", Write: true, Handler: s.proposeOffLimits, Operation: map[string]any{
			"operationId": "proposeOffLimits", "summary": "Propose the off-limits sectors of a channel (a statement of kind off-limits)",
			"requestBody": body(obj(map[string]any{"channel": str, "texts": textsSchema, "sectors": map[string]any{"type": "array", "items": str, "minItems": 1}}, "channel", "texts", "sectors")),
			"responses":   resp("201", "The statement's id.", idOut)}},
		{Method: http.MethodGet, Path: "/offlimits", Handler: s.getOffLimits, Operation: map[string]any{
			"operationId": "getOffLimits", "summary": "The agreed off-limits sectors of each channel and the off-limits statements",
			"parameters": []any{channelParam},
			"responses": resp("200", "agreed: the sectors of each channel's latest agreed off-limits statement, by channel id.", map[string]any{"type": "object", "properties": map[string]any{
				"agreed":     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": str}},
				"statements": map[string]any{"type": "array", "items": ref("Statement")}}})}},
		{Method: http.MethodPost, Path: "/meetings", Write: true, Handler: s.createMeeting, Operation: map[string]any{
			"operationId": "createMeeting", "summary": "Convene a meeting on a channel",
			"requestBody": body(obj(map[string]any{"channel": str, "name": str, "start": map[string]any{"type": "string", "format": "date-time"},
				"participants": map[string]any{"type": "array", "items": obj(map[string]any{"party": str, "name": str, "role": str}, "party", "name")},
				"agenda":       map[string]any{"type": "array", "items": obj(map[string]any{"title": str, "object_refs": map[string]any{"type": "array", "items": str}}, "title")}},
				"channel", "name", "start")),
			"responses": resp("201", "The meeting's id.", idOut)}},
		{Method: http.MethodPost, Path: "/meetings/{id}/agenda", Write: true, Handler: s.meetingAgenda, Operation: map[string]any{
			"operationId": "addAgenda", "summary": "Add items to a meeting's agenda (convening party only)",
			"parameters":  idParam("the meeting's id"),
			"requestBody": body(obj(map[string]any{"items": map[string]any{"type": "array", "minItems": 1, "items": obj(map[string]any{"title": str, "object_refs": map[string]any{"type": "array", "items": str}}, "title")}}, "items")),
			"responses":   resp("200", "The meeting.", ref("Meeting"))}},
		{Method: http.MethodPost, Path: "/meetings/{id}/minutes", Write: true, Handler: s.meetingMinutes, Operation: map[string]any{
			"operationId": "writeMinutes", "summary": "Write a meeting's minutes: a statement of kind minutes both parties sign (POST /statements/{id}/sign)",
			"parameters":  idParam("the meeting's id"),
			"requestBody": body(obj(map[string]any{"texts": textsSchema}, "texts")), "responses": resp("201", "The minutes statement's id.", idOut)}},
		{Method: http.MethodPost, Path: "/meetings/{id}/actions", Write: true, Handler: s.meetingAction, Operation: map[string]any{
			"operationId": "meetingAction", "summary": "Add an action item (description, owner, due) or set one's status (index, status)",
			"parameters": idParam("the meeting's id"),
			"requestBody": body(obj(map[string]any{"description": str, "owner": map[string]any{"type": "string", "description": "the owning party's name"},
				"due": map[string]any{"type": "string", "format": "date-time"}, "index": map[string]any{"type": "integer", "minimum": 0},
				"status": map[string]any{"enum": []string{"open", "done", "dropped"}}})),
			"responses": resp("200", "The meeting.", ref("Meeting"))}},
		{Method: http.MethodGet, Path: "/meetings/{id}", Handler: s.getMeeting, Operation: map[string]any{
			"operationId": "getMeeting", "summary": "A meeting: agenda, minutes and their state, action items",
			"parameters": idParam("the meeting's id"), "responses": resp("200", "The meeting.", ref("Meeting"))}},
		{Method: http.MethodPost, Path: "/assessments", Write: true, Handler: s.assess, Operation: map[string]any{
			"operationId": "assess", "summary": "State this party's threat level (1 low … 5 severe) for a sector, with the rationale",
			"requestBody": body(obj(map[string]any{"channel": str, "sector": str, "level": map[string]any{"type": "integer", "minimum": 1, "maximum": 5}, "rationale": str}, "channel", "sector", "level", "rationale")),
			"responses":   resp("201", "The assessment's id.", idOut)}},
		{Method: http.MethodGet, Path: "/threat", Handler: s.threat, Operation: map[string]any{
			"operationId": "threat", "summary": "Threat levels per sector: stated by each party, computed by Parley, and the trend",
			"description": workflow.ThreatFormula, "parameters": []any{channelParam},
			"responses": resp("200", "The threat picture.", ref("Threat"))}},
	}
}

func (s *Server) proposeStatement(w http.ResponseWriter, r *http.Request) {
	var in statementProposal
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).ProposeStatement(r.Context(), in.Channel, in.StatementProposal)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) signStatement(w http.ResponseWriter, r *http.Request) {
	var in statementSign
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).SignStatement(r.Context(), chi.URLParam(r, "id"), in.TextSHA256, signer(r))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) listStatements(w http.ResponseWriter, r *http.Request) {
	var kind workflow.StatementKind
	if k := r.URL.Query().Get("kind"); k != "" {
		var err error
		if kind, err = workflow.ParseStatementKind(k); err != nil {
			httpapi.Error(w, r, err)
			return
		}
	}
	sts, err := s.wf(r).Statements(r.Context(), r.URL.Query().Get("channel"), kind)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"statements": sts})
}

func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) {
	st, err := s.wf(r).StatementByID(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (s *Server) proposeOffLimits(w http.ResponseWriter, r *http.Request) {
	var in offLimitsProposal
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).ProposeStatement(r.Context(), in.Channel, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: in.Texts, Sectors: in.Sectors})
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) getOffLimits(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	channel := r.URL.Query().Get("channel")
	sts, err := s.wf(r).Statements(ctx, channel, workflow.StatementOffLimits)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	ids := map[string]bool{}
	for _, st := range sts {
		ids[st.Channel] = true
	}
	if channel != "" {
		ch, _, err := s.wf(r).Channel(ctx, channel)
		if err != nil {
			httpapi.Error(w, r, err)
			return
		}
		ids = map[string]bool{ch.ID: true}
	}
	var sorted []string
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	agreed := map[string][]string{}
	for _, id := range sorted {
		ch, _, err := s.wf(r).Channel(ctx, id)
		if err == nil {
			agreed[id], err = s.wf(r).OffLimits(ctx, ch)
		}
		if err != nil {
			httpapi.Error(w, r, err)
			return
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"agreed": agreed, "statements": sts})
}

func (s *Server) createMeeting(w http.ResponseWriter, r *http.Request) {
	var in meetingCreate
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).CreateMeeting(r.Context(), in.Channel, in.MeetingInput)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// meetingAfter answers the meeting as it stands after a change.
func (s *Server) meetingAfter(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	s.getMeeting(w, r)
}

func (s *Server) meetingAgenda(w http.ResponseWriter, r *http.Request) {
	var in meetingAgenda
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	s.meetingAfter(w, r, s.wf(r).AddAgenda(r.Context(), chi.URLParam(r, "id"), in.Items...))
}

func (s *Server) meetingMinutes(w http.ResponseWriter, r *http.Request) {
	var in meetingMinutes
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).MeetingMinutes(r.Context(), chi.URLParam(r, "id"), in.Texts)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) meetingAction(w http.ResponseWriter, r *http.Request) {
	var in meetingAction
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	if in.Index != nil {
		if in.Description != "" || in.Owner != "" || !in.Due.IsZero() {
			httpapi.Error(w, r, dialogue.Errorf("api.meetingAction", dialogue.KindInvalid, "index: give index and status to update an item, or description, owner and due to add one, not both"))
			return
		}
		s.meetingAfter(w, r, s.wf(r).SetActionStatus(r.Context(), id, *in.Index, in.Status))
		return
	}
	if in.Status != "" {
		httpapi.Error(w, r, dialogue.Errorf("api.meetingAction", dialogue.KindInvalid, "status: name the item to update with index"))
		return
	}
	_, err := s.wf(r).AddActionItem(r.Context(), id, in.Description, in.Owner, in.Due)
	s.meetingAfter(w, r, err)
}

func (s *Server) getMeeting(w http.ResponseWriter, r *http.Request) {
	m, err := s.wf(r).MeetingByID(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

func (s *Server) assess(w http.ResponseWriter, r *http.Request) {
	var in assessment
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).Assess(r.Context(), in.Channel, in.Sector, in.Level, in.Rationale)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) threat(w http.ResponseWriter, r *http.Request) {
	th, err := s.wf(r).Threat(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, th)
}
