package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() { moreCommands = append(moreCommands, (*Main).newAssessCommand, (*Main).newThreatCommand) }

func (m *Main) newAssessCommand() *cobra.Command {
	var dir, channel, sector, rationale string
	var level int
	cmd := &cobra.Command{
		Use:   "assess --dir DIR --channel C --sector S --level 1..5 --rationale TEXT",
		Short: "State this party's threat level for a sector; prints the assessment's id",
		Long: `assess states this party's threat level for a sector on a channel, on the
five-step scale 1 low, 2 guarded, 3 elevated, 4 high, 5 severe, with the reasons.
'parley threat' shows it beside the other party's and Parley's computed level.

Sectors: ` + strings.Join(dialogue.SectorCodes(), ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.Assess(cmd.Context(), channel, sector, level, rationale)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "the channel (id or title)")
	f.StringVar(&sector, "sector", "", "the sector code")
	f.IntVar(&level, "level", 0, "the level, 1 (low) to 5 (severe)")
	f.StringVar(&rationale, "rationale", "", "why")
	return cmd
}

func (m *Main) newThreatCommand() *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "threat --dir DIR [--channel C] [--json]",
		Short: "Threat levels per sector: each party's stated level beside Parley's computed one, with the trend",
		Long: `threat shows, per channel and sector, each party's latest stated level (with its
rationale, when it was stated and when the party last changed it) beside the
level Parley computes from the shared record, and the trend: the computed level
now against 7 and 30 days ago. Both nodes compute the same numbers.

The computed level:

` + workflow.ThreatFormula,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			th, err := wf.Threat(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if asJSON {
				return stmtJSON(m.Stdout, th)
			}
			printThreat(m.Stdout, th)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "one channel (id or title); all by default")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func printThreat(w io.Writer, th *workflow.Threat) {
	if len(th.Channels) == 0 {
		fmt.Fprintln(w, "No channels.")
		return
	}
	for _, ch := range th.Channels {
		fmt.Fprintf(w, "channel %s (%s), as of %s; off-limits: %s\n", ch.Title, ch.Channel, stix.FormatTime(th.AsOf), dash(strings.Join(ch.OffLimits, ", ")))
		if len(ch.Sectors) == 0 {
			fmt.Fprintln(w, "  no assessments or incidents yet")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		head := "SECTOR\tCOMPUTED\tSCORE\t7D AGO\t30D AGO\tTREND"
		for _, p := range ch.Parties {
			head += "\t" + strings.ToUpper(p)
		}
		fmt.Fprintln(tw, head)
		for _, s := range ch.Sectors {
			name := s.Sector
			if s.OffLimits {
				name += " (off-limits)"
			}
			line := fmt.Sprintf("%s\t%d\t%.3f\t%d\t%d\t%s", name, s.Computed.Level, s.Computed.Score, s.Computed7d.Level, s.Computed30d.Level, s.Trend)
			for _, p := range ch.Parties {
				if st := s.Stated[p]; st != nil {
					line += fmt.Sprintf("\t%d since %s", st.Level, st.ChangedAt.Format("2006-01-02"))
				} else {
					line += "\t-"
				}
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
		for _, s := range ch.Sectors {
			for _, p := range ch.Parties {
				if st := s.Stated[p]; st != nil {
					fmt.Fprintf(w, "  %s, %s: %s (stated %s): %s\n", s.Sector, p, st.Level, stix.FormatTime(st.ValidFrom), st.Rationale)
				}
			}
		}
	}
}
