package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Peers: other parties' nodes authenticate by mutual TLS 1.3. The server
// asks every client that offers TLS 1.3 for a certificate
// (tls.RequestClientCert) without requiring one: local users present none
// and authenticate with Basic or Bearer. A client that presents one must
// be a known peer, identified by the pin of its public key; there is no
// certificate authority, and the chain and names of the certificate are
// not checked. An unknown pin is refused in the handshake. The listener
// also serves TLS 1.2, for TAXII clients that speak no more (TAXII 2.1
// section 8.2.2); over it no certificate is asked for (TLS 1.2 would send
// it in clear) and one presented is refused, so a peer is never known
// over TLS 1.2 and peer routes answer 403 there.

// PeerFinder finds a peer by the pin of its TLS public key.
// dialogue.PeerStore satisfies it.
type PeerFinder interface {
	// PeerByPin returns the peer whose TLS pin is pin, or an error of kind
	// KindNotFound when none is.
	PeerByPin(ctx context.Context, pin string) (*dialogue.Peer, error)
}

// How long the peer cache keeps answers. A peer found is kept for
// peerTTL; a pin found to be no peer's (or a failed look-up) is asked
// again at most once per peerRetry, so a peer added while the node serves
// is accepted within a second, and an attacker repeating one unknown
// certificate costs the store one look-up a second.
const (
	peerTTL        = 10 * time.Second
	peerRetry      = time.Second
	maxPeerEntries = 4096
	// refusalLogEvery is how often a refusal is logged per pin.
	refusalLogEvery = time.Minute
)

// refusedMarker begins the text of the handshake errors of verifyPeer;
// the server's error log drops lines that carry it, since verifyPeer has
// logged the refusal already (once per pin per minute).
const refusedMarker = "parley: refused client certificate: "

type peerKey struct{}

// PeerFrom returns the peer node the request comes from: the one whose
// pinned certificate the client presented in the TLS handshake.
func PeerFrom(ctx context.Context) (*dialogue.Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(*dialogue.Peer)
	return p, ok && p != nil
}

// NewContextWithPeer returns ctx carrying p, as the server does for a
// request from a peer; handlers read it with PeerFrom.
func NewContextWithPeer(ctx context.Context, p *dialogue.Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PinOf returns the pin of a certificate: the base64 (standard, padded)
// SHA-256 of its SubjectPublicKeyInfo (taxii.PinOf calls it).
func PinOf(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// peerCache remembers the answers of a PeerFinder briefly. Concurrent
// look-ups of one pin share one call to the store.
type peerCache struct {
	finder PeerFinder

	mu      sync.Mutex
	entries map[string]*peerEntry
}

type peerEntry struct {
	done chan struct{} // closed when the look-up has finished
	peer *dialogue.Peer
	err  error
	at   time.Time
}

func newPeerCache(f PeerFinder) *peerCache {
	return &peerCache{finder: f, entries: make(map[string]*peerEntry)}
}

// fresh reports whether a finished entry may still be used at now.
func (e *peerEntry) fresh(now time.Time) bool {
	if e.peer != nil {
		return now.Sub(e.at) < peerTTL
	}
	return now.Sub(e.at) < peerRetry
}

// lookup returns the peer whose pin is pin, nil when there is none, or
// the store's error (of kind KindUnavailable).
func (c *peerCache) lookup(ctx context.Context, pin string) (*dialogue.Peer, error) {
	const op = "httpapi.peerLookup"
	now := time.Now()
	c.mu.Lock()
	if e := c.entries[pin]; e != nil {
		select {
		case <-e.done:
			if e.fresh(now) {
				c.mu.Unlock()
				return e.peer, e.err
			}
		default:
			c.mu.Unlock()
			select {
			case <-e.done:
				return e.peer, e.err
			case <-ctx.Done():
				return nil, dialogue.E(op, dialogue.KindUnavailable, ctx.Err())
			}
		}
	}
	if len(c.entries) >= maxPeerEntries {
		c.prune(now)
	}
	e := &peerEntry{done: make(chan struct{})}
	c.entries[pin] = e
	c.mu.Unlock()

	p, err := c.finder.PeerByPin(ctx, pin)
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		p, err = nil, nil
	case err != nil:
		p, err = nil, dialogue.Errorf(op, dialogue.KindUnavailable, "looking up the peer with TLS pin %s: %w", pin, err)
	case p == nil || p.TLSPin != pin:
		p, err = nil, dialogue.Errorf(op, dialogue.KindOther, "the peer store answered pin %s with another peer", pin)
	}
	c.mu.Lock()
	e.peer, e.err, e.at = p, err, time.Now()
	close(e.done)
	c.mu.Unlock()
	return p, err
}

// prune drops stale entries, then, when the cache is still full (many
// unknown pins within a second), every finished entry that is no peer's.
// c.mu is held.
func (c *peerCache) prune(now time.Time) {
	for pin, e := range c.entries {
		select {
		case <-e.done:
			if !e.fresh(now) {
				delete(c.entries, pin)
			}
		default:
		}
	}
	if len(c.entries) < maxPeerEntries {
		return
	}
	for pin, e := range c.entries {
		select {
		case <-e.done:
			if e.peer == nil {
				delete(c.entries, pin)
			}
		default:
		}
	}
}

// rateLog says whether a line about a key may be logged now: once per key
// per interval, over a bounded number of keys.
type rateLog struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func newRateLog(every time.Duration) *rateLog {
	return &rateLog{every: every, last: make(map[string]time.Time)}
}

func (l *rateLog) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) >= maxPeerEntries {
		for k, t := range l.last {
			if now.Sub(t) >= l.every {
				delete(l.last, k)
			}
		}
		if len(l.last) >= maxPeerEntries {
			// A flood of distinct keys: stay silent until some expire
			// (the refusals are still counted in the metric).
			return false
		}
	}
	l.last[key] = now
	return true
}

