// Package peer runs the exchange between a node and its peers: the
// channels each side proposes and accepts, the push of each new checkpoint
// of this node's logs to the peer's witness endpoint, and the pull of the
// peer's new entries, checked against the checkpoint this node cosigned,
// into the channel's collection here. See "Sync between nodes" in
// DESIGN.md and docs/design/peer.md.
//
// A Service runs one worker per peer. A worker does everything that is
// due for its peer in a round: tell the peer of channel changes, push this
// node's new checkpoints, fetch and apply the entries the peer's cosigned
// checkpoints add, poll the peer's checkpoints (the fallback for a push
// that never came) and fetch the evidence blobs its entries name. A round
// is started at once by an append here (Notify) or a checkpoint cosigned
// for the peer, else every PollInterval; after a failure the next round
// waits with exponential backoff. All state lives in the store, so a
// worker resumes after any fault from the last size verified and applied.
//
// Trust is the pinned keys only: the peer's TLS key authenticates it both
// ways (mutual TLS) and its log key signs its checkpoints. The package must
// not trust anything a peer says that those keys did not sign or that the
// checkpoint does not commit to.
package peer

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// Store is what the exchange needs of a node's store.
type Store interface {
	dialogue.Store
	dialogue.LogStore
	dialogue.PeerStore
}

// Config configures a Service.
type Config struct {
	// Name is this node's name, the name of its log key; LogKey that key
	// (its verifier text), from which this party's identity is derived.
	Name, LogKey string
	Store        Store
	// Blobs keeps evidence blobs; nil leaves blobs unfetched.
	Blobs *blob.Store
	// Cert is this node's TLS certificate, presented to peers as client.
	Cert tls.Certificate
	// LogVerifier checks this node's own checkpoints; Cosigner signs the
	// cosignatures this node gives as the peers' witness.
	LogVerifier note.Verifier
	Cosigner    note.Signer
	Logger      *slog.Logger
	// Registerer takes the exchange's metrics (none when nil).
	Registerer prometheus.Registerer

	// PollInterval is how often a worker looks at its peer's checkpoints
	// without being told (default 30 s); LocalInterval how often it looks
	// for appends by another process on this node's store (default 500 ms).
	PollInterval, LocalInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed round
	// (defaults 200 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one request to a peer (default 60 s).
	Timeout time.Duration
	// ApplyBatch is how many entries are applied per transaction (default
	// 4096).
	ApplyBatch int
	// MaxPending is how many channel proposals of one peer may wait here,
	// neither accepted nor declined (default 10); past it a proposal is
	// answered 429 and not stored.
	MaxPending int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service runs the exchange with every peer of a node.
type Service struct {
	cfg     Config
	st      Store
	self    dialogue.Party // this node's party
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	workers map[string]*worker // by peer name
	ctx     context.Context    // Run's, once running
}

// New returns a Service; Run starts it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Name == "" || cfg.LogKey == "" || cfg.Cosigner == nil {
		return nil, dialogue.Errorf("peer.New", dialogue.KindInvalid, "a store, this node's name, its log key and its cosigner are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.LocalInterval <= 0 {
		cfg.LocalInterval = 500 * time.Millisecond
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.ApplyBatch <= 0 {
		cfg.ApplyBatch = 4096
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, workers: map[string]*worker{},
		self: dialogue.Party{Name: cfg.Name, IdentityID: dialogue.IdentityID(cfg.LogKey), Local: true}}
	s.metrics = newMetrics(cfg.Registerer)
	return s, nil
}

// Run runs the workers until ctx ends. It starts a worker for each peer
// and, every LocalInterval, for peers added since.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(s.cfg.LocalInterval)
	defer t.Stop()
	for {
		peers, err := s.st.Peers(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("listing peers failed", "err", err)
		}
		for _, p := range peers {
			s.mu.Lock()
			if _, ok := s.workers[p.Name]; !ok {
				w := newWorker(s, p.Name)
				s.workers[p.Name] = w
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.run(ctx)
				}()
			}
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Notify tells the service that this node's log of a collection grew: the
// peer of that channel's worker pushes the new checkpoint at once. Wire it
// to the store's append hook.
func (s *Service) Notify(collectionID string, size int64) {
	ch, err := s.st.Channel(context.Background(), collectionID)
	if err != nil {
		return // not a channel
	}
	s.wake(ch.Peer)
}

// WakeAll starts a round with every peer now (after `peer add` or
// `channel accept`, say).
func (s *Service) WakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.workers {
		w.poke(false)
	}
}

func (s *Service) wake(peer string) {
	s.mu.Lock()
	w := s.workers[peer]
	s.mu.Unlock()
	if w != nil {
		w.poke(false)
	}
}

// Cosigned is the witness endpoint's callback: a checkpoint of a peer's
// log was cosigned, so its worker fetches the new entries now.
func (s *Service) Cosigned(origin string, size int64) {
	if name, _, ok := strings.Cut(origin, tlog.OriginPart); ok {
		s.wake(name)
	}
}

// Refused is the witness endpoint's callback for a checkpoint signed by a
// peer's key and inconsistent with the one this node cosigned: a fork. It
// raises the FORK alarm.
func (s *Service) Refused(r *http.Request, origin string, err error) {
	name, coll, _ := strings.Cut(origin, tlog.OriginPart)
	s.alarm(r.Context(), name, dialogue.AlarmFork, "checkpoint of channel "+coll+" refused: "+dialogue.Message(err))
}

// alarm raises an alarm about a peer: a log line, a metric and the peer's
// record (shown by `parley peer list`).
func (s *Service) alarm(ctx context.Context, peer, alarm, detail string) {
	s.log.Error("peer alarm", "peer", peer, "alarm", alarm, "detail", detail)
	s.metrics.alarms.WithLabelValues(peer, alarm).Inc()
	if err := s.st.RaiseAlarm(context.WithoutCancel(ctx), peer, alarm, detail, s.cfg.Now()); err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
		s.log.Error("recording a peer alarm failed", "peer", peer, "err", err)
	}
}

