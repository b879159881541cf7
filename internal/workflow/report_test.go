package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// reqOfficialSchema validates an object against the OASIS STIX 2.1 JSON
// Schema of its type, when there is one (after internal/stix's
// officialSchemas).
func reqOfficialSchema(t *testing.T) func(raw []byte) {
	t.Helper()
	schema := shareddata.STIXSchemas(t)
	return func(raw []byte) {
		t.Helper()
		var probe struct{ Type string }
		json.Unmarshal(raw, &probe)
		if err := stix.ValidateParley(raw); err != nil {
			t.Errorf("Parley's schema: %v\n%s", err, raw)
		}
		name := probe.Type
		if stix.IsParleyType(name) {
			// Parley's own types have no OASIS schema of their own:
			// the common core, which also refuses the property names
			// STIX 2.1 reserves (section 3.8).
			name = "core"
		}
		s, ok := schema(name)
		if !ok {
			t.Fatalf("no OASIS schema for %q", probe.Type)
		}
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err := s.Validate(doc); err != nil {
			t.Errorf("the OASIS %s schema: %v\n%s", probe.Type, err, raw)
		}
	}
}

// A files an incident report on the channel: its objects and a report
// referencing all of them, marked, with sectors and severity; it travels
// to B, which reads the same report as A's.
func TestFileReport(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	valid := reqOfficialSchema(t)

	bundle := reqBundle(t, clock.Now())
	var bo struct{ Objects []json.RawMessage }
	json.Unmarshal(bundle, &bo)
	id, err := a.wf.FileReport(ctx, "a-b", bundle, "amber", []string{"energy", " Drinking-Water ", "energy"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	for _, n := range []*reqNode{a, b} {
		r, err := n.wf.Report(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if r.From != "party-a" || r.TLP != "amber" || !slices.Equal(r.Sectors, []string{"energy", "drinking-water"}) || r.Severity != 5 || r.Channel != ch {
			t.Errorf("%s reads %+v", n.name, r)
		}
		valid(r.Raw)
		// The report references every object but the published TLP
		// definition; each is stored as the bundle gives it, and is
		// AMBER: by its own marking, or, unmarked, by the report's.
		if len(r.ObjectRefs) != len(bo.Objects)-1 || len(r.Objects) != len(r.ObjectRefs) {
			t.Errorf("%s: %d refs, %d objects", n.name, len(r.ObjectRefs), len(r.Objects))
		}
		given := map[string]string{}
		for _, raw := range bo.Objects {
			var m struct{ ID string }
			json.Unmarshal(raw, &m)
			given[m.ID] = string(raw)
		}
		view := n.wf.TLPView(ch, &dialogue.User{Name: "eve", Role: dialogue.RoleExpert})
		types := map[string]int{}
		for _, raw := range r.Objects {
			var m struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			}
			json.Unmarshal(raw, &m)
			types[m.Type]++
			if string(raw) != given[m.ID] {
				t.Errorf("%s: %s stored as\n%s\nfiled as\n%s", n.name, m.ID, raw, given[m.ID])
			}
			if mk, err := view.Marking(ctx, &dialogue.Object{ID: m.ID, Raw: raw}); err != nil || mk.Level != dialogue.TLPAmber {
				t.Errorf("%s: %s is %v, %v; want AMBER", n.name, m.ID, mk.Level, err)
			}
			if n == a {
				valid(raw)
			}
		}
		for _, typ := range []string{"incident", "indicator", "observed-data", "infrastructure", "attack-pattern", "malware"} {
			if types[typ] == 0 {
				t.Errorf("%s: the report holds no %s (%v)", n.name, typ, types)
			}
		}
		list, err := n.wf.Reports(ctx, "")
		if err != nil || len(list) != 1 || list[0].ID != id || list[0].Objects != nil {
			t.Errorf("%s: Reports = %v, %v", n.name, list, err)
		}
	}
}

// Every refused report, with the error naming the field.
func TestFileReportRefused(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, _, _ := reqTwoNodes(t, clock)
	good := reqBundle(t, clock.Now())
	ts := stix.FormatTime(clock.Now())
	onlyMalware, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": []any{
		map[string]any{"type": "malware", "spec_version": "2.1", "id": stix.NewID("malware"), "created": ts, "modified": ts, "name": "x", "is_family": false}}})
	badPattern, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
		"pattern": "[file:hashes.'SHA-256' = 'abc']", "pattern_type": "stix", "valid_from": ts})
	for _, c := range []struct {
		name     string
		channel  string
		bundle   []byte
		tlp      string
		sectors  []string
		severity int
		kind     dialogue.Kind
		want     string
	}{
		{"no TLP", "a-b", good, "", []string{"energy"}, 3, dialogue.KindInvalid, "tlp: required"},
		{"TLP 1.0 white", "a-b", good, "white", []string{"energy"}, 3, dialogue.KindInvalid, `tlp: "white" is not a TLP 2.0 level (clear, green, amber, amber+strict, red).`},
		{"no sector", "a-b", good, "green", nil, 3, dialogue.KindInvalid, "sectors: required"},
		{"unknown sector", "a-b", good, "green", []string{"energy", "shipping"}, 3, dialogue.KindInvalid, `sectors: "shipping" is not a sector code.`},
		{"severity 0", "a-b", good, "green", []string{"energy"}, 0, dialogue.KindInvalid, `severity: "0"; want a number from 1 (low) to 5 (critical).`},
		{"severity 6", "a-b", good, "green", []string{"energy"}, 6, dialogue.KindInvalid, `severity: "6"; want a number`},
		{"no incident or indicator", "a-b", onlyMalware, "green", []string{"energy"}, 3, dialogue.KindInvalid, "bundle: holds no incident and no indicator"},
		{"invalid pattern", "a-b", reqBundle(t, clock.Now(), badPattern), "green", []string{"energy"}, 3, dialogue.KindInvalid, "/pattern"},
		{"not a bundle", "a-b", []byte(`{"type":"indicator"}`), "green", []string{"energy"}, 3, dialogue.KindInvalid, "bundle:"},
		{"not JSON", "a-b", []byte(`{`), "green", []string{"energy"}, 3, dialogue.KindInvalid, "bundle:"},
		{"unknown channel", "nope", good, "green", []string{"energy"}, 3, dialogue.KindInvalid, `channel: "nope" is not a channel of this node.`},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := a.wf.FileReport(ctx, c.channel, c.bundle, c.tlp, c.sectors, c.severity)
			if err == nil || dialogue.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, %v (%v); want %v %q", id, err, dialogue.KindOf(err), c.kind, c.want)
			}
		})
	}
	if list, err := a.wf.Reports(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("after refusals: %v, %v", list, err)
	}
}

