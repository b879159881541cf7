package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/tlog"
)

func (m *Main) newLogCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show a collection's log (the record) and its proofs",
		Long: `Every collection has an append-only Merkle log: each object version added
is one entry, and each batch ends with a checkpoint signed with the node's log
key (C2SP tlog-checkpoint). 'parley serve' serves it under /log/<collection-id>/.`,
	}
	cmd.AddCommand(m.newLogShowCommand(), m.newLogProofCommand())
	return cmd
}

// openLog opens the node and its log, and finds the collection (the
// default one, "local", when none is named).
func (m *Main) openLog(ctx context.Context, dir, coll string) (*node.Node, dialogue.LogStore, *dialogue.Collection, error) {
	n, err := m.openNode(ctx, dir)
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := n.Log()
	if err != nil {
		n.Close()
		return nil, nil, nil, err
	}
	if coll == "" {
		coll = dialogue.DefaultCollectionTitle
	}
	c, err := findCollection(ctx, n, coll)
	if err != nil {
		n.Close()
		return nil, nil, nil, err
	}
	return n, l, c, nil
}

func (m *Main) newLogShowCommand() *cobra.Command {
	var dir, coll string
	cmd := &cobra.Command{
		Use:   "show --dir DIR [--collection ID|TITLE]",
		Short: "Print the latest checkpoint of a collection's log",
		Long: `show prints the size and root hash of the latest checkpoint of the
collection's log, the cosigners whose signatures verify (witnesses this node
trusts, see 'parley witness'), and the signed checkpoint note itself.`,
		Example: `  parley log show --dir /var/lib/parley --collection local`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, l, c, err := m.openLog(ctx, dir, coll)
			if err != nil {
				return err
			}
			defer n.Close()
			origin, err := n.Origin(c.ID)
			if err != nil {
				return err
			}
			w := m.Stdout
			fmt.Fprintf(w, "collection %s (%s)\norigin %s\n", c.ID, c.Title, origin)
			cp, err := l.LatestCheckpoint(ctx, c.ID)
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				fmt.Fprintf(w, "size 0 (no entries, no checkpoint yet)\n")
				return nil
			}
			if err != nil {
				return err
			}
			cosigners, err := n.CosignatureVerifiers(ctx)
			if err != nil {
				return err
			}
			s, err := tlog.Open(cp.Note, origin, n.LogVerifier(), cosigners...)
			if err != nil {
				return withHint(err, "check the whole log with: parley verify --dir %s --channel %s", n.Dir, c.ID)
			}
			fmt.Fprintf(w, "size %d\nroot %s\n", s.Size, s.Hash)
			if len(s.Cosigners) == 0 {
				fmt.Fprintf(w, "cosigners none\n")
			} else {
				fmt.Fprintf(w, "cosigners %s\n", strings.Join(s.Cosigners, " "))
			}
			fmt.Fprintf(w, "checkpoint\n%s", cp.Note)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&coll, "collection", "", "the collection, by id or title (default \"local\")")
	return cmd
}

func (m *Main) newLogProofCommand() *cobra.Command {
	var dir, coll, leaf string
	var index, size, oldSize, newSize int64
	cmd := &cobra.Command{
		Use:   "proof --dir DIR [--collection C] (--leaf HASH | --index N) [--size N] | --old M [--new N]",
		Short: "Print an inclusion or consistency proof of a collection's log as JSON",
		Long: `proof prints, as JSON on standard output, either the inclusion proof of one
entry in the tree of size N (the entry given by its leaf hash, in hex or
base64, or by its index):

  {"leaf_index":3,"tree_size":8,"hashes":["base64…",…]}

or the consistency proof between the trees of sizes M and N:

  {"old_size":3,"tree_size":8,"hashes":["base64…",…]}

N defaults to the size of the latest checkpoint. The same proofs are served
at /log/<collection-id>/proof/inclusion and /proof/consistency.`,
		Example: `  parley log proof --dir /var/lib/parley --leaf 4b1f…e0 --size 1000
  parley log proof --dir /var/lib/parley --old 500 --new 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			flags := cmd.Flags()
			inclusion := flags.Changed("leaf") || flags.Changed("index")
			consistency := flags.Changed("old") || flags.Changed("new")
			switch {
			case inclusion == consistency:
				return withHint(errors.New("give --leaf HASH or --index N for an inclusion proof, or --old M for a consistency proof"), "see 'parley log proof --help'")
			case flags.Changed("leaf") && flags.Changed("index"):
				return withHint(errors.New("give --leaf or --index, not both"), "see 'parley log proof --help'")
			case consistency && flags.Changed("size"):
				return withHint(errors.New("--size goes with --leaf or --index; a consistency proof takes --old and --new"), "see 'parley log proof --help'")
			}
			n, l, c, err := m.openLog(ctx, dir, coll)
			if err != nil {
				return err
			}
			defer n.Close()
			cp, err := l.LatestCheckpoint(ctx, c.ID)
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return fmt.Errorf("the log of collection %s has no checkpoint yet (no entries)", c.ID)
			}
			if err != nil {
				return err
			}
			hashes := logapi.Hashes(ctx, l, c.ID)
			var proof any
			if inclusion {
				if size == 0 {
					size = cp.Size
				}
				if size < 1 || size > cp.Size {
					return fmt.Errorf("--size %d: the latest checkpoint has size %d", size, cp.Size)
				}
				if leaf != "" {
					h, err := logapi.ParseLeafHash(leaf)
					if err != nil {
						return withHint(fmt.Errorf("--leaf: %w", err), "give the SHA-256 leaf hash (RFC 6962, 0x00 prefix) in hex or base64")
					}
					if index, err = n.LeafIndex(ctx, c.ID, h); err != nil {
						return err
					}
				}
				if index >= size {
					return fmt.Errorf("entry %d is not in the tree of size %d", index, size)
				}
				proof, err = tlog.Prove(index, size, hashes)
			} else {
				if newSize == 0 {
					newSize = cp.Size
				}
				if newSize > cp.Size {
					return fmt.Errorf("--new %d: the latest checkpoint has size %d", newSize, cp.Size)
				}
				if oldSize < 0 || oldSize > newSize {
					return fmt.Errorf("--old %d: must be between 0 and the new size %d", oldSize, newSize)
				}
				proof, err = tlog.ProveConsistency(oldSize, newSize, hashes)
			}
			if err != nil {
				return err
			}
			b, err := json.Marshal(proof)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s\n", b)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&coll, "collection", "", "the collection, by id or title (default \"local\")")
	f.StringVar(&leaf, "leaf", "", "the leaf hash of the entry (hex or base64)")
	f.Int64Var(&index, "index", 0, "the index of the entry")
	f.Int64Var(&size, "size", 0, "the tree size of the inclusion proof (default: the latest checkpoint's)")
	f.Int64Var(&oldSize, "old", 0, "the old tree size of a consistency proof")
	f.Int64Var(&newSize, "new", 0, "the new tree size of a consistency proof (default: the latest checkpoint's)")
	return cmd
}
