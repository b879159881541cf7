// Command parley runs a Parley node and manages its data folder: init,
// users and tokens, collections, import and export of STIX 2.1 bundles,
// the TAXII 2.1 server (serve), pulling from another TAXII server, and a
// self-contained demo.
//
// main is thin: the Main struct holds what a run needs (ParseFlags, Run,
// Close), so that end-to-end tests start it in-process on 127.0.0.1:0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/sqlite"
)

func main() {
	os.Exit(run())
}

// run is main with an exit code, so that deferred calls run.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.ParseFlags(ctx, os.Args[1:]); err != nil {
		m.PrintError(err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		m.PrintError(err)
		// An error may choose its exit code (parley pattern match: 2).
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	if m.Serving() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process the usual way
		m.logger().Info("shutting down: waiting for requests in flight")
	}
	if err := m.Close(); err != nil {
		m.PrintError(err)
		return 1
	}
	return 0
}

// ShutdownTimeout bounds how long Close waits for requests in flight.
const ShutdownTimeout = 30 * time.Second

// Main is one run of the program. The zero value is not usable; call
// NewMain, then ParseFlags, Run and Close.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (PARLEY_DIR).
	Getenv func(string) string
	// Logger, when set, replaces the logger made from Stderr.
	Logger *slog.Logger

	root *cobra.Command
	args []string

	// Set by serve and demo while a server runs: the first node's, and
	// every node server (the demo runs two).
	node    *node.Node
	server  *httpapi.Server
	url     string // https://127.0.0.1:PORT (http:// with --insecure-http)
	servers []*server.Server
	cleanup []func() // run by Close after the node is closed (demo: remove the folder)
	closed  bool
}

// NewMain returns a Main wired to the process's standard streams and
// environment.
func NewMain() *Main {
	return &Main{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
	}
}

// ParseFlags builds the command tree and checks that args name a known
// command. Flags are parsed by Run.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	m.root = m.newRootCommand()
	m.args = args
	m.root.SetArgs(args)
	m.root.InitDefaultHelpCmd()
	if _, _, err := m.root.Find(args); err != nil {
		return usageError{err}
	}
	return nil
}

// Run runs the command. For serve and demo (without --once) it returns
// once the server is listening; the caller then waits (for a signal) and
// calls Close, which shuts the server down.
func (m *Main) Run(ctx context.Context) error {
	if m.root == nil {
		if err := m.ParseFlags(ctx, nil); err != nil {
			return err
		}
	}
	_, err := m.root.ExecuteContextC(ctx)
	return err
}

// Serving reports whether Run left a server running.
func (m *Main) Serving() bool { return m.server != nil && !m.closed }

// URL is the base URL of the running server ("https://127.0.0.1:PORT").
func (m *Main) URL() string { return m.url }

// Close shuts down the server, if any, letting requests in flight finish
// (up to ShutdownTimeout), then closes the database and removes what a
// demo made. It is safe to call more than once.
func (m *Main) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, s := range m.servers {
		s.StopExchange()
	}
	for _, s := range m.servers {
		if err := s.Close(ShutdownTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if len(m.servers) > 0 {
		m.logger().Info("database closed; stopped")
	} else if m.node != nil {
		if err := m.node.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the database: %w", err))
		}
	}
	for i := len(m.cleanup) - 1; i >= 0; i-- {
		m.cleanup[i]()
	}
	return errors.Join(errs...)
}

// logger is the serve log: JSON lines when stderr is not a terminal,
// text for a person otherwise.
func (m *Main) logger() *slog.Logger {
	if m.Logger == nil {
		if isTerminal(m.Stderr) {
			m.Logger = slog.New(slog.NewTextHandler(m.Stderr, nil))
		} else {
			m.Logger = slog.New(slog.NewJSONHandler(m.Stderr, nil))
		}
	}
	return m.Logger
}