// The reasons of parley_peer_refused_total.
const (
	refusedUnknownPin   = "unknown_pin"   // handshake with a certificate no peer has
	refusedLookupFailed = "lookup_failed" // the store could not be asked
	refusedNotPeer      = "not_peer"      // a peer-only route asked without a peer certificate
	refusedNotTLS13     = "not_tls13"     // a client certificate presented over TLS 1.2
)

// serverTLS returns the listener's TLS configuration: TLSConfig, and,
// when the server knows peers, a request for a client certificate whose
// pin is checked in the handshake.
func (s *Server) serverTLS(cert tls.Certificate) *tls.Config {
	cfg := TLSConfig(cert)
	if s.peers == nil {
		return cfg
	}
	cfg.ClientAuth = tls.RequestClientCert
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		// A configuration per connection, to know the remote address when
		// the certificate is checked. Session ticket keys stay the base
		// configuration's.
		c := cfg.Clone()
		c.GetConfigForClient = nil
		if !slices.Contains(hello.SupportedVersions, tls.VersionTLS13) {
			// A client of TLS 1.2 only is a user's (a peer speaks TLS
			// 1.3): it is asked for no certificate, which TLS 1.2 would
			// send in clear.
			c.ClientAuth = tls.NoClientCert
		}
		ctx := hello.Context()
		remote := ""
		if hello.Conn != nil {
			remote = hello.Conn.RemoteAddr().String()
		}
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return s.verifyPeer(ctx, remote, cs)
		}
		return c, nil
	}
	return cfg
}

