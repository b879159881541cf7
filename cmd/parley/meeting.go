package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() { moreCommands = append(moreCommands, (*Main).newMeetingCommand) }

func (m *Main) newMeetingCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "meeting",
		Short: "Expert rounds: agenda, minutes both parties sign, action items",
		Long: `A meeting is an expert round on a channel: its date, participants, agenda items
linking reports and requests, minutes (a statement both parties sign) and action
items. The convening party writes the meeting and its updates; the other party
agrees by signing the minutes.`,
	}
	cmd.AddCommand(m.newMeetingCreateCommand(), m.newMeetingAgendaCommand(), m.newMeetingMinutesCommand(),
		m.newMeetingSignCommand(), m.newMeetingActionCommand(), m.newMeetingShowCommand())
	return cmd
}

// meetingItems parses --item "TITLE" or "TITLE=REF,REF".
func meetingItems(items []string) []workflow.AgendaItem {
	var out []workflow.AgendaItem
	for _, it := range items {
		title, refs, _ := strings.Cut(it, "=")
		a := workflow.AgendaItem{Title: title}
		for _, r := range strings.Split(refs, ",") {
			if r = strings.TrimSpace(r); r != "" {
				a.ObjectRefs = append(a.ObjectRefs, r)
			}
		}
		out = append(out, a)
	}
	return out
}

// meetingTime parses an RFC 3339 time flag.
func meetingTime(flag, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-12-03T10:00:00Z", flag, v)
	}
	return t, nil
}

