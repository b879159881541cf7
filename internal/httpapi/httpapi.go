// Package httpapi is the HTTP plumbing of a Parley node: the router, the
// authentication middleware (HTTP Basic and bearer tokens for users,
// mutual TLS with pinned keys for peer nodes), the HTTP client a node
// calls its peers with, request logging, Prometheus metrics at /metrics,
// the body size limit (which a BodyLimiter handler sets for itself), the
// headers every answer carries (HSTS over HTTPS, nosniff, no-store), the
// one table that maps error kinds to HTTP statuses, HEAD wherever GET and
// an Allow header on every 405, and the HTTPS server (TLS 1.3, and TLS 1.2
// with modern suites for users; peers over TLS 1.3 only) with a graceful
// shutdown, which logs failed handshakes at a bounded rate.
//
// It must not know TAXII resources or SQL: protocol handlers (package
// taxii) are mounted on it and use its Error, StatusOf, UserFrom and
// PeerFrom; storage is reached only through dialogue.Store and
// PeerFinder. It decides who a client is, never what it may read.
//
// A node is put together like this:
//
//	api := httpapi.New(httpapi.Config{Store: db, Peers: db, Logger: logger})
//	api.Mount("/taxii2", taxii.NewServer(taxii.Config{Store: db}))  // users
//	api.MountShared("/log", logapi.NewHandler(...))                 // users and peers
//	api.MountPeer("/peer", peerProtocol)                             // peers only
//	ln, _ := net.Listen("tcp", "127.0.0.1:8443")
//	go api.ServeTLS(ln, "cert.pem", "key.pem") // or api.Serve(ln) with Config.Insecure
//	...
//	api.Shutdown(ctx) // in-flight requests finish
package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleyhq/parley/internal/dialogue"
)

// DefaultMaxBodyBytes is the default limit of a request body: 10 MiB.
const DefaultMaxBodyBytes = 10 << 20

// Config configures a Server. Store is required; the rest has defaults.
type Config struct {
	Store dialogue.Store
	// Peers finds peer nodes by the pin of their TLS key. When set,
	// ServeTLS asks clients for a certificate and refuses one that is no
	// peer's; when nil, it asks for none, and no request comes from a peer.
	Peers  PeerFinder
	Logger *slog.Logger // slog.Default() when nil
	// MaxBodyBytes limits request bodies (413 beyond); DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// Insecure allows Serve, plain HTTP without TLS, for local experiments.
	Insecure bool
	// AuthCacheTTL is how long a successful password check is remembered
	// (default one minute). Argon2id is slow on purpose; without the cache
	// every Basic-authenticated request would pay for it.
	AuthCacheTTL time.Duration
	// PublicMetrics serves /metrics without authentication (for a
	// Prometheus that cannot authenticate); by default it needs a user.
	PublicMetrics bool
	// Now is the clock of the sign-in throttle and of the limit on log
	// lines about failed TLS handshakes (time.Now when nil; tests set it).
	Now func() time.Time
}

// Server is a node's HTTP(S) server.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	metrics *metrics
	auth    *authenticator
	peers   *peerCache // nil without Config.Peers
	// refusals limits the log lines about refused peers.
	refusals *rateLog
	// errorLog is the http.Server's error log, which limits the lines
	// about failed TLS handshakes.
	errorLog *serverErrorLog
	router   chi.Router
	authed   chi.Router
	// mounts are the prefixes mounted, for limitBody to find the handler
	// of a request before the router does.
	mounts []mount
	srv    *http.Server
	conns  connTracker
}

// New returns a Server with /metrics mounted; mount protocol handlers
// with Mount before serving.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AuthCacheTTL <= 0 {
		cfg.AuthCacheTTL = time.Minute
	}
	s := &Server{
		cfg:      cfg,
		logger:   cfg.Logger,
		metrics:  newMetrics(cfg.Store),
		auth:     newAuthenticator(cfg.Store, cfg.AuthCacheTTL, 2, cfg.Now),
		refusals: newRateLog(refusalLogEvery),
	}
	s.errorLog = newServerErrorLog(cfg.Logger, cfg.Now, s.metrics)
	if cfg.Peers != nil {
		s.peers = newPeerCache(cfg.Peers)
	}
	r := chi.NewRouter()
	r.Use(s.headers, headAsGet, s.observe, s.recoverer, s.identifyPeer, s.limitBody)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, dialogue.Errorf("httpapi", dialogue.KindNotFound, "no resource at %s", r.URL.Path))
	})
	r.MethodNotAllowed(MethodNotAllowed("httpapi"))
	metricsHandler := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	if cfg.PublicMetrics {
		r.Method(http.MethodGet, "/metrics", metricsHandler)
	} else {
		r.With(s.auth.middleware).Method(http.MethodGet, "/metrics", metricsHandler)
	}
	s.authed = r.With(s.auth.middleware)
	s.router = r
	s.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(s.errorLog, "", 0),
		ConnState:         s.conns.track,
	}
	return s
}

// Mount serves h, behind user authentication, at every path under prefix
// (e.g. "/taxii2"): a peer's certificate does not count. Call it before
// serving.
func (s *Server) Mount(prefix string, h http.Handler) {
	s.mounted(prefix, h)
	s.authed.Mount(prefix, h)
}

// MountPublic serves h at every path under prefix without
// authentication: only for handlers whose requests carry their own proof
// (a checkpoint signed by a trusted log key). Call it before serving.
func (s *Server) MountPublic(prefix string, h http.Handler) {
	s.mounted(prefix, h)
	s.router.Mount(prefix, h)
}

