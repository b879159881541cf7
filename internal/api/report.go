package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	Register(reportEndpoints)
	Schemas["Report"] = map[string]any{
		"type":        "object",
		"description": "An incident report: a STIX report with Parley's property-extension (sectors, severity) and one TLP 2.0 marking.",
		"properties": map[string]any{
			"id":          map[string]any{"type": "string"},
			"channel":     map[string]any{"type": "string"},
			"from":        map[string]any{"type": "string", "description": "the reporting party's name"},
			"name":        map[string]any{"type": "string"},
			"created":     map[string]any{"type": "string", "format": "date-time"},
			"tlp":         map[string]any{"type": "string", "enum": []string{"clear", "green", "amber", "amber+strict", "red"}},
			"sectors":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"severity":    map[string]any{"type": "integer", "minimum": 1, "maximum": 5, "description": workflow.SeverityScale},
			"object_refs": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"objects":     map[string]any{"type": "array", "items": map[string]any{"type": "object"}, "description": "the report's objects (GET /reports/{id} only)"},
			"report":      map[string]any{"type": "object", "description": "the STIX report object"},
		},
		"required": []string{"id", "channel", "from", "tlp", "sectors", "severity", "object_refs", "report"},
	}
	Schemas["ReportFiling"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"channel": map[string]any{"type": "string", "description": "the channel's id or title"},
			"bundle":  map[string]any{"type": "object", "description": "a STIX 2.1 bundle: the report's objects besides the incident of title and the indicators of indicators"},
			"title": map[string]any{"type": "string", "maxLength": workflow.MaxTitle,
				"description": "the incident's name: with it the report holds an incident; required without a bundle and with a description"},
			"description": map[string]any{"type": "string", "maxLength": workflow.MaxDescription, "description": "the incident's description"},
			"indicators":  map[string]any{"type": "string", "description": "indicator lines, one a line (at most " + strconv.Itoa(workflow.MaxIndicators) + "): an IPv4 or IPv6 address, a network (CIDR), a domain, a URL, an e-mail address, an MD5, SHA-1, SHA-256 or SHA-512 hash, or a STIX pattern in brackets; empty lines and lines starting with # are skipped. Each becomes an indicator with that STIX pattern."},
			"tlp":         map[string]any{"type": "string", "enum": []string{"clear", "green", "amber", "amber+strict", "red"}},
			"sectors":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1, "description": "sector codes (US critical-infrastructure and EU NIS2)"},
			"severity":    map[string]any{"type": "integer", "minimum": 1, "maximum": 5, "description": workflow.SeverityScale},
			"recipients": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1,
				"description": "TLP:RED only, and required for it: the user names and role:ROLE who may read the report, on both nodes"},
		},
		"required":             []string{"channel", "tlp", "sectors", "severity"},
		"additionalProperties": false,
	}
}

// reportFiling is the body of POST /reports.
type reportFiling struct {
	Channel     string          `json:"channel"`
	Bundle      json.RawMessage `json:"bundle,omitempty"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Indicators  string          `json:"indicators,omitempty"`
	TLP         string          `json:"tlp"`
	Sectors     []string        `json:"sectors"`
	Severity    int             `json:"severity"`
	// Recipients of a TLP:RED report.
	Recipients []string `json:"recipients,omitempty"`
}

func reportEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	jsonBody := func(schema any) map[string]any {
		return map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	return []Endpoint{
		{
			Method: http.MethodPost, Path: "/reports", Write: true,
			Handler: s.fileReport,
			Operation: map[string]any{
				"operationId": "fileReport",
				"summary":     "File an incident report on a channel",
				"description": "Files the bundle's objects, the incident of title and description and an indicator per indicator line, and a report referencing them all, marked with the TLP 2.0 level (objects without a TLP marking get it too), with the sectors and the severity (" + workflow.SeverityScale + "). A refusal (400, INVALID) names every refused field, one a line, \"field: reason\", in the words the CLI and the web UI use.",
				"requestBody": map[string]any{"required": true, "content": jsonBody(ref("ReportFiling"))["content"]},
				"responses": map[string]any{"201": map[string]any{"description": "The report's id.", "content": jsonBody(map[string]any{
					"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}, "required": []string{"id"}})["content"]}},
			},
		},
		{
			Method: http.MethodGet, Path: "/reports",
			Handler: s.listReports,
			Operation: map[string]any{
				"operationId": "listReports",
				"summary":     "List the incident reports",
				"description": "Only the reports the user may see: a TLP:RED report is listed for its named recipients only.",
				"parameters": []any{map[string]any{"name": "channel", "in": "query", "required": false, "schema": map[string]any{"type": "string"},
					"description": "only this channel (id or title)"}},
				"responses": map[string]any{"200": map[string]any{"description": "The reports, oldest first.", "content": jsonBody(map[string]any{"type": "array", "items": ref("Report")})["content"]}},
			},
		},
		{
			Method: http.MethodGet, Path: "/reports/{id}",
			Handler: s.showReport,
			Operation: map[string]any{
				"operationId": "showReport",
				"summary":     "Show an incident report with its objects",
				"description": "A TLP:RED report is NOT-FOUND for the users it does not name; objects the user may not see are left out of objects.",
				"parameters":  []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
				"responses":   map[string]any{"200": map[string]any{"description": "The report.", "content": jsonBody(ref("Report"))["content"]}},
			},
		},
	}
}

func (s *Server) fileReport(w http.ResponseWriter, r *http.Request) {
	var in reportFiling
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := s.wf(r).FileReportFiling(r.Context(), workflow.ReportFiling{
		Channel: in.Channel, Bundle: in.Bundle, Title: in.Title, Description: in.Description, Indicators: in.Indicators,
		TLP: in.TLP, Sectors: in.Sectors, Severity: in.Severity, Recipients: in.Recipients,
	})
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) {
	rs, err := s.wf(r).ReportsFor(r.Context(), httpapi.UserFrom(r.Context()), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if rs == nil {
		rs = []*workflow.Report{}
	}
	WriteJSON(w, http.StatusOK, rs)
}

func (s *Server) showReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.wf(r).ReportFor(r.Context(), httpapi.UserFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, rep)
}
