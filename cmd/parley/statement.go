package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newStatementCommand, (*Main).newOffLimitsCommand)
}

// stmtWorkflow opens the node in dir and its workflows.
func (m *Main) stmtWorkflow(ctx context.Context, dir string) (*node.Node, *workflow.Service, error) {
	n, err := m.openNode(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if n.LogKey() == "" {
		n.Close()
		return nil, nil, withHint(fmt.Errorf("the node has no log key: the dialogue needs one"), "make it with: parley keys init --dir %s", n.Dir)
	}
	return n, workflow.New(n.Store, n.Config.Name, n.LogKey()), nil
}

// stmtTexts parses --text LANG=TEXT and --text-file LANG=FILE flags.
func stmtTexts(texts, files []string) (map[string]string, error) {
	out := map[string]string{}
	add := func(flag, v string, read bool) error {
		lang, val, ok := strings.Cut(v, "=")
		if !ok || lang == "" {
			return fmt.Errorf("%s %q: want LANG=%s, e.g. en=…", flag, v, map[bool]string{false: "TEXT", true: "FILE"}[read])
		}
		if _, dup := out[lang]; dup {
			return fmt.Errorf("%s: language %s given twice", flag, lang)
		}
		if read {
			b, err := os.ReadFile(val)
			if err != nil {
				return fmt.Errorf("%s %s: %w", flag, lang, err)
			}
			val = string(b)
		}
		out[lang] = val
		return nil
	}
	for _, t := range texts {
		if err := add("--text", t, false); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := add("--text-file", f, true); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no text: give --text LANG=TEXT or --text-file LANG=FILE, once per language")
	}
	return out, nil
}

// stmtSigner is who signs from the command line: --by, else the user
// running the command.
func (m *Main) stmtSigner(by string) string {
	if by != "" {
		return by
	}
	u := m.Getenv("USER")
	if u == "" {
		u = "operator"
	}
	return u + " (command line)"
}

func (m *Main) newStatementCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Propose, sign and show statements: texts both parties agree by signing their hash",
		Long: `A statement is a text, in one or more languages, that one party proposes on a
channel and both parties sign. Each signature names the hash of the text
(text_sha256: the SHA-256 of the RFC 8785 JSON serialisation of the texts), and
the statement is agreed once both parties have signed that same hash. A
statement never changes: a changed text is a new statement.`,
	}
	cmd.AddCommand(m.newStatementProposeCommand("propose", workflow.StatementJoint), m.newStatementSignCommand(), m.newStatementShowCommand(""))
	return cmd
}

func (m *Main) newOffLimitsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "offlimits",
		Short: "The critical-infrastructure sectors both parties agree never to attack",
		Long: `The off-limits list of a channel is the sectors of its latest agreed off-limits
statement: a statement of kind off-limits naming sector codes, signed by both
parties. An incident or request that touches one gets the short deadlines and is
escalated on its own.`,
	}
	cmd.AddCommand(m.newStatementProposeCommand("propose", workflow.StatementOffLimits), m.newStatementSignCommand(), m.newStatementShowCommand(workflow.StatementOffLimits))
	return cmd
}

