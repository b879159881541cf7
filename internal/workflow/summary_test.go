package workflow_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// sumBundle is a bundle of an incident named name, an indicator of the
// address ip and an evidence artifact whose payload names name.
func sumBundle(t *testing.T, now time.Time, name, ip string) []byte {
	t.Helper()
	ts := stix.FormatTime(now)
	obj := func(m map[string]any) json.RawMessage {
		m["spec_version"], m["created"], m["modified"] = "2.1", ts, ts
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	objs := []json.RawMessage{
		obj(map[string]any{"type": "incident", "id": stix.NewID("incident"), "name": name}),
		obj(map[string]any{"type": "indicator", "id": stix.NewID("indicator"), "name": name + " C2", "pattern": "[ipv4-addr:value = '" + ip + "']", "pattern_type": "stix", "valid_from": ts}),
	}
	art, _ := json.Marshal(map[string]any{"type": "artifact", "spec_version": "2.1", "id": stix.NewID("artifact"), "mime_type": "text/plain",
		"payload_bin": base64.StdEncoding.EncodeToString([]byte("evidence of " + name))})
	objs = append(objs, art)
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	return b
}

// sumSecrets lists what of a report must never reach the summary: the
// ids, names, patterns and payloads of the report and its objects, and
// the addresses in the patterns.
func sumSecrets(t *testing.T, n *reqNode, id string, ips ...string) []string {
	t.Helper()
	r, err := n.wf.Report(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]string{r.ID, r.Name}, ips...)
	for _, raw := range r.Objects {
		var o map[string]any
		json.Unmarshal(raw, &o)
		for _, k := range []string{"id", "name", "pattern", "payload_bin"} {
			if s, ok := o[k].(string); ok && s != "" && !strings.HasPrefix(s, "identity--") && !strings.HasPrefix(s, "marking-definition--") {
				out = append(out, s)
			}
		}
	}
	return out
}

