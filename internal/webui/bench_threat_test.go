package webui_test

import (
	"context"
	"encoding/json"
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

// benchUI is a node's web UI over a real SQLite store holding, on a
// channel proposed to a peer, 10,000 threat assessments (ten sectors,
// valid_from spread over the last 60 days), 100 incident reports and
// 10,000 assistance requests, all filed through the workflow's File; with a
// signed-in duty officer's session cookie.
func benchUI(b *testing.B) (*webui.UI, []*http.Cookie) {
	b.Helper()
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
	now := time.Now()
	sectors := []string{"energy", "health", "water", "transport", "banking", "it", "dams", "nuclear", "space", "food"}

	var report string
	for i := range 100 {
		objs, err := stix.SampleIncident(now.Add(-time.Duration(i) * 12 * time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
		if report, err = wf.FileReport(ctx, ch.ID, bundle, "green", []string{sectors[i%len(sectors)]}, 1+i%5); err != nil {
			b.Fatal(err)
		}
	}
	var batch []json.RawMessage
	for i := range 10000 {
		raw, err := wf.NewObject(stix.TypeAssessment, map[string]any{
			"sector": sectors[i%len(sectors)], "level": 1 + i%5, "rationale": "Assessment number " + strings.Repeat("x", i%50),
			"valid_from": stix.FormatTime(now.Add(-time.Duration(10000-i) * 8 * time.Minute).UTC().Truncate(time.Millisecond)),
		})
		if err != nil {
			b.Fatal(err)
		}
		if batch = append(batch, raw); len(batch) == 500 {
			if _, err := wf.File(ctx, ch, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// The requests as FileRequest builds them (its per-request reads of
	// the channel's reports would make filing 10,000 take minutes), filed
	// through the workflow in batches; half of them overdue.
	to := peer.IdentityID(pe.LogKey)
	for i := range 10000 {
		d := time.Duration(i-5000) * time.Minute
		raw, err := wf.NewObject(stix.TypeRequest, map[string]any{
			"name": "Please take down the C2 server.", "description": "Please take down the C2 server.", "about_refs": []string{report}, "to_ref": to,
			"ack_by": stix.FormatTime(now.Add(d).UTC().Truncate(time.Millisecond)), "answer_by": stix.FormatTime(now.Add(d + 72*time.Hour).UTC().Truncate(time.Millisecond)),
			"off_limits": false, "sectors": []string{sectors[i%len(sectors)]},
		})
		if err != nil {
			b.Fatal(err)
		}
		if batch = append(batch, raw); len(batch) == 500 {
			if _, err := wf.File(ctx, ch, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ui, err := webui.New(webui.Config{Workflow: wf, Store: n.Store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	// Sign in through the handler.
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
	return ui, session
}

// benchPage serves path for the signed-in user: the server's whole time
// for the page (workflow reads of the store, computing, rendering).
func benchPage(b *testing.B, ui *webui.UI, session []*http.Cookie, path, want string) {
	b.Helper()
	req := httptest.NewRequest("GET", "https://node"+path, nil)
	for _, c := range session {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("%s: %d\n%.2000s", path, rec.Code, rec.Body.String())
	}
}

// BenchmarkThreatAndResponsivenessPages serves /threat and
// /responsiveness over a store of 10,000 assessments and 10,000
// requests (benchUI). Each must stay under 100 ms.
func BenchmarkThreatAndResponsivenessPages(b *testing.B) {
	ui, session := benchUI(b)
	b.Run("threat", func(b *testing.B) {
		for b.Loop() {
			benchPage(b, ui, session, "/threat", `data-sector="food"`)
		}
	})
	b.Run("responsiveness", func(b *testing.B) {
		for b.Loop() {
			benchPage(b, ui, session, "/responsiveness", `data-figure="received">10000<`)
		}
	})
}
