package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// The check command registers itself from hotline.go's init.

func (m *Main) newCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Communication checks: ping the other party's duty officer, answer its pings, list both ways",
		Long: `A communication check pings the other party's duty officer. 'parley serve'
sends one on each active channel every ` + workflow.DefaultComms.CheckInterval.String() + ` (scheduled) and writes the
delivery receipt of the other party's pings by itself; 'parley check send'
sends one now (on-demand); a person answers with 'parley check answer'. The
answer times make each party's answer rate and median answer time, the same on
both nodes.`,
	}
	cmd.AddCommand(m.newCheckSendCommand(), m.newCheckAnswerCommand(), m.newCheckListCommand())
	return cmd
}

func (m *Main) newCheckSendCommand() *cobra.Command {
	var dir, channel string
	cmd := &cobra.Command{
		Use:     "send --dir DIR --channel C",
		Short:   "Ping the other party of a channel now; prints the check's id",
		Example: `  parley check send --dir a --channel a-b`,
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
			k, err := wf.SendCheck(cmd.Context(), channel)
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, k.ID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "the channel's id or title")
	return cmd
}

func (m *Main) newCheckAnswerCommand() *cobra.Command {
	var dir, user string
	cmd := &cobra.Command{
		Use:   "answer --dir DIR --user NAME ID",
		Short: "Answer the other party's check as its duty officer; prints the answer's id",
		Long: `answer records that the user --user (a user of this node with the role duty,
expert or admin; default $PARLEY_USER) answered the other party's check ID, at
this moment. Only the checked party answers, and once.

It prints the answer's id.`,
		Args: exactArgs(1, "one check ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.hotlineWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			u, err := m.hotlinePerson(cmd.Context(), n, user, "answering a communication check")
			if err != nil {
				return err
			}
			k, err := wf.AnswerCheck(cmd.Context(), args[0], u)
			if err != nil {
				if k := dialogue.KindOf(err); k == dialogue.KindNotFound || k == dialogue.KindInvalid {
					return withHint(err, "list the checks with: parley check list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, k.AnswerID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&user, "user", "", "the user who answers (default $PARLEY_USER)")
	return cmd
}

func (m *Main) newCheckListCommand() *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir DIR [--channel C] [--json]",
		Short: "List the checks both ways with their answer times, and each party's answer rate",
		Long: `list shows each communication check of a channel (--channel) or of every
channel, sent and received, oldest first: its trigger (scheduled or on-demand),
when it was sent, delivered and answered, by whom, and the time to answer.

Then, per channel and party, the figures: the checks it received, those it
answered, the answer rate and the median answer time. A check not answered
yet counts as unanswered. Both nodes show the same figures.

--json prints one document: {"checks": [...], "figures": [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.hotlineWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			ks, figs, err := wf.ListChecks(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, map[string]any{"checks": ks, "figures": figs})
			}
			if len(ks) == 0 {
				fmt.Fprintf(m.Stdout, "No communication checks. Send one with: parley check send --dir %s --channel C\n", n.Dir)
			} else {
				tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tFROM\tTO\tTRIGGER\tSENT\tSTATE\tDELIVERED\tANSWERED\tBY\tANSWER TIME")
				for _, k := range ks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.From, k.To, k.Trigger, when(k.Sent), k.State,
						hotlineWhen(k.Delivered), hotlineWhen(k.Answered), dash(k.AnsweredBy), checkSeconds(k.AnswerSeconds))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if len(figs) == 0 {
				return nil
			}
			fmt.Fprintln(m.Stdout)
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CHANNEL\tPARTY\tCHECKS RECEIVED\tANSWERED\tANSWER RATE\tMEDIAN ANSWER TIME")
			for _, f := range figs {
				rate := "-"
				if f.AnswerRate != nil {
					rate = strconv.FormatFloat(100**f.AnswerRate, 'f', 0, 64) + "%"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", f.Channel, f.Party, f.Sent, f.Answered, rate, checkSeconds(f.MedianAnswerSeconds))
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "the channel's id or title (default: every channel)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func checkSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return (time.Duration(*s * float64(time.Second))).Round(time.Second).String()
}