// A report is filed whole or not at all: the same bundle filed again at
// TLP:CLEAR after TLP:AMBER holds an unmarked object that keeps the AMBER
// report's marking, so it is refused, and no CLEAR report is written,
// logged or sent: no AMBER object is shown under a CLEAR report.
func TestFileReportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	bundle := reqBundle(t, clock.Now())
	id, err := a.wf.FileReport(ctx, "a-b", bundle, "amber", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, b, ch, id)
	size := func() int64 {
		n, err := a.wf.Store.LogSize(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	clock.Add(time.Minute)
	got, err := a.wf.FileReport(ctx, "a-b", bundle, "clear", []string{"energy"}, 3)
	if err == nil || dialogue.KindOf(err) != dialogue.KindConflict || !strings.Contains(err.Error(), "is filed already in a report at TLP:amber") || !strings.Contains(err.Error(), "nothing was filed") {
		t.Errorf("filing the AMBER objects at CLEAR: %q, %v", got, err)
	}
	if n := size(); n != before {
		t.Errorf("a's log grew from %d to %d entries after refused filings", before, n)
	}
	for _, n := range []*reqNode{a, b} {
		list, err := n.wf.Reports(ctx, "")
		if err != nil || len(list) != 1 || list[0].ID != id || list[0].TLP != "amber" {
			t.Errorf("%s: Reports = %+v, %v; want only the AMBER report", n.name, list, err)
		}
	}
}
