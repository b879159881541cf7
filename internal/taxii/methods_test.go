package taxii_test

import (
	"fmt"
	"maps"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/taxii"
)

// TestHeadLikeGet checks that every TAXII resource answers HEAD as it
// answers GET, with the same status and headers and no body (RFC 9110
// section 9.3.2), errors included.
func TestHeadLikeGet(t *testing.T) {
	n := newNode(t, nodeOptions{tls: true, fixture: true})
	a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(indicator(1))})
	var st taxii.Status
	a.json(t, &st)
	col := apiRoot + "collections/" + colHigh + "/"
	for _, path := range []string{
		"/taxii2/",
		apiRoot,
		apiRoot + "collections/",
		col,
		col + "objects/",
		col + "objects/?limit=2",
		col + "objects/" + idInd3 + "/",
		col + "objects/" + idInd3 + "/versions/",
		col + "manifest/",
		apiRoot + "status/" + st.ID + "/",
		apiRoot + "collections/" + colSecret + "/objects/", // 404
		col + "objects/?limit=nope",                        // 400
	} {
		for _, user := range []string{"user1", ""} {
			get := n.do(t, req{path: path, user: user})
			head := n.do(t, req{method: http.MethodHead, path: path, user: user})
			what := fmt.Sprintf("HEAD %s (user %q)", path, user)
			if head.status != get.status {
				t.Errorf("%s: status %d, GET's %d", what, head.status, get.status)
			}
			if len(head.body) != 0 {
				t.Errorf("%s: a body of %d bytes", what, len(head.body))
			}
			gh, hh := get.header.Clone(), head.header.Clone()
			gh.Del("Date")
			hh.Del("Date")
			if !maps.EqualFunc(gh, hh, func(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				t.Errorf("%s: headers\n%v\nGET's\n%v", what, hh, gh)
			}
		}
	}
}

// TestMethodNotAllowed checks that a 405 names, in Allow, the methods
// the resource serves (RFC 9110 section 15.5.6).
func TestMethodNotAllowed(t *testing.T) {
	n := newNode(t, nodeOptions{tls: true, fixture: true})
	col := apiRoot + "collections/" + colHigh + "/"
	for _, x := range []struct{ method, path, allow string }{
		{http.MethodPost, "/taxii2/", "GET, HEAD"},
		{http.MethodPut, "/taxii2", "GET, HEAD"},
		{http.MethodDelete, apiRoot, "GET, HEAD"},
		{http.MethodPost, apiRoot + "collections/", "GET, HEAD"},
		{http.MethodDelete, col, "GET, HEAD"},
		{http.MethodPut, col + "objects/", "GET, HEAD, POST"},
		{http.MethodDelete, col + "objects/", "GET, HEAD, POST"},
		{http.MethodPost, col + "objects/" + idInd3 + "/", "GET, HEAD, DELETE"},
		{http.MethodPatch, col + "objects/" + idInd3, "GET, HEAD, DELETE"},
		{http.MethodPost, col + "objects/" + idInd3 + "/versions/", "GET, HEAD"},
		{http.MethodPost, col + "manifest/", "GET, HEAD"},
		{http.MethodDelete, apiRoot + "status/2d086da7-4bdc-4f91-900e-d77486753710/", "GET, HEAD"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
	} {
		a := n.do(t, req{method: x.method, path: x.path, user: "user1"})
		if a.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405: %s", x.method, x.path, a.status, a.body)
			continue
		}
		if got := a.header.Values("Allow"); len(got) != 1 || got[0] != x.allow {
			t.Errorf("%s %s: Allow %q, want %q", x.method, x.path, got, x.allow)
		}
		checkError(t, a, 405, "allowed: "+x.allow)
	}
}
