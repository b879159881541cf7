package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newRequestCommand)
}

func (m *Main) newRequestCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask the other party for assistance, and move, list and show requests",
		Long: `An assistance request asks the other party of a channel to act on an
incident report. States: submitted → acknowledged → answered → closed, or
declined. Only the receiving party acknowledges, answers or declines; only
the requesting party closes, once answered.

Deadlines: acknowledgement within 24 h and answer within 72 h of filing; 1 h
and 24 h when the request hits a sector of the channel's agreed off-limits
list. "Overdue" is computed from the clock.`,
	}
	cmd.AddCommand(m.newRequestFileCommand())
	for _, a := range []struct {
		use   string
		act   dialogue.RequestAction
		short string
	}{
		{"ack", dialogue.ActionAcknowledge, "Acknowledge a request (the receiving party)"},
		{"answer", dialogue.ActionAnswer, "Answer a request with what was done (the receiving party)"},
		{"decline", dialogue.ActionDecline, "Decline a request, with the reason in --text (the receiving party)"},
		{"close", dialogue.ActionClose, "Close an answered request (the requesting party)"},
	} {
		cmd.AddCommand(m.newRequestMoveCommand(a.use, a.act, a.short))
	}
	cmd.AddCommand(m.newRequestListCommand(), m.newRequestShowCommand())
	return cmd
}

