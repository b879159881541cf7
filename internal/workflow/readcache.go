package workflow

import (
	"context"
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

// foldCache holds a service's folds.
type foldCache struct {
	mu sync.Mutex
	m  map[foldKey]foldEntry
}

// cachedFold returns the value fold computes from a channel's objects of
// the given types, computed again only when the store's stamp of them
// changed since it was kept. The value must not be changed by anyone once
// returned. Without a StampedLister store (or a cache), fold runs each
// time.
func (s *Service) cachedFold(ctx context.Context, kind string, ch *dialogue.Channel, other dialogue.Party, types []string, fold func() (any, error)) (any, error) {
	sl, ok := s.Store.(dialogue.StampedLister)
	if !ok || s.folds == nil {
		return fold()
	}
	// The stamp is read before the objects: a write in between makes the
	// fold newer than its stamp, so the next read computes it again; it
	// is never older.
	st, err := sl.ObjectStamp(ctx, ch.ID, types)
	if err != nil {
		return nil, err
	}
	key := foldKey{store: s.Store, kind: kind, channel: ch.ID, self: s.Self.IdentityID, other: other.IdentityID}
	c := s.folds
	c.mu.Lock()
	e, hit := c.m[key]
	c.mu.Unlock()
	if hit && e.stamp == st {
		return e.val, nil
	}
	v, err := fold()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxFolds {
		c.m = map[foldKey]foldEntry{}
	}
	c.m[key] = foldEntry{stamp: st, val: v}
	c.mu.Unlock()
	return v, nil
}
