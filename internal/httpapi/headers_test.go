package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// headersServer serves each kind of mount over HTTPS (tls) or plain HTTP:
// /user (Mount), /shared (MountShared), /peer (MountPeer), /public
// (MountPublic), /fails (an error), /cached (a handler that sets its own
// Cache-Control). It returns the base URL.
func headersServer(t *testing.T, tls bool, peerPin string) (string, *identity) {
	t.Helper()
	id := newIdentity(t, "node-a")
	api := httpapi.New(httpapi.Config{Store: newStore(t), Peers: newPeerBook(&dialogue.Peer{Name: "node-b", TLSPin: peerPin}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Insecure: !tls, MaxBodyBytes: 1024})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	api.Mount("/user", ok)
	api.MountShared("/shared", ok)
	api.MountPeer("/peer", ok)
	api.MountPublic("/public", ok)
	api.MountPublic("/fails", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Error(w, r, dialogue.Errorf("test", dialogue.KindConflict, "no"))
	}))
	api.MountPublic("/cached", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, "tile")
	}))
	ln := listen(t)
	done := make(chan error, 1)
	go func() {
		if tls {
			done <- api.ServeTLS(ln, id.certFile, id.keyFile)
		} else {
			done <- api.Serve(ln)
		}
	}()
	t.Cleanup(func() {
		api.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	if tls {
		return "https://" + ln.Addr().String(), id
	}
	return "http://" + ln.Addr().String(), id
}

// Every answer of every mount, errors included, carries nosniff and
// Cache-Control: no-store (unless its handler sets its own), and, over
// HTTPS only, Strict-Transport-Security.
func TestHeadersOnEveryMount(t *testing.T) {
	b := newIdentity(t, "node-b")
	type call struct {
		what, method, path string
		body               string
		client             string // "user", "peer", "anonymous"
		status             int
		cache              string
	}
	calls := []call{
		{"Mount", "GET", "/user/x", "", "user", 200, "no-store"},
		{"Mount without credentials", "GET", "/user/x", "", "anonymous", 401, "no-store"},
		{"MountShared as a user", "GET", "/shared/x", "", "user", 200, "no-store"},
		{"MountShared as a peer", "GET", "/shared/x", "", "peer", 200, "no-store"},
		{"MountPeer as a peer", "GET", "/peer/x", "", "peer", 200, "no-store"},
		{"MountPeer as a user", "GET", "/peer/x", "", "user", 403, "no-store"},
		{"MountPublic", "GET", "/public/x", "", "anonymous", 200, "no-store"},
		{"an error", "GET", "/fails", "", "anonymous", 409, "no-store"},
		{"no route", "GET", "/nowhere", "", "anonymous", 404, "no-store"},
		{"metrics", "GET", "/metrics", "", "user", 200, "no-store"},
		{"a body over the limit", "POST", "/user/x", strings.Repeat("x", 2048), "user", 413, "no-store"},
		{"a handler's own caching", "GET", "/cached", "", "anonymous", 200, "public, max-age=60"},
	}
	for _, tls := range []bool{true, false} {
		base, id := headersServer(t, tls, b.pin)
		clients := map[string]*http.Client{"user": http.DefaultClient, "anonymous": http.DefaultClient}
		if tls {
			clients["user"] = userClient(id.pin)
			clients["anonymous"] = userClient(id.pin)
			clients["peer"] = httpapi.PeerClient(b.cert, id.pin, 10*time.Second)
		}
		for _, c := range calls {
			cl := clients[c.client]
			if cl == nil {
				continue // no peers over plain HTTP
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, base+c.path, body)
			if c.client == "user" {
				withBasic(req)
			}
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatalf("%s (tls %v): %v", c.what, tls, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != c.status {
				t.Errorf("%s (tls %v): status %d, want %d", c.what, tls, resp.StatusCode, c.status)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s (tls %v): X-Content-Type-Options %q", c.what, tls, got)
			}
			if got := h.Get("Cache-Control"); got != c.cache {
				t.Errorf("%s (tls %v): Cache-Control %q, want %q", c.what, tls, got, c.cache)
			}
			want := ""
			if tls {
				want = httpapi.HSTS
			}
			if got := h.Get("Strict-Transport-Security"); got != want {
				t.Errorf("%s (tls %v): Strict-Transport-Security %q, want %q", c.what, tls, got, want)
			}
		}
	}
}
