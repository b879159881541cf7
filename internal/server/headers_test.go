package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/taxii"
)

// startNode serves a new node with the user olga (duty), over HTTPS or,
// with insecure, plain HTTP. It returns the server and a client for it.
func startHeadersNode(t *testing.T, insecure bool) (*server.Server, *http.Client) {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), "party-a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}, h); err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", InsecureHTTP: insecure, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if !insecure {
		c.Transport = &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}
	}
	return s, c
}

// Every mount of a served node answers with nosniff, with HSTS over
// HTTPS only, and with Cache-Control: no-store on the TAXII server, the
// JSON API, the record and the web UI's pages, errors included; the web
// UI's assets may be cached.
func TestHeadersOnEveryMount(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		s, c := startHeadersNode(t, insecure)
		for _, x := range []struct {
			method, path string
			user         bool
			status       int
			noStore      bool
		}{
			{"GET", "/taxii2/", true, 200, true},
			{"GET", "/taxii2/", false, 401, true},
			{"GET", "/taxii2/parley/collections/nope/objects/", true, 404, true},
			{"GET", "/api/openapi.json", false, 200, true},
			{"GET", "/api/requests", true, 200, true},
			{"GET", "/api/requests", false, 401, true},
			{"GET", "/log/nope/checkpoint", true, 404, true},
			{"GET", "/peer/v1/x", true, 403, true},
			{"GET", "/metrics", true, 200, true},
			{"POST", "/witness/add-checkpoint", false, 400, true},
			{"GET", "/login", false, 200, true},
			{"GET", "/inbox", false, 303, true},
			{"GET", "/no-such-page", false, 404, true},
			{"GET", "/assets/style.css", false, 200, false},
		} {
			req, _ := http.NewRequest(x.method, s.URL+x.path, nil)
			if x.user {
				req.SetBasicAuth("olga", "password-olga")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", x.method, x.path, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			what := x.method + " " + x.path
			if insecure {
				what += " (plain HTTP)"
			}
			h := resp.Header
			if resp.StatusCode != x.status {
				t.Errorf("%s: status %d, want %d", what, resp.StatusCode, x.status)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", what, got)
			}
			if got := h.Get("Cache-Control"); (got == "no-store") != x.noStore {
				t.Errorf("%s: Cache-Control %q (no-store wanted: %v)", what, got, x.noStore)
			}
			want := httpapi.HSTS
			if insecure {
				want = ""
			}
			if got := h.Get("Strict-Transport-Security"); got != want {
				t.Errorf("%s: Strict-Transport-Security %q, want %q", what, got, want)
			}
		}
	}
}
