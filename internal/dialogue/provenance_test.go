package dialogue

import "testing"

func TestParties(t *testing.T) {
	self := Party{Name: "party-a", IdentityID: "identity--a"}
	p := NewParties(self, []*Peer{{Name: "party-b", LogKey: "b-key"}, {Name: "party-c", LogKey: "c-key"}})
	idB, idC := IdentityID("b-key"), IdentityID("c-key")
	b := Party{Name: "party-b", IdentityID: idB}
	const third = "identity--mitre"
	none := Prior{}
	for _, tt := range []struct {
		name    string
		creator string
		prior   Prior
		write   bool // this node may write it
		receive bool // b may send it
	}{
		{"a new object of a", self.IdentityID, none, true, false},
		{"a new object of b", idB, none, false, true},
		{"a new object in c's name", idC, none, false, false},
		{"a third creator's object", third, none, true, true},
		{"no creator", "", none, true, true},
		{"a's new version of its object", self.IdentityID, Prior{Stored: true, Creator: self.IdentityID}, true, false},
		{"a new version of b's object", self.IdentityID, Prior{Stored: true, Creator: idB}, false, false},
		{"b's new version of its object", idB, Prior{Stored: true, Creator: idB}, false, true},
		{"b's new version of a's object", idB, Prior{Stored: true, Creator: self.IdentityID}, false, false},
		{"a new version of a third creator's object", third, Prior{Stored: true, Creator: third, From: "party-b"}, true, true},
		{"a new version of what b sent naming no creator", "", Prior{Stored: true, From: "party-b"}, false, true},
		{"a new version of what a wrote naming no creator", "", Prior{Stored: true}, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckWrite("x--1", tt.creator, tt.prior)
			if (err == nil) != tt.write || err != nil && KindOf(err) != KindForbidden {
				t.Errorf("CheckWrite: %v, want allowed %v", err, tt.write)
			}
			err = p.CheckReceived(b, "x--1", tt.creator, tt.prior)
			if (err == nil) != tt.receive || err != nil && KindOf(err) != KindInvalid {
				t.Errorf("CheckReceived from b: %v, want allowed %v", err, tt.receive)
			}
		})
	}
}

func TestIdentityIDStable(t *testing.T) {
	// The id every node derives from a log key: it must never change.
	const key = "party-a+4b3dd08a+Ae9IbfCanRq84xdeIuKg7s//ZfFO5+Zizw8zOaQf4WL8"
	if got, want := IdentityID(key), "identity--5336842a-20f7-5f41-9084-077db9f269cb"; got != want {
		t.Errorf("IdentityID(%q) = %q, want %q", key, got, want)
	}
}
