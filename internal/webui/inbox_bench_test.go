package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"encoding/json"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkInboxPage times GET /inbox and GET /summary on node B, whose
// store holds 10,000 requests and 10,000 hotline messages A sent it
// (filed on A through the workflow, 500 to a batch, and replicated to B
// over the peers' mutual TLS), fetched by a signed-in duty officer over
// HTTPS on loopback: the server's whole time for the page (reads of the
// store, sorting, paging, rendering) plus the TLS round trip. The 100 ms
// rule is about these figures (ms/op):
//
//	go test ./internal/webui -run '^$' -bench BenchmarkInboxPage -benchtime 20x
func BenchmarkInboxPage(b *testing.B) {
	ctx := context.Background()
	a, bn := uiStart(b, "party-a"), uiStart(b, "party-b")
	chID := uiShare(b, a, bn)
	wf := a.srv.Workflow
	report, err := wf.FileReport(ctx, chID, uiBundle(b), "green", []string{"energy"}, 3)
	if err != nil {
		b.Fatal(err)
	}
	ch, other, err := wf.Channel(ctx, chID)
	if err != nil {
		b.Fatal(err)
	}
	const total = 10000
	now := time.Now().UTC()
	for i := 0; i < total; i += 500 {
		raws := make([]json.RawMessage, 0, 1000)
		for j := i; j < i+500; j++ {
			at := now.Add(time.Duration(j-total) * time.Second)
			req, err := stix.NewParleyObject(stix.TypeRequest, at, wf.Self.IdentityID, map[string]any{
				"name": fmt.Sprintf("Request %d", j), "description": "Please take down the C2 server.", "about_refs": []string{report}, "to_ref": other.IdentityID,
				"ack_by": stix.FormatTime(at.Add(24 * time.Hour)), "answer_by": stix.FormatTime(at.Add(72 * time.Hour)), "off_limits": j%7 == 0,
				"infrastructure": []string{"203.0.113.7"}, "sectors": []string{"energy"},
			})
			if err != nil {
				b.Fatal(err)
			}
			hot, err := stix.NewParleyObject(stix.TypeHotline, at, wf.Self.IdentityID, map[string]any{
				"description": fmt.Sprintf("Call us about outage %d.", j), "priority": string(workflow.PriorityUrgent), "ack_within": 900,
			})
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, req, hot)
		}
		if _, err := wf.File(ctx, ch, raws...); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	for {
		rs, err1 := bn.srv.Workflow.Requests(ctx, workflow.RequestFilter{})
		hs, err2 := bn.srv.Workflow.ListHotline(ctx, chID)
		if err1 == nil && err2 == nil && len(rs) == total && len(hs) >= total {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("after 5 minutes b has %d requests (%v) and %d hotline messages (%v)", len(rs), err1, len(hs), err2)
		}
		time.Sleep(time.Second)
	}
	b.Logf("b received the 20,000 items in %v", time.Since(start).Round(time.Millisecond))
	client := bn.browser(b)
	client.login("olga", "password-olga")
	for _, p := range []struct{ name, path, want string }{
		{"inbox", "/inbox", "Page 1: 10,000 requests and 10,000 hotline messages in all."},
		{"inbox-page-50", "/inbox?page=50", "Page 50:"},
		{"summary", "/summary", "Requests by state"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				resp, body := client.do("GET", p.path, nil)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, p.want) {
					b.Fatalf("%s: %d\n%.2000s", p.path, resp.StatusCode, body)
				}
			}
		})
	}
}
