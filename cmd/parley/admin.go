package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Administration that takes effect at once: a running 'parley serve' reads
// the user's state on every request, so these commands need no restart.

// noUser turns a store's "no such user" into the CLI's error and hint.
func noUser(err error, name string) error {
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return withHint(fmt.Errorf("user %q does not exist", name), "list the users with: parley user list")
	}
	return err
}

func (m *Main) newUserPasswdCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "passwd --dir DIR USER",
		Short: "Give a user a new password",
		Long: `passwd replaces a user's password. The new password (at least 12 characters)
is asked for twice on a terminal; otherwise the first line of standard input
is the password. It is stored as an argon2id hash.

The old password stops working at once, also for a running 'parley serve':
its web sessions end and API requests with the old password are refused.`,
		Example: `  parley user passwd --dir /var/lib/parley alice
  printf '%s\n' "$PASSWORD" | parley user passwd alice`,
		Args: exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if _, err := n.Store.User(ctx, name); err != nil {
				return noUser(err, name)
			}
			pw, err := m.readPassword(name)
			if err != nil {
				return err
			}
			hash, err := dialogue.HashPassword(pw)
			if err != nil {
				return err
			}
			if err := n.Store.SetPassword(ctx, name, hash); err != nil {
				return noUser(err, name)
			}
			fmt.Fprintf(m.Stdout, "New password for %s; its sessions ended.\n", name)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newUserDisableCommand(enable bool) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "disable --dir DIR USER",
		Short: "Stop a user: password, tokens and sessions",
		Long: `disable stops a user at once, also for a running 'parley serve': its
password, its API tokens and its web sessions are refused from the next
request. The user, its tokens and its grants are kept; 'parley user enable'
lets it in again.`,
		Example: `  parley user disable --dir /var/lib/parley alice`,
		Args:    exactArgs(1, "one USER"),
	}
	if enable {
		cmd.Use, cmd.Short = "enable --dir DIR USER", "Let a disabled user in again"
		cmd.Long = `enable lets a user disabled with 'parley user disable' sign in again, with
its password and tokens. Sessions that ended when it was disabled stay ended.`
		cmd.Example = `  parley user enable --dir /var/lib/parley alice`
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, name := cmd.Context(), args[0]
		n, err := m.openNode(ctx, dir)
		if err != nil {
			return err
		}
		defer n.Close()
		if err := n.Store.SetUserDisabled(ctx, name, !enable, time.Now()); err != nil {
			return noUser(err, name)
		}
		if enable {
			fmt.Fprintf(m.Stdout, "Enabled user %s.\n", name)
		} else {
			fmt.Fprintf(m.Stdout, "Disabled user %s: its password, tokens and sessions are refused.\n", name)
		}
		return nil
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newUserDeleteCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "delete --dir DIR USER",
		Short: "Delete a user with its tokens and grants",
		Long: `delete removes a user, its API tokens and its grants, at once, also for a
running 'parley serve': its sessions and tokens stop at the next request.
What the user wrote stays in the collections and logs. A user added later
with the same name is another user: it has none of the old one's tokens,
grants or sessions.`,
		Example: `  parley user delete --dir /var/lib/parley alice`,
		Args:    exactArgs(1, "one USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.Store.DeleteUser(ctx, name); err != nil {
				return noUser(err, name)
			}
			fmt.Fprintf(m.Stdout, "Deleted user %s with its tokens and grants.\n", name)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newTokenListCommand() *cobra.Command {
	var dir, userName string
	cmd := &cobra.Command{
		Use:   "list --dir DIR [--user USER]",
		Short: "List the API tokens (never the tokens themselves)",
		Long: `list shows each API token by its id, with its user, label, creation and last
use (to the minute; "never" when unused). The token and its hash are never
shown. Revoke one with 'parley token revoke ID'.`,
		Example: `  parley token list --dir /var/lib/parley
  parley token list --user alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if cmd.Flags().Changed("user") && userName == "" {
				return withHint(errors.New("--user: empty user name"), "pass --user NAME, or leave --user out for every user's tokens")
			}
			toks, err := n.Store.Tokens(ctx, userName)
			if err != nil {
				return noUser(err, userName)
			}
			if len(toks) == 0 {
				fmt.Fprintln(m.Stdout, "No tokens; create one with: parley token create --user NAME")
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tLABEL\tCREATED\tLAST USED")
			for _, t := range toks {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.User, dash(t.Label), t.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), usedText(t.LastUsed))
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&userName, "user", "", "only this user's tokens")
	return cmd
}

func usedText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func (m *Main) newTokenRevokeCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "revoke --dir DIR ID",
		Short: "Revoke an API token by its id",
		Long: `revoke deletes an API token, named by the id 'parley token list' shows. It
stops at once, also for a running 'parley serve'.`,
		Example: `  parley token revoke --dir /var/lib/parley 3`,
		Args:    exactArgs(1, "one token ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return withHint(fmt.Errorf("token id %q: want a number such as 3", args[0]), "list the tokens and their ids with: parley token list")
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			t, err := n.Store.RevokeToken(ctx, id)
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return withHint(fmt.Errorf("token id %d: no such token", id), "list the tokens and their ids with: parley token list")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Revoked token %d of %s (%s).\n", t.ID, t.User, dash(t.Label))
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

func (m *Main) newAlarmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm",
		Short: "List and clear the alarms raised about peers",
		Long: `A node raises an alarm about a peer when the peer's log forks (FORK) or its
data does not match what it signed (BAD-DATA). A peer has at most one open
alarm; it stays until an administrator clears it, saying why.`,
	}
	cmd.AddCommand(m.newAlarmListCommand(), m.newAlarmClearCommand())
	return cmd
}

func (m *Main) newAlarmListCommand() *cobra.Command {
	var dir string
	var all bool
	cmd := &cobra.Command{
		Use:   "list --dir DIR [--all]",
		Short: "List the open alarms (--all: the cleared ones too)",
		Long: `list shows the open alarms: id, peer, alarm, when raised and the detail.
With --all, the cleared alarms too, with when, by whom and why they were
cleared.`,
		Example: `  parley alarm list --dir /var/lib/parley
  parley alarm list --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			as, err := n.Store.Alarms(cmd.Context(), all)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				if all {
					fmt.Fprintln(m.Stdout, "No alarms have been raised.")
				} else {
					fmt.Fprintln(m.Stdout, "No open alarms.")
				}
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			if all {
				fmt.Fprintln(tw, "ID\tPEER\tALARM\tRAISED\tCLEARED\tBY\tREASON\tDETAIL")
			} else {
				fmt.Fprintln(tw, "ID\tPEER\tALARM\tRAISED\tDETAIL")
			}
			for _, a := range as {
				if all {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Peer, a.Alarm, when(a.RaisedAt), clearedText(a.ClearedAt), dash(a.ClearedBy), dash(a.Reason), a.Detail)
				} else {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.ID, a.Peer, a.Alarm, when(a.RaisedAt), a.Detail)
				}
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().BoolVar(&all, "all", false, "list the cleared alarms too")
	return cmd
}

func clearedText(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return when(t)
}

func (m *Main) newAlarmClearCommand() *cobra.Command {
	var dir, reason, by string
	cmd := &cobra.Command{
		Use:   "clear --dir DIR ID --reason TEXT [--by NAME]",
		Short: "Clear an alarm, saying why",
		Long: `clear closes an open alarm, named by the id 'parley alarm list' shows, and
records when, by whom and why ('parley alarm list --all' shows it). --reason
is required. --by names who cleared it; by default the operating-system user
running the command (the node's operator). Clear an alarm only once the
cause is understood: the peer is trusted again, and a new fault raises a new
alarm.`,
		Example: `  parley alarm clear --dir /var/lib/parley 1 --reason 'B restored its log from a backup; confirmed by phone'`,
		Args:    exactArgs(1, "one alarm ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return withHint(fmt.Errorf("alarm id %q: want a number such as 1", args[0]), "list the alarms and their ids with: parley alarm list")
			}
			if strings.TrimSpace(reason) == "" {
				return withHint(errors.New("--reason: empty; say why the alarm is cleared"), "pass --reason TEXT, e.g. --reason 'peer restored from backup, confirmed by phone'")
			}
			if cmd.Flags().Changed("by") && strings.TrimSpace(by) == "" {
				return withHint(errors.New("--by: empty"), "leave --by out to record the operating-system user")
			}
			if by == "" {
				by = osUser()
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			a, err := n.Store.ClearAlarm(ctx, id, by, reason, time.Now())
			switch dialogue.KindOf(err) {
			case dialogue.KindNotFound:
				return withHint(fmt.Errorf("alarm id %d: no such alarm", id), "list the alarms and their ids with: parley alarm list --all")
			case dialogue.KindConflict:
				return withHint(err, "see it with: parley alarm list --all")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Cleared alarm %d (%s of %s), by %s.\n", a.ID, a.Alarm, a.Peer, a.ClearedBy)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&reason, "reason", "", "why the alarm is cleared (required)")
	cmd.Flags().StringVar(&by, "by", "", "who clears it (default: the operating-system user)")
	return cmd
}

// osUser names the operating-system user running the command, for the
// record of who cleared an alarm.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

func (m *Main) newChannelDeclineCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "decline --dir DIR ID",
		Short: "Decline a channel a peer proposed",
		Long: `decline refuses a channel a peer proposed and nobody accepted here: no
collection is made, 'parley serve' tells the peer, and a later proposal of
the same id is answered "declined", not offered again. A declined proposal
no longer counts towards the most a peer may have waiting
(max_pending_proposals).`,
		Example: `  parley channel decline --dir /var/lib/parley 6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21`,
		Args:    exactArgs(1, "one channel ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			ch, err := n.Store.Channel(ctx, args[0])
			if err == nil && ch.ID != args[0] {
				err = dialogue.ErrNotFound // found by title: decline takes the id
			}
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return withHint(fmt.Errorf("channel id %q: no such channel", args[0]), "list the channels proposed to this node with: parley channel list --dir %s", n.Dir)
			}
			if err != nil {
				return err
			}
			declined, err := n.Store.DeclineChannel(ctx, ch.ID, "")
			if dialogue.KindOf(err) == dialogue.KindConflict {
				return withHint(fmt.Errorf("channel %s is %s: only a channel a peer proposed and nobody accepted can be declined", args[0], ch.State), "see the states with: parley channel list")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Declined channel %q (%s) proposed by %s; 'parley serve' tells the peer.\n", declined.Title, declined.ID, declined.Peer)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}