func (m *Main) newRequestFileCommand() *cobra.Command {
	var dir, channel, text, name string
	var about, infra, sectors []string
	cmd := &cobra.Command{
		Use:   "file --dir D [--channel C] --about REPORT_ID [--infra ADDR,...] --text TEXT",
		Short: "Ask the other party of a channel for assistance about incident reports",
		Long: `file sends an assistance request about one or more incident reports of the
channel (--about, repeat or separate with commas). --infra lists the
infrastructure to act on: IPv4/IPv6 addresses, CIDRs, domain names, URLs.
The sectors are the reports' unless --sector says otherwise. It prints the
request's id.

Without --channel the request is routed: the infrastructure is grouped by
the territory where it lies (the node's GeoIP databases), and each group
goes to the party registered for that territory, as 'parley route' does;
it prints each request's id, and on standard error what lies on no party's
territory (kept with the requests as unrouted).`,
		Example: `  parley request file --dir a --channel a-b --about report--… --infra 203.0.113.7,c2.example --text 'Please take the C2 server down'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if channel == "" {
				return m.routeRequest(cmd.Context(), n, wf, workflow.RouteFiling{About: about, Infrastructure: infra, Text: text, Name: name, Sectors: sectors})
			}
			id, err := wf.FileRequest(cmd.Context(), workflow.RequestFiling{Channel: channel, About: about, Infrastructure: infra, Text: text, Name: name, Sectors: sectors})
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "the channel (id or title); without it, routed by territory")
	f.StringSliceVar(&about, "about", nil, "the incident report(s) the request is about")
	f.StringSliceVar(&infra, "infra", nil, "addresses, CIDRs, domains or URLs to act on")
	f.StringVar(&text, "text", "", "what you ask the other party to do")
	f.StringVar(&name, "name", "", "a short title (default: the text's first line)")
	f.StringSliceVar(&sectors, "sector", nil, "sector codes (default: the reports' sectors)")
	return cmd
}

func (m *Main) newRequestMoveCommand(use string, act dialogue.RequestAction, short string) *cobra.Command {
	var dir, kind, text string
	var refs []string
	cmd := &cobra.Command{
		Use:   use + " --dir D ID [--kind KIND] [--text TEXT]",
		Short: short,
		Args:  exactArgs(1, "the request's id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.MoveRequest(cmd.Context(), args[0], workflow.Move{Action: act, Kind: dialogue.ResponseKind(kind), Text: text, Refs: refs})
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the requests with: parley request list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	switch act {
	case dialogue.ActionAnswer:
		kinds := make([]string, len(dialogue.ResponseKinds))
		for i, k := range dialogue.ResponseKinds {
			kinds[i] = string(k)
		}
		cmd.Long = "answer says what the receiving party did (--kind, required): " + strings.Join(kinds, ", ") +
			".\nA cannot-act answer needs the reason in --text. --ref adds objects the answer carries (indicators,\nsightings, evidence already in the channel). It prints the transition's id."
		f.StringVar(&kind, "kind", "", "what was done: "+strings.Join(kinds, ", "))
		f.StringSliceVar(&refs, "ref", nil, "ids of objects the answer carries")
		f.StringVar(&text, "text", "", "what was done, in words (the reason, for cannot-act)")
	case dialogue.ActionDecline:
		cmd.Long = "decline refuses a request; the reason is required, in --text. It prints the transition's id."
		f.StringVar(&text, "text", "", "the reason (required)")
	default:
		cmd.Long = use + " moves the request; it prints the transition's id."
		f.StringVar(&text, "text", "", "a note")
	}
	return cmd
}

func (m *Main) newRequestListCommand() *cobra.Command {
	var dir, channel, state string
	var overdue, asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir D [--state S] [--overdue] [--json]",
		Short: "List the assistance requests, with their state and deadlines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := workflow.RequestFilter{Channel: channel, Overdue: overdue}
			if state != "" {
				s, err := workflow.ParseRequestState(state)
				if err != nil {
					return err
				}
				f.State = s
			}
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			rs, err := wf.Requests(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				if rs == nil {
					rs = []*workflow.Request{}
				}
				return reportPrintJSON(m.Stdout, rs)
			}
			if len(rs) == 0 {
				fmt.Fprintln(m.Stdout, "No requests.")
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tFROM\tTO\tACK BY\tANSWER BY\tOVERDUE\tNAME")
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.From, r.To, requestTime(r.AckDeadline.UTC()), requestTime(r.AnswerDeadline.UTC()), overdueWord(r), r.Name)
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "only this channel (id or title)")
	f.StringVar(&state, "state", "", "only requests in this state: submitted, acknowledged, answered, closed, declined")
	f.BoolVar(&overdue, "overdue", false, "only overdue requests")
	f.BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func requestTime(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04Z") }

func overdueWord(r *workflow.Request) string {
	switch {
	case r.AckOverdue && r.AnswerOverdue:
		return "ack+answer"
	case r.AckOverdue:
		return "ack"
	case r.AnswerOverdue:
		return "answer"
	}
	return "-"
}

func (m *Main) newRequestShowCommand() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --dir D ID [--json]",
		Short: "Show a request: state, deadlines, overdue, and its history with log indexes",
		Args:  exactArgs(1, "the request's id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := wf.Request(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, r)
			}
			printRequest(m.Stdout, r)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func printRequest(w io.Writer, r *workflow.Request) {
	fmt.Fprintf(w, "Request %s\n  name:      %s\n  state:     %s\n  from:      %s\n  to:        %s\n  about:     %s\n", r.ID, r.Name, r.State, r.From, r.To, strings.Join(r.About, ", "))
	if len(r.Infrastructure) > 0 {
		fmt.Fprintf(w, "  infra:     %s\n", strings.Join(r.Infrastructure, ", "))
	}
	fmt.Fprintf(w, "  sectors:   %s (off-limits: %v)\n  ack by:    %s\n  answer by: %s\n  overdue:   %s\n  text:      %s\nHistory:\n",
		strings.Join(r.Sectors, ", "), r.OffLimits, requestTime(r.AckDeadline.UTC()), requestTime(r.AnswerDeadline.UTC()), overdueWord(r), r.Text)
	line := func(h *workflow.Transition) string {
		s := fmt.Sprintf("%s  %-11s → %-12s by %s", requestTime(h.At.UTC()), h.Action, h.ToState, h.By)
		if h.Kind != "" {
			s += " (" + string(h.Kind) + ")"
		}
		if h.LogIndex != nil {
			s += fmt.Sprintf("  [%s, index %d]", h.Log, *h.LogIndex)
		} else {
			s += "  [" + h.Log + "]"
		}
		if h.Reason != "" {
			s += "\n      reason: " + h.Reason
		}
		if h.Text != "" {
			s += "\n      " + h.Text
		}
		return s
	}
	for _, h := range r.History {
		fmt.Fprintf(w, "  %s\n", line(h))
	}
	for _, h := range r.Refused {
		fmt.Fprintf(w, "  REFUSED %s %s by %s: %s\n", h.ID, h.Action, h.By, h.Refused)
	}
}
