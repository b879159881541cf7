package main

import (
	"cmp"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newSummaryCommand, (*Main).newResponsivenessCommand)
}

func (m *Main) newSummaryCommand() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "summary --dir DIR [--json]",
		Short: "The leadership summary: counts, threat levels, overdue items, agreed statements, responsiveness",
		Long: `summary prints what leadership needs of the dialogue, over every channel:
counts, each sector's threat levels (the parties' stated levels and Parley's
computed one), what is overdue (off-limits items first), the agreed statements
and each party's responsiveness.

It holds nothing marked above TLP:GREEN and no indicator values, patterns,
evidence or free text of reports, requests and hotline messages: the computed
levels weigh only the TLP:CLEAR and TLP:GREEN reports, so they may be lower
than 'parley threat' shows. --json prints one document with the keys counts,
threat, requests, overdue, statements and responsiveness (keyed by party).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			s, err := wf.Summary(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, s)
			}
			printSummary(m.Stdout, s)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func (m *Main) newResponsivenessCommand() *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "responsiveness --dir DIR [--channel C] [--json]",
		Short: "Each party's responsiveness: requests acknowledged and answered in time, median times, check answers",
		Long: `responsiveness shows, per channel and pooled per party, how each party handled
what the other sent it: the share of assistance requests it acknowledged and
answered by their deadlines, the median times from filing, and the share of
communication checks it answered with the median answer time.

A request still open before its deadline counts nowhere yet; a decline counts
as the acknowledgement and takes the request out of the answer figures. Both
nodes compute the same numbers from the same record at the same time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := wf.Responsiveness(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, r)
			}
			printResponsiveness(m.Stdout, r)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel (id or title)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// summaryPct formats a share as a percentage, "-" when there is none.
func summaryPct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *p*100)
}

// summaryDur formats seconds as a duration, "-" when there are none.
func summaryDur(p *float64) string {
	if p == nil {
		return "-"
	}
	return (time.Duration(*p * float64(time.Second))).Round(time.Second).String()
}

func printResponsivenessRows(tw io.Writer, parties []workflow.PartyResponsiveness) {
	fmt.Fprintln(tw, "  PARTY\tREQUESTS\tACK IN TIME\tMEDIAN ACK\tANSWERED IN TIME\tMEDIAN ANSWER\tCHECKS ANSWERED\tMEDIAN CHECK")
	for _, p := range parties {
		rq, ck := p.Requests, p.Checks
		fmt.Fprintf(tw, "  %s\t%d\t%s (%d/%d)\t%s\t%s (%d/%d)\t%s\t%s (%d/%d)\t%s\n", p.Party, rq.Received,
			summaryPct(rq.AckInTimeShare), rq.AckInTime, rq.AckDue, summaryDur(rq.MedianAckSeconds),
			summaryPct(rq.AnswerInTimeShare), rq.AnswerInTime, rq.AnswerDue, summaryDur(rq.MedianAnswerSeconds),
			summaryPct(ck.AnswerRate), ck.Answered, ck.Sent, summaryDur(ck.MedianAnswerSeconds))
	}
}

func printResponsiveness(w io.Writer, r *workflow.Responsiveness) {
	fmt.Fprintf(w, "Responsiveness as of %s\n", r.AsOf.Format(time.RFC3339))
	if len(r.Channels) == 0 {
		fmt.Fprintln(w, "No channels.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Channels {
		fmt.Fprintf(tw, "channel %s (%s)\n", c.Title, c.Channel)
		printResponsivenessRows(tw, c.Parties)
	}
	tw.Flush()
}

func printSummary(w io.Writer, s *workflow.Summary) {
	fmt.Fprintf(w, "Leadership summary of %s as of %s\n", s.Node, s.AsOf.Format(time.RFC3339))
	fmt.Fprintf(w, "(%s)\n\n", s.Policy)
	c := s.Counts
	fmt.Fprintf(w, "Channels: %d. Incident reports (TLP:CLEAR/GREEN): %d. Requests: %d. Hotline messages: %d (%d unacknowledged). Checks: %d (%d answered). Escalations: %d. Meetings: %d.\n",
		c.Channels, c.Reports, c.Requests, c.Hotline, c.HotlineUnacknowledged, c.Checks, c.ChecksAnswered, c.Escalations, c.Meetings)
	var states []string
	for k, v := range s.Requests {
		if k != "total" {
			states = append(states, fmt.Sprintf("%s %d", k, v))
		}
	}
	sort.Strings(states)
	fmt.Fprintf(w, "Requests by state: %s.\n\n", strings.Join(states, ", "))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "Threat levels:")
	if len(s.Threat) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, ct := range s.Threat {
		fmt.Fprintf(tw, "  channel %s; off-limits: %s\n", ct.Title, orNone(ct.OffLimits))
		fmt.Fprintln(tw, "  SECTOR\tSTATED\tCOMPUTED\tTREND")
		for _, sec := range ct.Sectors {
			var stated []string
			for party, l := range sec.Stated {
				if l != nil {
					stated = append(stated, fmt.Sprintf("%s %d", party, *l))
				}
			}
			sort.Strings(stated)
			name := sec.Sector
			if sec.OffLimits {
				name += " (off-limits)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, orNone(stated), sec.Computed.Level, sec.Trend)
		}
	}
	tw.Flush()

	fmt.Fprintln(w, "\nOverdue:")
	if len(s.Overdue) == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	for _, o := range s.Overdue {
		fmt.Fprintf(tw, "  [%s]\t%s\t%s\t%s late since %s\t(%s)\n", o.Priority, o.Kind, o.Owner, o.Late, o.Due.Format(time.RFC3339), o.ID)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nAgreed statements:")
	if len(s.Statements) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, st := range s.Statements {
		fmt.Fprintf(w, "  %s agreed %s (%s)", st.Kind, st.AgreedAt.Format(time.RFC3339), st.ID)
		if len(st.Sectors) > 0 {
			fmt.Fprintf(w, ": sectors %s", strings.Join(st.Sectors, ", "))
		}
		fmt.Fprintln(w)
		var langs []string
		for l := range st.Texts {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			fmt.Fprintf(w, "    [%s] %s\n", l, st.Texts[l])
		}
	}

	fmt.Fprintln(w, "\nResponsiveness:")
	var parties []workflow.PartyResponsiveness
	for _, p := range s.Responsiveness {
		parties = append(parties, p)
	}
	sort.Slice(parties, func(i, j int) bool { return parties[i].Party < parties[j].Party })
	printResponsivenessRows(tw, parties)
	tw.Flush()

	fmt.Fprintln(w, "\nOrigins of the attacks reported (TLP:CLEAR and TLP:GREEN reports):")
	none := true
	for _, o := range s.Origins {
		for _, p := range o.Parties {
			if len(p.Territories) == 0 && len(p.ASNs) == 0 {
				continue
			}
			none = false
			var ts, as []string
			for _, t := range p.Territories {
				ts = append(ts, fmt.Sprintf("%s %d", cmp.Or(t.Territory, "unknown"), t.Reports))
			}
			for _, a := range p.ASNs {
				as = append(as, fmt.Sprintf("AS%d %d", a.ASN, a.Reports))
			}
			fmt.Fprintf(w, "  %s, reported by %s: territories %s; AS %s\n", o.Title, p.Party, orNone(ts), orNone(as))
		}
	}
	if none {
		fmt.Fprintln(w, "  none")
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
