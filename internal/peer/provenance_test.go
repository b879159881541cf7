package peer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
)

// stixObject returns a valid STIX object of typ with the given id,
// created_by_ref (none when "") and modified offset after created.
func stixObject(typ, id, creator string, created time.Time, modified time.Duration, extra string) json.RawMessage {
	c, m := stix.FormatTime(created), stix.FormatTime(created.Add(modified))
	by := ""
	if creator != "" {
		by = fmt.Sprintf(`"created_by_ref":%q,`, creator)
	}
	switch typ {
	case "report":
		extra += `,"report_types":["threat-report"],"published":"` + c + `","object_refs":["identity--00000000-0000-4000-8000-000000000001"]`
	case "indicator":
		extra += `,"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"` + c + `"`
	}
	return json.RawMessage(fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,%s"created":%q,"modified":%q,"name":"%s %s"%s}`,
		typ, id, by, c, m, typ, id[len(id)-4:], extra))
}

// post writes objects through the node's write store as a TAXII POST does
// (each object on its own) and returns the results in their order.
func post(t testing.TB, n *testNode, id string, raws ...json.RawMessage) []ingest.Result {
	t.Helper()
	rep, err := ingest.Objects(context.Background(), server.WriteStore(n.store()), id, raws, ingest.EachOnItsOwn)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(raws) {
		t.Fatalf("%d results for %d objects: %+v", len(rep.Results), len(raws), rep.Results)
	}
	return rep.Results
}

// latestRaw returns the latest stored version of an object on n (nil when
// none).
func latestRaw(t testing.TB, n *testNode, coll, id string) *dialogue.Object {
	t.Helper()
	page, err := n.store().Store.FindObjects(context.Background(), coll, dialogue.ObjectFilter{IDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) == 0 {
		return nil
	}
	return page.Objects[0]
}

// A party writes only in its own name: on B, a report and an incident
// naming A as creator are refused whatever the path (the write store), as
// is a new version of A's report; B's own objects, and one naming a third
// creator, are written. A's report stays as A wrote it, on both nodes.
func TestWriteInOwnNameOnly(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	idA := peer.IdentityID(a.store().LogKey())
	now := time.Now().UTC().Truncate(time.Millisecond)

	reportA := stixObject("report", stix.NewID("report"), "", now, 0, "")
	if r := post(t, a, id, reportA); r[0].Status != dialogue.Added {
		t.Fatalf("a's report: %+v", r)
	}
	reportID := objectID(reportA)
	waitFor(t, 15*time.Second, "b holds a's report", func() bool { return latestRaw(t, b, id, reportID) != nil })

	forgedReport := stixObject("report", stix.NewID("report"), idA, now, 0, "")
	forgedIncident := stixObject("incident", stix.NewID("incident"), idA, now, 0, "")
	newVersion := stixObject("report", reportID, "", now, time.Second, `,"description":"rewritten by b"`)
	newVersionAsA := stixObject("report", reportID, idA, now, 2*time.Second, `,"description":"rewritten by b as a"`)
	own := stixObject("indicator", stix.NewID("indicator"), "", now, 0, "")
	third := stixObject("indicator", stix.NewID("indicator"), "identity--00000000-0000-4000-8000-00000000beef", now, 0, "")
	res := post(t, b, id, forgedReport, forgedIncident, newVersion, newVersionAsA, own, third)
	for i, raw := range []json.RawMessage{forgedReport, forgedIncident, newVersion, newVersionAsA} {
		oid, r := objectID(raw), res[i]
		if r.Status != dialogue.Rejected || dialogue.KindOf(r.Err) != dialogue.KindForbidden || !strings.Contains(dialogue.Message(r.Err), oid) || !strings.Contains(dialogue.Message(r.Err), "party-a") {
			t.Errorf("b wrote %s: %+v, want FORBIDDEN naming it and party-a", oid, r)
		}
	}
	if r := res[4]; r.Status != dialogue.Added {
		t.Errorf("b's own indicator: %+v", r)
	}
	if r := res[5]; r.Status != dialogue.Added {
		t.Errorf("an indicator naming a third creator: %+v", r)
	}
	if o := latestRaw(t, b, id, objectID(own)); o == nil || string(o.Raw) != string(own) {
		t.Errorf("b's own indicator is not stored as it was given")
	}
	// Nothing of it reached A; A's report is A's on both nodes.
	waitFor(t, 15*time.Second, "a holds b's indicators", func() bool { return latestRaw(t, a, id, objectID(third)) != nil })
	// b's own indicator names no creator: it is b's, whose node logged it
	// first; a may not issue a new version of it, in any name.
	for _, raw := range []json.RawMessage{
		stixObject("indicator", objectID(own), "", now, time.Second, `,"description":"rewritten by a"`),
		stixObject("indicator", objectID(own), idA, now, 2*time.Second, `,"description":"rewritten by a as a"`),
	} {
		if r := post(t, a, id, raw)[0]; r.Status != dialogue.Rejected || dialogue.KindOf(r.Err) != dialogue.KindForbidden || !strings.Contains(dialogue.Message(r.Err), "party-b") {
			t.Errorf("a wrote a new version of b's indicator: %+v, want FORBIDDEN naming party-b", r)
		}
	}
	if o := latestRaw(t, a, id, objectID(own)); o == nil || string(o.Raw) != string(own) {
		t.Errorf("a: b's indicator is not as b filed it")
	}
	for _, n := range []*testNode{a, b} {
		for _, raw := range []json.RawMessage{forgedReport, forgedIncident} {
			if o := latestRaw(t, n, id, objectID(raw)); o != nil {
				t.Errorf("%s holds %s, written on b in a's name", n.name, o.ID)
			}
		}
		if o := latestRaw(t, n, id, reportID); o == nil || strings.Contains(string(o.Raw), "rewritten") {
			t.Errorf("%s: a's report was changed by b: %s", n.name, o.Raw)
		}
	}
	if p, err := a.store().Store.Peer(ctx, b.name); err != nil || p.Alarm != "" {
		t.Errorf("a's state of b: %+v, %v (an honest peer raises no alarm)", p, err)
	}
}

// objectID reads an object's id.
func objectID(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &v)
	return v.ID
}

// A hostile peer (a node that logs whatever it likes, past the write
// rules) sends an object forged in the honest node's name, a new version
// of the honest node's object, and an object in the name of another party
// the honest node pins: the honest node applies none of them, raises
// BAD-DATA, and goes on applying the peer's honest objects.
func TestHostilePeer(t *testing.T) {
	ctx := context.Background()
	a, h, c := newNode(t, "party-a"), newNode(t, "party-h"), newNode(t, "party-c")
	id := share(t, a, h)
	pin(t, a, c) // a party of another channel of a
	idA, idH, idC := peer.IdentityID(a.store().LogKey()), peer.IdentityID(h.store().LogKey()), peer.IdentityID(c.store().LogKey())
	now := time.Now().UTC().Truncate(time.Millisecond)

	mine := stixObject("indicator", stix.NewID("indicator"), "", now, 0, "")
	post(t, a, id, mine)
	mineID := objectID(mine)
	waitFor(t, 15*time.Second, "h holds a's indicator", func() bool { return latestRaw(t, h, id, mineID) != nil })
	before := latestRaw(t, a, id, mineID)

	forged := stixObject("report", stix.NewID("report"), idA, now, 0, "")
	rewritten := stixObject("indicator", mineID, idH, now, time.Second, `,"description":"h's version of a's indicator"`)
	// a's indicator names no creator: it is a's, whose node logged it
	// first, and a new version naming none is refused too.
	unnamed := stixObject("indicator", mineID, "", now, 2*time.Second, `,"description":"h's unnamed version of a's indicator"`)
	ofC := stixObject("incident", stix.NewID("incident"), idC, now, 0, "")
	honest := stixObject("indicator", stix.NewID("indicator"), idH, now, 0, "")
	// h's raw store logs what it is given: no write rules.
	add(t, h, id, [][]byte{forged, rewritten, unnamed, ofC})
	add(t, h, id, [][]byte{honest})
	size := latest(t, h, id).Size

	waitFor(t, 20*time.Second, "a applied h's whole log", func() bool {
		n, err := a.store().Store.Applied(ctx, h.name, id)
		return err == nil && n == size
	})
	if latestRaw(t, a, id, objectID(honest)) == nil {
		t.Errorf("a did not apply h's honest indicator after the refused ones")
	}
	for _, raw := range []json.RawMessage{forged, ofC} {
		if o := latestRaw(t, a, id, objectID(raw)); o != nil {
			t.Errorf("a applied %s: %s", o.ID, o.Raw)
		}
	}
	if o := latestRaw(t, a, id, mineID); o == nil || string(o.Raw) != string(before.Raw) {
		t.Errorf("a's indicator was replaced by h's version")
	}
	p, err := a.store().Store.Peer(ctx, h.name)
	if err != nil || p.Alarm != dialogue.AlarmBadData {
		t.Fatalf("a's state of h: %+v, %v; want BAD-DATA", p, err)
	}
	logs := a.logs.String()
	for _, want := range []string{objectID(forged), mineID, objectID(ofC)} {
		if !strings.Contains(logs, want) {
			t.Errorf("a's log says nothing of %s:\n%s", want, tail(logs, 20))
		}
	}
	// a keeps serving: its next object still reaches h.
	later := stixObject("indicator", stix.NewID("indicator"), "", now, 0, "")
	post(t, a, id, later)
	waitFor(t, 15*time.Second, "h holds a's later indicator", func() bool { return latestRaw(t, h, id, objectID(later)) != nil })
}
