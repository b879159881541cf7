package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newHotlineCommand, (*Main).newCheckCommand)
}

// hotlineWorkflow opens the node in dir and its workflows.
func (m *Main) hotlineWorkflow(ctx context.Context, dir string) (*node.Node, *workflow.Service, error) {
	n, err := m.openNode(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if n.LogKey() == "" {
		n.Close()
		return nil, nil, withHint(fmt.Errorf("node %s has no log key: the dialogue needs one", n.Config.Name), "make it with: parley keys init --dir %s", n.Dir)
	}
	return n, workflow.New(n.Store, n.Config.Name, n.LogKey()), nil
}

// hotlinePerson finds the user of the node who acknowledges or answers:
// --user, else $PARLEY_USER.
func (m *Main) hotlinePerson(ctx context.Context, n *node.Node, name, what string) (*dialogue.User, error) {
	if name == "" {
		name = m.Getenv("PARLEY_USER")
	}
	if name == "" {
		return nil, withHint(fmt.Errorf("--user is required: %s is a person's act, recorded with the user's name and role", what), "pass --user NAME or set PARLEY_USER")
	}
	u, err := n.Store.User(ctx, name)
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return nil, withHint(fmt.Errorf("--user %s: no such user on this node", name), "list the users with: parley user list --dir %s", n.Dir)
		}
		return nil, err
	}
	return u, nil
}

func (m *Main) newHotlineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hotline",
		Short: "Send hotline messages, acknowledge the other party's, list both ways",
		Long: `The hotline carries messages a person on the other side must acknowledge.

The other party's node writes a delivery receipt by itself as soon as it has a
message (while 'parley serve' runs there); a person there acknowledges it with
'parley hotline ack'. A message nobody acknowledged within its time (--ack-within;
by default ` + workflow.DefaultComms.AckWithinUrgent.String() + ` when urgent, ` + workflow.DefaultComms.AckWithinNormal.String() + ` when normal) is escalated:
the sending node writes an escalation event, once.`,
	}
	cmd.AddCommand(m.newHotlineSendCommand(), m.newHotlineAckCommand(), m.newHotlineListCommand())
	return cmd
}

func (m *Main) newHotlineSendCommand() *cobra.Command {
	var dir, channel, text, priority string
	var about []string
	var within time.Duration
	cmd := &cobra.Command{
		Use:   "send --dir DIR --channel C --text TEXT [--priority normal|urgent] [--ack-within DURATION] [--about ID,...]",
		Short: "Send a hotline message on a channel; prints its id",
		Long: `send sends a hotline message to the other party of a channel. --ack-within is
the time a person there has to acknowledge it (between ` + workflow.MinAckWithin.String() + ` and ` + workflow.MaxAckWithin.String() + `;
default ` + workflow.DefaultComms.AckWithinUrgent.String() + ` for urgent messages, ` + workflow.DefaultComms.AckWithinNormal.String() + ` for normal ones). --about names
STIX objects (reports, requests) the message is about.

It prints the new message's id.`,
		Example: `  parley hotline send --dir a --channel a-b --priority urgent --text "Substation outage in region 4: call us."`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if channel == "" {
				return withHint(fmt.Errorf("--channel is required"), "list the channels with: parley channel list")
			}
			n, wf, err := m.hotlineWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			h, err := wf.SendHotline(cmd.Context(), workflow.HotlineInput{Channel: channel, Text: text, Priority: workflow.Priority(priority), AckWithin: within, About: about})
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, h.ID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "the channel's id or title")
	f.StringVar(&text, "text", "", "the message")
	f.StringVar(&priority, "priority", "normal", "normal or urgent")
	f.DurationVar(&within, "ack-within", 0, "the time the other party has to acknowledge (default by priority)")
	f.StringSliceVar(&about, "about", nil, "ids of the objects the message is about")
	return cmd
}

func (m *Main) newHotlineAckCommand() *cobra.Command {
	var dir, user string
	cmd := &cobra.Command{
		Use:   "ack --dir DIR --user NAME ID",
		Short: "Acknowledge the other party's hotline message as a person; prints the acknowledgement's id",
		Long: `ack records that the user --user (a user of this node with the role duty,
expert or admin; default $PARLEY_USER) read the other party's hotline message ID.
Only the receiving party acknowledges, and once.

It prints the acknowledgement's id.`,
		Args: exactArgs(1, "one hotline message ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.hotlineWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			u, err := m.hotlinePerson(cmd.Context(), n, user, "acknowledging a hotline message")
			if err != nil {
				return err
			}
			h, err := wf.AckHotline(cmd.Context(), args[0], u)
			if err != nil {
				if k := dialogue.KindOf(err); k == dialogue.KindNotFound || k == dialogue.KindInvalid {
					return withHint(err, "list the messages with: parley hotline list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, h.AckID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&user, "user", "", "the user who acknowledges (default $PARLEY_USER)")
	return cmd
}

func (m *Main) newHotlineListCommand() *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir DIR [--channel C] [--json]",
		Short: "List the hotline messages both ways, with their receipts and acknowledgements",
		Long: `list shows each hotline message of a channel (--channel) or of every channel,
sent and received, oldest first:

  STATE         sent (no receipt yet), delivered (the other node has it) or
                acknowledged (a person there read it)
  DELIVERED     when the receiving node had it
  ACKNOWLEDGED  when and by whom (name and role)
  DUE           the time a person had to acknowledge it by
  FLAGS         OVERDUE (not acknowledged, past due), LATE (acknowledged after
                its due time), ESCALATED

--json prints one document: {"hotline": [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.hotlineWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			hs, err := wf.ListHotline(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, map[string]any{"hotline": hs})
			}
			if len(hs) == 0 {
				fmt.Fprintf(m.Stdout, "No hotline messages. Send one with: parley hotline send --dir %s --channel C --text TEXT\n", n.Dir)
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tFROM\tTO\tPRIORITY\tSENT\tSTATE\tDELIVERED\tACKNOWLEDGED\tDUE\tFLAGS\tTEXT")
			for _, h := range hs {
				ack := "-"
				if h.Acknowledged != nil {
					ack = when(*h.Acknowledged) + " by " + h.AcknowledgedBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.From, h.To, h.Priority, when(h.Sent), h.State,
					hotlineWhen(h.Delivered), ack, when(h.AckDue), hotlineFlags(h), hotlineExcerpt(h.Text, 40))
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "the channel's id or title (default: every channel)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func hotlineFlags(h *workflow.Hotline) string {
	var fs []string
	if h.Overdue {
		fs = append(fs, "OVERDUE")
	}
	if h.AckLate {
		fs = append(fs, "LATE")
	}
	if h.Escalation != "" {
		fs = append(fs, "ESCALATED")
	}
	if len(fs) == 0 {
		return "-"
	}
	return strings.Join(fs, ",")
}

func hotlineWhen(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

// hotlineExcerpt shortens s to n characters on one line.
func hotlineExcerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