func isTerminal(x any) bool {
	f, ok := x.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// hintError carries a hint for the person at the terminal.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint attaches a hint to err (nil stays nil).
func withHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// PrintError prints err as age does: "parley: error: <one line>" and,
// when there is one, "parley: hint: <what to do>". An input refused in
// several fields (dialogue.FieldErrors) gets an error line per field.
func (m *Main) PrintError(err error) {
	if fes := dialogue.FieldErrorsOf(err); len(fes) > 1 && dialogue.KindOf(err) == dialogue.KindInvalid {
		for _, fe := range fes {
			fmt.Fprintf(m.Stderr, "parley: error: %s\n", errorLine(fe))
		}
	} else {
		fmt.Fprintf(m.Stderr, "parley: error: %s\n", errorLine(err))
	}
	if h := hintFor(err); h != "" {
		fmt.Fprintf(m.Stderr, "parley: hint: %s\n", h)
	}
}

// errorLine is the message a person sees, on one line: errors made here
// as they are; errors from the node's packages without their operation
// names (dialogue.Message), a full disk with the file it failed to write
// (the operator's own disk); and never the text of a raw SQLite error,
// which is replaced by where it happened.
func errorLine(err error) string {
	var de *dialogue.Error
	var msg string
	switch {
	case !errors.As(err, &de):
		msg = err.Error()
	case dialogue.KindOf(err) == dialogue.KindDiskFull:
		msg = stripOps(err)
	case dialogue.KindOf(err) != dialogue.KindOther:
		msg = dialogue.Message(err)
	default:
		msg = stripOps(err)
	}
	if se := sqlite.DriverError(err); se != nil && strings.Contains(msg, se.Error()) {
		trimmed := strings.TrimSuffix(msg, ": "+se.Error())
		if dialogue.KindOf(err) != dialogue.KindOther && trimmed != msg && trimmed != "" {
			msg = trimmed
		} else if de != nil && de.Op != "" {
			msg = "internal database error in " + de.Op
		} else {
			msg = "internal database error"
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// stripOps is err's text without the "op: " prefixes of the
// *dialogue.Error values at its head.
func stripOps(err error) string {
	for {
		e, ok := err.(*dialogue.Error)
		if !ok {
			return err.Error()
		}
		err = e.Err
	}
}

// hintFor is the hint attached to err, else one for the errors whose
// remedy is always the same.
func hintFor(err error) string {
	var he *hintError
	if errors.As(err, &he) {
		return he.hint
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return "run 'parley --help' for the list of commands"
	case errors.Is(err, node.ErrKeyMode), errors.Is(err, node.ErrLogKeyMode):
		return "make the key readable by its owner only: chmod 600 on the file named above"
	}
	return ""
}

// dirFlag adds --dir to cmd, defaulting to $PARLEY_DIR.
func (m *Main) dirFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "dir", "", "the node's data folder (default $PARLEY_DIR)")
}

// resolveDir returns the data folder from --dir or PARLEY_DIR.
func (m *Main) resolveDir(dir string) (string, error) {
	if dir == "" {
		dir = m.Getenv("PARLEY_DIR")
	}
	if dir == "" {
		return "", withHint(errors.New("no data folder given"), "pass --dir DIR or set PARLEY_DIR")
	}
	return dir, nil
}

// openNode opens the node in --dir, with hints for the usual mistakes.
func (m *Main) openNode(ctx context.Context, dir string) (*node.Node, error) {
	dir, err := m.resolveDir(dir)
	if err != nil {
		return nil, err
	}
	n, err := node.Open(ctx, dir)
	if errors.Is(err, node.ErrNoNode) {
		return nil, withHint(err, "make a node there with: parley init --dir %s --name NAME", dir)
	}
	if errors.Is(err, node.ErrNoLogKey) {
		return nil, withHint(err, "make the node's log key with: parley keys init --dir %s", dir)
	}
	if dialogue.KindOf(err) == dialogue.KindInvalid {
		return nil, withHint(err, "fix %s by hand, or make a new node with parley init", ConfigPath(dir))
	}
	return n, err
}

// ConfigPath is the configuration file of the node in dir.
func ConfigPath(dir string) string { return dir + string(os.PathSeparator) + node.ConfigFile }

// findCollection finds a collection by id or title, with a hint when it
// does not exist.
func findCollection(ctx context.Context, n *node.Node, idOrTitle string) (*dialogue.Collection, error) {
	c, err := n.Store.FindCollection(ctx, idOrTitle)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil, withHint(err, "list the collections with: parley collection list --dir %s", n.Dir)
	}
	return c, err
}
