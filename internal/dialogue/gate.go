package dialogue

import (
	"context"
	"sync"
)

// The gate (docs/design/access.md): who may read and write what on a
// node. Every path — TAXII, the JSON API, the web UI, the command line,
// the log's tiles and proofs, evidence downloads, exports, peering — asks
// it with the same Viewer, and none decides by itself. The rules are pure
// functions (GrantAccess, VisibleTo); Gate applies them to what a store
// holds.

// Viewer is who reads or writes: a local user, a pinned peer node, or the
// node's operator on the command line. The zero Viewer is no one: it may
// read and write nothing.
type Viewer struct {
	// User is a local user, signed in or by token (nil otherwise).
	User *User
	// Peer is the name of a pinned peer node, asking with its client
	// certificate ("" otherwise).
	Peer string
	// Operator is the node's operator: the command line, run by whoever
	// holds the data folder, which holds everything anyway.
	Operator bool
}

// UserViewer is the viewer of a local user (no one when u is nil).
func UserViewer(u *User) Viewer { return Viewer{User: u} }

// OperatorViewer is the node's operator on the command line.
func OperatorViewer() Viewer { return Viewer{Operator: true} }

// PeerViewer is the pinned peer node named name.
func PeerViewer(name string) Viewer { return Viewer{Peer: name} }

// IsZero reports whether v is no one.
func (v Viewer) IsZero() bool { return v.User == nil && v.Peer == "" && !v.Operator }

// String names the viewer for messages and logs.
func (v Viewer) String() string {
	switch {
	case v.Operator:
		return "the operator"
	case v.User != nil:
		return "user " + v.User.Name
	case v.Peer != "":
		return "peer " + v.Peer
	}
	return "no one"
}

// GrantAll is the principal of a grant for every authenticated user.
const GrantAll = "*"

// GrantAccess is the grant rule for user u in one collection whose grants
// are gs: u's own grant, allow or deny, beats the "*" grant; without
// either u has no access. Writing also needs a role that may write
// (Role.CanWrite). A nil u has no access.
func GrantAccess(u *User, gs []Grant) Access {
	if u == nil {
		return Access{}
	}
	var all, own *Grant
	for i := range gs {
		switch gs[i].Principal {
		case u.Name:
			own = &gs[i]
		case GrantAll:
			all = &gs[i]
		}
	}
	g := own
	if g == nil {
		g = all
	}
	if g == nil {
		return Access{}
	}
	return Access{Read: g.Read, Write: g.Write && u.Role.CanWrite()}
}

// VisibleTo reports whether viewer v, who may read the object's
// collection, may see an object marked m. The operator sees everything;
// a peer sees what this node sends it on a channel shared with it (its
// users are the recipients, and its own gate decides which of them see
// what); a user sees what Visible allows.
func VisibleTo(v Viewer, m Marking) bool {
	switch {
	case v.Operator:
		return true
	case v.User != nil:
		return Visible(v.User, m)
	case v.Peer != "":
		return m.Level >= TLPClear && m.Level <= TLPRed
	}
	return false
}

// GateStore is what the gate reads of a store.
type GateStore interface {
	ObjectFinder
	// Grants lists the grants of one collection (KindNotFound when there
	// is no such collection).
	Grants(ctx context.Context, collectionID string) ([]Grant, error)
}

// Gate applies the access rules to a store. Its zero value is not usable:
// build one with NewGate.
type Gate struct {
	store GateStore
	read  TLPReader
	// Markings, when set, gives the ReportMarkings of a collection (a
	// cache of the channel's reports); nil: each view reads the reports.
	Markings func(ctx context.Context, collectionID string) (ReportMarkings, error)
	// PeerCanRead, when set, says whether a peer may read a collection: nil
	// when it may (the collection of a channel active with it). When nil,
	// no peer may read anything.
	PeerCanRead func(ctx context.Context, peer, collectionID string) error
	// ReadMarking, when set, reads an object's own marking for the
	// decision on each object (TLPView.Marking) in place of the gate's
	// TLPReader: the same level and recipients, without a report's
	// object_refs, which that decision never uses (stix.ReadMarking).
	// When set, an object's Object.TLP, when the store kept it, is taken
	// as its answer: stores keep stix.ReadMarking's, so ReadMarking must
	// answer as stix.ReadMarking does.
	ReadMarking func(raw []byte) (level string, recipients []string)
	// Incident says whether a report is an incident report (it carries
	// Parley's property-extension: stix.IsIncidentReport), whose marking
	// an object it holds takes before any other report's. When nil, every
	// report counts in the order it arrived.
	Incident func(raw []byte) bool
	// Evidence returns the SHA-256 (64 lower-case hex digits) of the
	// evidence file an object names, "" when it names none
	// (stix.EvidenceSHA256). When nil, no user may read evidence files.
	Evidence func(raw []byte) string

	own ownCache
}

// ownCache keeps what the JSON of stored object versions says of TLP, so
// that a version read again (a TAXII client polling, the same page asked
// twice) is not scanned again. A stored version's bytes never change: the
// key is its collection, id, version and DateAdded, and a version deleted
// and added again has another DateAdded. Objects without a DateAdded (not
// read from the store) are not kept. When full it starts over.
type ownCache struct {
	mu sync.Mutex
	m  map[ownKey]ownMarking
}

type ownKey struct {
	collection, id string
	version, added int64
}

type ownMarking struct {
	level      string
	recipients []string
}

// ownCacheSize bounds the cache (about 100 bytes an entry).
const ownCacheSize = 1 << 17

