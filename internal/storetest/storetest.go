// Package storetest is the contract every dialogue.Store implementation
// must meet, as one test suite: Run it from the implementation's own
// tests with a function that opens a fresh, empty store.
//
// It is for tests only, and must not depend on any one implementation: it
// sees a store through dialogue.Store alone.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Run runs the contract on stores that open returns. open is called once
// per subtest and must return a new, empty store; Run closes it.
func Run(t *testing.T, open func(t *testing.T) dialogue.Store) {
	runEach(t, open, []subtest[dialogue.Store]{
		{"Collections", testCollections},
		{"Grants", testGrants},
		{"AddObjects", testAddObjects},
		{"AddObjectsDuplicatesInOneCall", testAddDuplicatesInCall},
		{"AddObjectsInvalid", testAddInvalid},
		{"AddObjectsAllOrNothing", testAddAllOrNothing},
		{"RawIsByteExact", testRawByteExact},
		{"DateAddedStrictlyIncreasing", testDateAdded},
		{"FindObjectsFilters", testFindFilters},
		{"FindObjectsVersions", testFindVersions},
		{"FindObjectsUnversioned", testFindUnversioned},
		{"FindObjectsAddedAfter", testAddedAfter},
		{"FindObjectsPaging", testPaging},
		{"FindObjectsPagingWhileAdding", testPagingWhileAdding},
		{"FindObjectsErrors", testFindErrors},
		{"DeleteObject", testDeleteObject},
		{"Stats", testStats},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"UserAdmin", testUserAdmin},
		{"TokenAdmin", testTokenAdmin},
		{"Statuses", testStatuses},
		{"PullCursors", testPullCursors},
	})
}

var ctx = context.Background()

// wantKind fails the test unless err has kind k.
func wantKind(t *testing.T, what string, err error, k dialogue.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want kind %v", what, k)
		return
	}
	if got := dialogue.KindOf(err); got != k {
		t.Errorf("%s: error %q has kind %v, want %v", what, err, got, k)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newCollection creates a collection titled title.
func newCollection(t *testing.T, s dialogue.Store, title string) *dialogue.Collection {
	t.Helper()
	c := &dialogue.Collection{Title: title}
	must(t, s.CreateCollection(ctx, c))
	return c
}

var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// ts returns base plus n milliseconds.
func ts(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }

// sdo returns an indicator-like object with the given id number and
// modified offset (ms after base); created is base.
func sdo(typ string, n int, modified int) *dialogue.Object {
	id := fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
	c, m := ts(0), ts(modified)
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":%q,"modified":%q,"name":"n%d"}`,
		typ, id, c.Format(time.RFC3339Nano), m.Format(time.RFC3339Nano), modified)
	return &dialogue.Object{ID: id, Type: typ, SpecVersion: "2.1", Created: c, Modified: m, Raw: []byte(raw)}
}

// sco returns an unversioned object (no created, no modified).
func sco(n int) *dialogue.Object {
	id := fmt.Sprintf("ipv4-addr--00000000-0000-5000-8000-%012d", n)
	raw := fmt.Sprintf(`{"type":"ipv4-addr","spec_version":"2.1","id":%q,"value":"198.51.100.%d"}`, id, n%256)
	return &dialogue.Object{ID: id, Type: "ipv4-addr", SpecVersion: "2.1", Raw: []byte(raw)}
}

func add(t *testing.T, s dialogue.Store, coll string, objs ...*dialogue.Object) []dialogue.AddResult {
	t.Helper()
	res, err := s.AddObjects(ctx, coll, objs)
	must(t, err)
	if len(res) != len(objs) {
		t.Fatalf("AddObjects returned %d results for %d objects", len(res), len(objs))
	}
	return res
}

func find(t *testing.T, s dialogue.Store, coll string, f dialogue.ObjectFilter) *dialogue.ObjectPage {
	t.Helper()
	p, err := s.FindObjects(ctx, coll, f)
	must(t, err)
	return p
}

// key names one object version in failure messages.
func key(o *dialogue.Object) string {
	return o.ID + "@" + o.TAXIIVersion().Format(time.RFC3339Nano)
}

func keys(objs []*dialogue.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = key(o)
	}
	return out
}

func sameKeys(t *testing.T, what string, got []*dialogue.Object, want ...*dialogue.Object) {
	t.Helper()
	g, w := keys(got), keys(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
}

func testCollections(t *testing.T, s dialogue.Store) {
	a := &dialogue.Collection{Title: "local", Description: "the node's own"}
	must(t, s.CreateCollection(ctx, a))
	if a.ID == "" || a.CreatedAt.IsZero() {
		t.Fatalf("CreateCollection left ID %q, CreatedAt %v unset", a.ID, a.CreatedAt)
	}
	b := &dialogue.Collection{ID: "91a7b528-80eb-42ed-a74d-c6fbd5a26116", Title: "shared", Alias: "high-value", CreatedAt: a.CreatedAt.Add(time.Second)}
	must(t, s.CreateCollection(ctx, b))
	// Two collections without an alias are fine: the alias is unique only when set.
	must(t, s.CreateCollection(ctx, &dialogue.Collection{Title: "third", CreatedAt: a.CreatedAt.Add(2 * time.Second)}))

	wantKind(t, "same title", s.CreateCollection(ctx, &dialogue.Collection{Title: "local"}), dialogue.KindConflict)
	wantKind(t, "same alias", s.CreateCollection(ctx, &dialogue.Collection{Title: "other", Alias: "high-value"}), dialogue.KindConflict)
	wantKind(t, "same id", s.CreateCollection(ctx, &dialogue.Collection{ID: b.ID, Title: "other2"}), dialogue.KindConflict)
	wantKind(t, "no title", s.CreateCollection(ctx, &dialogue.Collection{}), dialogue.KindInvalid)

	cs, err := s.Collections(ctx)
	must(t, err)
	var titles []string
	for _, c := range cs {
		titles = append(titles, c.Title)
	}
	if fmt.Sprint(titles) != "[local shared third]" {
		t.Errorf("Collections = %v, want [local shared third] (oldest first)", titles)
	}
	for _, q := range []string{b.ID, "shared", "high-value"} {
		c, err := s.FindCollection(ctx, q)
		if err != nil {
			t.Errorf("FindCollection(%q): %v", q, err)
			continue
		}
		if c.ID != b.ID || c.Title != b.Title || c.Alias != b.Alias || !c.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("FindCollection(%q) = %+v, want %+v", q, c, b)
		}
	}
	c, err := s.FindCollection(ctx, "local")
	must(t, err)
	if c.Description != "the node's own" || c.Alias != "" {
		t.Errorf("FindCollection(local) = %+v", c)
	}
	_, err = s.FindCollection(ctx, "nope")
	wantKind(t, "FindCollection(nope)", err, dialogue.KindNotFound)
}

