package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkReadPaths times the workflow's read paths on a node whose
// SQLite store holds, on one channel, 10,000 requests (one in ten with an
// acknowledgement), 10,000 hotline messages and 1,000 incident reports:
// cold is a new service each time (every fold computed from the store),
// warm the same service again (the folds kept, a stamp query per fold),
// written the same service right after a hotline message was sent through
// another service on the store (a node under steady traffic: the stamp of
// the hotline's types changed since the last read, so its fold is behind;
// the write itself is not timed):
//
//	go test ./internal/workflow -run '^$' -bench BenchmarkReadPaths -benchtime 5x
func BenchmarkReadPaths(b *testing.B) {
	ctx := context.Background()
	n, ch := benchChannelNode(b)
	wf := workflow.New(n.Store, "party-a", n.LogKey())
	_, otherParty, err := wf.Channel(ctx, ch.ID)
	if err != nil {
		b.Fatal(err)
	}
	const total = 10000
	now := time.Now().UTC().Truncate(time.Millisecond)
	var report, last string
	for i := 0; i < 1000; i += 100 {
		var raws []json.RawMessage
		for j := i; j < i+100; j++ {
			ts := stix.FormatTime(now.Add(time.Duration(j-1000) * time.Minute))
			rep, _ := json.Marshal(map[string]any{"type": "report", "spec_version": "2.1", "id": stix.NewID("report"), "created": ts, "modified": ts,
				"created_by_ref": wf.Self.IdentityID, "name": fmt.Sprintf("Report %d", j), "report_types": []string{"threat-report"}, "published": ts,
				"object_refs": []string{stix.NewID("indicator")}, "object_marking_refs": []string{stix.TLPGreen.ID},
				"extensions": map[string]any{stix.ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": []string{"energy"}, "severity": 2}}})
			raws = append(raws, rep)
		}
		ids, err := wf.File(ctx, ch, raws...)
		if err != nil {
			b.Fatal(err)
		}
		report = ids[0]
	}
	for i := 0; i < total; i += 500 {
		raws := make([]json.RawMessage, 0, 1100)
		for j := i; j < i+500; j++ {
			at := now.Add(time.Duration(j-total) * time.Minute)
			req, err := stix.NewParleyObject(stix.TypeRequest, at, wf.Self.IdentityID, map[string]any{
				"name": fmt.Sprintf("Request %d", j), "description": "Please take down the C2 server.", "about_refs": []string{report}, "to_ref": otherParty.IdentityID,
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
			if j%10 == 0 {
				var p struct {
					ID string `json:"id"`
				}
				json.Unmarshal(req, &p)
				tr, err := stix.NewParleyObject(stix.TypeTransition, at.Add(time.Minute), wf.Self.IdentityID, map[string]any{
					"request_ref": p.ID, "request_action": "acknowledge", "from_state": "submitted", "to_state": "acknowledged"})
				if err != nil {
					b.Fatal(err)
				}
				raws = append(raws, tr)
			}
		}
		ids, err := wf.File(ctx, ch, raws...)
		if err != nil {
			b.Fatal(err)
		}
		last = ids[len(ids)-2]
	}
	if rs, err := wf.Requests(ctx, workflow.RequestFilter{}); err != nil || len(rs) != total {
		b.Fatalf("%d requests (%v), want %d", len(rs), err, total)
	}
	fresh := func() *workflow.Service { return workflow.New(n.Store, "party-a", n.LogKey()) }
	reads := []struct {
		name string
		read func(*workflow.Service) error
	}{
		{"Requests", func(s *workflow.Service) error { _, err := s.Requests(ctx, workflow.RequestFilter{}); return err }},
		{"Request", func(s *workflow.Service) error { _, err := s.Request(ctx, last); return err }},
		{"ListHotline", func(s *workflow.Service) error { _, err := s.ListHotline(ctx, ""); return err }},
		{"Reports", func(s *workflow.Service) error { _, err := s.Reports(ctx, ""); return err }},
		{"Summary", func(s *workflow.Service) error { _, err := s.Summary(ctx); return err }},
	}
	writer := fresh()
	for _, r := range reads {
		b.Run(r.name+"-cold", func(b *testing.B) {
			for b.Loop() {
				if err := r.read(fresh()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(r.name+"-warm", func(b *testing.B) {
			if err := r.read(wf); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := r.read(wf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(r.name+"-written", func(b *testing.B) {
			if err := r.read(wf); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				if _, err := writer.SendHotline(ctx, workflow.HotlineInput{Channel: ch.ID, Text: "Are you there?"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := r.read(wf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
