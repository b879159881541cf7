package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/taxii"
)

func (m *Main) newServeCommand() *cobra.Command {
	var dir, addr string
	var insecureHTTP bool
	cmd := &cobra.Command{
		Use:   "serve --dir DIR [--addr 127.0.0.1:PORT] [--insecure-http]",
		Short: "Serve TAXII 2.1 over HTTPS until stopped",
		Long: `serve runs the node's TAXII 2.1 server over HTTPS (TLS 1.3; TLS 1.2 with
ECDHE and AES-GCM or ChaCha20-Poly1305 for TAXII clients that speak no more;
peers over TLS 1.3 only) with the certificate and key that init made. Discovery is at /taxii2/, the API root at
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

// startServer listens on addr and serves the node in the background: its
// TAXII server, its record and the exchange with its peers. On success m
// owns n (Close closes it).
func (m *Main) startServer(ctx context.Context, n *node.Node, addr string, insecureHTTP bool) error {
	_, err := m.startNode(ctx, n, addr, insecureHTTP, m.logger())
	return err
}

// startNode is startServer for one of several nodes (the demo's), logging
// to log.
func (m *Main) startNode(ctx context.Context, n *node.Node, addr string, insecureHTTP bool, log *slog.Logger) (*server.Server, error) {
	s, err := server.Start(ctx, n, server.Options{Addr: addr, InsecureHTTP: insecureHTTP, Logger: log})
	var opErr *net.OpError
	switch {
	case errors.Is(err, server.ErrAddrInUse):
		return nil, withHint(err, "stop what uses it, or pass --addr 127.0.0.1:PORT with another port")
	case errors.As(err, &opErr) && opErr.Op == "listen":
		return nil, withHint(err, "pass --addr 127.0.0.1:PORT")
	case err != nil:
		return nil, err
	}
	if m.node == nil {
		m.node, m.server, m.url = n, s.API, s.URL
	}
	m.servers = append(m.servers, s)
	attrs := []any{
		"node", n.Config.Name,
		"dir", n.Dir,
		"discovery", s.URL + "/taxii2/",
		"api_root", s.URL + "/taxii2/" + taxii.APIRoot + "/",
		"metrics", s.URL + "/metrics",
		"log", s.URL + "/log/COLLECTION-ID/checkpoint",
		"witness", s.URL + logapi.WitnessPath,
		"log_key", n.LogKey(),
	}
	if s.Pin != "" {
		attrs = append(attrs, "tls_pin", "sha256//"+s.Pin)
	}
	log.Info("serving TAXII 2.1", attrs...)
	return s, nil
}
