package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parleyhq/parley/internal/dialogue"
)

func (m *Main) newUserCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list, disable and delete the node's users, set passwords",
	}
	cmd.AddCommand(m.newUserAddCommand(), m.newUserListCommand(), m.newUserPasswdCommand(),
		m.newUserDisableCommand(false), m.newUserDisableCommand(true), m.newUserDeleteCommand())
	return cmd
}

func (m *Main) newUserAddCommand() *cobra.Command {
	var dir, role string
	cmd := &cobra.Command{
		Use:   "add --dir DIR --role admin|expert|duty|lead NAME",
		Short: "Add a user with a password",
		Long: `add creates a local user with a role:

  admin    sets up the node, its keys, peers and users
  expert   CERT analyst: files and answers items
  duty     the 24/7 point of contact
  lead     delegation lead: reads and approves (cannot write objects)

The password (at least 12 characters) is asked for twice on a terminal;
otherwise the first line of standard input is the password. It is stored
as an argon2id hash.`,
		Example: `  parley user add --dir /var/lib/parley --role expert alice
  printf '%s\n' "$PASSWORD" | parley user add --role duty bob`,
		Args: exactArgs(1, "one user NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := dialogue.ValidateUserName(name); err != nil {
				return err
			}
			if role == "" {
				return withHint(errors.New("no role given"), "pass --role admin, expert, duty or lead")
			}
			r, err := dialogue.ParseRole(role)
			if err != nil {
				return withHint(err, "see 'parley user add --help' for what each role may do")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if _, err := n.Store.User(cmd.Context(), name); err == nil {
				return withHint(fmt.Errorf("user %q exists already", name), "pick another name; list users with: parley user list")
			}
			pw, err := m.readPassword(name)
			if err != nil {
				return err
			}
			hash, err := dialogue.HashPassword(pw)
			if err != nil {
				return err
			}
			if err := n.Store.CreateUser(cmd.Context(), &dialogue.User{Name: name, Role: r}, hash); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Added user %s with role %s.\n", name, r)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&role, "role", "", "the user's role: admin, expert, duty or lead")
	return cmd
}

// maxPasswordLine bounds a password read from standard input.
const maxPasswordLine = 1024

// readPassword asks for a password twice on a terminal, or reads one line
// from standard input. The password is never echoed or logged.
func (m *Main) readPassword(user string) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(m.Stderr, "Password for %s: ", user)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if len(a) < dialogue.MinPasswordLength {
			return "", fmt.Errorf("password must have at least %d characters", dialogue.MinPasswordLength)
		}
		fmt.Fprintf(m.Stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(a) != string(b) {
			return "", withHint(errors.New("the two passwords differ"), "run the command again")
		}
		return string(a), nil
	}
	return readSecretLine(m.Stdin, "the password")
}

// readSecretLine reads one line (without its line ending) from r.
func readSecretLine(r io.Reader, what string) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+1), maxPasswordLine+1)
	line, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading %s: %w", what, err)
	}
	if len(line) > maxPasswordLine {
		return "", fmt.Errorf("%s is longer than %d bytes", what, maxPasswordLine)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", withHint(fmt.Errorf("%s is empty", what), "type it on a terminal, or pipe it in on one line")
	}
	return line, nil
}

func (m *Main) newUserListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the users and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			users, err := n.Store.Users(cmd.Context())
			if err != nil {
				return err
			}
			if len(users) == 0 {
				fmt.Fprintln(m.Stdout, "No users yet; add one with: parley user add --role admin NAME")
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tSTATE")
			for _, u := range users {
				state := "enabled"
				if u.Disabled() {
					state = "disabled since " + u.DisabledAt.UTC().Format("2006-01-02 15:04:05Z")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), state)
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens for tools",
	}
	var dir, user, label string
	create := &cobra.Command{
		Use:   "create --dir DIR --user NAME [--label LABEL]",
		Short: "Create an API token for a user and print it once",
		Long: `create makes a new API token for a user and prints it on standard output,
once: only its hash is stored. Tools send it as "Authorization: Bearer TOKEN".
The token acts with the user's role and grants.`,
		Example: `  parley token create --dir /var/lib/parley --user alice --label misp > alice.token`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return withHint(errors.New("no user given"), "pass --user NAME")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if _, err := n.Store.User(cmd.Context(), user); err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(fmt.Errorf("user %q does not exist", user), "add it with: parley user add --role ROLE %s", user)
				}
				return err
			}
			tok, err := dialogue.NewToken()
			if err != nil {
				return err
			}
			if err := n.Store.CreateToken(cmd.Context(), user, dialogue.HashToken(tok), label); err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, tok)
			fmt.Fprintf(m.Stderr, "parley: this token for %s is shown once; only its hash is kept\n", user)
			return nil
		},
	}
	m.dirFlag(create, &dir)
	create.Flags().StringVar(&user, "user", "", "the user the token acts for")
	create.Flags().StringVar(&label, "label", "", "a note on what the token is for")
	cmd.AddCommand(create, m.newTokenListCommand(), m.newTokenRevokeCommand())
	return cmd
}
