package dialogue_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// refAccess is docs/design/access.md's grant rule written plainly: the
// user's own grant if there is one, else "*"'s, else nothing; writing
// needs a role other than lead.
func refAccess(u *dialogue.User, gs []dialogue.Grant) (read, write bool) {
	if u == nil {
		return false, false
	}
	for _, who := range []string{u.Name, "*"} {
		for _, g := range gs {
			if g.Principal == who {
				return g.Read, g.Write && u.Role != dialogue.RoleLead
			}
		}
	}
	return false, false
}

// refSees is the page's TLP table written plainly.
func refSees(v dialogue.Viewer, m dialogue.Marking) bool {
	if v.Operator {
		return true
	}
	if v.Peer != "" {
		return m.Level != 0 && m.Level <= dialogue.TLPRed
	}
	if v.User == nil {
		return false
	}
	switch m.Level {
	case dialogue.TLPClear, dialogue.TLPGreen, dialogue.TLPAmber, dialogue.TLPAmberStrict:
		return true
	case dialogue.TLPRed:
		return slices.Contains(m.Recipients, v.User.Name) || slices.Contains(m.Recipients, "role:"+string(v.User.Role))
	}
	return false
}

// grantStore is a GateStore with the grants of one collection "c" and
// no objects.
type grantStore []dialogue.Grant

func (g grantStore) Grants(_ context.Context, id string) ([]dialogue.Grant, error) {
	if id != "c" {
		return nil, dialogue.Errorf("test", dialogue.KindNotFound, "no collection %s", id)
	}
	return g, nil
}

func (grantStore) FindObjects(context.Context, string, dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	return &dialogue.ObjectPage{}, nil
}

var (
	gateUsers = []string{"alice", "bob", "*"}
	gateRoles = dialogue.Roles
)

// viewerOf decodes a fuzzed viewer.
func viewerOf(kind, name, role uint8) dialogue.Viewer {
	switch kind % 4 {
	case 0:
		return dialogue.Viewer{}
	case 1:
		return dialogue.OperatorViewer()
	case 2:
		return dialogue.PeerViewer("peer-b")
	}
	return dialogue.UserViewer(&dialogue.User{Name: gateUsers[int(name)%2], Role: gateRoles[int(role)%len(gateRoles)]})
}

// FuzzGate compares the gate with the reference rules for any viewer,
// grants and marking: Access, CheckRead, CheckWrite and what a view of
// the collection lets the viewer see.
func FuzzGate(f *testing.F) {
	f.Add(uint8(3), uint8(0), uint8(1), uint8(0b101101), uint8(4), uint8(1))
	f.Add(uint8(3), uint8(1), uint8(3), uint8(0b000111), uint8(5), uint8(2))
	f.Add(uint8(2), uint8(0), uint8(0), uint8(0), uint8(5), uint8(0))
	f.Fuzz(func(t *testing.T, kind, name, role, grantBits, level, recips uint8) {
		ctx := context.Background()
		var gs grantStore
		for i, who := range gateUsers {
			bits := grantBits >> (2 * i)
			if bits&3 == 3 { // no grant for this principal
				continue
			}
			gs = append(gs, dialogue.Grant{CollectionID: "c", Principal: who, Read: bits&1 != 0, Write: bits&2 != 0})
		}
		v := viewerOf(kind, name, role)
		g := dialogue.NewGate(gs, stix.ReadTLP)
		g.PeerCanRead = func(_ context.Context, peer, id string) error {
			if peer == "peer-b" && id == "c" {
				return nil
			}
			return dialogue.Errorf("test", dialogue.KindNotFound, "no channel")
		}
		acc, err := g.Access(ctx, v, "c")
		if err != nil {
			t.Fatal(err)
		}
		read, write := refAccess(v.User, gs)
		switch {
		case v.Operator:
			read, write = true, true
		case v.Peer != "":
			read, write = true, false
		}
		if acc.Read != read || acc.Write != write {
			t.Fatalf("%v with %v: Access = %+v, want read %v write %v", v, gs, acc, read, write)
		}
		if err := g.CheckRead(ctx, v, "c"); (err == nil) != read || err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
			t.Fatalf("%v: CheckRead = %v, want read %v (else NOT-FOUND)", v, err, read)
		}
		if err := g.CheckWrite(ctx, v, "c"); (err == nil) != write {
			t.Fatalf("%v: CheckWrite = %v, want write %v", v, err, write)
		}
		m := dialogue.Marking{Level: dialogue.TLPLevel(level % 7)}
		for i, r := range []string{"alice", "role:duty", "bob", "role:admin"} {
			if recips>>i&1 != 0 {
				m.Recipients = append(m.Recipients, r)
			}
		}
		ok, err := g.View(v, "c").Allows(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := read && refSees(v, m); ok != want {
			t.Fatalf("%v reading %v with %v: Allows = %v, want %v", v, m, gs, ok, want)
		}
	})
}

