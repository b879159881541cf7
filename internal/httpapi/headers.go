package httpapi

import "net/http"

// HSTS is the Strict-Transport-Security header of every HTTPS answer: two
// years. A node is served over HTTPS only (plain HTTP is for local
// experiments), so a browser that once reached it must not try plain HTTP.
const HSTS = "max-age=63072000"

// headers sets the headers every answer of the node carries, whatever
// handler answers it and whether it succeeds or fails:
//
//   - Strict-Transport-Security (HSTS) on HTTPS, never on plain HTTP,
//     where a browser ignores it and it would promise what is not served;
//   - X-Content-Type-Options: nosniff, so that no body is read as another
//     media type than it says;
//   - Cache-Control: no-store, since answers are per user and change.
//
// A handler whose answer may be kept says so by setting its own
// Cache-Control (the log's immutable tiles, blobs by hash, the web UI's
// assets), which replaces the default.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", HSTS)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