func testGrants(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	other := newCollection(t, s, "other")
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "*", Read: true}))
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "alice", Read: true, Write: true}))
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "lena", Read: true, Write: true}))
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: other.ID, Principal: "bob", Read: false, Write: true}))
	// Replacing a grant.
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: other.ID, Principal: "bob", Read: true, Write: false}))

	gs, err := s.Grants(ctx, c.ID)
	must(t, err)
	if fmt.Sprint(gs) != fmt.Sprint([]dialogue.Grant{
		{CollectionID: c.ID, Principal: "*", Read: true},
		{CollectionID: c.ID, Principal: "alice", Read: true, Write: true},
		{CollectionID: c.ID, Principal: "lena", Read: true, Write: true},
	}) {
		t.Errorf("Grants = %v", gs)
	}
	gs, err = s.Grants(ctx, other.ID)
	must(t, err)
	if len(gs) != 1 || !gs[0].Read || gs[0].Write {
		t.Errorf("replaced grant: %v, want bob read-only", gs)
	}

	// A user's own grant, allow or deny, beats "*": dave is revoked
	// though "*" may read.
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "dave"}))
	dave := &dialogue.User{Name: "dave", Role: dialogue.RoleExpert}
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	lena := &dialogue.User{Name: "lena", Role: dialogue.RoleLead}
	bob := &dialogue.User{Name: "bob", Role: dialogue.RoleAdmin}
	carol := &dialogue.User{Name: "carol", Role: dialogue.RoleDuty}
	for _, tc := range []struct {
		u    *dialogue.User
		coll string
		want dialogue.Access
	}{
		{alice, c.ID, dialogue.Access{Read: true, Write: true}},
		{lena, c.ID, dialogue.Access{Read: true}}, // a lead may not write, whatever the grant
		{bob, c.ID, dialogue.Access{Read: true}},  // through "*"
		{carol, c.ID, dialogue.Access{Read: true}},
		{bob, other.ID, dialogue.Access{Read: true}},
		{alice, other.ID, dialogue.Access{}},
		{dave, c.ID, dialogue.Access{}},
		{nil, c.ID, dialogue.Access{}},
	} {
		got, err := s.AccessFor(ctx, tc.u, tc.coll)
		if err != nil {
			t.Errorf("AccessFor(%v, %s): %v", tc.u, tc.coll, err)
		} else if got != tc.want {
			t.Errorf("AccessFor(%v, %s) = %+v, want %+v", tc.u, tc.coll, got, tc.want)
		}
	}
	_, err = s.AccessFor(ctx, alice, "nope")
	wantKind(t, "AccessFor(unknown collection)", err, dialogue.KindNotFound)
	_, err = s.Grants(ctx, "nope")
	wantKind(t, "Grants(unknown collection)", err, dialogue.KindNotFound)
	wantKind(t, "SetGrant(unknown collection)", s.SetGrant(ctx, dialogue.Grant{CollectionID: "nope", Principal: "alice", Read: true}), dialogue.KindNotFound)
	wantKind(t, "SetGrant(no principal)", s.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Read: true}), dialogue.KindInvalid)
}

// testAddAllOrNothing: with dialogue.AllOrNothing, one rejected object
// (a conflict, or an invalid one) leaves the collection and its log as
// they were; the rejected object keeps its reason and the others say they
// were not added.
func testAddAllOrNothing(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	add(t, s, c.ID, sdo("indicator", 1, 0), sdo("indicator", 3, 0))
	before := find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	changed := sdo("indicator", 3, 0)
	changed.Raw = []byte(string(changed.Raw[:len(changed.Raw)-1]) + `,"description":"changed"}`)
	invalid := &dialogue.Object{ID: "indicator--00000000-0000-4000-8000-000000000009", Type: "malware", Raw: []byte(`{}`)}
	for _, bad := range []struct {
		name string
		obj  *dialogue.Object
		kind dialogue.Kind
	}{{"conflict", changed, dialogue.KindConflict}, {"invalid", invalid, dialogue.KindInvalid}} {
		fresh, again := sdo("malware", 2, 0), sdo("indicator", 1, 0)
		res, err := s.AddObjects(ctx, c.ID, []*dialogue.Object{fresh, bad.obj, again}, dialogue.AllOrNothing)
		must(t, err)
		if len(res) != 3 {
			t.Fatalf("%s: %d results for 3 objects", bad.name, len(res))
		}
		if res[1].Status != dialogue.Rejected || dialogue.KindOf(res[1].Err) != bad.kind || errors.Is(res[1].Err, dialogue.ErrNotAdded) {
			t.Errorf("%s: the rejected object's result = %+v, want its own %v", bad.name, res[1], bad.kind)
		}
		for _, i := range []int{0, 2} {
			if res[i].Status != dialogue.Rejected || !errors.Is(res[i].Err, dialogue.ErrNotAdded) || !res[i].DateAdded.IsZero() {
				t.Errorf("%s: result %d = %+v, want rejected as not added", bad.name, i, res[i])
			}
		}
		if !fresh.DateAdded.IsZero() {
			t.Errorf("%s: DateAdded set on an object that was not added", bad.name)
		}
		after := find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
		if len(after.Objects) != len(before.Objects) {
			t.Errorf("%s: the collection holds %d versions, want %d as before", bad.name, len(after.Objects), len(before.Objects))
		}
	}
	if ls, ok := s.(dialogue.LogStore); ok {
		n, err := ls.LogSize(ctx, c.ID)
		must(t, err)
		if n != 2 {
			t.Errorf("the log holds %d entries, want 2: a refused batch logs nothing", n)
		}
	}
	// A batch that is all good is added as without the option.
	res, err := s.AddObjects(ctx, c.ID, []*dialogue.Object{sdo("malware", 2, 0), sdo("indicator", 1, 0)}, dialogue.AllOrNothing)
	must(t, err)
	if res[0].Status != dialogue.Added || res[1].Status != dialogue.Unchanged {
		t.Errorf("a good batch: %+v", res)
	}
}

