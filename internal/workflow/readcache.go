package workflow

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/parleyhq/parley/internal/dialogue"
)

// The read paths' cache: the web UI's pages, the API and the summary read
// the requests, hotline messages and reports of a channel many times
// between two writes to it, and folding 10,000 of them from their JSON
// costs far more than a page may take. A fold is kept per (store,
// channel, parties, kind) with the store's stamp of the object types it
// read (dialogue.StampedLister), and is used again only while a fresh
// stamp, read before each use, is equal: any version of those types
// added or removed since, by this process or another one on the same
// store, own or received, makes the fold be computed again. Nothing that
// depends on the clock is kept (overdue flags, countdowns): the callers
// compute it from the fold at each read. A store without stamps is read
// each time.

// maxFolds bounds the folds kept per service (a node has a few channels;
// every fold of a channel is replaced, not added, when it changes).
const maxFolds = 64

// foldKey names one fold.
type foldKey struct {
	store   Store
	kind    string
	channel string
	self    string
	other   string
}

// foldEntry is a fold with the stamp it was computed at.
type foldEntry struct {
	stamp dialogue.ObjectStamp
	val   any
}

// foldCache holds a service's folds, and the parties of the peers they
// were folded for.
type foldCache struct {
	mu sync.Mutex
	m  map[foldKey]foldEntry
	// parties are the peers' parties by (store, name): a peer's name and
	// log key never change once it is added (no store changes or removes
	// one), so a party found once stays true.
	parties map[partyKey]dialogue.Party
}

// partyKey names a peer of a store.
type partyKey struct {
	store Store
	name  string
}

// peerParty returns the party of the peer named name (Store.Peer), from
// the fold cache once it was found: the gate asks for it on every read.
func (s *Service) peerParty(ctx context.Context, name string) (dialogue.Party, error) {
	c, k := s.folds, partyKey{store: s.Store, name: name}
	if c != nil {
		c.mu.Lock()
		p, ok := c.parties[k]
		c.mu.Unlock()
		if ok {
			return p, nil
		}
	}
	peer, err := s.Store.Peer(ctx, name)
	if err != nil {
		return dialogue.Party{}, err
	}
	p := dialogue.Party{Name: peer.Name, IdentityID: dialogue.IdentityID(peer.LogKey)}
	if c != nil {
		c.mu.Lock()
		if c.parties == nil || len(c.parties) >= maxFolds {
			c.parties = map[partyKey]dialogue.Party{}
		}
		c.parties[k] = p
		c.mu.Unlock()
	}
	return p, nil
}

// cachedFold returns the value fold computes from a channel's objects of
// the given types, computed again only when the store's stamp of them
// changed since it was kept. The value must not be changed by anyone once
// returned. Without a StampedLister store (or a cache), fold runs each
// time.
func (s *Service) cachedFold(ctx context.Context, kind string, ch *dialogue.Channel, other dialogue.Party, types []string, fold func() (any, error)) (any, error) {
	return s.cachedExtended(ctx, kind, ch, other, types, fold, nil)
}

// extendFunc returns the fold v with the versions added since it was
// computed applied, in the order they were added, without changing v (its
// readers may be reading it). Each is the only version of a new object;
// none is one v read already.
type extendFunc func(v any, added []dialogue.AddedVersion) any

// extendable is a fold that may be extended: it knows the largest
// DateAdded of the versions it read (µs), whether it kept them or not.
type extendable interface {
	addedUpTo() int64
}

// maxExtend bounds the versions a fold is extended with: past it,
// computing the fold again costs about as much.
const maxExtend = 50000

// errTooMany stops a listing of added versions that does not add up.
var errTooMany = errors.New("more versions added than the stamps count")