func (m *Main) newStatementProposeCommand(use string, kind workflow.StatementKind) *cobra.Command {
	var dir, channel, kindFlag, meeting string
	var texts, files, sectors []string
	off := kind == workflow.StatementOffLimits
	cmd := &cobra.Command{
		Use:   use + " --dir DIR --channel C --text LANG=TEXT... [--kind KIND] [--meeting ID]",
		Short: "Propose a statement on a channel; prints its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := stmtTexts(texts, files)
			if err != nil {
				return withHint(err, "see '%s --help'", cmd.CommandPath())
			}
			k := kind
			if !off {
				if k, err = workflow.ParseStatementKind(kindFlag); err != nil {
					return err
				}
			}
			var secs []string
			for _, s := range sectors {
				secs = append(secs, strings.Split(s, ",")...)
			}
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.ProposeStatement(cmd.Context(), channel, workflow.StatementProposal{Kind: k, Texts: t, MeetingRef: meeting, Sectors: secs})
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
	f.StringArrayVar(&texts, "text", nil, "the text in one language: LANG=TEXT (repeat per language: en=…, ru=…)")
	f.StringArrayVar(&files, "text-file", nil, "the text in one language read from a file: LANG=FILE")
	f.StringVar(&meeting, "meeting", "", "the meeting the statement belongs to")
	if off {
		cmd.Short = "Propose the off-limits sectors of a channel; prints the statement's id"
		cmd.Use = use + " --dir DIR --channel C --sector S[,S...] --text LANG=TEXT..."
		f.StringArrayVar(&sectors, "sector", nil, "an off-limits sector code (repeat, or separate with commas): "+strings.Join(dialogue.SectorCodes(), ", "))
	} else {
		f.StringVar(&kindFlag, "kind", string(workflow.StatementJoint), "joint-statement, minutes (needs --meeting) or off-limits (use 'parley offlimits propose')")
	}
	return cmd
}

func (m *Main) newStatementSignCommand() *cobra.Command {
	var dir, sum, by string
	cmd := &cobra.Command{
		Use:   "sign --dir DIR ID --sha256 HASH [--by NAME]",
		Short: "Sign a statement's text by its hash; prints the signature's id",
		Long: `sign signs the statement ID as this node's party. --sha256 is the text_sha256
that 'show' printed for the text you read: a hash that is not the statement's is
refused, and a party signs a statement once. --by names who signs, for the
record (default: the user running the command).`,
		Args: exactArgs(1, "one statement ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.stmtWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := wf.SignStatement(cmd.Context(), args[0], sum, m.stmtSigner(by))
			if err != nil {
				return withHint(err, "see the statement and its hash with: parley statement show --dir %s %s", n.Dir, args[0])
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&sum, "sha256", "", "the text_sha256 of the text you sign")
	cmd.Flags().StringVar(&by, "by", "", "who signs (name and role), for the record")
	return cmd
}

func (m *Main) newStatementShowCommand(kind workflow.StatementKind) *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --dir DIR [ID] [--channel C] [--json]",
		Short: "Show a statement with its texts and signatures, or list them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, wf, err := m.stmtWorkflow(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if len(args) == 1 {
				st, err := wf.StatementByID(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return stmtJSON(m.Stdout, st)
				}
				printStatement(m.Stdout, st)
				return nil
			}
			sts, err := wf.Statements(ctx, channel, kind)
			if err != nil {
				return err
			}
			if kind == workflow.StatementOffLimits {
				return m.showOffLimits(ctx, wf, channel, sts, asJSON)
			}
			if asJSON {
				return stmtJSON(m.Stdout, map[string]any{"statements": sts})
			}
			printStatements(m.Stdout, sts)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "list one channel's (id or title)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	if kind == workflow.StatementOffLimits {
		cmd.Short = "Show the agreed off-limits sectors of each channel and the off-limits statements"
	}
	return cmd
}

func (m *Main) showOffLimits(ctx context.Context, wf *workflow.Service, channel string, sts []*workflow.Statement, asJSON bool) error {
	agreed := map[string][]string{}
	chans := map[string]bool{}
	for _, st := range sts {
		chans[st.Channel] = true
	}
	if channel != "" {
		ch, _, err := wf.Channel(ctx, channel)
		if err != nil {
			return err
		}
		chans = map[string]bool{ch.ID: true}
	}
	var ids []string
	for id := range chans {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ch, _, err := wf.Channel(ctx, id)
		if err != nil {
			return err
		}
		if agreed[id], err = wf.OffLimits(ctx, ch); err != nil {
			return err
		}
	}
	if asJSON {
		return stmtJSON(m.Stdout, map[string]any{"agreed": agreed, "statements": sts})
	}
	for _, id := range ids {
		list := strings.Join(agreed[id], ", ")
		if list == "" {
			list = "none agreed yet"
		}
		fmt.Fprintf(m.Stdout, "channel %s: off-limits: %s\n", id, list)
	}
	printStatements(m.Stdout, sts)
	return nil
}

func stmtJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printStatements(w io.Writer, sts []*workflow.Statement) {
	if len(sts) == 0 {
		fmt.Fprintln(w, "No statements.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPROPOSED BY\tSTATE\tSECTORS\tTEXT SHA256")
	for _, st := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.ID, st.Kind, st.ProposedBy, st.StateText(), dash(strings.Join(st.Sectors, ",")), st.TextSHA256)
	}
	tw.Flush()
}

func printStatement(w io.Writer, st *workflow.Statement) {
	fmt.Fprintf(w, "statement   %s\nkind        %s\nchannel     %s\nproposed by %s at %s\nstate       %s\ntext sha256 %s\n",
		st.ID, st.Kind, st.Channel, st.ProposedBy, st.Created.Format("2006-01-02 15:04:05Z07:00"), st.StateText(), st.TextSHA256)
	if st.MeetingRef != "" {
		fmt.Fprintf(w, "meeting     %s\n", st.MeetingRef)
	}
	if len(st.Sectors) > 0 {
		fmt.Fprintf(w, "sectors     %s\n", strings.Join(st.Sectors, ", "))
	}
	var langs []string
	for l := range st.Texts {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		fmt.Fprintf(w, "--- text [%s]\n%s\n", l, strings.TrimRight(st.Texts[l], "\n"))
	}
	fmt.Fprintln(w, "--- signatures")
	if len(st.Sigs) == 0 {
		fmt.Fprintln(w, "none")
	}
	for _, s := range st.Sigs {
		note := ""
		if !s.Counts {
			note = " (does not count: " + s.Reason + ")"
		}
		fmt.Fprintf(w, "%s by %s (%s) at %s%s\n", s.ID, s.Party, s.SignedBy, s.Created.Format("2006-01-02 15:04:05Z07:00"), note)
	}
}