func testAddObjects(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	a1, a2, b1, ip := sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("malware", 2, 0), sco(3)
	res := add(t, s, c.ID, a1, a2, b1, ip)
	for i, r := range res {
		if r.Status != dialogue.Added || r.Err != nil || r.DateAdded.IsZero() {
			t.Errorf("result %d = %+v, want added with a date", i, r)
		}
	}
	if res[0].ID != a1.ID || !res[0].Version.Equal(a1.Modified) || res[2].ID != b1.ID || !res[3].Version.IsZero() {
		t.Errorf("results not in input order or versions wrong: %+v", res)
	}
	for i, o := range []*dialogue.Object{a1, a2, b1, ip} {
		if !o.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("object %d: DateAdded %v, result says %v", i, o.DateAdded, res[i].DateAdded)
		}
	}

	// The same versions again: nothing added, each Unchanged with its first date.
	again := []*dialogue.Object{sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("malware", 2, 0), sco(3)}
	res2 := add(t, s, c.ID, again...)
	for i, r := range res2 {
		if r.Status != dialogue.Unchanged || r.Err != nil || !r.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("re-add %d = %+v, want unchanged, date %v", i, r, res[i].DateAdded)
		}
		if !again[i].DateAdded.IsZero() {
			t.Errorf("re-add %d: DateAdded set on an object that was not added", i)
		}
	}

	// Other content under a stored (id, version): a conflict, for that object only.
	changed := sdo("indicator", 1, 1000)
	changed.Raw = []byte(string(changed.Raw[:len(changed.Raw)-1]) + `,"description":"changed"}`)
	fresh := sdo("indicator", 4, 0)
	res3 := add(t, s, c.ID, changed, fresh)
	if res3[0].Status != dialogue.Rejected || dialogue.KindOf(res3[0].Err) != dialogue.KindConflict {
		t.Errorf("changed content = %+v, want rejected with a conflict", res3[0])
	}
	if res3[1].Status != dialogue.Added {
		t.Errorf("fresh object beside a conflict = %+v, want added", res3[1])
	}
	all := find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	if len(all.Objects) != 5 {
		t.Errorf("stored %d versions, want 5", len(all.Objects))
	}
	for _, o := range all.Objects {
		if o.ID == a2.ID && o.Modified.Equal(a2.Modified) && string(o.Raw) != string(a2.Raw) {
			t.Errorf("the conflicting object replaced the stored one: %s", o.Raw)
		}
	}

	// Semantically equal JSON with other bytes is the same version.
	reordered := sdo("malware", 2, 0)
	reordered.Raw = []byte(fmt.Sprintf(`{ "name": "n0", "id": %q, "type": "malware", "spec_version": "2.1", "modified": %q, "created": %q }`,
		b1.ID, ts(0).Format(time.RFC3339Nano), ts(0).Format(time.RFC3339Nano)))
	if r := add(t, s, c.ID, reordered)[0]; r.Status != dialogue.Unchanged {
		t.Errorf("same JSON, other bytes = %+v, want unchanged", r)
	}

	// The same version in another collection is another object.
	c2 := newCollection(t, s, "other")
	if r := add(t, s, c2.ID, sdo("indicator", 1, 0))[0]; r.Status != dialogue.Added {
		t.Errorf("same version in another collection = %+v, want added", r)
	}

	_, err := s.AddObjects(ctx, "nope", []*dialogue.Object{sdo("indicator", 9, 0)})
	wantKind(t, "AddObjects(unknown collection)", err, dialogue.KindNotFound)
	if res, err := s.AddObjects(ctx, c.ID, nil); err != nil || len(res) != 0 {
		t.Errorf("AddObjects(nothing) = %v, %v", res, err)
	}
}

func testAddDuplicatesInCall(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	x := sdo("indicator", 1, 0)
	same := sdo("indicator", 1, 0)
	other := sdo("indicator", 1, 0)
	other.Raw = []byte(string(other.Raw[:len(other.Raw)-1]) + `,"labels":["x"]}`)
	res := add(t, s, c.ID, x, same, other)
	if res[0].Status != dialogue.Added {
		t.Errorf("first = %+v, want added", res[0])
	}
	if res[1].Status != dialogue.Unchanged || !res[1].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("duplicate = %+v, want unchanged with the first's date", res[1])
	}
	if res[2].Status != dialogue.Rejected || dialogue.KindOf(res[2].Err) != dialogue.KindConflict {
		t.Errorf("differing duplicate = %+v, want rejected, conflict", res[2])
	}
	p := find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}})
	if len(p.Objects) != 1 || string(p.Objects[0].Raw) != string(x.Raw) {
		t.Errorf("stored %v, want only the first", keys(p.Objects))
	}
}

func testAddInvalid(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	good := sdo("indicator", 1, 0)
	for _, tc := range []struct {
		name string
		o    *dialogue.Object
	}{
		{"no id", &dialogue.Object{Type: "indicator", Raw: []byte(`{}`)}},
		{"no type", &dialogue.Object{ID: "indicator--00000000-0000-4000-8000-000000000009", Raw: []byte(`{}`)}},
		{"id of another type", &dialogue.Object{ID: "malware--00000000-0000-4000-8000-000000000009", Type: "indicator", Raw: []byte(`{}`)}},
		{"no JSON", &dialogue.Object{ID: "indicator--00000000-0000-4000-8000-000000000009", Type: "indicator"}},
	} {
		res := add(t, s, c.ID, tc.o, good)
		if res[0].Status != dialogue.Rejected || dialogue.KindOf(res[0].Err) != dialogue.KindInvalid {
			t.Errorf("%s: %+v, want rejected, invalid", tc.name, res[0])
		}
		if res[1].Status == dialogue.Rejected {
			t.Errorf("%s: the valid object beside it was rejected: %v", tc.name, res[1].Err)
		}
	}
}