func (m *Main) newMeetingCreateCommand() *cobra.Command {
	var dir, channel, name, start string
	var participants, items []string
	cmd := &cobra.Command{
		Use:   "create --dir DIR --channel C --name NAME --start TIME [--participant PARTY:NAME[:ROLE]]... [--item TITLE[=REF,...]]...",
		Short: "Convene a meeting; prints its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := meetingTime("start", start)
			if err != nil {
				return err
			}
			in := workflow.MeetingInput{Name: name, Start: t, Agenda: meetingItems(items)}
			for _, p := range participants {
				parts := strings.SplitN(p, ":", 3)
				if len(parts) < 2 {
					return fmt.Errorf("--participant %q: want PARTY:NAME or PARTY:NAME:ROLE", p)
				}
				pt := workflow.Participant{Party: parts[0], Name: parts[1]}
				if len(parts) == 3 {
					pt.Role = parts[2]
				}
				in.Participants = append(in.Participants, pt)
			}
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.CreateMeeting(cmd.Context(), channel, in)
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
	f.StringVar(&name, "name", "", "the meeting's name")
	f.StringVar(&start, "start", "", "when it starts (RFC 3339)")
	f.StringArrayVar(&participants, "participant", nil, "a participant: PARTY:NAME[:ROLE], PARTY a party's node name")
	f.StringArrayVar(&items, "item", nil, "an agenda item: TITLE, or TITLE=REF,REF with report and request ids")
	return cmd
}

func (m *Main) newMeetingAgendaCommand() *cobra.Command {
	var dir string
	var items []string
	cmd := &cobra.Command{
		Use:   "agenda --dir DIR ID --item TITLE[=REF,...]...",
		Short: "Add items to a meeting's agenda",
		Args:  exactArgs(1, "one meeting ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := wf.AddAgenda(cmd.Context(), args[0], meetingItems(items)...); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Added %d agenda items to %s.\n", len(items), args[0])
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringArrayVar(&items, "item", nil, "an agenda item: TITLE, or TITLE=REF,REF with report and request ids")
	return cmd
}

func (m *Main) newMeetingMinutesCommand() *cobra.Command {
	var dir string
	var texts, files []string
	cmd := &cobra.Command{
		Use:   "minutes --dir DIR ID --text LANG=TEXT...",
		Short: "Write a meeting's minutes (a statement both parties sign); prints the statement's id",
		Args:  exactArgs(1, "one meeting ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := stmtTexts(texts, files)
			if err != nil {
				return err
			}
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.MeetingMinutes(cmd.Context(), args[0], t)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringArrayVar(&texts, "text", nil, "the minutes in one language: LANG=TEXT (repeat per language)")
	cmd.Flags().StringArrayVar(&files, "text-file", nil, "the minutes in one language read from a file: LANG=FILE")
	return cmd
}

func (m *Main) newMeetingSignCommand() *cobra.Command {
	var dir, sum, by string
	cmd := &cobra.Command{
		Use:   "sign --dir DIR ID --sha256 HASH [--by NAME]",
		Short: "Sign a meeting's minutes by their hash; prints the signature's id",
		Args:  exactArgs(1, "one meeting ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.SignMinutes(cmd.Context(), args[0], sum, m.stmtSigner(by))
			if err != nil {
				return withHint(err, "see the minutes and their hash with: parley meeting show --dir %s %s", n.Dir, args[0])
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&sum, "sha256", "", "the text_sha256 of the minutes you sign")
	cmd.Flags().StringVar(&by, "by", "", "who signs (name and role), for the record")
	return cmd
}

func (m *Main) newMeetingActionCommand() *cobra.Command {
	var dir, owner, due, text, status string
	var index int
	cmd := &cobra.Command{
		Use:   "action --dir DIR ID (--owner PARTY --due TIME --text TEXT | --index N --status open|done|dropped)",
		Short: "Add an action item to a meeting (prints its index), or set an item's status",
		Args:  exactArgs(1, "one meeting ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if cmd.Flags().Changed("index") {
				if err := wf.SetActionStatus(cmd.Context(), args[0], index, status); err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "Action item %d of %s is %s.\n", index, args[0], status)
				return nil
			}
			t, err := meetingTime("due", due)
			if err != nil {
				return err
			}
			i, err := wf.AddActionItem(cmd.Context(), args[0], text, owner, t)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, i)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&owner, "owner", "", "the party that owes the action (node name)")
	f.StringVar(&due, "due", "", "its deadline (RFC 3339)")
	f.StringVar(&text, "text", "", "what is to be done")
	f.IntVar(&index, "index", 0, "the action item to update")
	f.StringVar(&status, "status", "", "its new status: open, done or dropped")
	return cmd
}

func (m *Main) newMeetingShowCommand() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --dir DIR ID [--json]",
		Short: "Show a meeting: agenda, minutes and their signatures, action items",
		Args:  exactArgs(1, "one meeting ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			mt, err := wf.MeetingByID(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return stmtJSON(m.Stdout, mt)
			}
			printMeeting(m.Stdout, mt)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func printMeeting(w io.Writer, mt *workflow.Meeting) {
	fmt.Fprintf(w, "meeting      %s\nname         %s\nstart        %s\nconvened by  %s\nchannel      %s\n", mt.ID, mt.Name, stix.FormatTime(mt.Start), mt.ConvenedBy, mt.Channel)
	fmt.Fprintln(w, "--- participants")
	for _, p := range mt.Participants {
		fmt.Fprintf(w, "%s: %s %s\n", p.Party, p.Name, p.Role)
	}
	fmt.Fprintln(w, "--- agenda")
	for i, a := range mt.Agenda {
		fmt.Fprintf(w, "%d. %s %s\n", i+1, a.Title, strings.Join(a.ObjectRefs, " "))
	}
	fmt.Fprintln(w, "--- minutes")
	if mt.Minutes == nil {
		fmt.Fprintln(w, "none yet")
	} else {
		printStatement(w, mt.Minutes)
	}
	fmt.Fprintln(w, "--- action items")
	for _, a := range mt.ActionItems {
		over := ""
		if a.Overdue {
			over = " OVERDUE"
		}
		fmt.Fprintf(w, "[%d] %s: %s (due %s, %s%s)\n", a.Index, a.Owner, a.Description, stix.FormatTime(a.Due), a.Status, over)
	}
}
