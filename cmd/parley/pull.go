package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/taxii"
)

func (m *Main) newPullCommand() *cobra.Command {
	var dir, from, collection, into, user, passwordFile, tokenFile, pin string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "pull --dir DIR --from URL --collection ID [--into ID|TITLE] [--user U --password-file F | --token-file F] [--tls-pin PIN | --insecure]",
		Short: "Copy new objects from a remote TAXII 2.1 collection into a local one",
		Long: `pull fetches the objects of a collection on another TAXII 2.1 server (--from is
its API root URL, such as https://node-b.example:8443/taxii2/parley/), page
by page with added_after, validates each object and imports the valid ones
into a local collection ("local" unless --into says otherwise). It records
where it stopped after each page: the date_added of the last page and the
object versions taken at that instant. Running it again resumes there,
fetching only what was added since, with nothing skipped and nothing
imported twice, even when it stopped inside a group of objects that share
one date_added. The exit status is non-zero when the pull did not reach the
end (it says where it stopped) or when any object was rejected.

Authenticate with --user and --password-file (a file whose first line is
the password) or --token-file (a file holding an API token). A Parley node's
certificate is self-signed: pass its pin with --tls-pin (printed by init,
serve and demo, with or without the "sha256//" prefix). --insecure skips
every certificate check, for test servers only.`,
		Example: `  parley pull --dir /var/lib/parley --from https://node-b.example:8443/taxii2/parley/ \
      --collection 9a1c6f0e-3f55-4f4e-8a55-2b5f1d0e7c42 --token-file b.token \
      --tls-pin 'sha256//ABCD...='`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if from == "" {
				return withHint(errors.New("no --from URL given"), "pass the remote API root, such as https://host:8443/taxii2/parley/")
			}
			if collection == "" {
				return withHint(errors.New("no --collection given"), "pass the id of the remote collection (GET the API root's collections/ to list them)")
			}
			opt := taxii.ClientOptions{
				Pin:      strings.TrimPrefix(pin, "sha256//"),
				Insecure: insecure,
				Logger:   m.quietLogger(),
			}
			switch {
			case passwordFile != "" && tokenFile != "":
				return withHint(errors.New("both --password-file and --token-file given"), "authenticate with one of them")
			case passwordFile != "":
				if user == "" {
					return withHint(errors.New("--password-file needs --user"), "pass --user NAME")
				}
				pw, err := readSecretFile(passwordFile, "the password")
				if err != nil {
					return err
				}
				opt.User, opt.Password = user, pw
			case tokenFile != "":
				tok, err := readSecretFile(tokenFile, "the token")
				if err != nil {
					return err
				}
				opt.Token = tok
			case user != "":
				return withHint(errors.New("--user needs --password-file"), "put the password on the first line of a file readable by you only")
			}
			client, err := taxii.NewClient(from, opt)
			if err != nil {
				return withHint(err, "see 'parley pull --help'")
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			local, err := findCollection(ctx, n, into)
			if err != nil {
				return err
			}
			rep, err := client.Pull(ctx, server.WriteStore(n), local.ID, collection)
			again := ""
			if rep.Repeated > 0 {
				again = fmt.Sprintf(" (%d sent again, already pulled: dropped)", rep.Repeated)
			}
			fmt.Fprintf(m.Stdout, "pulled %s from %s collection %s into %q: %d new, %d unchanged, %d rejected%s\n",
				plural(rep.Pages, "page"), from, collection, local.Title, rep.New, rep.Unchanged, rep.Rejected, again)
			for _, r := range rep.Rejections {
				fmt.Fprintf(m.Stdout, "  rejected: %s: %s\n", r.ID, r.Reason)
			}
			where := "from the start"
			if rep.Cursor != "" {
				where = fmt.Sprintf("at date_added %s, less the %s taken there", rep.Cursor, plural(rep.Taken, "version"))
			}
			if err != nil {
				fmt.Fprintf(m.Stdout, "the pull stopped before the end; the next pull resumes %s\n", where)
				return withHint(err, "%s", pullHint(err))
			}
			if rep.Cursor != "" {
				fmt.Fprintf(m.Stdout, "the pull is complete; the next pull resumes %s\n", where)
			}
			if rep.Rejected > 0 {
				return fmt.Errorf("%d objects rejected", rep.Rejected)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the remote API root URL")
	f.StringVar(&collection, "collection", "", "the id of the remote collection")
	f.StringVar(&into, "into", dialogue.DefaultCollectionTitle, "the local collection to import into (id or title)")
	f.StringVar(&user, "user", "", "the remote user name (with --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "a file whose first line is the remote user's password")
	f.StringVar(&tokenFile, "token-file", "", "a file holding an API token for the remote server")
	f.StringVar(&pin, "tls-pin", "", "accept the server whose certificate has this public-key pin")
	f.BoolVar(&insecure, "insecure", false, "skip every certificate check (test servers only)")
	return cmd
}

// pullHint suggests what to do about a failed pull.
func pullHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not match the expected pin"):
		return "the server is not the one whose pin you gave; check the pin with its administrator"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return "pass the server's certificate pin with --tls-pin (or --insecure for a test server)"
	case dialogue.KindOf(err) == dialogue.KindUnauthenticated:
		return "check --user and --password-file, or --token-file"
	case dialogue.KindOf(err) == dialogue.KindForbidden:
		return "the remote user may not read that collection; ask its administrator for a grant"
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		return "check --from (the API root URL) and --collection (the remote collection's id)"
	case dialogue.KindOf(err) == dialogue.KindUnavailable:
		return "check --from, and that the server is running; pull again to resume"
	}
	return "pull again to resume where it stopped"
}

// readSecretFile reads the first line of a file holding a secret.
func readSecretFile(path, what string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return readSecretLine(f, what+" in "+path)
}

// quietLogger logs warnings and errors only: commands that print their
// own report do not need info lines beside it.
func (m *Main) quietLogger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	opt := &slog.HandlerOptions{Level: slog.LevelWarn}
	if isTerminal(m.Stderr) {
		return slog.New(slog.NewTextHandler(m.Stderr, opt))
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, opt))
}

// plural is "1 page" or "2 pages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