func testRawByteExact(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	o := sdo("note", 1, 0)
	// Odd spacing, key order, escapes, non-ASCII, a big number, a custom property.
	o.Raw = []byte("{\n  \"type\" : \"note\",\"id\":\"" + o.ID + "\", \"spec_version\":\"2.1\",\r\n\t\"created\":\"2024-03-01T12:00:00Z\"," +
		"\"modified\":\"2024-03-01T12:00:00.000Z\", \"content\":\"\\u00e9t\u00e9 \\\"quoted\\\" \\/ \U0001F510\",\"x_big\":12345678901234567890.50,\"abstract\":null }")
	add(t, s, c.ID, o)
	p := find(t, s, c.ID, dialogue.ObjectFilter{})
	if len(p.Objects) != 1 {
		t.Fatalf("found %d objects, want 1", len(p.Objects))
	}
	got := p.Objects[0]
	if string(got.Raw) != string(o.Raw) {
		t.Errorf("raw changed:\n got %q\nwant %q", got.Raw, o.Raw)
	}
	if got.ID != o.ID || got.Type != "note" || got.SpecVersion != "2.1" || !got.Created.Equal(o.Created) || !got.Modified.Equal(o.Modified) {
		t.Errorf("metadata = %+v", got)
	}
	meta := find(t, s, c.ID, dialogue.ObjectFilter{MetaOnly: true})
	if len(meta.Objects) != 1 || meta.Objects[0].Raw != nil || meta.Objects[0].ID != o.ID || meta.Objects[0].DateAdded.IsZero() {
		t.Errorf("MetaOnly = %+v, want metadata without Raw", meta.Objects)
	}
	// A nanosecond-precise version is kept to the nanosecond.
	n := sdo("note", 2, 0)
	n.Modified = n.Modified.Add(123456789 * time.Nanosecond)
	add(t, s, c.ID, n)
	p = find(t, s, c.ID, dialogue.ObjectFilter{IDs: []string{n.ID}})
	if len(p.Objects) != 1 || !p.Objects[0].Modified.Equal(n.Modified) {
		t.Errorf("nanosecond version: got %v", keys(p.Objects))
	}
}

func testDateAdded(t *testing.T, s dialogue.Store) {
	c1 := newCollection(t, s, "one")
	c2 := newCollection(t, s, "two")
	var dates []time.Time
	n := 0
	for round := range 5 {
		var batch []*dialogue.Object
		for range 50 {
			n++
			batch = append(batch, sdo("indicator", n, 0))
		}
		coll := c1.ID
		if round%2 == 1 {
			coll = c2.ID
		}
		for _, r := range add(t, s, coll, batch...) {
			dates = append(dates, r.DateAdded)
		}
	}
	for i := 1; i < len(dates); i++ {
		if !dates[i].After(dates[i-1]) {
			t.Fatalf("date_added %d (%v) is not after %d (%v): must strictly increase over the whole store", i, dates[i], i-1, dates[i-1])
		}
		if dates[i].Nanosecond()%1000 != 0 {
			t.Fatalf("date_added %v is finer than a microsecond", dates[i])
		}
	}
	if d := dates[len(dates)-1]; d.Before(time.Now().Add(-time.Minute)) || d.After(time.Now().Add(time.Minute)) {
		t.Errorf("date_added %v is far from now", d)
	}
}

func testFindFilters(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	i1, m2, i3, ip := sdo("indicator", 1, 0), sdo("malware", 2, 0), sdo("indicator", 3, 0), sco(4)
	old := sdo("report", 5, 0)
	old.SpecVersion = "2.0"
	add(t, s, c.ID, i1, m2, i3, ip, old)
	other := newCollection(t, s, "other")
	add(t, s, other.ID, sdo("indicator", 9, 0))

	for _, tc := range []struct {
		name string
		f    dialogue.ObjectFilter
		want []*dialogue.Object
	}{
		{"everything", dialogue.ObjectFilter{}, []*dialogue.Object{i1, m2, i3, ip, old}},
		{"one type", dialogue.ObjectFilter{Types: []string{"indicator"}}, []*dialogue.Object{i1, i3}},
		{"two types", dialogue.ObjectFilter{Types: []string{"malware", "ipv4-addr"}}, []*dialogue.Object{m2, ip}},
		{"unknown type", dialogue.ObjectFilter{Types: []string{"campaign"}}, nil},
		{"ids", dialogue.ObjectFilter{IDs: []string{i3.ID, m2.ID}}, []*dialogue.Object{m2, i3}},
		{"id and type", dialogue.ObjectFilter{IDs: []string{i3.ID, m2.ID}, Types: []string{"malware"}}, []*dialogue.Object{m2}},
		{"spec version 2.0", dialogue.ObjectFilter{SpecVersions: []string{"2.0"}}, []*dialogue.Object{old}},
		{"spec version 2.1", dialogue.ObjectFilter{SpecVersions: []string{"2.1"}}, []*dialogue.Object{i1, m2, i3, ip}},
		{"limit", dialogue.ObjectFilter{Limit: 2}, []*dialogue.Object{i1, m2}},
	} {
		p := find(t, s, c.ID, tc.f)
		sameKeys(t, tc.name, p.Objects, tc.want...)
		for i := 1; i < len(p.Objects); i++ {
			if !p.Objects[i].DateAdded.After(p.Objects[i-1].DateAdded) {
				t.Errorf("%s: not in ascending date_added order", tc.name)
			}
		}
		for _, o := range p.Objects {
			if len(o.Raw) == 0 {
				t.Errorf("%s: %s has no Raw", tc.name, o.ID)
			}
		}
	}
}

