package workflow_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// stmtReport files an incident report (with an indicator) in sectors with
// a severity, published at published, as n's party; it returns its id.
func stmtReport(t *testing.T, n *stmtNode, channel string, published time.Time, severity int, sectors ...string) string {
	t.Helper()
	ts := stix.FormatTime(published)
	ind := stix.NewID("indicator")
	rep := stix.NewID("report")
	indRaw, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": ind, "created": ts, "modified": ts,
		"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": ts})
	repRaw, _ := json.Marshal(map[string]any{"type": "report", "spec_version": "2.1", "id": rep, "created": ts, "modified": ts,
		"name": "incident", "published": ts, "object_refs": []string{ind},
		"object_marking_refs": []string{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
		"extensions":          map[string]any{stix.ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": sectors, "severity": severity}}})
	ch, _, err := n.wf.Channel(context.Background(), channel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.wf.File(context.Background(), ch, indRaw, repRaw); err != nil {
		t.Fatal(err)
	}
	return rep
}

// A meeting: A convenes it with an agenda linking a report, adds to the
// agenda and action items, writes the minutes; both sign them and the
// minutes are agreed on both nodes. B cannot update A's meeting.
func TestMeetingTwoNodes(t *testing.T) {
	ctx := context.Background()
	clock := &stmtClock{t: time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, b, chID := stmtTwoNodes(t, clock)
	rep := stmtReport(t, a, chID, clock.Now(), 4, "energy")
	start := clock.Now().Add(48 * time.Hour)
	id, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "Expert round 1", Start: start,
		Participants: []workflow.Participant{{Party: "party-a", Name: "Alice", Role: "head of delegation"}, {Party: "party-b", Name: "Boris"}},
		Agenda:       []workflow.AgendaItem{{Title: "The grid incident", ObjectRefs: []string{rep}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Refused moves.
	for _, c := range []struct {
		name string
		err  error
		kind dialogue.Kind
		want string
	}{
		{"agenda ref of another type", a.wf.AddAgenda(ctx, id, workflow.AgendaItem{Title: "x", ObjectRefs: []string{"indicator--00000000-0000-4000-8000-000000000000"}}), dialogue.KindInvalid, "agenda[0]: object_refs: \"indicator--00000000-0000-4000-8000-000000000000\": an agenda item links reports and requests"},
		{"agenda ref missing", a.wf.AddAgenda(ctx, id, workflow.AgendaItem{Title: "x", ObjectRefs: []string{"report--00000000-0000-4000-8000-000000000000"}}), dialogue.KindNotFound, "agenda[0]: object_refs: no report--00000000-0000-4000-8000-000000000000"},
		{"agenda title", a.wf.AddAgenda(ctx, id, workflow.AgendaItem{}), dialogue.KindInvalid, "agenda[0]: title: empty"},
		{"status", a.wf.SetActionStatus(ctx, id, 0, "finished"), dialogue.KindInvalid, `status "finished": want open, done or dropped`},
		{"no action item", a.wf.SetActionStatus(ctx, id, 3, "done"), dialogue.KindNotFound, "action item 3: meeting"},
	} {
		if dialogue.KindOf(c.err) != c.kind || c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v (%v), want %v %q", c.name, c.err, dialogue.KindOf(c.err), c.kind, c.want)
		}
	}
	if _, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "x"}); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "start:") {
		t.Errorf("meeting without start: %v", err)
	}
	if _, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Start: start, Participants: []workflow.Participant{{Party: "party-c", Name: "x"}}}); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "name:") {
		t.Errorf("meeting without name: %v", err)
	}
	if _, err := a.wf.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "x", Start: start, Participants: []workflow.Participant{{Party: "party-c", Name: "x"}}}); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), `participants[0]: party "party-c": want party-a or party-b`) {
		t.Errorf("meeting with a stranger: %v", err)
	}

	clock.Add(time.Minute)
	if err := a.wf.AddAgenda(ctx, id, workflow.AgendaItem{Title: "Any other business"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	n, err := a.wf.AddActionItem(ctx, id, "Block the C2 addresses", "party-b", start.Add(7*24*time.Hour))
	if err != nil || n != 0 {
		t.Fatal(n, err)
	}
	clock.Add(time.Minute)
	minutes := map[string]string{"en": "Minutes of expert round 1.", "ru": "Протокол первого раунда экспертов."}
	sid, err := a.wf.MeetingMinutes(ctx, id, minutes)
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, sid)
	stmtWaitFor(t, "b sees the meeting's minutes", func() bool {
		m, err := b.wf.MeetingByID(ctx, id)
		return err == nil && m.MinutesRef == sid
	})
	m, err := b.wf.MeetingByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.ConvenedBy != "party-a" || len(m.Agenda) != 2 || m.Agenda[0].ObjectRefs[0] != rep || len(m.ActionItems) != 1 || m.ActionItems[0].Owner != "party-b" ||
		m.Participants[1].Party != "party-b" || !m.Start.Equal(start) || m.Minutes == nil || m.Minutes.State != workflow.StatementProposed || m.Versions != 4 {
		t.Fatalf("on b: %+v", m)
	}
	stmtSchemaValid(t, stmtRaw(t, b, chID, id))
	// B agrees by signing; it cannot update A's meeting.
	if err := b.wf.AddAgenda(ctx, id, workflow.AgendaItem{Title: "mine"}); dialogue.KindOf(err) != dialogue.KindForbidden || !strings.Contains(err.Error(), "only the convening party (party-a) updates meeting") {
		t.Errorf("b updates a's meeting: %v", err)
	}
	sum, _ := workflow.TextSHA256(minutes)
	if _, err := b.wf.SignMinutes(ctx, id, sum, "Boris (expert)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.wf.SignMinutes(ctx, id, sum, "Alice (expert)"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*stmtNode{a, b} {
		stmtWaitFor(t, n.name+" sees the minutes agreed", func() bool {
			m, err := n.wf.MeetingByID(ctx, id)
			return err == nil && m.Minutes != nil && m.Minutes.State == workflow.StatementAgreed
		})
	}
	if _, err := a.wf.MeetingMinutes(ctx, id, map[string]string{"en": "other"}); dialogue.KindOf(err) != dialogue.KindConflict {
		t.Errorf("replacing agreed minutes: %v", err)
	}
	// The action item: done, then overdue no more; an open one is overdue
	// after its due time.
	clock.Add(10 * 24 * time.Hour)
	if m, _ := a.wf.MeetingByID(ctx, id); !m.ActionItems[0].Overdue {
		t.Errorf("open action item past due: %+v", m.ActionItems[0])
	}
	if err := a.wf.SetActionStatus(ctx, id, 0, workflow.ActionDone); err != nil {
		t.Fatal(err)
	}
	if err := a.wf.SetActionStatus(ctx, id, 0, workflow.ActionDone); dialogue.KindOf(err) != dialogue.KindConflict {
		t.Errorf("done twice: %v", err)
	}
	stmtWaitFor(t, "b sees the action item done", func() bool {
		m, err := b.wf.MeetingByID(ctx, id)
		return err == nil && m.ActionItems[0].Status == workflow.ActionDone && !m.ActionItems[0].Overdue
	})
}

