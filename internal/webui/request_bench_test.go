package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/webui"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkRequestPages times GET /requests (first page, and page 50
// newest first) and GET /requests/{id} on a node whose SQLite store holds
// 10,000 requests on a channel (written through the workflow's File, 500
// to a batch, as FileRequest writes them), served by the web UI's
// handler for a signed-in duty officer: the server's whole time for the
// page (the workflow's reads of the store, computing, rendering). The
// 100 ms rule is about these figures (ms/op); workflow-Requests is the
// workflow's computing of every request alone, which each page starts
// with (Service.Requests; Service.Request computes them all too):
//
//	go test ./internal/webui -run '^$' -bench BenchmarkRequestPages -benchtime 20x
func BenchmarkRequestPages(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	n, _, err := node.Init(ctx, filepath.Join(dir, "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	other, created, err := node.Init(ctx, filepath.Join(dir, "b"), node.InitOptions{Name: "party-b", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	pe, err := peer.NewPeer("party-b", "https://127.0.0.1:1", created.Pin, other.LogKey(), "")
	if err != nil {
		b.Fatal(err)
	}
	other.Close()
	pe.CreatedAt = time.Now()
	if err := n.Store.AddPeer(ctx, pe); err != nil {
		b.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := n.Store.ProposeChannel(ctx, ch); err != nil {
		b.Fatal(err)
	}
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}, h); err != nil {
		b.Fatal(err)
	}
	wf := workflow.New(n.Store, "party-a", n.LogKey())
	objs, err := stix.SampleIncident(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	rep, err := wf.FileReport(ctx, ch.ID, bundle, "green", []string{"energy"}, 3)
	if err != nil {
		b.Fatal(err)
	}
	_, otherParty, err := wf.Channel(ctx, ch.ID)
	if err != nil {
		b.Fatal(err)
	}
	const total = 10000
	now := time.Now().UTC()
	var last string
	for i := 0; i < total; i += 500 {
		raws := make([]json.RawMessage, 0, 500)
		for j := i; j < i+500; j++ {
			at := now.Add(time.Duration(j-total) * time.Minute)
			raw, err := stix.NewParleyObject(stix.TypeRequest, at, wf.Self.IdentityID, map[string]any{
				"name": fmt.Sprintf("Request %d", j), "description": "Please take down the C2 server.", "about_refs": []string{rep}, "to_ref": otherParty.IdentityID,
				"ack_by": stix.FormatTime(at.Add(24 * time.Hour)), "answer_by": stix.FormatTime(at.Add(72 * time.Hour)), "off_limits": j%7 == 0,
				"infrastructure": []string{"203.0.113.7"}, "sectors": []string{"energy"},
			})
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, raw)
		}
		ids, err := wf.File(ctx, ch, raws...)
		if err != nil {
			b.Fatal(err)
		}
		last = ids[len(ids)-1]
	}
	if rs, err := wf.Requests(ctx, workflow.RequestFilter{}); err != nil || len(rs) != total {
		b.Fatalf("%d requests in the store (%v), want %d", len(rs), err, total)
	}
	ui, err := webui.New(webui.Config{Workflow: wf, Store: n.Store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	session := reqBenchLogin(b, ui)
	// The workflow's computation of the requests alone, for the ratio:
	// what the pages add to it (filtering, sorting, the reports' TLP
	// check, rendering).
	b.Run("workflow-Requests", func(b *testing.B) {
		for b.Loop() {
			if _, err := wf.Requests(ctx, workflow.RequestFilter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, p := range []struct{ name, path, want string }{
		{"list", "/requests", "Page 1 of 100:"},
		{"list-page-50-newest", "/requests?order=newest&page=50", "Page 50 of 100"},
		{"show", "/requests/" + last, "Request 9999"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "https://node"+p.path, nil)
				for _, c := range session {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				ui.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), p.want) {
					b.Fatalf("%s: %d\n%.2000s", p.path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// reqBenchLogin signs olga in through the handler and returns the
// session cookie.
func reqBenchLogin(b *testing.B, ui *webui.UI) []*http.Cookie {
	b.Helper()
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest("GET", "https://node/login", nil))
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatal("no CSRF token on the login page")
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
		b.Fatalf("sign-in: %d", rec.Code)
	}
	return session
}
