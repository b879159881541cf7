package webui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/workflow"
)

// benchNodeWithChannel makes node party-a (closed when the benchmark
// ends) with peer party-b pinned (its node made and closed: nothing
// listens), the channel "a-b" proposed to it, and the duty officer olga
// (password "password-olga"); it returns the node, the channel, olga
// and party-a's workflow. The page benchmarks fill its store through
// the workflow and serve its web UI by the handler.
func benchNodeWithChannel(tb testing.TB) (*node.Node, *dialogue.Channel, *dialogue.User, *workflow.Service) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	n, _, err := node.Init(ctx, filepath.Join(dir, "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	other, created, err := node.Init(ctx, filepath.Join(dir, "b"), node.InitOptions{Name: "party-b", Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	pe, err := peer.NewPeer("party-b", "https://127.0.0.1:1", created.Pin, other.LogKey(), "")
	if err != nil {
		tb.Fatal(err)
	}
	other.Close()
	pe.CreatedAt = time.Now()
	if err := n.Store.AddPeer(ctx, pe); err != nil {
		tb.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := n.Store.ProposeChannel(ctx, ch); err != nil {
		tb.Fatal(err)
	}
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		tb.Fatal(err)
	}
	usr := &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}
	if err := n.Store.CreateUser(ctx, usr, h); err != nil {
		tb.Fatal(err)
	}
	return n, ch, usr, workflow.New(n.Store, "party-a", n.LogKey())
}

// benchSignIn signs olga in through the web UI's handler and returns
// the session cookie.
func benchSignIn(tb testing.TB, ui http.Handler) []*http.Cookie {
	tb.Helper()
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest("GET", "https://node/login", nil))
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		tb.Fatal("no CSRF token on the login page")
	}
	req := httptest.NewRequest("POST", "https://node/login", strings.NewReader(url.Values{"csrf": {m[1]}, "name": {"olga"}, "password": {"password-olga"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	ui.ServeHTTP(rec, req)
	var session []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if strings.HasPrefix(c.Name, "parley_session_") {
			session = append(session, c)
		}
	}
	if rec.Code != http.StatusSeeOther || len(session) == 0 {
		tb.Fatalf("sign-in: %d", rec.Code)
	}
	return session
}
