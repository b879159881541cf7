package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree. Cobra prints neither errors nor
// usage: PrintError does, in one place.
func (m *Main) newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "parley",
		Short: "A Parley node: STIX 2.1 over TAXII 2.1 for an expert dialogue between CERTs",
		Long: `parley runs a Parley node and manages its data folder.

A node keeps STIX 2.1 objects in collections and serves them over TAXII 2.1
(HTTPS, TLS 1.3). Start with 'parley demo' to see one working, or
'parley init --dir DIR --name NAME' to make your own.

Every command that works on a node takes --dir DIR, or reads the folder from
the PARLEY_DIR environment variable.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a subcommand, show help.
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return withHint(err, "see '%s --help'", cmd.CommandPath())
	})
	root.AddCommand(
		m.newInitCommand(),
		m.newUserCommand(),
		m.newTokenCommand(),
		m.newAlarmCommand(),
		m.newCollectionCommand(),
		m.newImportCommand(),
		m.newExportCommand(),
		m.newServeCommand(),
		m.newPullCommand(),
		m.newKeysCommand(),
		m.newWitnessCommand(),
		m.newLogCommand(),
		m.newVerifyCommand(),
		m.newDemoCommand(),
		m.newVersionCommand(),
	)
	for _, add := range moreCommands {
		root.AddCommand(add(m))
	}
	return root
}

// moreCommands are the commands that register themselves from their own
// files (func init() { moreCommands = append(moreCommands, (*Main).newXCommand) }),
// so that adding one touches no shared file.
var moreCommands []func(*Main) *cobra.Command

// Version is the program's version: the module version it was built as,
// or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func (m *Main) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of parley",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(m.Stdout, "parley %s (%s, %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// exactArgs is cobra.ExactArgs with a message that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return withHint(fmt.Errorf("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args)),
				"see '%s --help'", cmd.CommandPath())
		}
		return nil
	}
}