// Handler returns the server's root handler, for tests and for callers
// that run their own http.Server.
func (s *Server) Handler() http.Handler { return s.router }

// ServeTLS serves HTTPS on ln with TLS 1.3, and TLS 1.2 with the modern
// suites of TLS12CipherSuites for the users' clients (TAXII 2.1 section
// 8.2.2: a TAXII server must accept TLS 1.2), using the certificate and
// key in the given PEM files. With Config.Peers it asks each client that
// offers TLS 1.3 for a certificate (users present none) and refuses in the
// handshake one whose public key's pin is no peer's, logging that at most
// once a minute per pin and counting it in parley_peer_refused_total. A
// peer is known only over TLS 1.3: a client offering no more than TLS 1.2
// is not asked for a certificate, and one presented over TLS 1.2 is
// refused. It returns http.ErrServerClosed after Shutdown.
func (s *Server) ServeTLS(ln net.Listener, certFile, keyFile string) error {
	const op = "httpapi.ServeTLS"
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return dialogue.Errorf(op, dialogue.KindInvalid, "loading TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	s.srv.TLSConfig = s.serverTLS(cert)
	s.logger.Info("serving HTTPS", "addr", ln.Addr().String(), "peers", s.peers != nil)
	return s.srv.Serve(tls.NewListener(ln, s.srv.TLSConfig))
}

// TLSConfig is the server TLS configuration Parley uses: TLS 1.3, or TLS
// 1.2 with TLS12CipherSuites only; HTTP/2 or HTTP/1.1; no client
// certificate (ServeTLS adds the request for peers' certificates, over
// TLS 1.3 only).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: TLS12CipherSuites(),
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// TLS12CipherSuites are the cipher suites Parley's servers and its TAXII
// client accept over TLS 1.2: an ephemeral elliptic-curve key exchange
// (forward secrecy) with an AEAD cipher, AES-GCM or ChaCha20-Poly1305,
// for ECDSA and RSA certificates. No CBC, RC4, 3DES or static RSA key
// exchange. (TLS 1.3's suites are all of that kind and Go does not let
// them be chosen.) The list holds the suites HTTP/2 requires.
func TLS12CipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// Serve serves plain HTTP on ln. It refuses unless Config.Insecure is set.
func (s *Server) Serve(ln net.Listener) error {
	if !s.cfg.Insecure {
		return dialogue.Errorf("httpapi.Serve", dialogue.KindInvalid, "plain HTTP refused: serve HTTPS, or set Insecure for a local experiment")
	}
	s.logger.Warn("serving plain HTTP, without TLS", "addr", ln.Addr().String())
	return s.srv.Serve(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests
// to finish, or for ctx to end. Connections that never sent a request (a
// peer's client dials ahead and may not use what it dialled) hold no work:
// once no request is in flight, they are closed rather than waited for
// (net/http waits five seconds for them).
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if s.conns.busy() == 0 {
				s.srv.Close()
				<-done
				return nil
			}
		}
	}
}

// recoverer turns a handler's panic into a logged 500 with a TAXII error.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Error(w, r, dialogue.E("httpapi", dialogue.KindOther, fmt.Errorf("panic: %v", v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BodyLimiter is a mounted handler that sets the limit of request bodies
// itself, per request, and answers a body over it in its own format: the
// web UI, whose evidence upload takes files far bigger than the server's
// limit, and which answers with an HTML page, not a TAXII error. The
// server still caps such a request's body, at MaxBodyBytes(r).
type BodyLimiter interface {
	http.Handler
	// MaxBodyBytes is the limit of r's body in bytes.
	MaxBodyBytes(r *http.Request) int64
}

// mount is a mounted prefix, with its handler when that is a BodyLimiter.
type mount struct {
	prefix  string
	limiter BodyLimiter
}

func (s *Server) mounted(prefix string, h http.Handler) {
	bl, _ := h.(BodyLimiter)
	s.mounts = append(s.mounts, mount{prefix: strings.TrimSuffix(prefix, "/"), limiter: bl})
}

// limiterOf returns the BodyLimiter that will serve path, or nil: the
// handler mounted at the longest prefix of path, as the router picks it.
func (s *Server) limiterOf(path string) BodyLimiter {
	var bl BodyLimiter
	best := -1
	for _, m := range s.mounts {
		if (path == m.prefix || strings.HasPrefix(path, m.prefix+"/")) && len(m.prefix) > best {
			best, bl = len(m.prefix), m.limiter
		}
	}
	return bl
}

// limitBody answers 413 at once when the declared Content-Length is over
// the limit, and caps the body otherwise (reading past the limit then
// fails with *http.MaxBytesError, which TooLarge recognises). For a
// request to a BodyLimiter, the limit is the handler's, and the handler
// answers a body over it.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := s.cfg.MaxBodyBytes
		path := r.URL.RawPath // what the router matches
		if path == "" {
			path = r.URL.Path
		}
		bl := s.limiterOf(path)
		if bl != nil {
			max = bl.MaxBodyBytes(r)
		}
		if r.ContentLength > max && bl == nil {
			Error(w, r, TooLarge(max))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// TooLarge is the error for a body over limit bytes.
func TooLarge(limit int64) error {
	return dialogue.Errorf("httpapi", dialogue.KindTooLarge, "request body is larger than the limit of %s bytes", strconv.FormatInt(limit, 10))
}

// IsTooLarge reports whether err comes from reading a body capped by
// http.MaxBytesReader past its limit.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
