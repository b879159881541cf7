package workflow_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// unmarkedBundle is reqBundle with an unmarked incident naming no creator
// (the sample's objects are AMBER and name a feed's identity; reqBundle
// adds an unmarked indicator naming none). It returns the bundle and the
// incident's id.
func unmarkedBundle(t *testing.T, now time.Time) ([]byte, string) {
	t.Helper()
	ts := stix.FormatTime(now)
	id := stix.NewID("incident")
	inc, _ := json.Marshal(map[string]any{"type": "incident", "spec_version": "2.1", "id": id, "created": ts, "modified": ts, "name": "Beacon at the mail gateway"})
	return reqBundle(t, now, inc), id
}

// bundleObjects returns the objects of a bundle by id, but the published
// TLP definitions (never filed).
func bundleObjects(t *testing.T, bundle []byte) map[string]string {
	t.Helper()
	var bo struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(bundle, &bo); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, raw := range bo.Objects {
		var m struct{ ID string }
		json.Unmarshal(raw, &m)
		if _, ok := stix.TLP(m.ID); !ok {
			out[m.ID] = string(raw)
		}
	}
	return out
}

// Both parties file the same bundle, one before the other's filing
// arrives and one after: each node holds every object of the bundle once,
// with the bytes filed (no node changed it, so no node skips the other's
// as the same version with other content), both reports are on both
// nodes, and a reader of AMBER reads both, with the incident, on either.
func TestFileReportSameBundleBothParties(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	eve := &dialogue.User{Name: "eve", Role: dialogue.RoleExpert}
	for _, afterArrival := range []bool{false, true} {
		clock.Add(time.Minute)
		bundle, incident := unmarkedBundle(t, clock.Now())
		ra, err := a.wf.FileReport(ctx, "a-b", bundle, "amber", []string{"energy"}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if afterArrival {
			reqHas(t, b, ch, incident)
		}
		rb, err := b.wf.FileReport(ctx, "a-b", bundle, "amber", []string{"energy"}, 3)
		if err != nil {
			t.Fatalf("after arrival %v: b files the bundle a filed: %v", afterArrival, err)
		}
		for _, n := range []*reqNode{a, b} {
			reqHas(t, n, ch, ra)
			reqHas(t, n, ch, rb)
		}
		given := bundleObjects(t, bundle)
		for _, n := range []*reqNode{a, b} {
			for id, raw := range given {
				reqHas(t, n, ch, id)
				page, err := n.srv.Node.Store.FindObjects(ctx, ch, dialogue.ObjectFilter{IDs: []string{id}, Versions: dialogue.VersionMatch{All: true}})
				if err != nil {
					t.Fatal(err)
				}
				// The version filed (the sample's feed identity has one
				// version a bundle).
				filed, _, err := stix.Parse(json.RawMessage(raw))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range page.Objects {
					if o.Version().Equal(filed.Modified) {
						got = append(got, string(o.Raw))
					}
				}
				if len(got) != 1 || got[0] != raw {
					t.Errorf("after arrival %v: %s holds %s as %q, filed as %s", afterArrival, n.name, id, got, raw)
				}
			}
			for _, r := range []string{ra, rb} {
				rep, err := n.wf.ReportFor(ctx, eve, r)
				if err != nil {
					t.Errorf("after arrival %v: %s: eve reads report %s: %v", afterArrival, n.name, r, err)
					continue
				}
				if len(rep.Objects) != len(rep.ObjectRefs) || !slices.Contains(rep.ObjectRefs, incident) {
					t.Errorf("after arrival %v: %s: eve reads %d of the %d objects of %s", afterArrival, n.name, len(rep.Objects), len(rep.ObjectRefs), r)
				}
			}
			got, err := n.wf.TLPView(ch, eve).Visible(ctx, &dialogue.Object{ID: incident, Raw: json.RawMessage(given[incident])})
			if err != nil || !got {
				t.Errorf("after arrival %v: %s: eve reads the incident: %v, %v", afterArrival, n.name, got, err)
			}
		}
	}
}

// An unmarked incident filed in an AMBER report is AMBER on the peer too,
// not CLEAR: it takes the report's marking there as here. The report is
// logged before the objects it gives a marking, so a peer applying the
// log in batches never holds the incident without it.
func TestUnmarkedObjectTakesReportMarkingOnPeer(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	bundle, incident := unmarkedBundle(t, clock.Now())
	r, err := a.wf.FileReport(ctx, "a-b", bundle, "amber", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	given := bundleObjects(t, bundle)
	for id := range given {
		reqHas(t, b, ch, id)
	}
	eve := &dialogue.User{Name: "eve", Role: dialogue.RoleExpert}
	for _, n := range []*reqNode{a, b} {
		view := n.wf.TLPView(ch, eve)
		for id, raw := range given {
			m, err := view.Marking(ctx, &dialogue.Object{ID: id, Raw: json.RawMessage(raw)})
			if err != nil {
				t.Fatal(err)
			}
			if m.Level != dialogue.TLPAmber {
				t.Errorf("%s: %s is %s, want amber", n.name, id, m.Level)
			}
		}
	}

	// a's log: the report's entry comes before every object it holds.
	size, err := a.srv.Node.Store.LogSize(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := a.srv.Node.Store.LogEntries(ctx, ch, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, e := range entries {
		var m struct{ ID string }
		if json.Unmarshal(e, &m) == nil && m.ID != "" {
			at[m.ID] = i
		}
	}
	for _, id := range []string{incident, r} {
		if _, ok := at[id]; !ok {
			t.Fatalf("%s is not in a's log", id)
		}
	}
	for id := range given {
		if at[id] < at[r] {
			t.Errorf("a's log holds %s at %d, before its report at %d", id, at[id], at[r])
		}
	}
}

// An incident report naming no creator (imported, or POSTed over TAXII)
// is stored as given and listed, on both nodes, as from the party whose
// node logged it.
func TestReportNamingNoCreatorIsItsSenders(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	ts := stix.FormatTime(clock.Now())
	id := stix.NewID("report")
	raw, _ := json.Marshal(map[string]any{"type": "report", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": "Imported", "report_types": []string{"threat-report"}, "published": ts,
		"object_refs": []string{stix.NewID("incident")}, "object_marking_refs": []string{stix.TLPGreen.ID},
		"extensions": map[string]any{stix.ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": []string{"energy"}, "severity": 2}}})
	if _, err := a.wf.File(ctx, a.wfChannel(t, ch), raw); err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	eve := &dialogue.User{Name: "eve", Role: dialogue.RoleExpert}
	for _, n := range []*reqNode{a, b} {
		r, err := n.wf.ReportFor(ctx, eve, id)
		if err != nil || r.From != "party-a" || string(r.Raw) != string(raw) {
			t.Errorf("%s: %+v, %v; want it from party-a, as filed", n.name, r, err)
		}
		list, err := n.wf.ReportsFor(ctx, eve, "")
		if err != nil || len(list) != 1 || list[0].ID != id || list[0].From != "party-a" {
			t.Errorf("%s: lists %+v, %v", n.name, list, err)
		}
	}
}
