// Package api is the node's JSON API for the dialogue's workflows, under
// /api/, and its OpenAPI 3.1 description at /api/openapi.json. Each
// capability registers its endpoints from its own file (see Register) with
// the OpenAPI operation that describes it, so the document and the routes
// cannot drift apart: a test checks every route is described and every
// described path is routed.
//
// Handlers are thin: they decode, call internal/workflow, and encode;
// errors go through httpapi.Error (one kind → status table). It must not
// hold workflow rules of its own.
package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// Endpoint is one route of the API with its OpenAPI operation.
type Endpoint struct {
	Method string // GET, POST, ...
	// Path is the route under /api, in OpenAPI form: "/requests/{id}".
	Path    string
	Handler http.HandlerFunc
	// Operation is the OpenAPI 3.1 operation object (summary, parameters,
	// requestBody, responses, ...); tags and security are filled in.
	Operation map[string]any
	// Write marks an endpoint that changes something: it needs a role that
	// may write (expert, duty, admin).
	Write bool
}

// registry holds the capabilities' endpoint constructors.
var registry []func(*Server) []Endpoint

// Register adds a capability's endpoints; call it from an init function.
func Register(f func(*Server) []Endpoint) { registry = append(registry, f) }

// Schemas holds the OpenAPI component schemas the capabilities share, by
// name; capabilities add theirs from init functions.
var Schemas = map[string]any{
	"Error": map[string]any{
		"type":        "object",
		"description": "A TAXII 2.1 error message: what went wrong and why.",
		"properties": map[string]any{
			"title":       map[string]any{"type": "string"},
			"description": map[string]any{"type": "string"},
			"http_status": map[string]any{"type": "string"},
		},
		"required": []string{"title"},
	},
}

// Server serves the API.
type Server struct {
	WF     *workflow.Service
	Logger *slog.Logger
	// Geo are the node's GeoIP databases, which POST /requests/route
	// needs (nil: that endpoint answers that the node has none). Set it
	// before serving.
	Geo *geo.DB

	router    chi.Router
	endpoints []Endpoint
}

// New returns the API over the workflows, to mount at /api behind the
// node's user authentication (httpapi's Mount).
func New(wf *workflow.Service, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{WF: wf, Logger: logger, router: chi.NewRouter()}
	s.router.MethodNotAllowed(httpapi.MethodNotAllowed("api"))
	for _, f := range registry {
		s.endpoints = append(s.endpoints, f(s)...)
	}
	for _, e := range s.endpoints {
		h := e.Handler
		if e.Write {
			h = requireWrite(h)
		}
		s.router.Method(e.Method, e.Path, h)
	}
	s.router.Get("/openapi.json", s.ServeOpenAPI)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Endpoints lists the routes, for tests.
func (s *Server) Endpoints() []Endpoint { return s.endpoints }

func requireWrite(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := httpapi.UserFrom(r.Context())
		if u == nil || !u.Role.CanWrite() {
			role := "none"
			if u != nil {
				role = string(u.Role)
			}
			httpapi.Error(w, r, dialogue.Errorf("api", dialogue.KindForbidden, "%s %s changes the record: it needs the role expert, duty or admin (yours: %s)", r.Method, r.URL.Path, role))
			return
		}
		next(w, r)
	}
}

// OpenAPI returns the OpenAPI 3.1 document of the registered endpoints.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, e := range s.endpoints {
		op := map[string]any{}
		for k, v := range e.Operation {
			op[k] = v
		}
		if _, ok := op["responses"]; !ok {
			op["responses"] = map[string]any{"200": map[string]any{"description": "OK"}}
		}
		responses := op["responses"].(map[string]any)
		for _, code := range []string{"400", "401", "403", "404", "409"} {
			if _, ok := responses[code]; !ok {
				responses[code] = map[string]any{"$ref": "#/components/responses/Error"}
			}
		}
		p, _ := paths[e.Path].(map[string]any)
		if p == nil {
			p = map[string]any{}
			paths[e.Path] = p
		}
		p[strings.ToLower(e.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Parley node JSON API",
			"version":     "1.0.0",
			"description": "The dialogue's workflows on one Parley node: incident reports, assistance requests, hotline, communication checks, threat assessments, meetings, statements, figures and the leadership summary. Every item is a STIX 2.1 object in a channel, an entry of the node's signed log.",
		},
		"servers":  []any{map[string]any{"url": "/api"}},
		"security": []any{map[string]any{"basic": []string{}}, map[string]any{"bearer": []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas": Schemas,
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "The request failed: the body says what and why.",
					"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
				},
			},
			"securitySchemes": map[string]any{
				"basic":  map[string]any{"type": "http", "scheme": "basic"},
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API token from 'parley token create'."},
			},
		},
	}
}

// ServeOpenAPI answers the OpenAPI document.
func (s *Server) ServeOpenAPI(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.OpenAPI())
}

// Paths lists the described paths, sorted, for tests.
func (s *Server) Paths() []string {
	var out []string
	for p := range s.OpenAPI()["paths"].(map[string]any) {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// MaxBody caps a JSON request body.
const MaxBody = 1 << 20

// DecodeJSON reads a request body strictly into v: unknown fields and
// trailing data are errors of kind KindInvalid that name the field.
func DecodeJSON(r *http.Request, v any) error {
	const op = "api.DecodeJSON"
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return dialogue.Errorf(op, dialogue.KindInvalid, "reading the request body: %v", err)
	}
	if len(body) > MaxBody {
		return dialogue.Errorf(op, dialogue.KindTooLarge, "request body over %d bytes", MaxBody)
	}
	// encoding/json would take the last of two members of one name and
	// round numbers no other reader reads alike
	if err := stix.CheckJSON(body); err != nil {
		es := err.(stix.Errors)
		if es[0].Pointer != "" {
			return dialogue.Errorf(op, dialogue.KindInvalid, "request body: %s (at %s)", es[0].Message, es[0].Pointer)
		}
		return dialogue.Errorf(op, dialogue.KindInvalid, "request body: %s", es[0].Message)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return dialogue.Errorf(op, dialogue.KindInvalid, "request body: %v", err)
	}
	if dec.More() {
		return dialogue.Errorf(op, dialogue.KindInvalid, "request body: data after the JSON value")
	}
	return nil
}

// Routes, Middlewares, Match and Find make the API a chi.Routes, so that
// chi.Walk over the node's router lists the API's routes (the
// authorization matrix test checks that each has an access rule).
func (s *Server) Routes() []chi.Route { return s.router.Routes() }

// Middlewares returns the API router's middlewares (chi.Routes).
func (s *Server) Middlewares() chi.Middlewares { return s.router.Middlewares() }

// Match reports whether the API routes method and path (chi.Routes).
func (s *Server) Match(rctx *chi.Context, method, path string) bool {
	return s.router.Match(rctx, method, path)
}

// Find returns the API's pattern for method and path (chi.Routes).
func (s *Server) Find(rctx *chi.Context, method, path string) string {
	return s.router.Find(rctx, method, path)
}
