package workflow_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// ThreatFor: each sector's computed level sampled daily over 30 days and
// each party's stated levels over the same time, the same on both nodes;
// a TLP:RED report weighs only for its recipients (a sector only it names
// is not there for anyone else).
func TestThreatFor(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := &stmtClock{t: now.Add(-40 * day)}
	a, b, chID := stmtTwoNodes(t, clock)
	// A states energy 2 before the window, then 4 ten days before now; B
	// states 3 five days before now.
	old, err := a.wf.Assess(ctx, chID, "energy", 2, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	clock.t = now.Add(-10 * day)
	raised, err := a.wf.Assess(ctx, chID, "energy", 4, "grid attacks")
	if err != nil {
		t.Fatal(err)
	}
	clock.t = now.Add(-5 * day)
	bs, err := b.wf.Assess(ctx, chID, "energy", 3, "some activity")
	if err != nil {
		t.Fatal(err)
	}
	// A severity-5 energy incident 20 days before now (GREEN), and a
	// RED water incident 5 days before now for alice only.
	green := stmtReport(t, a, chID, now.Add(-20*day), 5, "energy")
	objs, err := stix.SampleIncident(now.Add(-5 * day))
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	red, err := a.wf.FileReportTo(ctx, chID, bundle, "red", []string{"water"}, 4, []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*stmtNode{a, b} {
		for _, id := range []string{old, raised, bs, green, red} {
			stmtHas(t, n, chID, id)
		}
	}
	clock.t = now
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	boris := &dialogue.User{Name: "boris", Role: dialogue.RoleDuty}

	pa, err := a.wf.ThreatFor(ctx, boris, chID)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.wf.ThreatFor(ctx, boris, "")
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(pa)
	if len(pa.Channels) != 1 || len(pb.Channels) != 1 {
		t.Fatalf("channels: %s", ja)
	}
	// The same figures; each node names its own party first.
	sa, _ := json.Marshal(pa.Channels[0].Sectors)
	jb, _ := json.Marshal(pb.Channels[0].Sectors)
	if string(sa) != string(jb) {
		t.Errorf("the nodes differ:\na: %s\nb: %s", sa, jb)
	}
	if !pa.AsOf.Equal(now) || !pa.Since.Equal(now.Add(-30*day)) {
		t.Fatalf("picture: %s", ja)
	}
	secs := pa.Channels[0].Sectors
	if len(secs) != 1 || secs[0].Sector != "energy" {
		t.Fatalf("boris's sectors (water only a RED report for alice names): %s", ja)
	}
	energy := secs[0]
	if len(energy.History) != 31 {
		t.Fatalf("energy history: %d samples, want 31", len(energy.History))
	}
	for i, p := range energy.History {
		at := now.Add(time.Duration(i-30) * day)
		score := 0.0
		if age := at.Sub(now.Add(-20 * day)); age >= 0 {
			score = 5 * math.Exp2(-float64(age)/float64(workflow.ThreatHalfLife))
		}
		if !p.At.Equal(at) || p.Score != math.Round(score*1000)/1000 || p.Level != workflow.ThreatLevel(score) {
			t.Errorf("sample %d: %+v, want %s score %.3f", i, p, at, score)
		}
	}
	last := energy.History[30]
	if energy.Computed.Level != last.Level || energy.Computed.Score != last.Score || energy.Computed30d.Score != 0 || energy.Trend != "steady" {
		t.Errorf("energy now: %+v", energy.SectorThreat)
	}
	ha := energy.StatedHistory["party-a"]
	if len(ha) != 2 || ha[0].ID != old || ha[0].Level != 2 || !ha[0].At.Equal(now.Add(-40*day)) ||
		ha[1].ID != raised || ha[1].Level != 4 || ha[1].Rationale != "grid attacks" || !ha[1].At.Equal(now.Add(-10*day)) {
		t.Errorf("a's stated history: %+v", ha)
	}
	if sb := energy.StatedHistory["party-b"]; len(sb) != 1 || sb[0].ID != bs || sb[0].Level != 3 {
		t.Errorf("b's stated history: %+v", sb)
	}
	if st := energy.Stated["party-a"]; st == nil || st.ID != raised {
		t.Errorf("a's stated level: %+v", st)
	}

	// Alice sees the RED report: water is there, with its incident.
	pr, err := a.wf.ThreatFor(ctx, alice, chID)
	if err != nil {
		t.Fatal(err)
	}
	secs = pr.Channels[0].Sectors
	if len(secs) != 2 || secs[1].Sector != "water" || secs[1].Computed.Incidents != 1 || secs[1].Computed.Level != workflow.ThreatLevel(4*math.Exp2(-5.0/30)) {
		t.Errorf("alice's sectors: %+v", secs)
	}
	// Threat (no user) weighs it too, as before.
	th, err := a.wf.Threat(ctx, chID)
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Channels[0].Sectors) != 2 {
		t.Errorf("Threat's sectors: %+v", th.Channels[0].Sectors)
	}
	if _, err := a.wf.ThreatFor(ctx, boris, "no-such-channel"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("an unknown channel: %v", err)
	}
}
