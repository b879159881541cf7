package dialogue

import (
	"encoding/json"

	"github.com/google/uuid"
)

// Provenance: a party writes only in its own name (DESIGN.md, "Roles and
// access: one gate"). Who created an object is its created_by_ref; the
// parties are known by their identities, each derived from the party's
// log key (IdentityID), so every node knows every party's identity
// without being told. The rules here are pure: the caller (internal/write
// for what this node writes, the exchange for what a peer sends) looks up
// what is stored and asks them.
//
//   - A party writes no object that names another party as its creator.
//   - Only an object's creator issues its new versions: a new version of
//     an object that another party created is refused. Who created the
//     stored versions is their created_by_ref; for stored versions that
//     name no creator, the party that sent them (this node's own, or the
//     peer it received them from).
//   - Objects that name a third creator (a feed's, MITRE's) are relayed:
//     no party may claim them, any may relay their new versions.

// identityNamespace is the UUIDv5 namespace of the parties' identities.
var identityNamespace = uuid.MustParse("8f1d4c3e-6a0b-5b6e-9a0e-70a9c1e1f2d3")

// IdentityID returns the STIX identity id of the party whose node has the
// given log key: the same on every node, derived from the pinned key, so
// that each side knows the other's identity without being told.
func IdentityID(logKey string) string {
	return "identity--" + uuid.NewSHA1(identityNamespace, []byte(logKey)).String()
}

// CreatorOf returns an object's created_by_ref ("" when it names none or
// is not a JSON object).
func CreatorOf(raw []byte) string {
	var probe struct {
		CreatedByRef string `json:"created_by_ref"`
	}
	json.Unmarshal(raw, &probe)
	return probe.CreatedByRef
}

// Parties are the parties a node knows, for deciding who may write what:
// Self is this node's party; Others every other party, by identity id
// (each pinned peer's, whatever channel it shares).
type Parties struct {
	Self   Party
	Others map[string]Party
}

// NewParties returns the parties of a node whose party is self, with the
// peers it pins.
func NewParties(self Party, peers []*Peer) Parties {
	self.Local = true
	p := Parties{Self: self, Others: make(map[string]Party, len(peers))}
	for _, pr := range peers {
		id := IdentityID(pr.LogKey)
		p.Others[id] = Party{Name: pr.Name, IdentityID: id}
	}
	return p
}

// party returns the party whose identity is id: this one (Local), another,
// or false for a third creator (or none).
func (p Parties) party(id string) (Party, bool) {
	if id == "" {
		return Party{}, false
	}
	if id == p.Self.IdentityID {
		return p.Self, true
	}
	o, ok := p.Others[id]
	return o, ok
}

// Prior is what a node holds of an object before a new version of it is
// written or applied: its versions other than the one being added.
type Prior struct {
	// Stored is whether any other version is stored.
	Stored bool
	// Creator is the created_by_ref of the stored versions ("" when they
	// name none).
	Creator string
	// From is the peer the stored versions were received from ("" for
	// this node's own).
	From string
}

// owner returns the party that issued the stored versions, when a party
// did: the creator they name, else the one that sent them. A third
// creator's object has no owner among the parties.
func (p Parties) owner(prior Prior) (Party, bool) {
	if !prior.Stored {
		return Party{}, false
	}
	if prior.Creator != "" {
		return p.party(prior.Creator)
	}
	if prior.From == "" {
		return p.Self, true
	}
	for _, o := range p.Others {
		if o.Name == prior.From {
			return o, true
		}
	}
	return Party{Name: prior.From}, true
}

// CheckWrite decides whether this node's party may write the version of
// object id that names creator ("" when it names none: it is then this
// party's own), given what is stored of the object. It refuses
// (KindForbidden) an object in another party's name and a new version of
// an object another party issued (named as creator, or, naming none,
// logged first).
func (p Parties) CheckWrite(id, creator string, prior Prior) error {
	const op = "dialogue.CheckWrite"
	if c, ok := p.party(creator); ok && !c.Local {
		return Errorf(op, KindForbidden, "%s names party %s (%s) as its creator: this node writes only in its own party's name, %s (%s)",
			id, c.Name, c.IdentityID, p.Self.Name, p.Self.IdentityID)
	}
	if o, ok := p.owner(prior); ok && !o.Local {
		return Errorf(op, KindForbidden, "%s was created by party %s: only an object's creator issues its new versions; file your own object that refers to it instead",
			id, o.Name)
	}
	return nil
}

// CheckReceived decides whether the version of object id that names
// creator, received from the peer from, may be applied, given what is
// stored of the object. It refuses (KindInvalid: the peer sent bad data)
// an object in the name of any party but the sender, and a new version
// of an object another party issued (this node's, or a third party's).
func (p Parties) CheckReceived(from Party, id, creator string, prior Prior) error {
	const op = "dialogue.CheckReceived"
	if c, ok := p.party(creator); ok && c.IdentityID != from.IdentityID {
		return Errorf(op, KindInvalid, "%s sent %s in the name of party %s (%s): a party writes only in its own name",
			from.Name, id, c.Name, c.IdentityID)
	}
	if o, ok := p.owner(prior); ok && o.Name != from.Name {
		return Errorf(op, KindInvalid, "%s sent a new version of %s, which party %s created: only an object's creator issues its new versions",
			from.Name, id, o.Name)
	}
	return nil
}
