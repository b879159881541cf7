package server_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestHeadAndAllowOnEveryMount checks, on a served node, that HEAD is
// answered as GET (same status, same headers, no body) on the TAXII
// server, the JSON API, the metrics and the web UI, and that a 405 of the
// API or of TAXII carries an Allow header naming the methods of the
// resource. (A method /metrics does not serve goes on to the web UI, which
// answers 404 to any path it does not know.)
func TestHeadAndAllowOnEveryMount(t *testing.T) {
	s, c := startHeadersNode(t, false)
	do := func(method, path string, user bool) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, nil)
		if user {
			req.SetBasicAuth("olga", "password-olga")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	// comparable drops what differs from one answer to the next: the date,
	// and the values of new cookies (a sign-in form's CSRF token).
	comparable := func(h http.Header) string {
		h = h.Clone()
		h.Del("Date")
		var cookies []string
		for _, c := range h.Values("Set-Cookie") {
			name, _, _ := strings.Cut(c, "=")
			cookies = append(cookies, name)
		}
		h.Del("Set-Cookie")
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range h {
				if !yield(k) {
					return
				}
			}
		})
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s: %q\n", k, h[k])
		}
		fmt.Fprintf(&b, "cookies: %q\n", cookies)
		return b.String()
	}
	for _, x := range []struct {
		path string
		user bool
	}{
		{"/taxii2/", true},
		{"/taxii2/parley/collections/", true},
		{"/taxii2/parley/collections/", false},
		{"/api/deadlines", true},
		{"/api/deadlines", false},
		{"/api/openapi.json", false},
		{"/metrics", true},
		{"/login", false},
		{"/inbox", false},
		{"/assets/style.css", false},
		{"/no-such-page", false},
	} {
		get, _ := do(http.MethodGet, x.path, x.user)
		head, body := do(http.MethodHead, x.path, x.user)
		what := fmt.Sprintf("HEAD %s (user %v)", x.path, x.user)
		if head.StatusCode != get.StatusCode {
			t.Errorf("%s: %d, GET's %d", what, head.StatusCode, get.StatusCode)
		}
		if len(body) != 0 {
			t.Errorf("%s: a body of %d bytes", what, len(body))
		}
		if head.Header.Get("Content-Length") == "" {
			// RFC 9110 section 9.3.2 lets HEAD leave out a header known only
			// by writing the body; net/http's Redirect does so.
			get.Header.Del("Content-Length")
		}
		if g, h := comparable(get.Header), comparable(head.Header); g != h {
			t.Errorf("%s: headers\n%s\nGET's\n%s", what, h, g)
		}
	}
	for _, x := range []struct{ method, path, allow string }{
		{http.MethodPatch, "/api/summary", "GET, HEAD"},
		{http.MethodDelete, "/api/deadlines", "GET, HEAD, PUT"},
		{http.MethodPut, "/api/reports", "GET, HEAD, POST"},
		{http.MethodDelete, "/taxii2/parley/", "GET, HEAD"},
	} {
		resp, body := do(x.method, x.path, true)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405: %s", x.method, x.path, resp.StatusCode, body)
			continue
		}
		if got := resp.Header.Values("Allow"); len(got) != 1 || got[0] != x.allow {
			t.Errorf("%s %s: Allow %q, want %q", x.method, x.path, got, x.allow)
		}
	}
}
