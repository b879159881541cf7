package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/stix"
)

func init() { moreCommands = append(moreCommands, (*Main).newPatternCommand) }

// exitError is an error that asks for a particular exit status.
//
// main.go's run() exits 1 on every error of Run; for 'pattern match' an
// error (as opposed to an answer, match or nomatch) should exit 2, as
// grep does. run() needs to honour ExitCode() for that (reported to the
// owner of main.go); until it does, such errors exit 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the exit status the error asks for.
func (e *exitError) ExitCode() int { return e.code }

func (m *Main) newPatternCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pattern",
		Short: "Check STIX patterns and match them against observed data",
		Long: `pattern works on STIX 2.1 patterns (the pattern of an indicator).

'parley pattern check PATTERN' says whether a pattern is valid: the grammar
of STIX 2.1 patterning and the rules of the OASIS pattern validator.

'parley pattern match PATTERN BUNDLE.json...' says whether the observed-data
in the bundles match the pattern.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.newPatternCheckCommand(), m.newPatternMatchCommand())
	return cmd
}

func (m *Main) newPatternCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check PATTERN",
		Short: "Check that a STIX pattern is valid",
		Long: `check prints "valid" and exits 0 when the pattern is valid. Otherwise it
shows the pattern with a caret under the place of the problem, prints the
byte position and the reason, and exits 1.`,
		Example: `  parley pattern check "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"
  parley pattern check "[file:hashes.'SHA-256' = 'aec0…'] FOLLOWEDBY [process:name = 'x.exe'] WITHIN 300 SECONDS"`,
		Args: exactArgs(1, "one pattern (quote it for the shell)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := pattern.Check(args[0])
			var se *pattern.SyntaxError
			if errors.As(err, &se) {
				showPosition(m.Stderr, args[0], se.Pos)
				return err
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, "valid")
			return nil
		},
	}
}

// showPosition writes the pattern (its line that holds pos) with a caret
// under the character at byte offset pos.
func showPosition(w io.Writer, src string, pos int) {
	if pos > len(src) {
		pos = len(src)
	}
	start := strings.LastIndexAny(src[:pos], "\r\n") + 1
	end := len(src)
	if i := strings.IndexAny(src[pos:], "\r\n"); i >= 0 {
		end = pos + i
	}
	line := src[start:end]
	col := utf8.RuneCountInString(src[start:pos])
	var pad strings.Builder
	for i, r := range []rune(line) {
		if i >= col {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	fmt.Fprintf(w, "  %s\n  %s^\n", line, pad.String())
}

func (m *Main) newPatternMatchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "match PATTERN BUNDLE.json...",
		Short: "Say whether the observed data in STIX bundles match a pattern",
		Long: `match reads the STIX bundles ('-' for standard input), takes every
observed-data in them (with the cyber-observable objects its object_refs
name, or its deprecated objects dictionary) and prints "match" when they
match the pattern, "nomatch" otherwise; both exit 0.

An invalid pattern, an unreadable or invalid bundle, or observed data that
cannot be judged (a value compared with a timestamp that is not one) is an
error: the reason is printed and the exit status is not 0.`,
		Example: `  parley pattern match "[ipv4-addr:value = '198.51.100.3']" sightings.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return withHint(fmt.Errorf("%s takes a pattern and at least one bundle file (got %d arguments)", cmd.CommandPath(), len(args)),
					"see '%s --help'", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pattern.Compile(args[0])
			if err != nil {
				var se *pattern.SyntaxError
				if errors.As(err, &se) {
					showPosition(m.Stderr, args[0], se.Pos)
				}
				return &exitError{2, err}
			}
			var obs []pattern.Observation
			for _, name := range args[1:] {
				o, err := m.readObservations(name)
				if err != nil {
					return &exitError{2, err}
				}
				obs = append(obs, o...)
			}
			ok, err := p.Match(obs)
			if err != nil {
				return &exitError{2, err}
			}
			if ok {
				fmt.Fprintln(m.Stdout, "match")
			} else {
				fmt.Fprintln(m.Stdout, "nomatch")
			}
			return nil
		},
	}
}

// readObservations reads the observed-data of one bundle file.
func (m *Main) readObservations(name string) ([]pattern.Observation, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(m.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	b, err := stix.ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a STIX bundle: %w", name, err)
	}
	obs, err := pattern.FromObjects(b.Objects)
	if err != nil {
		// Flattened: the file name would be lost to dialogue.Message.
		return nil, fmt.Errorf("%s: %s", name, dialogue.Message(err))
	}
	return obs, nil
}