// The leadership summary on two nodes: counts, threat levels from the
// CLEAR/GREEN reports only, the overdue off-limits request first, the
// agreed statements, responsiveness keyed by party; the same on both
// nodes at the same fake time; and nothing of the AMBER and RED reports
// (ids, names, patterns, addresses, evidence), nor any indicator value.
func TestSummaryTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	clock := &reqClock{t: t0}
	a, b, ch := reqTwoNodes(t, clock)
	olAgree(t, a, b, ch, "energy")

	green, err := a.wf.FileReport(ctx, "a-b", sumBundle(t, t0, "GREEN-visible-incident", "198.51.100.21"), "green", []string{"energy"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	amber, err := a.wf.FileReport(ctx, "a-b", sumBundle(t, t0, "AMBER-secret-incident", "203.0.113.99"), "amber", []string{"energy", "health"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	red, err := a.wf.FileReportTo(ctx, "a-b", sumBundle(t, t0, "RED-secret-incident", "203.0.113.77"), "red", []string{"water"}, 4, []string{"role:lead"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := a.wf.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{green}, Text: "Take 198.51.100.21 down"})
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"en": "The parties will talk weekly.", "ru": "Стороны будут говорить еженедельно."}
	joint, err := b.wf.ProposeStatement(ctx, "a-b", workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: texts})
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, a, ch, joint)
	sum, _ := workflow.TextSHA256(texts)
	for _, n := range []*reqNode{a, b} {
		if _, err := n.wf.SignStatement(ctx, joint, sum, "lead (lead)"); err != nil {
			t.Fatal(err)
		}
	}
	k, err := a.wf.SendCheck(ctx, "a-b")
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, k.ID)
	reqHas(t, b, ch, red)
	reqHas(t, b, ch, req)
	clock.Add(20 * time.Second)
	if _, err := b.wf.AnswerCheck(ctx, k.ID, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}); err != nil {
		t.Fatal(err)
	}
	// 2 h later the off-limits request (1 h to acknowledge) is overdue.
	clock.Add(2 * time.Hour)

	// Both nodes compute the same summary once they hold the same objects
	// (the servers' own escalations and receipts included).
	var sa, sb *workflow.Summary
	var ja []byte
	reqWaitFor(t, "both nodes compute the same summary", func() bool {
		var err error
		if sa, err = a.wf.Summary(ctx); err != nil {
			t.Fatal(err)
		}
		if sb, err = b.wf.Summary(ctx); err != nil {
			t.Fatal(err)
		}
		if sa.Node != "party-a" || sb.Node != "party-b" {
			t.Fatalf("nodes %q %q", sa.Node, sb.Node)
		}
		ca, cb := *sa, *sb
		ca.Node, cb.Node = "", ""
		ja, _ = json.Marshal(ca)
		jb, _ := json.Marshal(cb)
		return string(ja) == string(jb) && sa.Counts.Escalations >= 2 && sa.Counts.ChecksAnswered == 1
	})

	var keys map[string]json.RawMessage
	if err := json.Unmarshal(ja, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"threat", "requests", "overdue", "statements", "responsiveness", "counts"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("the summary has no %q: %s", k, ja)
		}
	}
	if c := sa.Counts; c.Channels != 1 || c.Reports != 1 || c.ReportsByTLP["green"] != 1 || len(c.ReportsByTLP) != 1 || c.Requests != 1 || c.Checks != 1 {
		t.Errorf("counts: %+v", c)
	}
	if r := sa.Requests; r["total"] != 1 || r["submitted"] != 1 || r["overdue"] != 1 || r["off_limits"] != 1 || r["closed"] != 0 {
		t.Errorf("requests: %v", r)
	}
	// The off-limits request is overdue at top priority (with the
	// servers' urgent notices about the off-limits report and request,
	// unacknowledged); top priority comes first.
	found := false
	for i, o := range sa.Overdue {
		if i > 0 && o.Priority == "top" && sa.Overdue[i-1].Priority != "top" {
			t.Errorf("overdue %d is top priority after a %s one", i, sa.Overdue[i-1].Priority)
		}
		if o.Kind == "request" && o.ID == req {
			found = true
			if o.Priority != "top" || o.Late != "acknowledgement" || o.Owner != "party-b" || o.From != "party-a" || !o.Due.Equal(t0.Add(time.Hour)) {
				t.Errorf("overdue request: %+v", o)
			}
		}
	}
	if !found {
		t.Errorf("overdue: %+v", sa.Overdue)
	}
	kinds := map[workflow.StatementKind]string{}
	for _, st := range sa.Statements {
		kinds[st.Kind] = st.Texts["en"]
	}
	if len(sa.Statements) != 2 || kinds[workflow.StatementJoint] != texts["en"] || kinds[workflow.StatementOffLimits] == "" {
		t.Errorf("statements: %+v", sa.Statements)
	}
	if p := sa.Responsiveness["party-b"]; p.Checks.Answered != 1 || p.Requests.Received != 1 || p.Requests.AckDue != 1 || p.Requests.AckInTime != 0 {
		t.Errorf("responsiveness of party-b: %+v", p)
	}
	if _, ok := sa.Responsiveness["party-a"]; !ok {
		t.Errorf("responsiveness: %v", sa.Responsiveness)
	}

	// Threat: energy from the GREEN report alone (severity 2, off-limits,
	// 2 h 20 s old); health and water, named only by the AMBER and RED
	// reports, are not shown; 'parley threat' weighs them all.
	if len(sa.Threat) != 1 {
		t.Fatalf("threat: %+v", sa.Threat)
	}
	var sectors []string
	for _, s := range sa.Threat[0].Sectors {
		sectors = append(sectors, s.Sector)
		if s.Sector != "energy" {
			continue
		}
		age := clock.Now().Sub(t0)
		want := math.Round(2*math.Exp2(-float64(age)/float64(workflow.ThreatHalfLife))*2*1000) / 1000
		if s.Computed.Score != want || s.Computed.Incidents != 1 || s.Computed.Level != 3 || !s.OffLimits || s.Trend != "rising" {
			t.Errorf("energy: %+v; want score %v", s, want)
		}
	}
	if strings.Join(sectors, ",") != "energy" {
		t.Errorf("sectors %v, want energy only", sectors)
	}
	full, err := a.wf.Threat(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Channels[0].Sectors) != 3 || full.Channels[0].Sectors[0].Computed.Incidents != 2 {
		t.Errorf("parley threat: %+v", full.Channels[0].Sectors)
	}

	// Nothing of the AMBER and RED reports, and no indicator value, in
	// either node's summary.
	var secrets []string
	secrets = append(secrets, sumSecrets(t, a, amber, "203.0.113.99")...)
	secrets = append(secrets, sumSecrets(t, a, red, "203.0.113.77")...)
	for _, s := range sumSecrets(t, a, green, "198.51.100.21") {
		if strings.Contains(s, "198.51.100.21") || strings.HasPrefix(s, "artifact--") || strings.HasPrefix(s, "indicator--") || strings.HasPrefix(s, "ZXZp") {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) < 12 {
		t.Fatalf("too few secrets to look for: %v", secrets)
	}
	for _, s := range []*workflow.Summary{sa, sb} {
		j, _ := json.Marshal(s)
		for _, secret := range secrets {
			if strings.Contains(string(j), secret) {
				t.Errorf("%s's summary holds %q", s.Node, secret)
			}
		}
		for _, word := range []string{"AMBER", "RED-", `"pattern"`, `"payload_bin"`, "ipv4-addr"} {
			if strings.Contains(string(j), word) {
				t.Errorf("%s's summary holds %q: %s", s.Node, word, j)
			}
		}
	}
}