// TestGrantRevocation: a user's own grant, allow or deny, beats "*".
func TestGrantRevocation(t *testing.T) {
	expert := func(n string) *dialogue.User { return &dialogue.User{Name: n, Role: dialogue.RoleExpert} }
	all := dialogue.Grant{Principal: "*", Read: true, Write: true}
	for _, tc := range []struct {
		name string
		u    *dialogue.User
		gs   []dialogue.Grant
		want dialogue.Access
	}{
		{"through *", expert("u"), []dialogue.Grant{all}, dialogue.Access{Read: true, Write: true}},
		{"revoked", expert("u"), []dialogue.Grant{all, {Principal: "u"}}, dialogue.Access{}},
		{"read only", expert("u"), []dialogue.Grant{all, {Principal: "u", Read: true}}, dialogue.Access{Read: true}},
		{"own allow, * none", expert("u"), []dialogue.Grant{{Principal: "u", Read: true, Write: true}}, dialogue.Access{Read: true, Write: true}},
		{"lead never writes", &dialogue.User{Name: "l", Role: dialogue.RoleLead}, []dialogue.Grant{all}, dialogue.Access{Read: true}},
		{"no grant", expert("u"), nil, dialogue.Access{}},
		{"no user", nil, []dialogue.Grant{all}, dialogue.Access{}},
	} {
		if got := dialogue.GrantAccess(tc.u, tc.gs); got != tc.want {
			t.Errorf("%s: GrantAccess = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestGateReadMarking: a gate with ReadMarking reads each object's own
// marking with it, not with its TLPReader, and decides the same.
func TestGateReadMarking(t *testing.T) {
	ctx := context.Background()
	alice := &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}
	gs := grantStore{{CollectionID: "c", Principal: "*", Read: true}}
	red := []byte(`{"type":"indicator","id":"indicator--1","object_marking_refs":["` + stix.TLPRed.ID + `"],"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","recipients":["bob"]}}}`)
	o := &dialogue.Object{ID: "indicator--1", Type: "indicator", Raw: red}
	g := dialogue.NewGate(gs, func([]byte) (string, []string, []string) {
		t.Fatal("the TLPReader read an object's own marking")
		return "", nil, nil
	})
	g.ReadMarking = stix.ReadMarking
	for _, u := range []*dialogue.User{alice, {Name: "bob", Role: dialogue.RoleExpert}} {
		ok, err := g.View(dialogue.UserViewer(u), "c").Visible(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if want := u.Name == "bob"; ok != want {
			t.Errorf("%s sees a RED object for bob: %v, want %v", u.Name, ok, want)
		}
	}
}

// The gate reads a stored version's marking once: the same version asked
// again is decided from the cache, the same, and a version added again
// (another DateAdded) is read again.
func TestGateOwnMarkingCache(t *testing.T) {
	ctx := context.Background()
	g := dialogue.NewGate(grantStore{{CollectionID: "c", Principal: "*", Read: true}}, stix.ReadTLP)
	reads := 0
	g.ReadMarking = func(raw []byte) (string, []string) {
		reads++
		level, recipients, _ := stix.ReadTLP(raw)
		return level, recipients
	}
	alice := dialogue.UserViewer(&dialogue.User{Name: "alice", Role: dialogue.RoleExpert})
	added := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	red := marked("indicator--1", stix.TLPRed, recipients("alice"))
	red.Modified, red.DateAdded = added, added
	for i := range 3 {
		ok, err := g.View(alice, "c").Visible(ctx, red)
		if err != nil || !ok {
			t.Fatalf("read %d: %v %v", i, ok, err)
		}
	}
	if reads != 1 {
		t.Errorf("the version was read %d times, want once", reads)
	}
	// Deleted and added again with other content: another DateAdded.
	again := marked("indicator--1", stix.TLPRed, recipients("bob"))
	again.Modified, again.DateAdded = added, added.Add(time.Second)
	if ok, err := g.View(alice, "c").Visible(ctx, again); err != nil || ok {
		t.Errorf("the version added again: visible %v %v, want hidden from alice", ok, err)
	}
	// Without a DateAdded or without its JSON: never kept.
	loose := marked("indicator--2", stix.TLPClear, "")
	for range 2 {
		g.View(alice, "c").Visible(ctx, loose)
	}
	if reads != 4 {
		t.Errorf("reads %d, want 4 (objects not read from the store are not kept)", reads)
	}
}

// A gate with ReadMarking takes the marking the store kept for a version
// (Object.TLPKnown) without reading its JSON; without one kept, or
// without ReadMarking, it reads the JSON.
func TestGateStoredTLP(t *testing.T) {
	ctx := context.Background()
	alice := dialogue.UserViewer(&dialogue.User{Name: "alice", Role: dialogue.RoleExpert})
	reads := 0
	g := dialogue.NewGate(grantStore{{CollectionID: "c", Principal: "*", Read: true}}, stix.ReadTLP)
	g.ReadMarking = func(raw []byte) (string, []string) {
		reads++
		return stix.ReadMarking(raw)
	}
	// The JSON says CLEAR; what the store kept says RED: the kept answer
	// decides, so the JSON is not read.
	o := marked("indicator--1", stix.TLPClear, "")
	o.TLP, o.TLPKnown = "red", true
	if ok, err := g.View(alice, "c").Visible(ctx, o); err != nil || ok {
		t.Errorf("a version kept as RED naming no one: visible %v %v, want hidden", ok, err)
	}
	if reads != 0 {
		t.Errorf("the JSON was read %d times, want never", reads)
	}
	o.TLPKnown = false
	if ok, err := g.View(alice, "c").Visible(ctx, o); err != nil || !ok || reads != 1 {
		t.Errorf("a version with nothing kept: visible %v %v after %d reads, want visible after 1", ok, err, reads)
	}
	plain := dialogue.NewGate(grantStore{{CollectionID: "c", Principal: "*", Read: true}}, stix.ReadTLP)
	o.TLPKnown = true
	if ok, err := plain.View(alice, "c").Visible(ctx, o); err != nil || !ok {
		t.Errorf("a gate without ReadMarking: visible %v %v, want the JSON's CLEAR", ok, err)
	}
}
