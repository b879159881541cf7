package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/httpapi"
)

// pageUI stands for the web UI: a BodyLimiter mounted at "/" whose
// /upload takes 8 KiB and which answers a body over its limit itself.
type pageUI struct{}

func (pageUI) MaxBodyBytes(r *http.Request) int64 {
	if r.URL.Path == "/upload" {
		return 8 << 10
	}
	return 1024
}

func (u pageUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > u.MaxBodyBytes(r) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, "<p>over the page's limit</p>")
		return
	}
	n, err := io.Copy(io.Discard, r.Body)
	if httpapi.IsTooLarge(err) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, "<p>read over the page's limit</p>")
		return
	}
	io.WriteString(w, "read "+strconv.FormatInt(n, 10))
}

// A BodyLimiter sets its own limit, above the server's, and answers a
// body over it itself; the handlers mounted beside it, at longer
// prefixes, keep the server's limit and its TAXII error.
func TestBodyLimiter(t *testing.T) {
	api := httpapi.New(httpapi.Config{Store: newStore(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 2048})
	api.MountPublic("/", pageUI{})
	api.MountPublic("/taxii2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		if httpapi.IsTooLarge(err) {
			httpapi.Error(w, r, httpapi.TooLarge(2048))
			return
		}
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	for _, c := range []struct {
		path    string
		size    int
		chunked bool
		status  int
		body    string
	}{
		{"/upload", 6 << 10, false, 200, "read 6144"},             // over the server's limit, under the page's
		{"/upload", 6 << 10, true, 200, "read 6144"},              // the same without Content-Length
		{"/upload", 9 << 10, false, 413, "over the page's limit"}, // the page answers, not httpapi
		{"/upload", 9 << 10, true, 413, "read over the page's limit"},
		{"/form", 1500, false, 413, "over the page's limit"},
		{"/taxii2/objects", 3000, false, 413, `"http_status":"413"`},
		{"/taxii2/objects", 3000, true, 413, `"http_status":"413"`},
		{"/taxii2/objects", 1500, false, 200, "ok"},
	} {
		var body io.Reader = strings.NewReader(strings.Repeat("x", c.size))
		if c.chunked {
			body = io.MultiReader(body) // no length known: sent chunked
		}
		resp, err := http.Post(srv.URL+c.path, "application/octet-stream", body)
		if err != nil {
			t.Fatalf("%s (%d bytes): %v", c.path, c.size, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(got), c.body) {
			t.Errorf("%s (%d bytes, chunked %v): %d %s, want %d %q", c.path, c.size, c.chunked, resp.StatusCode, got, c.status, c.body)
		}
	}
}
