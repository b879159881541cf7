package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/taxii"
)

func (m *Main) newServeCommand() *cobra.Command {
	var dir, addr string
	var insecureHTTP bool
	cmd := &cobra.Command{
		Use:   "serve --dir DIR [--addr 127.0.0.1:PORT] [--insecure-http]",
		Short: "Serve TAXII 2.1 over HTTPS until stopped",
		Long: `serve runs the node's TAXII 2.1 server over HTTPS (TLS 1.3 only) with the
certificate and key that init made. Discovery is at /taxii2/, the API root at
/taxii2/parley/, Prometheus metrics at /metrics. Clients authenticate with
HTTP Basic (user and password) or "Authorization: Bearer TOKEN".

--addr overrides the listen address of the configuration; port 0 picks a
free one. --insecure-http serves plain HTTP, for local experiments only.

Logs go to standard error: JSON lines when it is not a terminal. SIGINT or
SIGTERM stops the server cleanly: requests in flight finish, then the
database is closed.`,
		Example: `  parley serve --dir /var/lib/parley
  parley serve --addr 127.0.0.1:9443`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if addr == "" {
				addr = n.Config.Listen
			} else if err := node.ValidateListen(addr); err != nil {
				n.Close()
				return withHint(fmt.Errorf("--addr: %w", err), "use host:port, such as 127.0.0.1:8443")
			}
			if err := m.startServer(cmd.Context(), n, addr, insecureHTTP); err != nil {
				n.Close()
				return err
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&addr, "addr", "", "listen on this host:port (default: the configuration's listen address)")
	cmd.Flags().BoolVar(&insecureHTTP, "insecure-http", false, "serve plain HTTP without TLS (local experiments only)")
	return cmd
}

// startServer listens on addr and serves the node's TAXII server in the
// background. On success m owns n (Close closes it).
func (m *Main) startServer(ctx context.Context, n *node.Node, addr string, insecureHTTP bool) error {
	log := m.logger()
	scheme := "https"
	var pin string
	if insecureHTTP {
		scheme = "http"
	} else {
		// Check the key pair (and the key file's mode) before listening.
		if _, err := n.TLSCertificate(); err != nil {
			return err
		}
		p, err := n.Pin()
		if err != nil {
			return err
		}
		pin = p
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return withHint(fmt.Errorf("cannot listen on %s: the address is in use", addr), "stop what uses it, or pass --addr 127.0.0.1:PORT with another port")
		}
		return withHint(fmt.Errorf("cannot listen on %s: %w", addr, err), "pass --addr 127.0.0.1:PORT")
	}
	api := httpapi.New(httpapi.Config{
		Store:        n.Store,
		Logger:       log,
		MaxBodyBytes: n.Config.MaxBodyBytes,
		Insecure:     insecureHTTP,
	})
	api.Mount("/taxii2", taxii.NewServer(taxii.Config{
		Store:            n.Store,
		BasePath:         "/taxii2",
		Title:            "Parley node " + n.Config.Name,
		MaxContentLength: n.Config.MaxBodyBytes,
		Logger:           log,
	}))
	if err := mountLog(api, n, log); err != nil {
		return err
	}
	m.node, m.server = n, api
	m.url = scheme + "://" + ln.Addr().String()
	go func() {
		var err error
		if insecureHTTP {
			err = api.Serve(ln)
		} else {
			err = api.ServeTLS(ln, n.CertFile(), n.KeyFile())
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}()
	attrs := []any{
		"node", n.Config.Name,
		"dir", n.Dir,
		"discovery", m.url + "/taxii2/",
		"api_root", m.url + "/taxii2/" + taxii.APIRoot + "/",
		"metrics", m.url + "/metrics",
		"log", m.url + "/log/COLLECTION-ID/checkpoint",
		"witness", m.url + logapi.WitnessPath,
		"log_key", n.LogKey(),
	}
	if pin != "" {
		attrs = append(attrs, "tls_pin", "sha256//"+pin)
	}
	log.Info("serving TAXII 2.1", attrs...)
	return nil
}

// mountLog mounts the record: each collection's log, read-only under
// /log/ for the users who may read the collection (as TAXII), and the
// witness endpoint, open to any TLS client because what it trusts is the
// pinned log key that signed the checkpoint (mutual TLS between peers
// comes with peering).
func mountLog(api *httpapi.Server, n *node.Node, log *slog.Logger) error {
	l, err := n.Log()
	if err != nil {
		log.Debug("not serving the record", "err", err)
		return nil
	}
	trusted, err := n.WitnessVerifiers()
	if err != nil {
		return err
	}
	api.Mount("/log", logapi.NewHandler(logapi.Config{Store: n.Store, Log: l, FindLeaf: n.LeafIndex}))
	api.MountPublic(logapi.WitnessPath, logapi.NewWitnessHandler(logapi.WitnessConfig{
		State: l, Cosigner: n.Cosigner(), Trusted: trusted, Logger: log,
	}))
	return nil
}
