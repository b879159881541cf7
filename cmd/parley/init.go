package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
)

func (m *Main) newInitCommand() *cobra.Command {
	var dir, name, addr string
	cmd := &cobra.Command{
		Use:   "init --dir DIR --name NAME",
		Short: "Make a new node: data folder, configuration, TLS key and certificate, database",
		Long: `init makes a new node in DIR (created with mode 0700, or an existing empty folder):

  parley.json    the configuration (node name, listen address, body limit, paths)
  tls/key.pem    an ECDSA P-256 private key (mode 0600)
  tls/cert.pem   a self-signed certificate for NAME, localhost, 127.0.0.1 and ::1
  keys/log.key   the Ed25519 signed-note key that signs the node's log checkpoints (mode 0600)
  keys/log.pub   its verifier key, what peers pin ('parley keys show')
  parley.db      the SQLite database, with one read-write collection titled "local"

It refuses a folder that holds a node or any other file.`,
		Example: `  parley init --dir /var/lib/parley --name cert-a.example`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := m.resolveDir(dir)
			if err != nil {
				return err
			}
			if name == "" {
				return withHint(errors.New("no node name given"), "pass --name NAME, for example the node's host name")
			}
			n, c, err := node.Init(cmd.Context(), dir, node.InitOptions{Name: name, Listen: addr})
			switch {
			case errors.Is(err, node.ErrExists):
				return withHint(err, "pick another --dir; to start over, remove the old folder first (it holds the node's key and database)")
			case errors.Is(err, node.ErrNotEmpty):
				return withHint(err, "give the path of a new or empty folder")
			case dialogue.KindOf(err) == dialogue.KindInvalid:
				return withHint(err, "see 'parley init --help'")
			case err != nil:
				return err
			}
			defer n.Close()
			w := m.Stdout
			fmt.Fprintf(w, "Made a Parley node named %q in %s:\n", n.Config.Name, c.Dir)
			fmt.Fprintf(w, "  configuration    %s (listen %s)\n", c.ConfigFile, n.Config.Listen)
			fmt.Fprintf(w, "  TLS key          %s (mode 0600; keep it secret)\n", c.TLSKey)
			fmt.Fprintf(w, "  TLS certificate  %s (self-signed)\n", c.TLSCert)
			fmt.Fprintf(w, "  certificate pin  sha256//%s\n", c.Pin)
			fmt.Fprintf(w, "  log key          %s (mode 0600; keep it secret)\n", c.LogKey)
			fmt.Fprintf(w, "  log verifier key %s\n", c.LogKeyPub)
			fmt.Fprintf(w, "  database         %s\n", c.Database)
			fmt.Fprintf(w, "  collection       %q (%s), read-write for every user\n", c.Collection.Title, c.Collection.ID)
			fmt.Fprintf(w, "\nNext steps:\n")
			fmt.Fprintf(w, "  parley user add --dir %s --role admin NAME\n", c.Dir)
			fmt.Fprintf(w, "  parley token create --dir %s --user NAME\n", c.Dir)
			fmt.Fprintf(w, "  parley import --dir %s BUNDLE.json\n", c.Dir)
			fmt.Fprintf(w, "  parley serve --dir %s\n", c.Dir)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&name, "name", "", "the node's name (its host name, or a short label); goes into the certificate")
	cmd.Flags().StringVar(&addr, "addr", node.DefaultListen, "the address serve listens on by default (host:port)")
	return cmd
}
