package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// 'parley channel deadlines' is a subcommand of 'parley channel', whose
// command another file builds. This file's init runs after that file's
// (Go runs a package's init functions in the order of the file names it
// is given: peer.go < request_deadlines.go), so it wraps the channel
// command's constructor in moreCommands; request_deadlines.txtar checks
// the command is there.
func init() {
	for i, f := range moreCommands {
		moreCommands[i] = func(m *Main) *cobra.Command {
			cmd := f(m)
			if cmd.Name() == "channel" {
				cmd.AddCommand(m.newChannelDeadlinesCommand())
			}
			return cmd
		}
	}
}

func (m *Main) newChannelDeadlinesCommand() *cobra.Command {
	var dir string
	var ack, answer, offAck, offAnswer time.Duration
	var reset, asJSON bool
	cmd := &cobra.Command{
		Use:   "deadlines --dir DIR CHANNEL [--ack D --answer D] [--off-limits-ack D --off-limits-answer D] [--default] [--json]",
		Short: "Show or set the deadlines of the requests this node files on a channel",
		Long: `deadlines shows the time this node's party gives the other party of a channel to
acknowledge and to answer the assistance requests it files there: normally
(default 24h and 72h) and when a request hits a sector of the channel's agreed
off-limits list (default 1h and 24h). With flags it sets them: --ack and
--answer together, --off-limits-ack and --off-limits-answer together; --default
goes back to the defaults.

Each deadline is between 1m and 90 days, the answer no earlier than the
acknowledgement, and the off-limits ones no longer than the normal ones. The
deadlines are written into each request when it is filed, so the other party
sees the same ones; requests filed before keep theirs.`,
		Example: `  parley channel deadlines --dir a a-b --ack 12h --answer 48h
  parley channel deadlines --dir a a-b --off-limits-ack 30m --off-limits-answer 12h`,
		Args: exactArgs(1, "the channel (id or title)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			ctx := cmd.Context()
			d, err := wf.RequestDeadlines(ctx, args[0])
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			fl := cmd.Flags()
			pair := func(a, b string, da, db time.Duration, cur workflow.DeadlinePair) (dialogue.Deadlines, error) {
				switch {
				case !fl.Changed(a) && !fl.Changed(b):
					if cur.Default {
						return dialogue.Deadlines{}, nil
					}
					return cur.Deadlines(), nil
				case fl.Changed(a) != fl.Changed(b):
					return dialogue.Deadlines{}, withHint(fmt.Errorf("--%s and --%s go together", a, b), "see 'parley channel deadlines --help'")
				}
				return dialogue.Deadlines{Ack: da, Answer: db}, nil
			}
			changed := reset || fl.Changed("ack") || fl.Changed("answer") || fl.Changed("off-limits-ack") || fl.Changed("off-limits-answer")
			if changed {
				var normal, off dialogue.Deadlines
				if !reset {
					if normal, err = pair("ack", "answer", ack, answer, d.Normal); err != nil {
						return err
					}
					if off, err = pair("off-limits-ack", "off-limits-answer", offAck, offAnswer, d.OffLimits); err != nil {
						return err
					}
				} else if fl.Changed("ack") || fl.Changed("off-limits-ack") || fl.Changed("answer") || fl.Changed("off-limits-answer") {
					return withHint(fmt.Errorf("--default sets every deadline back: give no other deadline with it"), "see 'parley channel deadlines --help'")
				}
				if d, err = wf.SetRequestDeadlines(ctx, args[0], normal, off); err != nil {
					return err
				}
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, d)
			}
			printDeadlines(m.Stdout, d)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.DurationVar(&ack, "ack", 0, "time to acknowledge a request (e.g. 24h)")
	f.DurationVar(&answer, "answer", 0, "time to answer a request (e.g. 72h)")
	f.DurationVar(&offAck, "off-limits-ack", 0, "time to acknowledge a request that hits an agreed off-limits sector (e.g. 1h)")
	f.DurationVar(&offAnswer, "off-limits-answer", 0, "time to answer a request that hits an agreed off-limits sector (e.g. 24h)")
	f.BoolVar(&reset, "default", false, "go back to the default deadlines")
	f.BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func printDeadlines(w io.Writer, d *workflow.ChannelDeadlines) {
	show := func(p workflow.DeadlinePair) string {
		s := fmt.Sprintf("acknowledge within %s, answer within %s", time.Duration(p.AckSeconds)*time.Second, time.Duration(p.AnswerSeconds)*time.Second)
		if p.Default {
			s += " (default)"
		}
		return s
	}
	fmt.Fprintf(w, "Requests this node files on channel %s (%s):\n", d.Title, d.Channel)
	fmt.Fprintf(w, "  %-23s%s\n", "normally:", show(d.Normal))
	fmt.Fprintf(w, "  %-23s%s\n", "off-limits sector hit:", show(d.OffLimits))
}
