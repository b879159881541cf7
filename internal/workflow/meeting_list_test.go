package workflow_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// Meetings lists each meeting of a channel as MeetingByID shows it, with
// its minutes, the latest start first, the same on both nodes; an
// unknown channel is not found.
func TestMeetingsList(t *testing.T) {
	ctx := context.Background()
	clock := &stmtClock{t: time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, b, chID := stmtTwoNodes(t, clock)
	start := clock.Now().Add(24 * time.Hour)
	first, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "Round 1", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "Round 2", Start: start.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	sid, err := a.wf.MeetingMinutes(ctx, first, map[string]string{"en": "Minutes.", "ru": "Протокол."})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*stmtNode{a, b} {
		var ms []*workflow.Meeting
		stmtWaitFor(t, n.name+" lists both meetings, the first with its minutes", func() bool {
			ms, err = n.wf.Meetings(ctx, "")
			return err == nil && len(ms) == 2 && ms[1].Minutes != nil
		})
		if ms[0].ID != second || ms[1].ID != first || ms[0].ConvenedBy != "party-b" || ms[1].Minutes.ID != sid || ms[0].Minutes != nil {
			t.Errorf("%s lists %+v, %+v", n.name, ms[0], ms[1])
		}
		for _, m := range ms {
			one, err := n.wf.MeetingByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(m)
			want, _ := json.Marshal(one)
			if string(got) != string(want) {
				t.Errorf("%s: listed %s\nshown  %s", n.name, got, want)
			}
		}
		if ms, err := n.wf.Meetings(ctx, chID); err != nil || len(ms) != 2 {
			t.Errorf("%s, channel %s: %d meetings, %v", n.name, chID, len(ms), err)
		}
	}
	if _, err := a.wf.Meetings(ctx, "no-such-channel"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}
}