// worker runs the rounds with one peer.
type worker struct {
	s    *Service
	name string
	wake chan struct{} // a round is due

	mu       sync.Mutex
	failures int
	lastErr  string
	client   *http.Client
	clientOf string // the pin client was made for
	polled   map[string]time.Time
	local    map[string]int64 // this node's log sizes seen, per channel
}

func newWorker(s *Service, name string) *worker {
	return &worker{s: s, name: name, wake: make(chan struct{}, 1), polled: map[string]time.Time{}, local: map[string]int64{}}
}

// poke asks for a round; poll also forces a look at the peer's checkpoints.
func (w *worker) poke(poll bool) {
	if poll {
		w.mu.Lock()
		clear(w.polled)
		w.mu.Unlock()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	local := time.NewTicker(w.s.cfg.LocalInterval)
	defer local.Stop()
	for {
		err := w.round(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait <-chan time.Time
		if err != nil {
			w.failures++
			d := w.backoff()
			if msg := dialogue.Message(err); msg != w.lastErr || w.failures == 1 {
				w.s.log.Warn("exchange with peer failed; retrying", "peer", w.name, "err", msg, "retry_in", d.Round(time.Millisecond), "failures", w.failures)
				w.lastErr = msg
			}
			w.s.metrics.failures.WithLabelValues(w.name).Inc()
			wait = time.After(d)
		} else {
			if w.failures > 0 {
				w.s.log.Info("exchange with peer resumed", "peer", w.name, "after_failures", w.failures)
			}
			w.failures, w.lastErr = 0, ""
		}
		if wait != nil {
			// After a failure only the backoff timer starts the next
			// round: appends meanwhile do not hammer a peer that is down.
			select {
			case <-ctx.Done():
				return
			case <-wait:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-local.C:
		}
	}
}

// backoff is the wait after the current run of failures: doubling from
// MinBackoff up to MaxBackoff, with jitter.
func (w *worker) backoff() time.Duration {
	d := w.s.cfg.MinBackoff
	for i := 1; i < w.failures && d < w.s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.s.cfg.MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// round does everything due with the peer. It goes on after a failed
// channel and returns the first error.
func (w *worker) round(ctx context.Context) error {
	p, err := w.s.st.Peer(ctx, w.name)
	if err != nil {
		return err
	}
	client, err := w.httpClient(p)
	if err != nil {
		return err
	}
	c := &conn{w: w, p: p, client: client}
	var first error
	keep := func(err error) {
		if err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	chans, err := w.s.st.Channels(ctx)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		if ch.Peer != p.Name {
			continue
		}
		if !ch.Notified {
			keep(c.tellChannel(ctx, ch))
			if ch, err = w.s.st.Channel(ctx, ch.ID); err != nil {
				keep(err)
				continue
			}
		}
		if ch.State != dialogue.ChannelActive {
			continue
		}
		keep(c.push(ctx, ch))
		keep(c.pollAndPull(ctx, ch))
	}
	keep(c.fetchBlobs(ctx))
	if c.contacted.Load() {
		if err := w.s.st.SetPeerContact(ctx, p.Name, w.s.cfg.Now()); err != nil {
			keep(err)
		}
	}
	return first
}

// pollDue reports whether the peer's checkpoint of a channel is due for a
// look without a push, and marks it looked at.
func (w *worker) pollDue(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.s.cfg.Now()
	if t, ok := w.polled[id]; ok && now.Sub(t) < w.s.cfg.PollInterval {
		return false
	}
	w.polled[id] = now
	return true
}