// cachedExtended is cachedFold for a fold (an extendable) that extend
// can bring up to date with the versions added since its stamp, when the
// store lists them (dialogue.VersionLister), instead of computing it
// again: a node under steady traffic (its receipts, the peer's messages
// and escalations) then reads the few versions added between two reads,
// not the whole channel.
//
// The fold is extended only when every version added since its stamp is
// the only version of a new object. Otherwise it is computed again: when
// the versions listed do not account for the whole difference of the two
// stamps' counts (a version was removed in between: a deletion), or one
// of them is another version of an object (a new version, an older one
// arriving late). A version the fold read already (it was added between
// the stamp and the fold's own read of the store) is skipped: date_added
// is given out in commit order, so every version added no later than the
// last one the fold read was there when it read. Such a fold must not
// depend on the log indexes of its objects: an index recorded alone (the
// stamp's Received) keeps it as it is.
func (s *Service) cachedExtended(ctx context.Context, kind string, ch *dialogue.Channel, other dialogue.Party, types []string, fold func() (any, error), extend extendFunc) (any, error) {
	sl, ok := s.Store.(dialogue.StampedLister)
	if !ok || s.folds == nil {
		return fold()
	}
	// The stamp is read before the objects: a write in between makes the
	// fold newer than its stamp, so the next read computes it again (or
	// extends it, skipping the versions it read already); it is never
	// older.
	key := foldKey{store: s.Store, kind: kind, channel: ch.ID, self: s.Self.IdentityID, other: other.IdentityID}
	rs, _ := ctx.Value(readSessionKey{}).(*readSession)
	if v, ok := rs.get(key); ok {
		return v, nil
	}
	st, err := sl.ObjectStamp(ctx, ch.ID, types)
	if err != nil {
		return nil, err
	}
	c := s.folds
	c.mu.Lock()
	e, hit := c.m[key]
	c.mu.Unlock()
	if hit && e.stamp == st {
		rs.put(key, e.val)
		return e.val, nil
	}
	var v any
	if hit && extend != nil {
		v, err = s.extendFold(ctx, ch, types, e, st, extend)
		if err != nil {
			return nil, err
		}
	}
	if v == nil {
		if v, err = fold(); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxFolds {
		c.m = map[foldKey]foldEntry{}
	}
	c.m[key] = foldEntry{stamp: st, val: v}
	c.mu.Unlock()
	rs.put(key, v)
	return v, nil
}

// readSession keeps the folds one read (the summary) took, so that each
// is read once however many of its parts ask for it: no stamp query
// again, and every part sees the same state of the store.
type readSession struct {
	mu sync.Mutex
	m  map[foldKey]any
}

type readSessionKey struct{}

// withReadSession returns ctx carrying a new read session: the folds
// read under it are kept for it alone, until it ends.
func withReadSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, readSessionKey{}, &readSession{m: map[foldKey]any{}})
}

func (rs *readSession) get(k foldKey) (any, bool) {
	if rs == nil {
		return nil, false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	v, ok := rs.m[k]
	return v, ok
}

func (rs *readSession) put(k foldKey, v any) {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	rs.m[k] = v
	rs.mu.Unlock()
}

// extendFold returns e's fold extended up to the stamp st, or nil when it
// cannot be (the store does not list added versions, they do not add up,
// or extend refuses them).
func (s *Service) extendFold(ctx context.Context, ch *dialogue.Channel, types []string, e foldEntry, st dialogue.ObjectStamp, extend extendFunc) (any, error) {
	vl, ok := s.Store.(dialogue.VersionLister)
	n := st.Versions - e.stamp.Versions
	if !ok || st.LastAdded < e.stamp.LastAdded || n < 0 || n > maxExtend {
		return nil, nil
	}
	ex, ok := e.val.(extendable)
	if !ok {
		return nil, nil
	}
	read := ex.addedUpTo()
	var added []dialogue.AddedVersion
	listed, refused := int64(0), false
	if st.LastAdded > e.stamp.LastAdded {
		err := vl.VersionsAdded(ctx, ch.ID, types, e.stamp.LastAdded, st.LastAdded, func(v dialogue.AddedVersion) error {
			if listed++; listed > n {
				return errTooMany
			}
			if !v.Latest || v.Versions != 1 {
				refused = true
				return errTooMany
			}
			if v.Object.DateAdded.UnixMicro() > read {
				added = append(added, v)
			}
			return nil
		})
		if errors.Is(err, errTooMany) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if listed != n || refused {
		return nil, nil
	}
	if len(added) == 0 {
		return e.val, nil // read already, or a received index recorded alone
	}
	return extend(e.val, added), nil
}

// eachLatest calls fn with the latest version of each object of the given
// types in a channel's collection, in the order they were added: in one
// scan when the store is a StampedLister, else type by type through
// FindObjects, merged by DateAdded (as Items).
func (s *Service) eachLatest(ctx context.Context, ch *dialogue.Channel, types []string, fn func(*dialogue.Object)) error {
	if sl, ok := s.Store.(dialogue.StampedLister); ok {
		return sl.IndexedObjects(ctx, ch.ID, types, func(io dialogue.IndexedObject) error {
			fn(io.Object)
			return nil
		})
	}
	var all []*dialogue.Object
	for _, t := range types {
		f := dialogue.ObjectFilter{Types: []string{t}}
		for {
			page, err := s.Store.FindObjects(ctx, ch.ID, f)
			if err != nil {
				return err
			}
			all = append(all, page.Objects...)
			if !page.More {
				break
			}
			f.After = page.Next
		}
	}
	slices.SortStableFunc(all, func(a, b *dialogue.Object) int { return a.DateAdded.Compare(b.DateAdded) })
	for _, o := range all {
		fn(o)
	}
	return nil
}
