package workflow

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// fuzzItems turns a JSON array of objects into a channel's items, as the
// fold reads them from the store: each object's "type", "id" and
// "created" make its dialogue.Object, its "by" (0 or 1) the party (its
// created_by_ref), the whole its JSON, as a peer could send it; an id
// seen before is left out.
func fuzzItems(data []byte, self, other dialogue.Party) []*commsItem {
	var raws []map[string]any
	if json.Unmarshal(data, &raws) != nil {
		return nil
	}
	s := &Service{Self: self}
	var items []*commsItem
	seen := map[string]bool{}
	for _, p := range raws {
		typ, _ := p["type"].(string)
		id, _ := p["id"].(string)
		if seen[id] {
			continue // the store holds one (latest) version of each id
		}
		seen[id] = true
		created, _ := stix.ParseTime(func() string { s, _ := p["created"].(string); return s }())
		p["created_by_ref"] = self.IdentityID
		if by, _ := p["by"].(float64); by == 1 {
			p["created_by_ref"] = other.IdentityID
		}
		raw, err := json.Marshal(p)
		if err != nil {
			continue
		}
		if it := s.decodeComms(&dialogue.Object{ID: id, Type: typ, Created: created, Raw: raw}, other); it != nil {
			items = append(items, it)
		}
	}
	return items
}

const fuzzSeed = `[
 {"type":"parley-hotline","id":"h1","by":0,"created":"2026-01-01T00:00:00.000Z","priority":"urgent","ack_within":900,"description":"x"},
 {"type":"parley-receipt","id":"r1","by":1,"message_ref":"h1","receipt_kind":"delivered","received":"2026-01-01T00:00:01.000Z"},
 {"type":"parley-receipt","id":"r2","by":1,"message_ref":"h1","receipt_kind":"acknowledged","received":"2026-01-01T00:05:00.000Z","acknowledged_by":"olga (duty)"},
 {"type":"parley-receipt","id":"r0","by":0,"message_ref":"h1","receipt_kind":"acknowledged","received":"2026-01-01T00:00:02.000Z"},
 {"type":"parley-receipt","id":"r3","by":1,"message_ref":"h1","receipt_kind":"acknowledged","received":"2026-01-01T00:04:00.000Z","acknowledged_by":"piotr (expert)"},
 {"type":"parley-check","id":"c1","by":1,"check_kind":"ping","trigger":"scheduled","sent":"2026-01-01T00:00:00.000Z"},
 {"type":"parley-check","id":"a1","by":0,"check_kind":"answer","check_ref":"c1","answered":"2026-01-01T00:01:30.000Z"},
 {"type":"parley-check","id":"a2","by":1,"check_kind":"answer","check_ref":"c1","answered":"2026-01-01T00:00:30.000Z"},
 {"type":"parley-check","id":"c2","by":0,"check_kind":"ping","trigger":"on-demand","sent":"2026-01-01T01:00:00.000Z"},
 {"type":"parley-event","id":"e1","by":0,"created":"2026-01-01T00:16:00.000Z","event_kind":"escalation","subject_ref":"h1","reason":"hotline-unacknowledged"},
 {"type":"parley-event","id":"e0","by":1,"created":"2026-01-01T00:16:00.000Z","event_kind":"escalation","subject_ref":"h1","reason":"hotline-unacknowledged"}
]`

