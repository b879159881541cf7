package enrich

import (
	"context"
	"time"
)

// DefaultInterval is how often a Worker looks for new objects when
// nothing wakes it: objects received from peers and objects added by
// another process are found this way.
const DefaultInterval = 2 * time.Second

// Worker keeps every collection of a store enriched: it catches up when
// it starts, then each time Notify wakes it and at each Interval. It
// remembers where it got to in each collection, and the store's cursor
// keeps it across restarts.
type Worker struct {
	e *Enricher
	// Interval is the time between two rounds when nothing wakes the
	// worker (DefaultInterval when 0). Set it before Run.
	Interval time.Duration

	wake chan struct{}
	pos  map[string]time.Time // by collection id; Run's alone
	// rounds, when not nil, receives the stats of each round (tests).
	rounds chan Stats
}

// NewWorker returns a worker of e; Run runs it.
func (e *Enricher) NewWorker() *Worker {
	return &Worker{e: e, wake: make(chan struct{}, 1), pos: make(map[string]time.Time)}
}

// Notify wakes the worker for a round. Its signature is that of the
// store's OnAppend hooks; it never blocks.
func (w *Worker) Notify(collectionID string, size int64) {
	select {
	case w.wake <- struct{}{}:
	default: // a round is pending already
	}
}

// Run enriches until ctx is done. Errors are logged, and the collection
// is tried again at the next round.
func (w *Worker) Run(ctx context.Context) {
	interval := w.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		st := w.round(ctx)
		if w.rounds != nil {
			select {
			case w.rounds <- st:
			case <-ctx.Done():
				return
			}
		}
		t.Reset(interval)
	}
}

// round catches up every collection once.
func (w *Worker) round(ctx context.Context) Stats {
	var total Stats
	cols, err := w.e.st.Collections(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.e.log.Warn("enrichment: cannot list the collections", "err", err)
		}
		return total
	}
	for _, c := range cols {
		from, ok := w.pos[c.ID]
		if !ok {
			if from, err = w.e.start(ctx, c.ID, false); err != nil {
				if ctx.Err() == nil {
					w.e.log.Warn("enrichment: cannot read the cursor", "collection", c.ID, "err", err)
				}
				continue
			}
		}
		to, st, err := w.e.catchUp(ctx, c.ID, from, Options{})
		w.pos[c.ID] = to
		total.add(st)
		if st.Scanned > 0 {
			w.e.log.Debug("enriched", "collection", c.ID, "scanned", st.Scanned, "enriched", st.Enriched, "addresses", st.Addresses)
		}
		if err != nil && ctx.Err() == nil {
			w.e.log.Warn("enrichment failed; trying again at the next round", "collection", c.ID, "err", err)
		}
	}
	return total
}

// Start runs a Worker of e in the background until ctx is done, woken by
// every append to a log of the store (hooks, the store's OnAppend), then
// closes e. The channel it returns is closed once the worker has stopped.
// A nil e (a node without databases) starts nothing and returns a closed
// channel.
func Start(ctx context.Context, e *Enricher, hooks interface {
	OnAppend(func(collectionID string, size int64))
}) <-chan struct{} {
	stopped := make(chan struct{})
	if e == nil {
		close(stopped)
		return stopped
	}
	w := e.NewWorker()
	if hooks != nil {
		hooks.OnAppend(w.Notify)
	}
	e.log.Info("enriching objects with country and AS", "databases", e.fingerprint)
	go func() {
		defer close(stopped)
		defer e.Close()
		w.Run(ctx)
	}()
	return stopped
}
