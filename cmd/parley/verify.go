package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/tlog"
)

func (m *Main) newVerifyCommand() *cobra.Command {
	var dir, channel, url, key, pin string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "verify (--dir DIR [--channel C] | --url URL --key VKEY [--tls-pin PIN | --insecure])",
		Short: "Check a log: this node's stored logs, or a remote log from its checkpoint and tiles",
		Long: `With --dir, verify checks the logs of this node (every collection's, or
the one --channel names): it rebuilds every leaf hash and the whole tree from
the stored entries and compares them with the stored hashes, checks that
every object version stored in the collection is an entry of its log, checks
every stored checkpoint's signature (and the cosignatures of trusted
witnesses), its root, and its consistency with the next.

With --url (the log's URL, https://HOST:PORT/log/COLLECTION-ID/) and --key
(the log-key of the node, from its 'parley keys show'), verify fetches the
served checkpoint, hash tiles and entry bundles, and checks the checkpoint's
signature and every entry's inclusion. A node serves a user only the entry
bundles whose every entry the user may see (TLP, grants); the entries of the
others are checked by their hashes against the checkpoint's root, and
counted as not yours to read. PARLEY_TOKEN, when set, is sent as a
bearer token (reading a log needs a user who may read the collection).

The exit status is 0 only when everything holds; otherwise the error names
the first broken entry, stored hash or checkpoint.`,
		Example: `  parley verify --dir /var/lib/parley
  PARLEY_TOKEN=$(cat alice.token) parley verify --url https://cert-a.example:8443/log/COLLECTION-ID/ \
    --key 'cert-a.example+1a2b3c4d+AbC…' --tls-pin 'Xy…='`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if url != "" {
				if dir != "" || channel != "" {
					return withHint(errors.New("--url checks a remote log; --dir and --channel check this node's"), "give one or the other")
				}
				return m.verifyRemote(cmd, url, key, pin, insecure)
			}
			if key != "" || pin != "" || insecure {
				return withHint(errors.New("--key, --tls-pin and --insecure go with --url"), "see 'parley verify --help'")
			}
			return m.verifyLocal(cmd, dir, channel)
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "check only this collection's log (id or title)")
	f.StringVar(&url, "url", "", "check the remote log at this URL (https://HOST:PORT/log/COLLECTION-ID/)")
	f.StringVar(&key, "key", "", "the remote node's log verifier key (the log-key line of its 'parley keys show')")
	f.StringVar(&pin, "tls-pin", "", "the remote node's TLS pin (the tls-pin line of its 'parley keys show')")
	f.BoolVar(&insecure, "insecure", false, "do not check the remote server's certificate (test servers only; the log key is still checked)")
	return cmd
}

func (m *Main) verifyLocal(cmd *cobra.Command, dir, channel string) error {
	ctx := cmd.Context()
	n, err := m.openNode(ctx, dir)
	if err != nil {
		return err
	}
	defer n.Close()
	var colls []*dialogue.Collection
	if channel != "" {
		c, err := findCollection(ctx, n, channel)
		if err != nil {
			return err
		}
		colls = []*dialogue.Collection{c}
	} else if colls, err = n.Store.Collections(ctx); err != nil {
		return err
	}
	cosigners, err := n.CosignatureVerifiers(ctx)
	if err != nil {
		return err
	}
	for _, c := range colls {
		rep, err := n.VerifyCollection(ctx, c, cosigners)
		if err != nil {
			if k := dialogue.KindOf(err); k != dialogue.KindOther {
				// Say which collection, then what broke (no op names).
				return dialogue.Errorf("", k, "collection %s (%s): %s", c.ID, c.Title, dialogue.Message(err))
			}
			return err
		}
		latest := "no checkpoint"
		if k := len(rep.Checkpoints); k > 0 {
			cp := rep.Checkpoints[k-1]
			latest = fmt.Sprintf("latest size %d root %s", cp.Size, cp.Hash)
			if len(cp.Cosigners) > 0 {
				latest += " cosigned by " + strings.Join(cp.Cosigners, " ")
			}
		}
		fmt.Fprintf(m.Stdout, "ok %s (%s): %d entries, %d checkpoints, %s\n", c.ID, c.Title, rep.Entries, len(rep.Checkpoints), latest)
	}
	return nil
}

func (m *Main) verifyRemote(cmd *cobra.Command, url, key, pin string, insecure bool) error {
	ctx := cmd.Context()
	if key == "" {
		return withHint(errors.New("--url needs --key, the remote node's log verifier key"), "ask the node's administrator for the log-key line of 'parley keys show'")
	}
	v, err := node.ParseVerifierKey(key)
	if err != nil {
		return withHint(fmt.Errorf("--key: %w", err), "ask the node's administrator for the log-key line of 'parley keys show'")
	}
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return withHint(fmt.Errorf("--url %q: want https://HOST:PORT/log/COLLECTION-ID/", url), "see 'parley verify --help'")
	}
	client, err := logapi.HTTPClient(pin, insecure)
	if err != nil {
		return err
	}
	var entries int64
	r := &tlog.RemoteLog{
		Fetch:  logapi.NewFetcher(client, url, m.Getenv("PARLEY_TOKEN")),
		LogKey: v,
		Entry:  func(int64, []byte) error { entries++; return nil },
		// A node serves a user the entry bundles whose every entry the
		// user may see; the others are checked by their hashes.
		Hidden: func(err error) bool { return dialogue.KindOf(err) == dialogue.KindForbidden },
	}
	s, err := tlog.VerifyRemote(ctx, r, nil)
	if err != nil {
		return err
	}
	if name, _, _ := strings.Cut(s.Origin, tlog.OriginPart); name != v.Name() {
		return fmt.Errorf("checkpoint origin %q does not belong to the key's node %q", s.Origin, v.Name())
	}
	if r.HiddenEntries > 0 {
		fmt.Fprintf(m.Stdout, "ok %s: size %d root %s, %d entries checked, %d not yours to read (their hashes checked against the root)\n", s.Origin, s.Size, s.Hash, entries, r.HiddenEntries)
		return nil
	}
	fmt.Fprintf(m.Stdout, "ok %s: size %d root %s, %d entries checked\n", s.Origin, s.Size, s.Hash, entries)
	return nil
}
