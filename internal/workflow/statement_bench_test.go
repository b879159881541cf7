package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkStatementReads times the meetings' and statements' read paths
// on a node whose SQLite store holds, on one channel, 5,000 meetings,
// each with its minutes (a statement in English and Russian): 10,000
// items, as the web UI's BenchmarkMeetingPages. warm is the same service
// again; new-service a new service each time (its folds computed from
// the store, the version memo of the store warm: the cost of a read
// right after a new statement or meeting version); after-signature is
// the read right after this party signs
// another statement (the signing not timed), which changes the stamp of
// the channel's statements and signatures. ns/op is wall time, cpu-ms/op
// the process's CPU time per read:
//
//	go test ./internal/workflow -run '^$' -bench BenchmarkStatementReads -benchtime 5x
func BenchmarkStatementReads(b *testing.B) {
	ctx := context.Background()
	n, ch := benchChannelNode(b)
	wf := workflow.New(n.Store, "party-a", n.LogKey())
	texts := map[string]string{"en": "The parties agreed to share indicators.", "ru": "Стороны договорились обмениваться индикаторами."}
	sum, _ := workflow.TextSHA256(texts)
	start := time.Date(2036, 1, 1, 9, 0, 0, 0, time.UTC)
	var meetings, statements []string
	for batch := range 10 {
		var raws []json.RawMessage
		for i := range 500 {
			m, err := wf.NewObject(stix.TypeMeeting, map[string]any{"name": fmt.Sprintf("Expert round %d", batch*500+i), "start": stix.FormatTime(start.Add(time.Duration(batch*500+i) * time.Hour))})
			if err != nil {
				b.Fatal(err)
			}
			var mp map[string]any
			_ = json.Unmarshal(m, &mp)
			mid := mp["id"].(string)
			st, err := wf.NewObject(stix.TypeStatement, map[string]any{"statement_kind": "minutes", "texts": texts, "text_sha256": sum, "meeting_ref": mid})
			if err != nil {
				b.Fatal(err)
			}
			var sp map[string]any
			_ = json.Unmarshal(st, &sp)
			mp["minutes_ref"] = sp["id"]
			m, _ = json.Marshal(mp)
			raws = append(raws, m, st)
			meetings, statements = append(meetings, mid), append(statements, sp["id"].(string))
		}
		if _, err := wf.File(ctx, ch, raws...); err != nil {
			b.Fatal(err)
		}
	}
	if sts, err := wf.Statements(ctx, "", ""); err != nil || len(sts) != 5000 {
		b.Fatalf("%d statements, %v", len(sts), err)
	}
	reads := []struct {
		name string
		read func(*workflow.Service) error
	}{
		{"Meetings", func(s *workflow.Service) error { _, err := s.Meetings(ctx, ""); return err }},
		{"MeetingByID", func(s *workflow.Service) error { _, err := s.MeetingByID(ctx, meetings[len(meetings)-1]); return err }},
		{"Statements", func(s *workflow.Service) error { _, err := s.Statements(ctx, "", ""); return err }},
		{"StatementByID", func(s *workflow.Service) error { _, err := s.StatementByID(ctx, statements[0]); return err }},
	}
	signed := 0
	for _, r := range reads {
		for _, mode := range []string{"warm", "new-service", "after-signature"} {
			b.Run(r.name+"/"+mode, func(b *testing.B) {
				var cpu time.Duration
				for i := 0; i < b.N; i++ {
					s := wf
					b.StopTimer()
					switch mode {
					case "new-service":
						s = workflow.New(n.Store, "party-a", n.LogKey())
					case "after-signature":
						if _, err := wf.SignStatement(ctx, statements[len(statements)-1-signed], sum, "Alice (expert)"); err != nil {
							b.Fatal(err)
						}
						signed++
					}
					c := benchCPU()
					b.StartTimer()
					if err := r.read(s); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					cpu += benchCPU() - c
					b.StartTimer()
				}
				b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
			})
		}
	}
}

// benchCPU is the CPU time (user and system) the process used so far.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
