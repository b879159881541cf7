package blob

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// Handler serves the blobs of s: GET and HEAD /<64 lowercase hex digits>
// (below wherever it is mounted) answer the blob's bytes with range
// support (http.ServeContent), the ETag "sha256:<hex>", Content-Type
// application/octet-stream and X-Content-Type-Options: nosniff.
//
// A malformed name gets 400 with the reason; then allow decides, before
// anything about the blob is revealed: its error is answered with the
// status httpapi.StatusOf gives it. A blob not kept gets 404. Errors are
// TAXII error objects (httpapi.Error).
//
// allow is required (Handler panics without it): who may read which blob
// is the caller's decision.
func Handler(s *Store, allow func(r *http.Request, sum [32]byte) error) http.Handler {
	if allow == nil {
		panic("blob.Handler: allow is nil")
	}
	const op = "blob.Handler"
	serve := func(w http.ResponseWriter, r *http.Request) {
		sum, err := ParseName(chi.URLParam(r, "*"))
		if err != nil {
			httpapi.Error(w, r, dialogue.E(op, dialogue.KindInvalid, err))
			return
		}
		if err := allow(r, sum); err != nil {
			httpapi.Error(w, r, err)
			return
		}
		f, err := s.Open(sum)
		if err != nil {
			httpapi.Error(w, r, err)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("ETag", ETag(sum))
		h.Set("Content-Type", "application/octet-stream")
		h.Set("X-Content-Type-Options", "nosniff")
		// A blob's bytes never change under its name.
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
		http.ServeContent(w, r, "", time.Time{}, f)
	}
	r := chi.NewRouter()
	r.Get("/*", serve)
	r.Head("/*", serve)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		httpapi.Error(w, r, httpapi.WithStatus(http.StatusMethodNotAllowed,
			dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("method %s is not allowed on a blob; use GET or HEAD", r.Method))))
	})
	return r
}