// verifyPeer accepts a connection without a client certificate (a user)
// or with a known peer's, and refuses any other.
func (s *Server) verifyPeer(ctx context.Context, remote string, cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	pin := PinOf(cs.PeerCertificates[0])
	if cs.Version != tls.VersionTLS13 {
		s.metrics.peerRefused.WithLabelValues(refusedNotTLS13).Inc()
		if s.refusals.allow("tls12 "+pin, time.Now()) {
			s.logger.Warn("refused TLS client: a client certificate over TLS 1.2 (peers connect over TLS 1.3)", "pin", pin, "remote", remote, "tls_version", tls.VersionName(cs.Version))
		}
		return errors.New(refusedMarker + "a client certificate is accepted over TLS 1.3 only")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := s.peers.lookup(ctx, pin)
	now := time.Now()
	if err != nil {
		s.metrics.peerRefused.WithLabelValues(refusedLookupFailed).Inc()
		if s.refusals.allow("error "+pin, now) {
			s.logger.Error("refused TLS client: cannot look up its certificate's pin", "pin", pin, "remote", remote, "err", err)
		}
		return errors.New(refusedMarker + "cannot look up pin " + pin + " now")
	}
	if p == nil {
		s.metrics.peerRefused.WithLabelValues(refusedUnknownPin).Inc()
		if s.refusals.allow(pin, now) {
			s.logger.Warn("refused TLS client: its certificate's pin is not a known peer's (add it with parley peer add)", "pin", pin, "remote", remote)
		}
		return errors.New(refusedMarker + "pin " + pin + " is not a known peer's")
	}
	return nil
}

// identifyPeer puts the peer a request comes from in its context (see
// PeerFrom) when the client presented a certificate.
func (s *Server) identifyPeer(next http.Handler) http.Handler {
	if s.peers == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		const op = "httpapi.identifyPeer"
		pin := PinOf(r.TLS.PeerCertificates[0])
		if r.TLS.Version != tls.VersionTLS13 {
			// The handshake refuses this already; a peer is known over
			// TLS 1.3 only.
			s.metrics.peerRefused.WithLabelValues(refusedNotTLS13).Inc()
			Error(w, r, dialogue.Errorf(op, dialogue.KindForbidden, "a client certificate (pin %s) is accepted over TLS 1.3 only", pin))
			return
		}
		p, err := s.peers.lookup(r.Context(), pin)
		if err != nil {
			Error(w, r, dialogue.E(op, dialogue.KindUnavailable, err))
			return
		}
		if p == nil {
			// Known at the handshake, not any more.
			s.metrics.peerRefused.WithLabelValues(refusedUnknownPin).Inc()
			Error(w, r, dialogue.Errorf(op, dialogue.KindForbidden, "the client certificate (pin %s) is no longer a known peer's", pin))
			return
		}
		if ri := infoFrom(r.Context()); ri != nil {
			ri.peer = p.Name
		}
		next.ServeHTTP(w, r.WithContext(NewContextWithPeer(r.Context(), p)))
	})
}

// requirePeer answers 403 to a request that does not come from a peer.
func (s *Server) requirePeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := PeerFrom(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		s.metrics.peerRefused.WithLabelValues(refusedNotPeer).Inc()
		s.logger.Warn("refused a request to a peer-only route: no peer certificate", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		if r.TLS != nil && r.TLS.Version != tls.VersionTLS13 {
			Error(w, r, dialogue.Errorf("httpapi", dialogue.KindForbidden,
				"%s is for peer nodes only, over TLS 1.3 (this connection is %s): connect with your node's TLS certificate, pinned on this node with parley peer add", r.URL.Path, tls.VersionName(r.TLS.Version)))
			return
		}
		Error(w, r, dialogue.Errorf("httpapi", dialogue.KindForbidden,
			"%s is for peer nodes only: connect with your node's TLS certificate, pinned on this node with parley peer add", r.URL.Path))
	})
}

// peerOrUser lets a peer through and authenticates anyone else as a user.
func (s *Server) peerOrUser(next http.Handler) http.Handler {
	users := s.auth.middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := PeerFrom(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		users.ServeHTTP(w, r)
	})
}

// MountPeer serves h at every path under prefix to peer nodes only: a
// request without a known peer's client certificate gets 403 and is
// logged. For the peer protocol and the witness endpoint. Handlers find
// the peer with PeerFrom. Call it before serving.
func (s *Server) MountPeer(prefix string, h http.Handler) {
	s.mounted(prefix, h)
	s.router.With(s.requirePeer).Mount(prefix, h)
}

// MountShared serves h at every path under prefix to peer nodes and to
// authenticated users (401 for anyone else). A request from a peer is not
// also authenticated as a user: handlers tell which with PeerFrom and
// UserFrom. Call it before serving.
func (s *Server) MountShared(prefix string, h http.Handler) {
	s.mounted(prefix, h)
	s.router.With(s.peerOrUser).Mount(prefix, h)
}
