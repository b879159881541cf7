package peer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/stix"
)

// TestHostilePeerInput: a peer whose log holds objects no honest node
// writes — a pattern nested 5,000 deep, a number beyond a double, an
// integer of 100,000 digits, a duplicate member — has none of them
// applied; an object with 100,000 custom properties is applied in linear
// time; the peer's honest objects after them still arrive, and the node
// keeps serving.
func TestHostilePeerInput(t *testing.T) {
	ctx := context.Background()
	a, h := newNode(t, "party-a"), newNode(t, "party-h")
	id := share(t, a, h)
	idH := peer.IdentityID(h.store().LogKey())
	now := time.Now().UTC().Truncate(time.Millisecond)

	nested := stixObject("indicator", stix.NewID("indicator"), idH, now, 0, "")
	nested = json.RawMessage(strings.Replace(string(nested), `[ipv4-addr:value = '198.51.100.7']`, strings.Repeat("(", 5000)+`[ipv4-addr:value = '198.51.100.7']`+strings.Repeat(")", 5000), 1))
	huge := stixObject("incident", stix.NewID("incident"), idH, now, 0, `,"x_score":1e999999`)
	long := stixObject("incident", stix.NewID("incident"), idH, now, 0, `,"x_count":`+strings.Repeat("9", 100_000))
	dup := stixObject("incident", stix.NewID("incident"), idH, now, 0, `,"x_a":1,"x_a":2`)
	var wide strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&wide, `,"x_p%d":%d`, i, i)
	}
	wideObj := stixObject("incident", stix.NewID("incident"), idH, now, 0, wide.String())
	honest := stixObject("indicator", stix.NewID("indicator"), idH, now, 0, "")

	// h's store logs whatever it is given, as a hostile node's would.
	var objs []*dialogue.Object
	for _, raw := range []json.RawMessage{nested, huge, long, dup, wideObj, honest} {
		var p struct{ ID, Type string }
		json.Unmarshal(raw, &p)
		objs = append(objs, &dialogue.Object{ID: p.ID, Type: p.Type, SpecVersion: "2.1", Created: now, Modified: now, Raw: raw})
	}
	if _, err := h.store().Store.AddObjects(ctx, id, objs); err != nil {
		t.Fatal(err)
	}
	size := latest(t, h, id).Size
	start := time.Now()
	waitFor(t, 60*time.Second, "a applied h's whole log", func() bool {
		n, err := a.store().Store.Applied(ctx, h.name, id)
		return err == nil && n == size
	})
	t.Logf("a applied h's log with a 100,000-property object in %v", time.Since(start).Round(time.Millisecond))
	for _, raw := range []json.RawMessage{nested, huge, long, dup} {
		if o := latestRaw(t, a, id, objectID(raw)); o != nil {
			t.Errorf("a applied %s, which no honest node writes", o.ID)
		}
	}
	for _, raw := range []json.RawMessage{wideObj, honest} {
		if latestRaw(t, a, id, objectID(raw)) == nil {
			t.Errorf("a did not apply h's valid %s", objectID(raw))
		}
	}
	// a keeps serving: its next object still reaches h.
	later := stixObject("indicator", stix.NewID("indicator"), "", now, 0, "")
	post(t, a, id, later)
	waitFor(t, 15*time.Second, "h holds a's later indicator", func() bool { return latestRaw(t, h, id, objectID(later)) != nil })
}
