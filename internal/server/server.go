// Package server serves one node: its HTTPS listener (TLS 1.3, and TLS 1.2
// with modern suites for users' clients; mutual TLS 1.3 for pinned peers)
// with the TAXII server, the record (logs, witness
// endpoint), the peer protocol and metrics, and the exchange with its
// peers. `parley serve` runs one; the demo and the tests run two in one
// process. It wires the other packages together and must hold no logic of
// its own beyond that.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	jsonapi "github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/enrich/enrichnode"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/webui"
	"github.com/parleyhq/parley/internal/workflow"
	"github.com/parleyhq/parley/internal/write"
)

// ErrAddrInUse: the listen address is taken.
var ErrAddrInUse = errors.New("the address is in use")

// Options configure Start.
type Options struct {
	// Addr is the host:port to listen on (the configuration's when empty;
	// port 0 picks a free one).
	Addr string
	// InsecureHTTP serves plain HTTP: local experiments only; no peering.
	InsecureHTTP bool
	Logger       *slog.Logger
	// Peer tunes the exchange (intervals, backoff); the fields Start
	// fills from the node are ignored.
	Peer peer.Config
}

// Server is one node being served.
type Server struct {
	Node  *node.Node
	API   *httpapi.Server
	Peers *peer.Service // nil for a node without log key
	// Geo is the node's GeoIP databases (nil when it has none).
	Geo *geo.DB
	// Workflow runs the dialogue's workflows (nil for a node without log
	// key); the JSON API at /api/ calls it.
	Workflow *workflow.Service
	// UI is the web interface mounted at / (nil for a node without log
	// key).
	UI *webui.UI
	// URL is https://HOST:PORT (http:// with InsecureHTTP).
	URL string
	// Pin is the node's TLS pin ("" with InsecureHTTP).
	Pin string

	stop   context.CancelFunc
	done   chan struct{} // closed when the peer service stopped
	closed bool

	// enriched is closed when the enrichment worker stopped.
	enriched <-chan struct{}
}

// Start listens and serves n in the background. On success the Server
// owns n: Close closes it.
func Start(ctx context.Context, n *node.Node, opt Options) (*Server, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	addr := opt.Addr
	if addr == "" {
		addr = n.Config.Listen
	}
	var cert tls.Certificate
	var pin string
	if !opt.InsecureHTTP {
		// Check the key pair (and the key file's mode) before listening.
		c, err := n.TLSCertificate()
		if err != nil {
			return nil, err
		}
		if pin, err = n.Pin(); err != nil {
			return nil, err
		}
		cert = c
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, dialogue.E("server.Start", dialogue.KindConflict, fmt.Errorf("cannot listen on %s: %w", addr, ErrAddrInUse))
		}
		return nil, dialogue.E("server.Start", dialogue.KindUnavailable, fmt.Errorf("cannot listen on %s: %w", addr, err))
	}
	// The node's .mmdb files, checked in full: a bad one stops the start.
	en, err := enrichnode.Open(n, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	api := httpapi.New(httpapi.Config{
		Store:        n.Store,
		Peers:        n.Store,
		Logger:       log,
		MaxBodyBytes: n.Config.MaxBodyBytes,
		Insecure:     opt.InsecureHTTP,
	})
	// One gate for every path: the workflows' (a node without log key has
	// no channels; TAXII then makes its own over the store).
	var wf *workflow.Service
	var gate *dialogue.Gate
	if n.LogKey() != "" {
		wf = workflow.New(n.Store, n.Config.Name, n.LogKey())
		gate = wf.Gate()
	}
	api.Mount("/taxii2", taxii.NewServer(taxii.Config{
		Gate:             gate,
		Store:            WriteStore(n),
		BasePath:         "/taxii2",
		Title:            "Parley node " + n.Config.Name,
		MaxContentLength: n.Config.MaxBodyBytes,
		Logger:           log,
	}))
	scheme := "https"
	if opt.InsecureHTTP {
		scheme = "http"
	}
	s := &Server{Node: n, API: api, URL: scheme + "://" + ln.Addr().String(), Pin: pin, done: make(chan struct{})}
	if n.LogKey() != "" {
		s.Workflow = wf
		a := jsonapi.New(s.Workflow, log)
		if en != nil {
			s.Geo = en.GeoDB()
			a.Geo = s.Geo // request routing by territory
		}
		// The description is public; every endpoint needs a user.
		api.MountPublic("/api/openapi.json", http.HandlerFunc(a.ServeOpenAPI))
		api.Mount("/api", a)
		// The web UI checks its own sessions: its login page and assets
		// are public, its pages need a signed-in user.
		// It keeps uploaded evidence in the node's blob store.
		var ui *webui.UI
		blobs, err := n.Blobs()
		if err == nil {
			ui, err = webui.New(webui.Config{Workflow: s.Workflow, Store: n.Store, Blobs: blobs, Logger: log, InsecureCookies: opt.InsecureHTTP, Geo: s.Geo, Record: NewRecord(n), MaxBodyBytes: n.Config.MaxBodyBytes})
		}
		if err != nil {
			ln.Close()
			if en != nil {
				en.Close()
			}
			return nil, err
		}
		api.MountPublic("/", ui)
		s.UI = ui
	}
	if s.Peers, err = mountRecord(api, n, gate, cert, log, opt.Peer); err != nil {
		ln.Close()
		if en != nil {
			en.Close()
		}
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	// Enrichment of what is added, imported by another process or received.
	s.enriched = enrich.Start(runCtx, en, n.Store)
	if s.Peers != nil && !opt.InsecureHTTP {
		n.Store.OnAppend(s.Peers.Notify)
		go func() {
			defer close(s.done)
			defer func(stopped <-chan struct{}) { <-stopped }(s.Workflow.StartScheduler(runCtx, log)) // the dialogue's receipts, escalations, scheduled checks
			s.Peers.Run(runCtx)
		}()
	} else {
		close(s.done)
	}
	go func() {
		var err error
		if opt.InsecureHTTP {
			err = api.Serve(ln)
		} else {
			err = api.ServeTLS(ln, n.CertFile(), n.KeyFile())
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}()
	return s, nil
}

// WriteStore is the store every write path of the node goes through: what
// is added to a channel is written by the party's rules (write.Writer). A
// node without log key writes to its store as it is.
func WriteStore(n *node.Node) write.Store {
	if n.LogKey() == "" {
		return n.Store
	}
	return write.New(n.Store, dialogue.Party{Name: n.Config.Name, IdentityID: dialogue.IdentityID(n.LogKey())})
}

// StopExchange stops the server's background work (the exchange with
// the peers, enrichment, the scheduler) and leaves its listener open. A
// process that stops several servers (the demo) calls it on each first,
// so that none logs a failed retry of a peer already closed. Close
// calls it too.
func (s *Server) StopExchange() { s.stop() }

// Close stops the exchange, lets requests in flight finish (up to
// timeout), and closes the node. It is safe to call more than once.
func (s *Server) Close(timeout time.Duration) error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.API.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the server: %w", err))
	}
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	select {
	case <-s.enriched:
	case <-ctx.Done():
	}
	if err := s.Node.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the database: %w", err))
	}
	return errors.Join(errs...)
}

