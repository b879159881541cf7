package dialogue_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// pages is an ObjectFinder over a fixed list: it honours Types and serves
// one object per page, so that the view's paging is exercised.
type pages []*dialogue.Object

func (p pages) FindObjects(_ context.Context, _ string, f dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	start := 0
	if f.After != "" {
		start = int(f.After[0]-'0') + 1
	}
	for i := start; i < len(p); i++ {
		if len(f.Types) > 0 && !slices.Contains(f.Types, p[i].Type) {
			continue
		}
		more := false
		for j := i + 1; j < len(p); j++ {
			if len(f.Types) == 0 || slices.Contains(f.Types, p[j].Type) {
				more = true
			}
		}
		return &dialogue.ObjectPage{Objects: []*dialogue.Object{p[i]}, More: more, Next: string(rune('0' + i))}, nil
	}
	return &dialogue.ObjectPage{}, nil
}

// Grants: every user of the test's collection "c" reads it.
func (pages) Grants(context.Context, string) ([]dialogue.Grant, error) {
	return []dialogue.Grant{{CollectionID: "c", Principal: "*", Read: true}}, nil
}

// viewOf is the gate's view of user u of the collection "c" of store;
// load, when set, gives the gate the collection's ReportMarkings.
func viewOf(store pages, u *dialogue.User, load func(context.Context) (dialogue.ReportMarkings, error)) *dialogue.TLPView {
	g := dialogue.NewGate(store, stix.ReadTLP)
	if load != nil {
		g.Markings = func(ctx context.Context, _ string) (dialogue.ReportMarkings, error) { return load(ctx) }
	}
	return g.View(dialogue.UserViewer(u), "c")
}

func obj(id, raw string) *dialogue.Object {
	typ, _, _ := strings.Cut(id, "--")
	return &dialogue.Object{ID: id, Type: typ, Raw: []byte(raw)}
}

func marked(id string, m *stix.TLPMarking, extra string) *dialogue.Object {
	typ, _, _ := strings.Cut(id, "--")
	return obj(id, `{"type":"`+typ+`","id":"`+id+`","object_marking_refs":["`+m.ID+`"]`+extra+`}`)
}

func recipients(rs ...string) string {
	return `,"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","recipients":["` + strings.Join(rs, `","`) + `"]}}`
}