// Assessments from both parties and the computed levels: the same numbers
// on both nodes at a fixed fake time, and the formula's values.
func TestThreatTwoNodes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := &stmtClock{t: now.Add(-40 * 24 * time.Hour)}
	a, b, chID := stmtTwoNodes(t, clock)
	day := 24 * time.Hour
	// Assessments over time: A raises energy from 2 to 4; B states 3.
	if _, err := a.wf.Assess(ctx, chID, "energy", 2, "quiet"); err != nil {
		t.Fatal(err)
	}
	clock.Add(day)
	if _, err := a.wf.Assess(ctx, chID, "energy", 2, "still quiet"); err != nil {
		t.Fatal(err)
	}
	// Off-limits energy, agreed 35 days before now.
	sid, err := a.wf.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: map[string]string{"en": "Energy is off-limits."}, Sectors: []string{"energy"}})
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, sid)
	sum, _ := workflow.TextSHA256(map[string]string{"en": "Energy is off-limits."})
	clock.Add(4 * day) // now - 35 days
	if _, err := a.wf.SignStatement(ctx, sid, sum, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.wf.SignStatement(ctx, sid, sum, "boris"); err != nil {
		t.Fatal(err)
	}
	// Incidents: energy severity 4 published 30 days before now, energy
	// severity 5 now, health severity 2 3 days before now (by B).
	r1 := stmtReport(t, a, chID, now.Add(-30*day), 4, "energy")
	r2 := stmtReport(t, b, chID, now, 5, "energy", "health")
	r3 := stmtReport(t, b, chID, now.Add(-3*day), 2, "health")
	clock.t = now.Add(-2 * day)
	idA, err := a.wf.Assess(ctx, chID, "energy", 4, "grid attacks")
	if err != nil {
		t.Fatal(err)
	}
	idB, err := b.wf.Assess(ctx, chID, "energy", 3, "some activity")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sector    string
		level     int
		rationale string
		want      string
	}{
		{"casinos", 3, "x", `sector "casinos": not a sector code`},
		{"energy", 6, "x", "level 6: want 1 (low) to 5 (severe)"},
		{"energy", 0, "x", "level 0: want 1 (low) to 5 (severe)"},
		{"energy", 3, " ", "rationale: a stated level needs its reasons"},
	} {
		if _, err := a.wf.Assess(ctx, chID, c.sector, c.level, c.rationale); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Assess(%s, %d, %q): %v, want %q", c.sector, c.level, c.rationale, err, c.want)
		}
	}
	for _, n := range []*stmtNode{a, b} {
		for _, id := range []string{r1, r2, r3, idA, idB} {
			stmtHas(t, n, chID, id)
		}
	}
	clock.t = now
	ta, err := a.wf.Threat(ctx, chID)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.wf.Threat(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(ta.Channels[0].Sectors)
	jb, _ := json.Marshal(tb.Channels[0].Sectors)
	if string(ja) != string(jb) {
		t.Errorf("the nodes differ:\na: %s\nb: %s", ja, jb)
	}
	secs := ta.Channels[0].Sectors
	if len(secs) != 2 || secs[0].Sector != "energy" || secs[1].Sector != "health" {
		t.Fatalf("sectors: %s", ja)
	}
	energy, health := secs[0], secs[1]
	// energy now: (4 x 2^-1 + 5) x 2 = 14 -> 5; 7 days ago: 4 x 2^(-23/30) x 2;
	// 30 days ago: 4 x 2 = 8 -> 4.
	e7 := 4 * math.Exp2(-23.0/30) * 2
	if energy.Computed.Score != 14 || energy.Computed.Level != 5 || energy.Computed.Incidents != 2 ||
		energy.Computed7d.Score != math.Round(e7*1000)/1000 || energy.Computed7d.Level != workflow.ThreatLevel(e7) ||
		energy.Computed30d.Score != 8 || energy.Computed30d.Level != 4 || energy.Trend != "rising" || !energy.OffLimits {
		t.Errorf("energy: %+v", energy)
	}
	// health now: 5 + 2 x 2^(-3/30), not off-limits.
	h := 5 + 2*math.Exp2(-3.0/30)
	if health.Computed.Score != math.Round(h*1000)/1000 || health.Computed.Level != 4 || health.Computed7d.Level != 1 || health.Trend != "rising" || health.OffLimits {
		t.Errorf("health: %+v", health)
	}
	sa, sb := energy.Stated["party-a"], energy.Stated["party-b"]
	if sa == nil || sa.Level != 4 || sa.Previous != 2 || !sa.ChangedAt.Equal(now.Add(-2*day)) || sa.Rationale != "grid attacks" {
		t.Errorf("a's stated energy level: %+v", sa)
	}
	if sb == nil || sb.Level != 3 || sb.Previous != 0 || sb.Rationale != "some activity" {
		t.Errorf("b's stated energy level: %+v", sb)
	}
	if health.Stated["party-a"] != nil || health.Stated["party-b"] != nil {
		t.Errorf("stated health levels: %+v", health.Stated)
	}
	stmtSchemaValid(t, stmtRaw(t, a, chID, idA))
	for _, c := range []struct {
		score float64
		level int
	}{{0, 1}, {0.999, 1}, {1, 2}, {2.99, 2}, {3, 3}, {5.9, 3}, {6, 4}, {9.99, 4}, {10, 5}, {100, 5}} {
		if got := workflow.ThreatLevel(c.score); int(got) != c.level {
			t.Errorf("ThreatLevel(%v) = %d, want %d", c.score, got, c.level)
		}
	}
}
