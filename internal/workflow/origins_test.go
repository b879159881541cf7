package workflow_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// TestOriginFiguresTwoNodes: A and B, each with the same database, file
// an incident report each; once both nodes have enriched both reports'
// objects, both compute the same figures for both directions, with the
// counts the database gives.
func TestOriginFiguresTwoNodes(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	dbFile := routeDB(t)
	a, _ := routeNewNode(t, "party-a", clock, dbFile)
	b, _ := routeNewNode(t, "party-b", clock, dbFile)
	ch := routePair(t, a, b, "XB", "a-b")

	ind := func(pattern string) json.RawMessage {
		ts := stix.FormatTime(t0)
		raw, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
			"pattern": pattern, "pattern_type": "stix", "valid_from": ts})
		return raw
	}
	// The sample incident names 203.0.113.42 (XB, AS64496); reqBundle adds
	// 198.51.100.9 (XC, AS64497).
	ra, err := a.wf.FileReport(ctx, ch, reqBundle(t, t0, ind("[ipv6-addr:value = '2001:db8:8000::1'] OR [ipv4-addr:value = '233.252.0.5']")), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.wf.FileReport(ctx, ch, reqBundle(t, t0, ind("[ipv4-addr:value = '100.64.0.1']")), "amber", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reqHas(t, a, ch, rb)
	reqHas(t, b, ch, ra)

	want := map[string]*workflow.PartyOrigins{
		"party-a": {Party: "party-a", Reports: 1, WithAddresses: 1,
			Territories: []workflow.TerritoryCount{{Territory: "XC", Reports: 1, Addresses: 2}, {Territory: "XB", Reports: 1, Addresses: 1}, {Territory: "XD", Reports: 1, Addresses: 1}},
			ASNs: []workflow.ASCount{{ASN: 64497, Org: "Demo network of XC", Reports: 1, Addresses: 2}, {ASN: 64496, Org: "Demo network of XB", Reports: 1, Addresses: 1},
				{ASN: 64498, Org: "Demo network of XD", Reports: 1, Addresses: 1}}},
		"party-b": {Party: "party-b", Reports: 1, WithAddresses: 1,
			Territories: []workflow.TerritoryCount{{Territory: "", Reports: 1, Addresses: 1}, {Territory: "XB", Reports: 1, Addresses: 1}, {Territory: "XC", Reports: 1, Addresses: 1}},
			ASNs:        []workflow.ASCount{{ASN: 0, Reports: 1, Addresses: 1}, {ASN: 64496, Org: "Demo network of XB", Reports: 1, Addresses: 1}, {ASN: 64497, Org: "Demo network of XC", Reports: 1, Addresses: 1}}},
	}
	figures := func(n *reqNode) *workflow.Origins {
		t.Helper()
		os, err := n.wf.Origins(ctx, "a-b")
		if err != nil {
			t.Fatal(err)
		}
		if len(os) != 1 {
			t.Fatalf("%s: %d channels", n.name, len(os))
		}
		return os[0]
	}
	var got [2]*workflow.Origins
	for i, n := range []*reqNode{a, b} {
		reqWaitFor(t, n.name+" has enriched both reports", func() bool {
			o := figures(n)
			return len(o.Parties) == 2 && reflect.DeepEqual(o.Parties[0], want["party-a"]) && reflect.DeepEqual(o.Parties[1], want["party-b"])
		})
		got[i] = figures(n)
	}
	ja, _ := json.Marshal(got[0])
	jb, _ := json.Marshal(got[1])
	if string(ja) != string(jb) {
		t.Errorf("the nodes differ:\nA %s\nB %s", ja, jb)
	}
	if len(got[0].Databases) != 1 || got[0].Databases[0].Type != "Parley-Demo-Country-ASN" {
		t.Errorf("databases %+v", got[0].Databases)
	}
	// A filter (the summary's TLP rule) leaves reports out entirely.
	chA := a.wfChannel(t, ch)
	only, err := a.wf.OriginFiguresOf(ctx, chA, func(r *workflow.Report) bool { return r.From == "party-b" })
	if err != nil {
		t.Fatal(err)
	}
	if only.Parties[0].Reports != 0 || len(only.Parties[0].Territories) != 0 || !reflect.DeepEqual(only.Parties[1], want["party-b"]) {
		t.Errorf("filtered: %+v %+v", only.Parties[0], only.Parties[1])
	}
	t.Logf("%s", ja)
}