func testFindVersions(t *testing.T, s dialogue.Store) {
	coll := newCollection(t, s, "local")
	c := coll
	// Versions of a arrive out of order: v2, then v1, then v3.
	a1, a2, a3 := sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("indicator", 1, 2000)
	b1 := sdo("malware", 2, 0)
	add(t, s, c.ID, a2)
	add(t, s, c.ID, a1, b1)
	add(t, s, c.ID, a3)
	all := dialogue.VersionMatch{All: true}
	for _, tc := range []struct {
		name string
		v    dialogue.VersionMatch
		want []*dialogue.Object
	}{
		{"default is last", dialogue.VersionMatch{}, []*dialogue.Object{b1, a3}},
		{"last", dialogue.VersionMatch{Last: true}, []*dialogue.Object{b1, a3}},
		{"first", dialogue.VersionMatch{First: true}, []*dialogue.Object{a1, b1}},
		{"all", all, []*dialogue.Object{a2, a1, b1, a3}},
		{"first and last", dialogue.VersionMatch{First: true, Last: true}, []*dialogue.Object{a1, b1, a3}},
		{"exact", dialogue.VersionMatch{At: []time.Time{a2.Modified}}, []*dialogue.Object{a2}},
		{"two exact", dialogue.VersionMatch{At: []time.Time{a2.Modified, a1.Modified}}, []*dialogue.Object{a2, a1, b1}},
		{"exact none", dialogue.VersionMatch{At: []time.Time{ts(500)}}, nil},
		{"exact and last", dialogue.VersionMatch{At: []time.Time{ts(1000)}, Last: true}, []*dialogue.Object{a2, b1, a3}},
		{"all wins", dialogue.VersionMatch{All: true, First: true}, []*dialogue.Object{a2, a1, b1, a3}},
	} {
		p := find(t, s, c.ID, dialogue.ObjectFilter{Versions: tc.v})
		sameKeys(t, tc.name, p.Objects, tc.want...)
	}
	// Versions of one object in one call, out of order.
	c = newCollection(t, s, "batch")
	x1, x2, x3 := sdo("tool", 7, 0), sdo("tool", 7, 10), sdo("tool", 7, 20)
	add(t, s, c.ID, x1, x3, x2)
	sameKeys(t, "last of one batch", find(t, s, c.ID, dialogue.ObjectFilter{}).Objects, x3)
	sameKeys(t, "first of one batch", find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{First: true}}).Objects, x1)
	add(t, s, c.ID, sdo("tool", 7, 15))
	sameKeys(t, "an older version arriving late", find(t, s, c.ID, dialogue.ObjectFilter{}).Objects, x3)
	c = coll

	// Per object id: first of a is a1 even with an id filter.
	p := find(t, s, c.ID, dialogue.ObjectFilter{IDs: []string{a1.ID}, Versions: dialogue.VersionMatch{First: true}})
	sameKeys(t, "first of one id", p.Objects, a1)
	// Version first/last are over the whole collection, not only over what
	// is after added_after: after a1 was added, the last version of a is a3.
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: a2.DateAdded})
	sameKeys(t, "last after added_after", p.Objects, b1, a3)
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: a2.DateAdded, Versions: dialogue.VersionMatch{First: true}})
	sameKeys(t, "first after added_after", p.Objects, a1, b1)
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: a1.DateAdded, Versions: dialogue.VersionMatch{First: true}})
	sameKeys(t, "first added before added_after", p.Objects, b1)
}

func testFindUnversioned(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	ip, ip2 := sco(1), sco(2)
	add(t, s, c.ID, ip, ip2)
	for _, v := range []dialogue.VersionMatch{{}, {First: true}, {Last: true}, {All: true}} {
		p := find(t, s, c.ID, dialogue.ObjectFilter{Versions: v})
		sameKeys(t, fmt.Sprintf("%+v", v), p.Objects, ip, ip2)
	}
	// The TAXII version of an unversioned object is its date_added.
	if !ip.TAXIIVersion().Equal(ip.DateAdded) {
		t.Fatalf("TAXIIVersion %v, DateAdded %v", ip.TAXIIVersion(), ip.DateAdded)
	}
	p := find(t, s, c.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{At: []time.Time{ip2.DateAdded}}})
	sameKeys(t, "exact date_added", p.Objects, ip2)
	if got := p.Objects; len(got) == 1 && !got[0].TAXIIVersion().Equal(ip2.DateAdded) {
		t.Errorf("found object's TAXIIVersion %v, want %v", got[0].TAXIIVersion(), ip2.DateAdded)
	}
}

func testAddedAfter(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	var objs []*dialogue.Object
	for i := range 6 {
		objs = append(objs, sdo("indicator", i, 0))
	}
	add(t, s, c.ID, objs[:3]...)
	add(t, s, c.ID, objs[3:]...)
	p := find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: objs[2].DateAdded})
	sameKeys(t, "exclusive", p.Objects, objs[3:]...)
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: objs[2].DateAdded.Add(-time.Nanosecond)})
	sameKeys(t, "a nanosecond before", p.Objects, objs[2:]...)
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: objs[2].DateAdded.Add(500 * time.Nanosecond)})
	sameKeys(t, "half a microsecond after", p.Objects, objs[3:]...)
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: objs[5].DateAdded})
	sameKeys(t, "after the last", p.Objects)
	if p.More || p.Next != "" {
		t.Errorf("empty page has More %v, Next %q", p.More, p.Next)
	}
	p = find(t, s, c.ID, dialogue.ObjectFilter{AddedAfter: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)})
	sameKeys(t, "long ago", p.Objects, objs...)
}

func testPaging(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	var objs []*dialogue.Object
	for i := range 25 {
		objs = append(objs, sdo("indicator", i, 0))
	}
	add(t, s, c.ID, objs...)
	var got []*dialogue.Object
	f := dialogue.ObjectFilter{Limit: 10}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		p := find(t, s, c.ID, f)
		got = append(got, p.Objects...)
		if !p.More {
			if p.Next != "" {
				t.Errorf("last page has Next %q", p.Next)
			}
			if len(p.Objects) != 5 {
				t.Errorf("last page has %d objects, want 5", len(p.Objects))
			}
			break
		}
		if len(p.Objects) != 10 || p.Next == "" {
			t.Fatalf("page %d: %d objects, Next %q", pages, len(p.Objects), p.Next)
		}
		f.After = p.Next
	}
	sameKeys(t, "pages", got, objs...)
	// Exactly a page's worth: More is false.
	p := find(t, s, c.ID, dialogue.ObjectFilter{Limit: 25})
	if len(p.Objects) != 25 || p.More {
		t.Errorf("limit = size: %d objects, More %v", len(p.Objects), p.More)
	}
	// A huge limit is clamped, not refused.
	p = find(t, s, c.ID, dialogue.ObjectFilter{Limit: 1 << 30})
	if len(p.Objects) != 25 {
		t.Errorf("huge limit: %d objects", len(p.Objects))
	}
}

