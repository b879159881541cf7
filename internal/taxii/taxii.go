// Package taxii is Parley's TAXII 2.1 server and client: the discovery,
// API root, collection, objects, manifest, versions and status endpoints
// of the OASIS TAXII 2.1 specification over a dialogue.Store, and a client
// that pulls a remote collection into the local store.
//
// It must not reach SQL, choose HTTP statuses for error kinds (that table
// is httpapi's) or authenticate users (httpapi does; handlers read the
// user with httpapi.UserFrom). Objects are validated by package stix
// through package ingest, never here.
package taxii

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/stix"
)

// Media types of TAXII 2.1.
const (
	MediaTypeTAXII = "application/taxii+json;version=2.1"
	MediaTypeSTIX  = "application/stix+json;version=2.1"
)

// APIRoot is the name of the node's one API root: /taxii2/parley/.
const APIRoot = "parley"

// Defaults of Config.
const (
	DefaultMaxContentLength = 10 << 20
	DefaultMaxPageSize      = 1000
)

// Config configures a Server. Store is required.
type Config struct {
	Store dialogue.Store
	// BasePath is where the server is mounted ("/taxii2" by default); the
	// discovery resource's URLs are built from it.
	BasePath string
	// Title, Description and Contact describe the node in discovery.
	Title, Description, Contact string
	// APIRootTitle and APIRootDescription describe the API root.
	APIRootTitle, APIRootDescription string
	// MaxContentLength is the largest POST body accepted (413 beyond), and
	// the API root's max_content_length. DefaultMaxContentLength when 0.
	MaxContentLength int64
	// DefaultPageSize is the page size when a request gives no limit;
	// MaxPageSize caps limit. Both DefaultMaxPageSize when 0.
	DefaultPageSize, MaxPageSize int
	Logger                       *slog.Logger
	// Gate decides what each user may read and write (the node's, shared
	// with its other paths); a gate over Store when nil.
	Gate *dialogue.Gate
}

// Server serves TAXII 2.1. Mount it at Config.BasePath, behind
// httpapi's authentication.
type Server struct {
	cfg    Config
	store  dialogue.Store
	gate   *dialogue.Gate
	router chi.Router
}

// NewServer returns a TAXII server with the given configuration.
func NewServer(cfg Config) *Server {
	if cfg.BasePath == "" {
		cfg.BasePath = "/taxii2"
	}
	cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	if cfg.Title == "" {
		cfg.Title = "Parley node"
	}
	if cfg.Description == "" {
		cfg.Description = "STIX 2.1 content of a Parley node, shared over TAXII 2.1."
	}
	if cfg.APIRootTitle == "" {
		cfg.APIRootTitle = "Parley"
	}
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = DefaultMaxContentLength
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = DefaultMaxPageSize
	}
	if cfg.DefaultPageSize <= 0 || cfg.DefaultPageSize > cfg.MaxPageSize {
		cfg.DefaultPageSize = cfg.MaxPageSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Gate == nil {
		cfg.Gate = dialogue.NewGate(cfg.Store, stix.ReadTLP)
	}
	s := &Server{cfg: cfg, store: cfg.Store, gate: cfg.Gate}
	r := chi.NewRouter()
	r.Use(middleware.StripSlashes, checkAccept)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Error(w, r, dialogue.Errorf("taxii", dialogue.KindNotFound, "no TAXII resource at %s (the API root is %s/%s/)", r.URL.Path, cfg.BasePath, APIRoot))
	})
	r.MethodNotAllowed(httpapi.MethodNotAllowed("taxii"))
	r.Get("/", s.discovery)
	r.Route("/"+APIRoot, func(r chi.Router) {
		r.Get("/", s.apiRoot)
		r.Get("/collections", s.collections)
		r.Get("/collections/{collection}", s.collection)
		r.Get("/collections/{collection}/objects", s.getObjects)
		r.Post("/collections/{collection}/objects", s.postObjects)
		r.Get("/collections/{collection}/objects/{object}", s.getObject)
		r.Delete("/collections/{collection}/objects/{object}", s.deleteObject)
		r.Get("/collections/{collection}/objects/{object}/versions", s.versions)
		r.Get("/collections/{collection}/manifest", s.manifest)
		r.Get("/status/{status}", s.status)
	})
	s.router = r
	return s
}

