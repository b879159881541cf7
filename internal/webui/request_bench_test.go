package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	n, ch, _, wf := benchNodeWithChannel(b)
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
	session := benchSignIn(b, ui)
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