// The fold of a channel's hotline and checks takes whatever the peer
// sends without failing; counts only receipts, acknowledgements and
// answers of the party that did not send the message; and gives the same
// views and figures whatever order the items were applied in, as on the
// two nodes.
func FuzzFoldComms(f *testing.F) {
	f.Add([]byte(fuzzSeed))
	f.Add([]byte(`[{"type":"parley-hotline","id":"h","ack_within":-1e300},{"type":"parley-receipt","message_ref":"h","receipt_kind":"delivered","received":"9999-12-31T23:59:59.999999999Z","by":1}]`))
	f.Add([]byte(`[{"type":"parley-check","id":"c","check_kind":"ping"},{"type":"parley-check","id":"c","check_kind":"answer","check_ref":"c","answered":"x","by":1}]`))
	self := dialogue.Party{Name: "party-a", IdentityID: "identity--a", Local: true}
	other := dialogue.Party{Name: "party-b", IdentityID: "identity--b"}
	ch := &dialogue.Channel{ID: "ch"}
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		items := fuzzItems(data, self, other)
		views := func(items []*commsItem) ([]*Hotline, []*Check, []CheckFigure) {
			c := foldComms(ch, self, other, items)
			var hs []*Hotline
			for _, m := range c.messages {
				h := c.hotline(m, now)
				if a := c.acked[h.ID]; a != nil && a.From.IdentityID == m.From.IdentityID {
					t.Fatalf("%s acknowledged by its sender", h.ID)
				}
				hs = append(hs, h)
			}
			var ks []*Check
			for _, p := range c.pings {
				k := c.check(p)
				if a := c.answers[k.ID]; a != nil && a.From.IdentityID == p.From.IdentityID {
					t.Fatalf("%s answered by its sender", k.ID)
				}
				ks = append(ks, k)
			}
			figs := c.figures()
			for _, fg := range figs {
				if fg.Answered > fg.Sent || fg.AnswerRate != nil && (*fg.AnswerRate < 0 || *fg.AnswerRate > 1) {
					t.Fatalf("figure %+v", fg)
				}
			}
			return hs, ks, figs
		}
		h1, k1, f1 := views(items)
		// A fold extended with the later items is the fold of all of them,
		// and the fold it was extended from is left as it was.
		k := len(data) % (len(items) + 1)
		full := foldComms(ch, self, other, items)
		part := foldComms(ch, self, other, items[:k])
		before := jsonOfComms(part, now)
		ext := part.clone()
		ext.add(items[k:])
		if got, want := jsonOfComms(ext, now), jsonOfComms(full, now); got != want {
			t.Fatalf("extended after %d items:\n%s\nwhole:\n%s", k, got, want)
		}
		if after := jsonOfComms(part, now); after != before {
			t.Fatalf("extending changed the fold it was extended from:\n%s\n%s", before, after)
		}
		rev := slices.Clone(items)
		slices.Reverse(rev)
		h2, k2, f2 := views(rev)
		// The messages and pings come in the items' order; the rest must not
		// depend on it.
		byID := func(hs []*Hotline) map[string]Hotline {
			m := map[string]Hotline{}
			for _, h := range hs {
				m[h.ID] = *h
			}
			return m
		}
		kByID := func(ks []*Check) map[string]Check {
			m := map[string]Check{}
			for _, k := range ks {
				m[k.ID] = *k
			}
			return m
		}
		if !reflect.DeepEqual(byID(h1), byID(h2)) || !reflect.DeepEqual(kByID(k1), kByID(k2)) || !reflect.DeepEqual(f1, f2) {
			t.Fatalf("the order of the items changes the fold:\n%+v\n%+v\n%+v\n%+v", h1, h2, f1, f2)
		}
	})
}

// The seed's story: the sender's own acknowledgement (r0) and the
// checking party's own answer (a2) do not count; of two acknowledgements the earlier
// counts; of two escalations the one of the smaller id at the same time.
func TestFoldCommsSeed(t *testing.T) {
	self := dialogue.Party{Name: "party-a", IdentityID: "identity--a", Local: true}
	other := dialogue.Party{Name: "party-b", IdentityID: "identity--b"}
	c := foldComms(&dialogue.Channel{ID: "ch"}, self, other, fuzzItems([]byte(fuzzSeed), self, other))
	h := c.hotline(c.byID["h1"], time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC))
	if h.State != HotlineAcknowledged || h.AckID != "r3" || h.AcknowledgedBy != "piotr (expert)" || h.DeliveryID != "r1" || h.Escalation != "e0" || h.Overdue || h.AckLate {
		t.Errorf("%+v", h)
	}
	k := c.check(c.byID["c1"])
	if k.AnswerID != "a1" || k.State != CheckAnswered || *k.AnswerSeconds != 90 {
		t.Errorf("c1: %+v", k)
	}
	figs := c.figures()
	if len(figs) != 2 || figs[0].Party != "party-a" || figs[0].Sent != 1 || figs[0].Answered != 1 || *figs[0].AnswerRate != 1 || *figs[0].MedianAnswerSeconds != 90 ||
		figs[1].Party != "party-b" || figs[1].Sent != 1 || figs[1].Answered != 0 || *figs[1].AnswerRate != 0 || figs[1].MedianAnswerSeconds != nil {
		t.Errorf("%+v", figs)
	}
}

// jsonOfComms is everything a fold answers at now, as JSON: the views of
// its messages and pings in order, its figures, its escalation count and
// what waits.
func jsonOfComms(c *comms, now time.Time) string {
	var hs []*Hotline
	for _, m := range c.messages {
		hs = append(hs, c.hotline(m, now))
	}
	var ks []*Check
	for _, p := range c.pings {
		ks = append(ks, c.check(p))
	}
	waiting := map[string]int{}
	for id, its := range c.waiting {
		waiting[id] = len(its)
	}
	b, err := json.Marshal(map[string]any{"hotline": hs, "checks": ks, "figures": c.figures(), "escalations": c.escalationEvents, "waiting": waiting})
	if err != nil {
		panic(err)
	}
	return string(b)
}