// ServeHTTP serves a TAXII request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// checkAccept answers 406 unless the Accept header allows the TAXII 2.1
// media type: application/taxii+json with version 2.1 or no version,
// application/* or */*, or no Accept header at all.
func checkAccept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Values("Accept"); len(a) > 0 && !acceptsTAXII(strings.Join(a, ",")) {
			httpapi.Error(w, r, httpapi.WithStatus(http.StatusNotAcceptable, dialogue.Errorf("taxii", dialogue.KindInvalid,
				"Accept header %q does not allow %s", truncate(strings.Join(a, ","), 200), MediaTypeTAXII)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func acceptsTAXII(accept string) bool {
	for _, rng := range strings.Split(accept, ",") {
		rng = strings.TrimSpace(rng)
		if rng == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(rng)
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
			continue // q=0: explicitly not acceptable
		}
		switch mt {
		case "*/*", "application/*":
			return true
		case "application/taxii+json":
			if v, ok := params["version"]; !ok || v == "2.1" {
				return true
			}
		}
	}
	return false
}

func truncate(s string, n int) string { return dialogue.Clip(s, n) }

// user returns the authenticated user or a KindUnauthenticated error.
func user(r *http.Request) (*dialogue.User, error) {
	u := httpapi.UserFrom(r.Context())
	if u == nil {
		return nil, dialogue.Errorf("taxii", dialogue.KindUnauthenticated, "authentication required")
	}
	return u, nil
}

// need says what a handler needs in a collection.
type need uint8

const (
	needRead need = 1 << iota
	needWrite
	needAny // read or write: the collection resource itself
)

// collectionFor finds the collection in the URL (by id or alias) and
// checks that the user may do what the handler needs.
func (s *Server) collectionFor(r *http.Request, n need) (*dialogue.Collection, dialogue.Access, error) {
	const op = "taxii.collection"
	u, err := user(r)
	if err != nil {
		return nil, dialogue.Access{}, err
	}
	key := chi.URLParam(r, "collection")
	c, err := s.store.FindCollection(r.Context(), key)
	if err == nil && c.ID != key && c.Alias != key {
		err = dialogue.ErrNotFound // found by title: TAXII URLs name collections by id or alias
	}
	if err != nil {
		if errors.Is(err, dialogue.ErrNotFound) {
			return nil, dialogue.Access{}, dialogue.Errorf(op, dialogue.KindNotFound, "no collection %q in API root %s", truncate(key, 100), APIRoot)
		}
		return nil, dialogue.Access{}, dialogue.E(op, dialogue.KindOther, err)
	}
	acc, err := s.gate.Access(r.Context(), dialogue.UserViewer(u), c.ID)
	if err != nil {
		return nil, dialogue.Access{}, dialogue.E(op, dialogue.KindOther, err)
	}
	switch {
	case !acc.Read && !acc.Write:
		// Not there for this user (the gate): worded as for an unknown one.
		return nil, acc, dialogue.Errorf(op, dialogue.KindNotFound, "no collection %q in API root %s", truncate(key, 100), APIRoot)
	case n == needRead && !acc.Read:
		return nil, acc, dialogue.Errorf(op, dialogue.KindForbidden, "user %s may not read collection %s", u.Name, c.ID)
	case n == needWrite && !acc.Write:
		return nil, acc, dialogue.Errorf(op, dialogue.KindForbidden, "user %s may not write to collection %s", u.Name, c.ID)
	}
	return c, acc, nil
}

// Routes, Middlewares, Match and Find make the TAXII server a chi.Routes,
// so that chi.Walk over the node's router lists its routes (the
// authorization matrix test checks that each has an access rule).
func (s *Server) Routes() []chi.Route { return s.router.Routes() }

// Middlewares returns the TAXII router's middlewares (chi.Routes).
func (s *Server) Middlewares() chi.Middlewares { return s.router.Middlewares() }

// Match reports whether the TAXII server routes method and path (chi.Routes).
func (s *Server) Match(rctx *chi.Context, method, path string) bool {
	return s.router.Match(rctx, method, path)
}

// Find returns the TAXII pattern for method and path (chi.Routes).
func (s *Server) Find(rctx *chi.Context, method, path string) string {
	return s.router.Find(rctx, method, path)
}
