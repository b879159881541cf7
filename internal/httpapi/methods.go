package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
)

// routeMethods are the methods a route may be registered for, in the
// order an Allow header lists them.
var routeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete,
}

// headAsGet routes a HEAD request as a GET one, through every router
// below (they share the route context), so that every resource served to
// GET is served to HEAD with the same status and headers (RFC 9110
// section 9.3.2). The handler still sees the method HEAD, and net/http
// sends no body for it.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RouteMethod == "" {
				rctx.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowedMethods returns the methods the node's router serves at the path
// of r, HEAD wherever GET is, in a fixed order. It asks the router the
// request entered (chi's route context), with the whole path, so that a
// handler of a mounted router gets the same answer as the node's. A path
// with a trailing slash that no route matches is asked again without it,
// as routers that strip slashes (TAXII's) route it.
func allowedMethods(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return nil
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	allowed := allowedAt(rctx.Routes, path)
	if len(allowed) == 0 && len(path) > 1 && strings.HasSuffix(path, "/") {
		allowed = allowedAt(rctx.Routes, strings.TrimSuffix(path, "/"))
	}
	return allowed
}

func allowedAt(rt chi.Routes, path string) []string {
	var out []string
	for _, m := range routeMethods {
		probe := m
		if m == http.MethodHead {
			probe = http.MethodGet // headAsGet
		}
		if routes(rt, probe, path) {
			out = append(out, m)
		}
	}
	return out
}

// routes reports whether rt routes method at path. chi's Find stops at a
// mount's own path (its stub, which takes every method and hands the
// request on to the mounted router at "/"), and it also goes no further
// for a mounted router nested in another; so routes follows each mount
// itself, into the mounted router with the rest of the path, as the
// mount does when it routes.
func routes(rt chi.Routes, method, path string) bool {
	pattern := rt.Find(chi.NewRouteContext(), method, path)
	if pattern == "" {
		return false
	}
	best := ""
	var sub chi.Routes
	for _, route := range rt.Routes() {
		if route.SubRoutes == nil || !strings.HasSuffix(route.Pattern, "/*") {
			continue
		}
		prefix := strings.TrimSuffix(route.Pattern, "/*")
		if (pattern == prefix || strings.HasPrefix(pattern, prefix+"/")) && (sub == nil || len(prefix) > len(best)) {
			best, sub = prefix, route.SubRoutes
		}
	}
	if sub == nil || !strings.HasPrefix(path, best) {
		return true
	}
	rest := strings.TrimPrefix(path, best)
	if rest == "" {
		rest = "/"
	}
	return routes(sub, method, rest)
}

// MethodNotAllowed returns the handler of a router for a request whose
// method it does not serve at that path: 405 with an Allow header listing
// the methods it does serve (RFC 9110 section 15.5.6) and an error object
// naming them. op names the router in the error.
func MethodNotAllowed(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := allowedMethods(r)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		msg := "method %s is not allowed on %s"
		if len(allowed) > 0 {
			msg += "; allowed: " + strings.Join(allowed, ", ")
		}
		Error(w, r, WithStatus(http.StatusMethodNotAllowed, dialogue.Errorf(op, dialogue.KindInvalid, msg, r.Method, dialogue.Clip(r.URL.Path, 200))))
	}
}