func testPagingWhileAdding(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	const initial, extra, batch = 200, 400, 20
	var objs []*dialogue.Object
	for i := range initial {
		objs = append(objs, sdo("indicator", i, 0))
	}
	add(t, s, c.ID, objs...)

	// One goroutine adds objects (new ids, and new versions of old ones)
	// while this one pages through the collection with every version.
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < extra; i += batch {
			var b []*dialogue.Object
			for j := i; j < i+batch; j++ {
				if j%4 == 0 {
					b = append(b, sdo("indicator", j/4, 1000+j)) // a new version of an old object
				} else {
					b = append(b, sdo("malware", initial+j, 0))
				}
			}
			if _, err := s.AddObjects(ctx, c.ID, b); err != nil {
				errc <- err
				return
			}
		}
	}()
	seen := map[string]bool{}
	var last time.Time
	f := dialogue.ObjectFilter{Limit: 7, Versions: dialogue.VersionMatch{All: true}}
	for {
		p, err := s.FindObjects(ctx, c.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			k := key(o)
			if seen[k] {
				t.Fatalf("%s seen twice across pages", k)
			}
			seen[k] = true
			if !o.DateAdded.After(last) {
				t.Fatalf("%s: date_added %v not after the previous %v", k, o.DateAdded, last)
			}
			last = o.DateAdded
		}
		if !p.More {
			// The writer may still be running: wait for it, then drain.
			wg.Wait()
			p2 := find(t, s, c.ID, dialogue.ObjectFilter{After: p.Next, AddedAfter: last, Versions: f.Versions, Limit: f.Limit})
			if len(p2.Objects) == 0 {
				break
			}
			f.After, f.AddedAfter = "", last
			continue
		}
		f.After = p.Next
	}
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if len(seen) != initial+extra {
		t.Errorf("paging saw %d versions, want %d: some were skipped", len(seen), initial+extra)
	}
}

func testFindErrors(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	_, err := s.FindObjects(ctx, "nope", dialogue.ObjectFilter{})
	wantKind(t, "unknown collection", err, dialogue.KindNotFound)
	for _, bad := range []string{"x", "p1.", "p1.!!", "12345"} {
		_, err = s.FindObjects(ctx, c.ID, dialogue.ObjectFilter{After: bad})
		wantKind(t, fmt.Sprintf("After %q", bad), err, dialogue.KindInvalid)
	}
	p := find(t, s, c.ID, dialogue.ObjectFilter{})
	if len(p.Objects) != 0 || p.More {
		t.Errorf("empty collection: %+v", p)
	}
}

func testDeleteObject(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	a1, a2, a3, b := sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("indicator", 1, 2000), sdo("malware", 2, 0)
	add(t, s, c.ID, a1, a2, a3, b)
	n, err := s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{First: true}})
	if err != nil || n != 1 {
		t.Fatalf("delete first = %d, %v", n, err)
	}
	all := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}}
	sameKeys(t, "after deleting first", find(t, s, c.ID, all).Objects, a2, a3, b)
	n, err = s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{At: []time.Time{a3.Modified}}})
	if err != nil || n != 1 {
		t.Fatalf("delete exact = %d, %v", n, err)
	}
	// With the last version gone, the one before it is the last.
	sameKeys(t, "last after deleting the last", find(t, s, c.ID, dialogue.ObjectFilter{}).Objects, a2, b)
	_, err = s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{SpecVersions: []string{"2.0"}})
	wantKind(t, "delete other spec version", err, dialogue.KindNotFound)
	n, err = s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{})
	if err != nil || n != 1 {
		t.Fatalf("delete all = %d, %v", n, err)
	}
	sameKeys(t, "after deleting a", find(t, s, c.ID, all).Objects, b)
	_, err = s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{})
	wantKind(t, "delete again", err, dialogue.KindNotFound)
	_, err = s.DeleteObject(ctx, "nope", b.ID, dialogue.ObjectFilter{})
	wantKind(t, "delete in unknown collection", err, dialogue.KindNotFound)

	// A deleted version may be added again, and gets a new, later date.
	r := add(t, s, c.ID, sdo("indicator", 1, 0))[0]
	if r.Status != dialogue.Added || !r.DateAdded.After(b.DateAdded) {
		t.Errorf("re-adding a deleted version = %+v", r)
	}
}

func testStats(t *testing.T, s dialogue.Store) {
	st, err := s.Stats(ctx)
	must(t, err)
	if st != (dialogue.StoreStats{}) {
		t.Errorf("empty store: %+v", st)
	}
	c := newCollection(t, s, "a")
	c2 := newCollection(t, s, "b")
	add(t, s, c.ID, sdo("indicator", 1, 0), sdo("indicator", 1, 5), sco(1))
	add(t, s, c2.ID, sdo("indicator", 1, 0))
	st, err = s.Stats(ctx)
	must(t, err)
	if st != (dialogue.StoreStats{Objects: 4, Collections: 2}) {
		t.Errorf("Stats = %+v, want 4 objects in 2 collections", st)
	}
}

func testUsers(t *testing.T, s dialogue.Store) {
	u := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	must(t, s.CreateUser(ctx, u, "$argon2id$fake"))
	if u.CreatedAt.IsZero() {
		t.Error("CreatedAt not set")
	}
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "bob", Role: dialogue.RoleLead}, "$argon2id$other"))
	wantKind(t, "same name", s.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleAdmin}, "h"), dialogue.KindConflict)
	wantKind(t, "bad name", s.CreateUser(ctx, &dialogue.User{Name: "no spaces", Role: dialogue.RoleAdmin}, "h"), dialogue.KindInvalid)
	wantKind(t, "bad role", s.CreateUser(ctx, &dialogue.User{Name: "carol", Role: "root"}, "h"), dialogue.KindInvalid)

	got, err := s.User(ctx, "alice")
	must(t, err)
	if got.Name != "alice" || got.Role != dialogue.RoleExpert || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("User = %+v, want %+v", got, u)
	}
	_, err = s.User(ctx, "carol")
	wantKind(t, "User(unknown)", err, dialogue.KindNotFound)
	h, err := s.PasswordHash(ctx, "bob")
	if err != nil || h != "$argon2id$other" {
		t.Errorf("PasswordHash = %q, %v", h, err)
	}
	_, err = s.PasswordHash(ctx, "carol")
	wantKind(t, "PasswordHash(unknown)", err, dialogue.KindNotFound)
	us, err := s.Users(ctx)
	must(t, err)
	if len(us) != 2 || us[0].Name != "alice" || us[1].Name != "bob" || us[1].Role != dialogue.RoleLead {
		t.Errorf("Users = %v", us)
	}
}

