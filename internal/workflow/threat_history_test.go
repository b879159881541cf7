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
	// RED water and dams incident 5 days before now for alice only.
	green := stmtReport(t, a, chID, now.Add(-20*day), 5, "energy")
	objs, err := stix.SampleIncident(now.Add(-5 * day))
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	red, err := a.wf.FileReportTo(ctx, chID, bundle, "red", []string{"water", "dams"}, 4, []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*stmtNode{a, b} {
		for _, id := range []string{old, raised, bs, green, red} {
			stmtHas(t, n, chID, id)
		}
	}
	// Water is agreed off-limits 2 days before now.
	clock.t = now.Add(-2 * day)
	texts := map[string]string{"en": "Water is off-limits."}
	sid, err := a.wf.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: texts, Sectors: []string{"water"}})
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, sid)
	sum, _ := workflow.TextSHA256(texts)
	asig, err := a.wf.SignStatement(ctx, sid, sum, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := b.wf.SignStatement(ctx, sid, sum, "boris")
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, a, chID, sig)
	stmtHas(t, b, chID, asig) // both nodes hold both signatures
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
	// Water is there (off-limits), without the RED report boris may not
	// see; dams, which only that report names, is not.
	if len(secs) != 2 || secs[0].Sector != "energy" || secs[1].Sector != "water" || !secs[1].OffLimits || secs[1].Computed.Incidents != 0 || secs[1].Computed.Level != 1 {
		t.Fatalf("boris's sectors (water only a RED report for alice names): %s", sa)
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
	// The stated levels in force at each sample: A's 2 (stated before the
	// window) until its 4 ten days before now; B's 3 from 5 days before.
	ha, hb := energy.StatedHistory["party-a"], energy.StatedHistory["party-b"]
	if len(ha) != 31 || len(hb) != 31 {
		t.Fatalf("stated histories: %d and %d samples, want 31", len(ha), len(hb))
	}
	for i := range 31 {
		wantA, idA, wantB, idB := dialogue.Level(2), old, dialogue.Level(0), ""
		if i >= 20 {
			wantA, idA = 4, raised
		}
		if i >= 25 {
			wantB, idB = 3, bs
		}
		if ha[i].Level != wantA || ha[i].ID != idA || hb[i].Level != wantB || hb[i].ID != idB {
			t.Errorf("sample %d: a %+v, b %+v; want a %d, b %d", i, ha[i], hb[i], wantA, wantB)
		}
	}
	if ha[30].Rationale != "grid attacks" || !ha[30].At.Equal(now.Add(-10*day)) || !ha[0].At.Equal(now.Add(-40*day)) {
		t.Errorf("a's stated level now: %+v, at the window's start %+v", ha[30], ha[0])
	}
	if st := energy.Stated["party-a"]; st == nil || st.ID != raised {
		t.Errorf("a's stated level: %+v", st)
	}

	// Alice sees the RED report: dams and water, with its incident.
	pr, err := a.wf.ThreatFor(ctx, alice, chID)
	if err != nil {
		t.Fatal(err)
	}
	secs = pr.Channels[0].Sectors
	if len(secs) != 3 || secs[0].Sector != "dams" || secs[0].Computed.Incidents != 1 || secs[2].Sector != "water" || secs[2].Computed.Incidents != 1 || !secs[2].OffLimits {
		t.Fatalf("alice's sectors: %+v", secs)
	}
	// Water weighs double from its agreement on: 4 x 2^(-5/30) x 2 now,
	// 4 x 2^(-3/30) three days before (not yet off-limits).
	water := secs[2]
	if w := 4 * math.Exp2(-5.0/30) * 2; water.Computed.Score != math.Round(w*1000)/1000 || water.Computed.Level != workflow.ThreatLevel(w) {
		t.Errorf("water now: %+v, want score %.3f", water.Computed, w)
	}
	if w := 4 * math.Exp2(-2.0/30); water.History[27].Score != math.Round(w*1000)/1000 {
		t.Errorf("water 3 days before now: %+v, want score %.3f", water.History[27], w)
	}
	// For a user who sees every report, the levels are Threat's.
	th, err := a.wf.Threat(ctx, chID)
	if err != nil {
		t.Fatal(err)
	}
	var mine []workflow.SectorThreat
	for _, sp := range secs {
		mine = append(mine, sp.SectorThreat)
	}
	j1, _ := json.Marshal(mine)
	j2, _ := json.Marshal(th.Channels[0].Sectors)
	if string(j1) != string(j2) || !slicesEqual(pr.Channels[0].OffLimits, th.Channels[0].OffLimits) {
		t.Errorf("ThreatFor for alice and Threat differ:\n%s\n%s", j1, j2)
	}
	if !slicesEqual(pa.Channels[0].OffLimits, []string{"water"}) {
		t.Errorf("boris's off-limits list: %v", pa.Channels[0].OffLimits)
	}
	// A new assessment shows at once (the cached fold of the assessments
	// is read again).
	if _, err := a.wf.Assess(ctx, chID, "energy", 5, "worse"); err != nil {
		t.Fatal(err)
	}
	pa, err = a.wf.ThreatFor(ctx, boris, chID)
	if err != nil {
		t.Fatal(err)
	}
	if st := pa.Channels[0].Sectors[0].Stated["party-a"]; st == nil || st.Level != 5 || st.Previous != 4 || pa.Channels[0].Sectors[0].StatedHistory["party-a"][30].Level != 5 {
		t.Errorf("after a new assessment, a's stated level: %+v", st)
	}
	if _, err := a.wf.ThreatFor(ctx, boris, "no-such-channel"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("an unknown channel: %v", err)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
