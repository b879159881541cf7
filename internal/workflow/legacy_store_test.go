package workflow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// legacyFiling is an incident report as the code before objects were
// stored as given filed it: the bundle's incident and indicator with the
// filing party's created_by_ref put first and the report's marking added
// (the rest of their keys in json.Marshal's order), then the report. It
// returns the objects and the ids of the report and the incident.
func legacyFiling(t *testing.T, creator string, now time.Time) (objs []*dialogue.Object, report, incident string) {
	t.Helper()
	ts := stix.FormatTime(now)
	incident, indicator := stix.NewID("incident"), stix.NewID("indicator")
	amber := []string{stix.TLPAmber.ID}
	stamp := func(m map[string]any) json.RawMessage {
		b, _ := json.Marshal(m)
		return json.RawMessage(`{"created_by_ref":"` + creator + `",` + string(b[1:]))
	}
	report = stix.NewID("report")
	rep, _ := json.Marshal(map[string]any{
		"type": "report", "spec_version": "2.1", "id": report, "created": ts, "modified": ts,
		"created_by_ref": creator, "name": "Beacon", "report_types": []string{"threat-report"}, "published": ts,
		"object_refs": []string{incident, indicator}, "object_marking_refs": amber,
		"extensions": map[string]any{stix.ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": []string{"energy"}, "severity": 3}},
	})
	for _, raw := range []json.RawMessage{
		stamp(map[string]any{"type": "incident", "spec_version": "2.1", "id": incident, "created": ts, "modified": ts, "name": "Beacon", "object_marking_refs": amber}),
		stamp(map[string]any{"type": "indicator", "spec_version": "2.1", "id": indicator, "created": ts, "modified": ts,
			"pattern": "[ipv4-addr:value = '198.51.100.21']", "pattern_type": "stix", "valid_from": ts, "object_marking_refs": amber}),
		rep,
	} {
		o, _, err := stix.Parse(raw)
		if err != nil {
			t.Fatalf("%v\n%s", err, raw)
		}
		objs = append(objs, &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: raw})
	}
	return objs, report, incident
}

// A store written by the code that stamped objects (created_by_ref and
// the report's marking added to what was filed, logged so on both nodes)
// still verifies and reads: each party's stamped objects are its own,
// its reports are read as before, and only their creator issues new
// versions of them.
func TestStampedStoreStillReads(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	type filed struct {
		by               *reqNode
		report, incident string
		objs             []*dialogue.Object
	}
	var all []filed
	for _, n := range []*reqNode{a, b} {
		objs, report, incident := legacyFiling(t, n.wf.Self.IdentityID, clock.Now())
		// Through the store itself: the bytes as the old code logged them.
		res, err := n.srv.Node.Store.AddObjects(ctx, ch, objs, dialogue.AllOrNothing)
		if err != nil || dialogue.Refuse("test", res) {
			t.Fatalf("%s: %+v, %v", n.name, res, err)
		}
		all = append(all, filed{n, report, incident, objs})
	}
	for _, n := range []*reqNode{a, b} {
		for _, f := range all {
			for _, o := range f.objs {
				reqHas(t, n, ch, o.ID)
			}
		}
	}
	eve := &dialogue.User{Name: "eve", Role: dialogue.RoleExpert}
	for _, n := range []*reqNode{a, b} {
		c, err := n.srv.Node.Store.FindCollection(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		cosigners, err := n.srv.Node.CosignatureVerifiers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.srv.Node.VerifyCollection(ctx, c, cosigners); err != nil {
			t.Errorf("%s: verify: %v", n.name, err)
		}
		for _, f := range all {
			r, err := n.wf.ReportFor(ctx, eve, f.report)
			if err != nil {
				t.Errorf("%s: eve reads %s's report: %v", n.name, f.by.name, err)
				continue
			}
			if r.From != f.by.name || r.TLP != "amber" || len(r.Objects) != 2 {
				t.Errorf("%s: %s's report reads from %q, %s, %d objects", n.name, f.by.name, r.From, r.TLP, len(r.Objects))
			}
			for i, o := range f.objs[:2] {
				if string(r.Objects[i]) != string(o.Raw) {
					t.Errorf("%s: %s's %s reads\n%s\nstored as\n%s", n.name, f.by.name, o.ID, r.Objects[i], o.Raw)
				}
			}
		}
	}

	// New versions of a's stamped incident: a issues one; b may not.
	clock.Add(time.Minute)
	ts := stix.FormatTime(clock.Now())
	next := func(by string) json.RawMessage {
		raw, _ := json.Marshal(map[string]any{"type": "incident", "spec_version": "2.1", "id": all[0].incident, "created": stix.FormatTime(all[0].objs[0].Created),
			"modified": ts, "created_by_ref": by, "name": "Beacon, contained", "object_marking_refs": []string{stix.TLPAmber.ID}})
		return raw
	}
	if _, err := b.wf.File(ctx, b.wfChannel(t, ch), next(b.wf.Self.IdentityID)); dialogue.KindOf(err) != dialogue.KindForbidden || !strings.Contains(err.Error(), "created by party party-a") {
		t.Errorf("b issues a new version of a's stamped incident: %v; want FORBIDDEN", err)
	}
	if _, err := b.wf.File(ctx, b.wfChannel(t, ch), next(a.wf.Self.IdentityID)); dialogue.KindOf(err) != dialogue.KindForbidden {
		t.Errorf("b issues a new version of a's stamped incident in a's name: %v; want FORBIDDEN", err)
	}
	if _, err := a.wf.File(ctx, a.wfChannel(t, ch), next(a.wf.Self.IdentityID)); err != nil {
		t.Errorf("a issues a new version of its stamped incident: %v", err)
	}
}