func TestTLPView(t *testing.T) {
	store := tlpStore()
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	bob := &dialogue.User{Name: "bob", Role: dialogue.RoleDuty}
	carol := &dialogue.User{Name: "carol", Role: dialogue.RoleAdmin}
	want := map[string][]string{
		"alice": {"indicator--0", "indicator--1", "indicator--2", "indicator--3", "indicator--5", "report--a", "report--c"},
		"bob":   {"indicator--2", "indicator--5", "report--b", "report--c"},
		"carol": {"indicator--2", "indicator--5", "report--c"},
		// mallory's own RED report names alice's objects: it gives her
		// nothing of them (only the first report that held an object counts).
		"mallory": {"indicator--2", "indicator--5", "report--c", "report--m"},
	}
	mallory := &dialogue.User{Name: "mallory", Role: dialogue.RoleExpert}
	for _, u := range []*dialogue.User{alice, bob, carol, mallory, nil} {
		v := viewOf(store, u, nil)
		got, err := v.Filter(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range got {
			ids = append(ids, o.ID)
		}
		name := "nil"
		if u != nil {
			name = u.Name
		}
		if !slices.Equal(ids, want[name]) {
			t.Errorf("%s sees %q, want %q", name, ids, want[name])
		}
	}
	v := viewOf(store, nil, nil)
	for id, wantLevel := range map[string]dialogue.TLPLevel{"indicator--0": dialogue.TLPRed, "indicator--1": dialogue.TLPRed, "indicator--2": dialogue.TLPClear, "indicator--5": dialogue.TLPAmberStrict} {
		for _, o := range store {
			if o.ID != id {
				continue
			}
			m, err := v.Marking(context.Background(), o)
			if err != nil || m.Level != wantLevel {
				t.Errorf("Marking(%s) = %v, %v; want %s", id, m, err, wantLevel)
			}
			if id == "indicator--1" && !slices.Equal(m.Recipients, []string{"alice"}) {
				t.Errorf("Marking(%s) recipients %q, want the first report's", id, m.Recipients)
			}
		}
	}
}

// tlpStore is TestTLPView's collection: unmarked and RED objects held by
// RED and GREEN reports, each object taking the marking of the first report
// that held it.
func tlpStore() pages {
	return pages{
		obj("indicator--0", `{"type":"indicator","id":"indicator--0"}`), // unmarked, in the RED report for alice, then the GREEN one: alice's
		obj("indicator--1", `{"type":"indicator","id":"indicator--1"}`), // unmarked, in the RED report for alice, then the one for duty: alice's
		obj("indicator--2", `{"type":"indicator","id":"indicator--2"}`), // unmarked, in no report
		marked("indicator--3", stix.TLPRed, ""),                         // RED, no recipients: the first report's (alice)
		marked("indicator--4", stix.TLPRed, ""),                         // RED, in the GREEN report only: no one
		marked("indicator--5", stix.TLPAmberStrict, ""),                 // its own marking, whatever the report
		marked("report--a", stix.TLPRed, recipients("alice")+`,"object_refs":["indicator--0","indicator--1","indicator--3","indicator--5"]`),
		marked("report--b", stix.TLPRed, recipients("role:duty")+`,"object_refs":["indicator--1","indicator--3"]`),
		marked("report--c", stix.TLPGreen, `,"object_refs":["indicator--0","indicator--4"]`),
		marked("report--m", stix.TLPRed, recipients("mallory")+`,"object_refs":["indicator--0","indicator--1","indicator--3"]`),
		obj("identity--9", `not json`), // unreadable: RED to no one
	}
}

// countingFinder counts the listings of a store.
type countingFinder struct {
	pages
	n int
}

func (c *countingFinder) FindObjects(ctx context.Context, id string, f dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	c.n++
	return c.pages.FindObjects(ctx, id, f)
}

// A view given the collection's ReportMarkings (Gate.Markings) decides as
// one that reads the reports itself, for every object and user; it calls
// the loader once, on the first object that needs it, and never when no
// object does.
func TestTLPViewOf(t *testing.T) {
	ctx := context.Background()
	store := tlpStore()
	kept := &countingFinder{pages: store}
	rm, err := dialogue.ReadReportMarkings(ctx, kept, "c", stix.ReadTLP, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*dialogue.User{{Name: "alice", Role: dialogue.RoleExpert}, {Name: "bob", Role: dialogue.RoleDuty}, {Name: "carol", Role: dialogue.RoleAdmin}, {Name: "mallory", Role: dialogue.RoleExpert}, nil} {
		loads := 0
		v := viewOf(store, u, func(context.Context) (dialogue.ReportMarkings, error) {
			loads++
			return rm, nil
		})
		ref := viewOf(store, u, nil)
		for _, o := range store {
			got, err := v.Marking(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Marking(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if got.Level != want.Level || !slices.Equal(got.Recipients, want.Recipients) {
				t.Errorf("%v: Marking(%s) = %v, want %v", u, o.ID, got, want)
			}
			// What the caller does to a marking stays its own.
			if len(got.Recipients) > 0 {
				got.Recipients[0] = "mangled"
			}
		}
		if loads != 1 {
			t.Errorf("%v: the loader was called %d times, want once", u, loads)
		}
	}
	if kept.n == 0 {
		t.Fatal("ReadReportMarkings read nothing")
	}
	// Objects with markings of their own: no load.
	v := viewOf(store, nil, func(context.Context) (dialogue.ReportMarkings, error) {
		t.Error("the loader was called for objects marked on their own")
		return nil, nil
	})
	for _, o := range store {
		if level, recipients, _ := stix.ReadTLP(o.Raw); !dialogue.NeedsReports(level, recipients) {
			if _, err := v.Marking(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A loader's error is the view's.
	v = viewOf(store, &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}, func(context.Context) (dialogue.ReportMarkings, error) {
		return nil, dialogue.Errorf("test", dialogue.KindOther, "store gone")
	})
	if _, err := v.Visible(ctx, store[0]); err == nil || !strings.Contains(err.Error(), "store gone") {
		t.Errorf("Visible with a failing loader: %v", err)
	}
}

// An object takes the marking of the incident report it was filed with,
// even when its bundle carried a report of its own that arrived first, and
// not of an incident report that named it later.
func TestReportOrderIncidentFirst(t *testing.T) {
	inner := marked("report--inner", stix.TLPRed, `,"object_refs":["incident--x"]`)                                     // the bundle's own report: RED, no recipients
	filed := marked("report--filed", stix.TLPRed, recipients("alice")+`,"object_refs":["incident--x","report--inner"]`) // the incident report it was filed with
	later := marked("report--later", stix.TLPRed, recipients("mallory")+`,"object_refs":["incident--x"]`)               // someone else's, later
	incident := func(raw []byte) bool { return strings.Contains(string(raw), stix.ParleyExtensionID) }
	var ro dialogue.ReportOrder
	for _, o := range []*dialogue.Object{inner, filed, later} {
		ro.Put(o, incident(o.Raw))
	}
	rm := dialogue.ReportMarkings{}
	for _, o := range ro.Reports() {
		rm.Add(o.Raw, stix.ReadTLP)
	}
	m := dialogue.MarkingIn("incident--x", "red", nil, rm)
	if m.Level != dialogue.TLPRed || !slices.Equal(m.Recipients, []string{"alice"}) {
		t.Errorf("the incident's marking: %+v, want RED for alice (the report it was filed with)", m)
	}
}
