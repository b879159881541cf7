package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
)

// serveStore serves s's blobs under /blobs on a real server on
// 127.0.0.1, as the node mounts them (a chi router).
func serveStore(t testing.TB, s *Store, allow func(*http.Request, [32]byte) error) *httptest.Server {
	t.Helper()
	if allow == nil {
		allow = func(*http.Request, [32]byte) error { return nil }
	}
	mux := chi.NewRouter()
	mux.Mount("/blobs", Handler(s, allow))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func putBytes(t testing.TB, s *Store, data []byte) [32]byte {
	t.Helper()
	sum, _, err := s.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func do(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// description is the description of a TAXII error object.
func description(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Description string `json:"description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Description
}

func TestHandlerServes(t *testing.T) {
	s := newStore(t)
	data := randomBytes(3, 100_000)
	sum := putBytes(t, s, data)
	srv := serveStore(t, s, nil)
	url := srv.URL + "/blobs/" + Hex(sum)

	resp, body := do(t, "GET", url, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET = %s with %d bytes; want 200 with the blob's %d", resp.Status, len(body), len(data))
	}
	for k, v := range map[string]string{
		"ETag":                   `"sha256:` + Hex(sum) + `"`,
		"Content-Type":           "application/octet-stream",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         "100000",
		"Accept-Ranges":          "bytes",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	resp, body = do(t, "HEAD", url, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != "100000" {
		t.Errorf("HEAD = %s, %d body bytes, Content-Length %q", resp.Status, len(body), resp.Header.Get("Content-Length"))
	}

	resp, body = do(t, "GET", url, map[string]string{"Range": "bytes=1000-1999"})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[1000:2000]) {
		t.Errorf("GET with Range = %s with %d bytes; want 206 with bytes 1000-1999", resp.Status, len(body))
	}
	if got := resp.Header.Get("Content-Range"); got != "bytes 1000-1999/100000" {
		t.Errorf("Content-Range = %q", got)
	}

	resp, body = do(t, "GET", url, map[string]string{"Range": "bytes=99000-", "If-Range": ETag(sum)})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[99000:]) {
		t.Errorf("GET with Range and a matching If-Range = %s with %d bytes; want 206", resp.Status, len(body))
	}
	resp, body = do(t, "GET", url, map[string]string{"Range": "bytes=99000-", "If-Range": `"sha256:other"`})
	if resp.StatusCode != 200 || len(body) != len(data) {
		t.Errorf("GET with Range and another If-Range = %s with %d bytes; want 200 and the whole blob", resp.Status, len(body))
	}
	resp, _ = do(t, "GET", url, map[string]string{"Range": "bytes=200000-"})
	if resp.StatusCode != 416 {
		t.Errorf("GET with a range past the end = %s, want 416", resp.Status)
	}
	resp, body = do(t, "GET", url, map[string]string{"If-None-Match": ETag(sum)})
	if resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("GET with If-None-Match = %s, want 304", resp.Status)
	}
}

func TestHandlerErrors(t *testing.T) {
	s := newStore(t)
	kept := putBytes(t, s, []byte("kept"))
	secret := putBytes(t, s, []byte("secret"))
	missing := sha256.Sum256([]byte("missing"))
	var asked [][32]byte
	srv := serveStore(t, s, func(r *http.Request, sum [32]byte) error {
		asked = append(asked, sum)
		switch {
		case r.Header.Get("X-Test-User") == "":
			return dialogue.Errorf("test", dialogue.KindUnauthenticated, "who are you?")
		case sum == secret:
			return dialogue.Errorf("test", dialogue.KindForbidden, "blob %s is not shared with you", Hex(sum))
		}
		return nil
	})
	user := map[string]string{"X-Test-User": "b"}

	resp, body := do(t, "GET", srv.URL+"/blobs/"+Hex(kept), user)
	if resp.StatusCode != 200 || string(body) != "kept" {
		t.Fatalf("GET allowed blob = %s %q", resp.Status, body)
	}
	if len(asked) != 1 || asked[0] != kept {
		t.Errorf("allow was asked about %x, want only %x", asked, kept)
	}

	for _, tc := range []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		want   string
	}{
		{"unauthenticated", "GET", "/blobs/" + Hex(kept), nil, 401, "who are you?"},
		{"forbidden", "GET", "/blobs/" + Hex(secret), user, 403, "is not shared with you"},
		// allow decides before existence is revealed.
		{"forbidden missing", "GET", "/blobs/" + Hex(missing), nil, 401, "who are you?"},
		{"missing", "GET", "/blobs/" + Hex(missing), user, 404, "blob sha256:" + Hex(missing) + " is not kept here"},
		{"missing HEAD", "HEAD", "/blobs/" + Hex(missing), user, 404, ""},
		{"POST", "POST", "/blobs/" + Hex(kept), user, 405, "method POST is not allowed on a blob; use GET or HEAD"},
		{"DELETE", "DELETE", "/blobs/" + Hex(kept), user, 405, "use GET or HEAD"},
		{"empty name", "GET", "/blobs/", user, 400, "got 0 characters"},
		{"short", "GET", "/blobs/abc", user, 400, `blob name "abc": want 64 lowercase hexadecimal digits (a SHA-256), got 3 characters`},
		{"uppercase", "GET", "/blobs/" + strings.ToUpper(Hex(kept)), user, 400, "want a lowercase hexadecimal digit"},
		{"prefixed", "GET", "/blobs/sha256:" + Hex(kept), user, 400, "got 71 characters"},
		{"extra segment", "GET", "/blobs/" + Hex(kept) + "/x", user, 400, "got 66 characters"},
		{"trailing slash", "GET", "/blobs/" + Hex(kept) + "/", user, 400, "got 65 characters"},
		{"escaped", "GET", "/blobs/%2e%2e%2f" + Hex(kept)[9:], user, 400, `character 1 is '%'`},
		{"not hex", "GET", "/blobs/" + strings.Repeat("z", 64), user, 400, `character 1 is 'z'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %s; want %d (body %s)", tc.method, tc.path, resp.Status, tc.status, body)
			}
			if tc.method == "HEAD" {
				return
			}
			if d := description(t, body); !strings.Contains(d, tc.want) {
				t.Errorf("description %q; want it to say %q", d, tc.want)
			}
			if tc.status == 400 && len(asked) != 0 {
				t.Errorf("allow was asked about a malformed name")
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestHandlerNeedsAllow(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler with a nil allow did not panic")
		}
	}()
	Handler(newStore(t), nil)
}