func (c *ownCache) get(k ownKey) (ownMarking, bool) {
	c.mu.Lock()
	m, ok := c.m[k]
	c.mu.Unlock()
	return m, ok
}

func (c *ownCache) put(k ownKey, m ownMarking) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= ownCacheSize {
		c.m = make(map[ownKey]ownMarking, 1024)
	}
	c.m[k] = m
	c.mu.Unlock()
}

// NewGate returns the gate over st; read is stix.ReadTLP (passed in so
// that this package stays free of STIX parsing).
func NewGate(st GateStore, read TLPReader) *Gate {
	return &Gate{store: st, read: read}
}

// Access returns what v may do in a collection. KindNotFound when there
// is no such collection.
func (g *Gate) Access(ctx context.Context, v Viewer, collectionID string) (Access, error) {
	const op = "dialogue.Gate"
	switch {
	case v.Operator:
		if _, err := g.store.Grants(ctx, collectionID); err != nil {
			return Access{}, err
		}
		return Access{Read: true, Write: true}, nil
	case v.User != nil:
		gs, err := g.store.Grants(ctx, collectionID)
		if err != nil {
			return Access{}, err
		}
		return GrantAccess(v.User, gs), nil
	case v.Peer != "":
		if g.PeerCanRead == nil {
			return Access{}, nil
		}
		err := g.PeerCanRead(ctx, v.Peer, collectionID)
		switch {
		case err == nil:
			// A peer writes only through its own log, which it does not
			// write here.
			return Access{Read: true}, nil
		case KindOf(err) == KindOther:
			return Access{}, E(op, KindOther, err)
		}
		return Access{}, nil // not a channel shared with it
	}
	return Access{}, nil
}

// CheckRead returns nil when v may read the collection; else an error of
// kind KindNotFound worded as for an unknown collection, so that a viewer
// learns nothing of the collections it may not read.
func (g *Gate) CheckRead(ctx context.Context, v Viewer, collectionID string) error {
	acc, err := g.Access(ctx, v, collectionID)
	if err != nil {
		return err
	}
	if !acc.Read {
		return Errorf("dialogue.Gate", KindNotFound, "no collection %s", Clip(collectionID, 80))
	}
	return nil
}

// CheckWrite returns nil when v may write to the collection; else an
// error of kind KindForbidden that says why (or KindNotFound, as
// CheckRead, when v may not even read it).
func (g *Gate) CheckWrite(ctx context.Context, v Viewer, collectionID string) error {
	const op = "dialogue.Gate"
	acc, err := g.Access(ctx, v, collectionID)
	if err != nil {
		return err
	}
	switch {
	case acc.Write:
		return nil
	case !acc.Read:
		return Errorf(op, KindNotFound, "no collection %s", Clip(collectionID, 80))
	case v.User != nil && !v.User.Role.CanWrite():
		return Errorf(op, KindForbidden, "%s may not write: the role %s reads and approves (writing needs expert, duty or admin)", v, v.User.Role)
	}
	return Errorf(op, KindForbidden, "%s may read collection %s but not write to it (its grant)", v, collectionID)
}

// ViewWith is View for a caller that asked Access for v in the collection
// already, in the same request: the view decides from acc instead of
// asking again.
func (g *Gate) ViewWith(v Viewer, collectionID string, acc Access) *TLPView {
	tv := g.View(v, collectionID)
	tv.checked, tv.denied = true, !acc.Read
	return tv
}

// View returns v's view of a collection: what it may see of each object.
// A viewer that may not read the collection sees nothing in it; the view
// asks Access on its first decision (Readable), so that building one
// costs nothing.
func (g *Gate) View(v Viewer, collectionID string) *TLPView {
	tv := &TLPView{store: g.store, collectionID: collectionID, viewer: v, read: g.read, mark: g.ReadMarking, incident: g.Incident, gate: g, own: &g.own}
	if g.Markings != nil {
		tv.load = func(ctx context.Context) (ReportMarkings, error) { return g.Markings(ctx, collectionID) }
	}
	return tv
}

// CheckEvidence returns nil when v may read the evidence file whose
// SHA-256 is sum (64 lower-case hex digits) in a collection: when v may
// see the first object of the collection, in the order they arrived,
// that names it — the file or artifact it was filed with. Naming the hash
// in a later object, one's own report included, grants nothing. Else
// KindNotFound, worded as for a file that is not there.
func (g *Gate) CheckEvidence(ctx context.Context, v Viewer, collectionID, sum string) error {
	const op = "dialogue.Gate"
	notFound := Errorf(op, KindNotFound, "no evidence file sha256:%s here", Clip(sum, 64))
	if g.Evidence == nil {
		return notFound
	}
	view := g.View(v, collectionID)
	if ok, err := view.Readable(ctx); err != nil || !ok {
		if err != nil && KindOf(err) != KindNotFound {
			return err
		}
		return notFound
	}
	f := ObjectFilter{Types: []string{"file", "artifact"}, Versions: VersionMatch{All: true}}
	for {
		page, err := g.store.FindObjects(ctx, collectionID, f)
		if err != nil {
			return E(op, KindOther, err)
		}
		for _, o := range page.Objects {
			if g.Evidence(o.Raw) != sum {
				continue
			}
			ok, err := view.Visible(ctx, o)
			if err != nil {
				return err
			}
			if !ok {
				return notFound
			}
			return nil
		}
		if !page.More {
			return notFound
		}
		f.After = page.Next
	}
}
