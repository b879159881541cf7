package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/webui"
)

// benchUI is a node's web UI over a real SQLite store holding, on a
// channel proposed to a peer, 10,000 threat assessments (ten sectors,
// valid_from spread over the last 60 days), 100 incident reports and
// 10,000 assistance requests, all filed through the workflow's File; with a
// signed-in duty officer's session cookie.
func benchUI(b *testing.B) (*webui.UI, []*http.Cookie) {
	b.Helper()
	ctx := context.Background()
	n, ch, _, wf := benchNodeWithChannel(b)
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
	_, other, err := wf.Channel(ctx, ch.ID)
	if err != nil {
		b.Fatal(err)
	}
	to := other.IdentityID
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
	return ui, benchSignIn(b, ui)
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
