package api

import (
	"net/http"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	Register(routeEndpoints)
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	count := map[string]any{"type": "integer", "minimum": 0}
	reasons := []string{workflow.UnroutedNoParty, workflow.UnroutedUnknown, workflow.UnroutedMixed, workflow.UnroutedUnresolved}
	Schemas["RouteFiling"] = map[string]any{
		"type":        "object",
		"description": "A request to route by territory: one request per party whose territory holds some of the infrastructure.",
		"properties": map[string]any{
			"about": strs, "infrastructure": strs, "text": str, "name": str, "sectors": strs,
			"channels": map[string]any{"type": "object", "additionalProperties": str,
				"description": "peer name → channel (id or title) its request goes on; default: its oldest active channel"},
		},
		"required":             []string{"about", "infrastructure", "text"},
		"additionalProperties": false,
	}
	unrouted := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"value": str, "territory": map[string]any{"type": "string", "pattern": "^[A-Z]{2}$"},
			"reason": map[string]any{"type": "string", "enum": reasons},
		},
		"required": []string{"value", "reason"},
	}
	Schemas["Unrouted"] = unrouted
	Schemas["Routing"] = map[string]any{
		"type":        "object",
		"description": "The requests filed, one per party, and the items that went to none (kept in every request filed).",
		"properties": map[string]any{
			"requests": map[string]any{"type": "array", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id": str, "peer": str, "territory": str, "channel": str, "about": strs,
					"infrastructure": map[string]any{"type": "array", "items": map[string]any{
						"type":       "object",
						"properties": map[string]any{"value": str, "territory": str, "resolved": strs},
						"required":   []string{"value", "territory"},
					}},
				},
				"required": []string{"id", "peer", "territory", "channel", "about", "infrastructure"},
			}},
			"unrouted": map[string]any{"type": "array", "items": unrouted},
		},
		"required": []string{"requests", "unrouted"},
	}
	row := func(key string, keySchema any) map[string]any {
		return map[string]any{"type": "object", "properties": map[string]any{key: keySchema, "reports": count, "addresses": count},
			"required": []string{key, "reports", "addresses"}}
	}
	Schemas["Origins"] = map[string]any{
		"type":        "object",
		"description": "A channel's origin figures: per party, its incident reports by the territory and the autonomous system of the infrastructure they name (\"\" and 0: unknown or mixed), and the databases the records came from.",
		"properties": map[string]any{
			"channel": str, "title": str,
			"parties": map[string]any{"type": "array", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"party": str, "reports": count, "with_addresses": count,
					"territories": map[string]any{"type": "array", "items": row("territory", str)},
					"asns": map[string]any{"type": "array", "items": func() map[string]any {
						r := row("asn", count)
						r["properties"].(map[string]any)["as_org"] = str
						return r
					}()},
				},
				"required": []string{"party", "reports", "with_addresses", "territories", "asns"},
			}},
			"databases": map[string]any{"type": "array", "items": map[string]any{"type": "object",
				"properties": map[string]any{"type": str, "built": map[string]any{"type": "string", "format": "date-time"}}}},
		},
		"required": []string{"channel", "parties", "databases"},
	}
}

func routeEndpoints(s *Server) []Endpoint {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	content := func(schema any) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	return []Endpoint{
		{
			Method: http.MethodPost, Path: "/requests/route", Write: true, Handler: s.routeRequest,
			Operation: map[string]any{
				"operationId": "routeRequest",
				"summary":     "File an assistance request to each party whose territory holds some of the infrastructure",
				"requestBody": map[string]any{"required": true, "content": content(ref("RouteFiling"))},
				"responses": map[string]any{
					"201": map[string]any{"description": "The requests filed and the items routed to no party.", "content": content(ref("Routing"))},
				},
			},
		},
		{
			Method: http.MethodGet, Path: "/origins", Handler: s.origins,
			Operation: map[string]any{
				"operationId": "origins",
				"summary":     "Attacks by origin territory and by autonomous system, for both parties of each channel",
				"parameters": []any{
					map[string]any{"name": "channel", "in": "query", "schema": map[string]any{"type": "string"}, "description": "only this channel (id or title)"},
				},
				"responses": map[string]any{"200": map[string]any{"description": "The figures, per channel.", "content": content(map[string]any{"type": "array", "items": ref("Origins")})}},
			},
		},
	}
}

func (s *Server) routeRequest(w http.ResponseWriter, r *http.Request) {
	var in workflow.RouteFiling
	if err := DecodeJSON(r, &in); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if s.Geo == nil {
		httpapi.Error(w, r, dialogue.Errorf("api.routeRequest", dialogue.KindConflict, "this node has no GeoIP database: put .mmdb files in its geoip folder, or list them in its configuration's \"geoip\" field, and restart it"))
		return
	}
	res, err := s.wf(r).RouteRequest(r.Context(), s.Geo, in)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, res)
}

func (s *Server) origins(w http.ResponseWriter, r *http.Request) {
	os, err := s.wf(r).Origins(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, os)
}