func testTokens(t *testing.T, s dialogue.Store) {
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleDuty}, "h"))
	tok, err := dialogue.NewToken()
	must(t, err)
	h := dialogue.HashToken(tok)
	must(t, s.CreateToken(ctx, "alice", h, "laptop"))
	wantKind(t, "same token twice", s.CreateToken(ctx, "alice", h, "again"), dialogue.KindConflict)
	wantKind(t, "token for unknown user", s.CreateToken(ctx, "bob", dialogue.HashToken("x"), ""), dialogue.KindNotFound)
	u, err := s.UserByToken(ctx, h)
	must(t, err)
	if u.Name != "alice" || u.Role != dialogue.RoleDuty {
		t.Errorf("UserByToken = %+v", u)
	}
	_, err = s.UserByToken(ctx, dialogue.HashToken("wrong"))
	wantKind(t, "unknown token", err, dialogue.KindNotFound)
	// Concurrent use: every call succeeds (last_used is written each time).
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := s.UserByToken(ctx, h); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent UserByToken: %v", err)
	}
}

func testStatuses(t *testing.T, s dialogue.Store) {
	c := newCollection(t, s, "local")
	st := &dialogue.Status{
		CollectionID: c.ID,
		Successes:    []dialogue.StatusDetail{{ID: "indicator--1", Version: ts(5)}, {ID: "indicator--2", Message: "unchanged"}},
		Failures:     []dialogue.StatusDetail{{ID: "malware--3", Message: "modified is before created"}},
	}
	must(t, s.CreateStatus(ctx, st))
	if st.ID == "" || st.Status != "complete" || st.RequestTimestamp.IsZero() {
		t.Fatalf("CreateStatus left %+v", st)
	}
	got, err := s.Status(ctx, st.ID)
	must(t, err)
	if got.ID != st.ID || got.CollectionID != c.ID || got.Status != "complete" || !got.RequestTimestamp.Equal(st.RequestTimestamp) || got.Total() != 3 {
		t.Errorf("Status = %+v, want %+v", got, st)
	}
	if fmt.Sprint(got.Successes) != fmt.Sprint(st.Successes) || fmt.Sprint(got.Failures) != fmt.Sprint(st.Failures) || len(got.Pendings) != 0 {
		t.Errorf("details = %v %v %v, want %v %v", got.Successes, got.Failures, got.Pendings, st.Successes, st.Failures)
	}
	if !got.Successes[0].Version.Equal(ts(5)) {
		t.Errorf("detail version %v, want %v", got.Successes[0].Version, ts(5))
	}
	pending := &dialogue.Status{ID: "2d086da7-4bdc-4f91-900e-d77486753710", CollectionID: c.ID, Pendings: []dialogue.StatusDetail{{ID: "x--1"}}}
	must(t, s.CreateStatus(ctx, pending))
	got, err = s.Status(ctx, pending.ID)
	must(t, err)
	if got.Status != "pending" || len(got.Pendings) != 1 {
		t.Errorf("pending status = %+v", got)
	}
	wantKind(t, "same id", s.CreateStatus(ctx, &dialogue.Status{ID: pending.ID}), dialogue.KindConflict)
	_, err = s.Status(ctx, "nope")
	wantKind(t, "Status(unknown)", err, dialogue.KindNotFound)
}

func testPullCursors(t *testing.T, s dialogue.Store) {
	got, err := s.PullCursor(ctx, "https://peer/api/|coll")
	if err != nil || got != "" {
		t.Errorf("never pulled: %q, %v", got, err)
	}
	must(t, s.SetPullCursor(ctx, "https://peer/api/|coll", "2024-03-01T12:00:00.000001Z"))
	must(t, s.SetPullCursor(ctx, "other", "a"))
	must(t, s.SetPullCursor(ctx, "https://peer/api/|coll", "2024-03-02T00:00:00Z"))
	got, err = s.PullCursor(ctx, "https://peer/api/|coll")
	if err != nil || got != "2024-03-02T00:00:00Z" {
		t.Errorf("PullCursor = %q, %v; want the last one set", got, err)
	}
	if got, _ := s.PullCursor(ctx, "other"); got != "a" {
		t.Errorf("other cursor = %q", got)
	}
	wantKind(t, "empty key", s.SetPullCursor(ctx, "", "x"), dialogue.KindInvalid)
	if err := s.SetPullCursor(ctx, "k", "v"); errors.Is(err, dialogue.ErrInvalid) {
		t.Error(err)
	}
}

