package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
)

func (m *Main) newKeysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Show the node's public keys; make a missing log key",
	}
	cmd.AddCommand(m.newKeysShowCommand(), m.newKeysInitCommand())
	return cmd
}

func (m *Main) newKeysShowCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "show --dir DIR",
		Short: "Print what a peer needs to pin this node: its log key and TLS pin",
		Long: `show prints two lines, the two things a peer pins, to give it out of band:

  log-key <the signed-note verifier key of the node's log>
  tls-pin <base64 SHA-256 of the TLS certificate's public key>

(curl's --pinnedpubkey takes the TLS pin after "sha256//".) Private keys are
never printed.`,
		Example: `  parley keys show --dir /var/lib/parley`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			pin, err := n.Pin()
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "log-key %s\ntls-pin %s\n", n.LogKey(), pin)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newKeysInitCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Make the log key of a node made before the record existed",
		Long: `init makes keys/log.key (mode 0600) and keys/log.pub in a node that has no
log key: nodes made by an older 'parley init'. It refuses a node that has one:
a node's log key is its identity in the record and is never replaced here.`,
		Example: `  parley keys init --dir /var/lib/parley`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := m.resolveDir(dir)
			if err != nil {
				return err
			}
			vkey, err := node.InitLogKey(dir)
			switch {
			case errors.Is(err, node.ErrNoNode):
				return withHint(err, "make a node there with: parley init --dir %s --name NAME", dir)
			case dialogue.KindOf(err) == dialogue.KindConflict:
				return withHint(err, "print it with: parley keys show --dir %s", dir)
			case err != nil:
				return err
			}
			fmt.Fprintf(m.Stdout, "Made the node's log key.\nlog-key %s\n", vkey)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newWitnessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "Choose the logs this node witnesses (cosigns); ask a witness to cosign",
		Long: `This node cosigns, at POST /witness/add-checkpoint, the checkpoints of the
logs whose verifier keys it trusts (until peering exists, a list in
parley.json). A peer gives its key with 'parley keys show' (the log-key line).
'witness request' asks a peer to cosign this node's checkpoints in turn.`,
	}
	cmd.AddCommand(m.newWitnessTrustCommand(), m.newWitnessListCommand(), m.newWitnessRequestCommand())
	return cmd
}

func (m *Main) newWitnessTrustCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "trust --dir DIR VKEY",
		Short:   "Witness the log of the node whose verifier key is VKEY",
		Example: `  parley witness trust --dir /var/lib/parley 'cert-b.example+1a2b3c4d+AbC…'`,
		Args:    exactArgs(1, "one verifier key (the log-key line of the peer's 'parley keys show')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			added, err := n.TrustLog(args[0])
			switch {
			case dialogue.KindOf(err) == dialogue.KindInvalid:
				return withHint(err, "copy the key from the log-key line of the peer's 'parley keys show'")
			case dialogue.KindOf(err) == dialogue.KindConflict:
				return withHint(err, "to replace it, edit the \"witness\" list of %s while the node is stopped", ConfigPath(n.Dir))
			case err != nil:
				return err
			case added:
				fmt.Fprintf(m.Stdout, "Now witnessing the logs signed by %s; restart 'parley serve' to apply.\n", args[0])
			default:
				fmt.Fprintf(m.Stdout, "Already witnessing the logs signed by %s.\n", args[0])
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newWitnessListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the verifier keys of the logs this node witnesses, one per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			for _, k := range n.Config.Witness {
				fmt.Fprintln(m.Stdout, k)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}
