package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/dialogue"
)

// MediaTypeTAXII is the media type of every TAXII 2.1 response body,
// error objects included.
const MediaTypeTAXII = "application/taxii+json;version=2.1"

// statusOfKind is the one table that maps an error kind to an HTTP status.
// Every handler of the node chooses its status through it.
var statusOfKind = map[dialogue.Kind]int{
	dialogue.KindOther:           http.StatusInternalServerError,
	dialogue.KindInvalid:         http.StatusBadRequest,
	dialogue.KindNotFound:        http.StatusNotFound,
	dialogue.KindConflict:        http.StatusConflict,
	dialogue.KindForbidden:       http.StatusForbidden,
	dialogue.KindUnauthenticated: http.StatusUnauthorized,
	dialogue.KindUnavailable:     http.StatusServiceUnavailable,
	dialogue.KindTooLarge:        http.StatusRequestEntityTooLarge,
	dialogue.KindDiskFull:        http.StatusInsufficientStorage,
}

// StatusOf returns the HTTP status for err: the one a StatusError in its
// chain names, else the table's status for its kind (500 for KindOther and
// for an error that carries no kind).
func StatusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	if s, ok := statusOfKind[dialogue.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// KindOfStatus is the inverse of the table, for clients reading a remote
// node's answer: the kind whose status is status, else KindInvalid for
// other 4xx and KindUnavailable for other 5xx statuses. A remote node's
// full disk (507) is KindUnavailable here: it is not this node's disk,
// and this node must not answer its own clients 507 for it.
func KindOfStatus(status int) dialogue.Kind {
	for k, s := range statusOfKind {
		if s == status && k != dialogue.KindOther && k != dialogue.KindDiskFull {
			return k
		}
	}
	switch {
	case status >= 500:
		return dialogue.KindUnavailable
	case status >= 400:
		return dialogue.KindInvalid
	}
	return dialogue.KindOther
}

// StatusError is an error that must be answered with a given HTTP status
// whatever its kind says: 405, 406, 415 and 422 have no kind of their own.
// Its Err keeps a kind for logs and callers.
type StatusError struct {
	Status int
	Err    error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// WithStatus wraps err so that Error answers it with status.
func WithStatus(status int, err error) error {
	if err == nil {
		return nil
	}
	return &StatusError{Status: status, Err: err}
}

// ErrorObject is a TAXII 2.1 error message (section 3.6.1).
type ErrorObject struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ErrorID     string `json:"error_id,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	HTTPStatus  string `json:"http_status,omitempty"`
}

// Error answers err as a TAXII error object with the TAXII media type.
// The status comes from StatusOf unless err carries a StatusError; the
// description is dialogue.Message(err), so internal details never leak.
// Server-side errors (5xx) are logged through the request's logger with
// their whole text; the client is told "internal error", or "the disk is
// full" for KindDiskFull (507), which the client cannot cure but should
// know is no fault of its request.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	var se *StatusError
	errors.As(err, &se)
	desc := dialogue.Message(err)
	if status >= 500 {
		LoggerFrom(r.Context()).ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if dialogue.KindOf(err) != dialogue.KindDiskFull {
			desc = "internal error"
		}
	} else if se != nil && dialogue.KindOf(err) == dialogue.KindOther {
		// A StatusError around a plain error: its text is meant for the client.
		desc = messageOf(se.Err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="parley", charset="UTF-8"`)
	}
	writeJSON(w, status, ErrorObject{
		Title:       http.StatusText(status),
		Description: desc,
		HTTPStatus:  strconv.Itoa(status),
	})
}

// messageOf is dialogue.Message without the replacement of untyped errors.
func messageOf(err error) string {
	var e *dialogue.Error
	for errors.As(err, &e) {
		err = e.Err
	}
	return err.Error()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"title":"Internal Server Error","http_status":"500"}`)
	}
	h := w.Header()
	h.Set("Content-Type", MediaTypeTAXII)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}