// subtest is one test of a store contract.
type subtest[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

// runEach runs each test on its own new store from open, and closes it.
func runEach[S interface{ Close() error }](t *testing.T, open func(t *testing.T) S, tests []subtest[S]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// testUserAdmin: a new password, disabling, enabling and deleting each take
// effect in the store at once; each change that counts moves the user's
// generation on, and a user made again after deletion is not the same.
func testUserAdmin(t *testing.T, s dialogue.Store) {
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}, "$argon2id$one"))
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "bob", Role: dialogue.RoleLead}, "$argon2id$bob"))
	get := func() *dialogue.User {
		t.Helper()
		u, err := s.User(ctx, "alice")
		must(t, err)
		return u
	}
	u0 := get()
	if u0.Disabled() || u0.Generation == 0 || !u0.Same(get()) {
		t.Errorf("a new user: %+v", u0)
	}

	must(t, s.SetPassword(ctx, "alice", "$argon2id$two"))
	u1 := get()
	if h, _ := s.PasswordHash(ctx, "alice"); h != "$argon2id$two" || u1.Generation <= u0.Generation || u0.Same(u1) {
		t.Errorf("after SetPassword: hash %q, user %+v (before %+v)", h, u1, u0)
	}
	wantKind(t, "SetPassword(unknown)", s.SetPassword(ctx, "carol", "$argon2id$x"), dialogue.KindNotFound)
	wantKind(t, "SetPassword(empty hash)", s.SetPassword(ctx, "alice", ""), dialogue.KindInvalid)

	must(t, s.SetUserDisabled(ctx, "alice", true, ts(5)))
	u2 := get()
	if !u2.Disabled() || !u2.DisabledAt.Equal(ts(5)) || u2.Generation <= u1.Generation {
		t.Errorf("after disabling: %+v", u2)
	}
	if dialogue.KindOf(dialogue.CheckEnabled(u2)) != dialogue.KindUnauthenticated || dialogue.CheckEnabled(u1) != nil {
		t.Errorf("CheckEnabled: %v, %v", dialogue.CheckEnabled(u2), dialogue.CheckEnabled(u1))
	}
	must(t, s.SetUserDisabled(ctx, "alice", true, ts(6)))
	if u := get(); !u.DisabledAt.Equal(ts(5)) || u.Generation != u2.Generation {
		t.Errorf("disabling twice: %+v, want %+v", u, u2)
	}
	if us, _ := s.Users(ctx); len(us) != 2 || !us[0].Disabled() || us[1].Disabled() {
		t.Errorf("Users after disabling alice: %+v", us)
	}
	must(t, s.SetUserDisabled(ctx, "alice", false, time.Time{}))
	if u := get(); u.Disabled() || u.Generation <= u2.Generation {
		t.Errorf("after enabling: %+v", u)
	}
	wantKind(t, "SetUserDisabled(unknown)", s.SetUserDisabled(ctx, "carol", true, ts(7)), dialogue.KindNotFound)

	coll := &dialogue.Collection{Title: "shared"}
	must(t, s.CreateCollection(ctx, coll))
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: coll.ID, Principal: "alice", Read: true, Write: true}))
	must(t, s.SetGrant(ctx, dialogue.Grant{CollectionID: coll.ID, Principal: "bob", Read: true}))
	must(t, s.CreateToken(ctx, "alice", dialogue.HashToken("alice-token"), "laptop"))
	before := get()
	must(t, s.DeleteUser(ctx, "alice"))
	_, err := s.User(ctx, "alice")
	wantKind(t, "User after DeleteUser", err, dialogue.KindNotFound)
	_, err = s.UserByToken(ctx, dialogue.HashToken("alice-token"))
	wantKind(t, "UserByToken of a deleted user's token", err, dialogue.KindNotFound)
	gs, err := s.Grants(ctx, coll.ID)
	must(t, err)
	if len(gs) != 1 || gs[0].Principal != "bob" {
		t.Errorf("grants after deleting alice: %+v", gs)
	}
	wantKind(t, "DeleteUser twice", s.DeleteUser(ctx, "alice"), dialogue.KindNotFound)
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleExpert, CreatedAt: before.CreatedAt.Add(time.Second)}, "$argon2id$three"))
	if before.Same(get()) {
		t.Errorf("a user made again after deletion is the same as before: %+v", get())
	}
	if a, err := s.AccessFor(ctx, get(), coll.ID); err != nil || a.Read || a.Write {
		t.Errorf("the new alice inherits the old one's grant: %+v %v", a, err)
	}
}

// testTokenAdmin: tokens are listed by id without their hashes, per user
// or all; revoking one ends it at once and leaves the others.
func testTokenAdmin(t *testing.T, s dialogue.Store) {
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleDuty}, "h"))
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "bob", Role: dialogue.RoleDuty}, "h"))
	must(t, s.CreateUser(ctx, &dialogue.User{Name: "carol", Role: dialogue.RoleDuty}, "h"))
	must(t, s.CreateToken(ctx, "alice", dialogue.HashToken("a1"), "laptop"))
	must(t, s.CreateToken(ctx, "bob", dialogue.HashToken("b1"), "misp"))
	must(t, s.CreateToken(ctx, "alice", dialogue.HashToken("a2"), ""))
	_, err := s.UserByToken(ctx, dialogue.HashToken("a1"))
	must(t, err)

	all, err := s.Tokens(ctx, "")
	must(t, err)
	if len(all) != 3 || all[0].User != "alice" || all[0].Label != "laptop" || all[1].User != "bob" || all[2].User != "alice" ||
		!(all[0].ID < all[1].ID && all[1].ID < all[2].ID) || all[0].CreatedAt.IsZero() || all[0].LastUsed.IsZero() || !all[1].LastUsed.IsZero() {
		t.Fatalf("Tokens(all) = %+v", all)
	}
	mine, err := s.Tokens(ctx, "alice")
	must(t, err)
	if len(mine) != 2 || mine[0].ID != all[0].ID || mine[1].ID != all[2].ID {
		t.Errorf("Tokens(alice) = %+v", mine)
	}
	if none, err := s.Tokens(ctx, "carol"); err != nil || none == nil || len(none) != 0 {
		t.Errorf("Tokens(carol) = %#v, %v; want an empty list", none, err)
	}
	_, err = s.Tokens(ctx, "dave")
	wantKind(t, "Tokens(unknown user)", err, dialogue.KindNotFound)

	got, err := s.RevokeToken(ctx, all[0].ID)
	must(t, err)
	if got.ID != all[0].ID || got.User != "alice" || got.Label != "laptop" {
		t.Errorf("RevokeToken = %+v", got)
	}
	_, err = s.UserByToken(ctx, dialogue.HashToken("a1"))
	wantKind(t, "UserByToken after RevokeToken", err, dialogue.KindNotFound)
	if _, err := s.UserByToken(ctx, dialogue.HashToken("a2")); err != nil {
		t.Errorf("alice's other token after revoking one: %v", err)
	}
	_, err = s.RevokeToken(ctx, all[0].ID)
	wantErr(t, "RevokeToken twice", err, dialogue.KindNotFound, fmt.Sprint(all[0].ID))
	must(t, s.CreateToken(ctx, "bob", dialogue.HashToken("b2"), ""))
	if bs, _ := s.Tokens(ctx, "bob"); len(bs) != 2 || bs[1].ID <= all[2].ID {
		t.Errorf("a new token reuses a revoked id: %+v", bs)
	}

	must(t, s.SetUserDisabled(ctx, "bob", true, ts(1)))
	u, err := s.UserByToken(ctx, dialogue.HashToken("b1"))
	must(t, err)
	if !u.Disabled() {
		t.Errorf("UserByToken of a disabled user: %+v, want it disabled", u)
	}
}