// mountRecord mounts the record and the exchange with the peers: each
// collection's log, read-only under /log/ for the users who may read the
// collection (as TAXII) and for the peer of a channel; the witness
// endpoint, where peers (mutual TLS) send their checkpoints and, without a
// client certificate, the logs of the configuration's witness list are
// cosigned; and the peer protocol under /peer/v1/, for peers only. The
// returned service runs the exchange (nil for a node without log key).
func mountRecord(api *httpapi.Server, n *node.Node, gate *dialogue.Gate, cert tls.Certificate, log *slog.Logger, pc peer.Config) (*peer.Service, error) {
	l, err := n.Log()
	if err != nil {
		log.Debug("not serving the record", "err", err)
		return nil, nil
	}
	trusted, err := n.WitnessVerifiers()
	if err != nil {
		return nil, err
	}
	blobs, err := n.Blobs()
	if err != nil {
		return nil, err
	}
	pc.Name = n.Config.Name
	pc.LogKey = n.LogKey()
	pc.Store = n.Store
	pc.Blobs = blobs
	pc.Cert = cert
	pc.LogVerifier = n.LogVerifier()
	pc.Cosigner = n.Cosigner()
	pc.Logger = log
	pc.Registerer = api.Registerer()
	pc.MaxPending = n.Config.PendingProposals()
	svc, err := peer.New(pc)
	if err != nil {
		return nil, err
	}
	if gate != nil {
		// A peer reads the collections of the channels active with it.
		gate.PeerCanRead = func(ctx context.Context, name, collectionID string) error {
			p, err := n.Store.Peer(ctx, name)
			if err != nil {
				return err
			}
			return svc.PeerCanRead(ctx, p, collectionID)
		}
	}
	api.MountShared("/log", logapi.NewHandler(logapi.Config{Store: n.Store, Log: l, FindLeaf: n.LeafIndex, PeerCanRead: svc.PeerCanRead, Gate: gate, LargeObject: n.Store.LargeObject}))
	api.MountPublic(logapi.WitnessPath, svc.WitnessHandler(trusted))
	api.MountPeer("/peer/v1", svc.Handler())
	return svc, nil
}
