package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newReportCommand)
}

// reportWorkflow opens the node in dir and the workflows over it.
func (m *Main) reportWorkflow(ctx context.Context, dir string) (*node.Node, *workflow.Service, error) {
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

// reportPrintJSON prints v as one indented JSON document.
func reportPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) newReportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "File incident reports on a channel, list and show them",
	}
	cmd.AddCommand(m.newReportFileCommand(), m.newReportListCommand(), m.newReportShowCommand())
	return cmd
}

func (m *Main) newReportFileCommand() *cobra.Command {
	var dir, channel, tlp, title, description, indicators string
	var sectors, recipients, evidence []string
	var severity int
	cmd := &cobra.Command{
		Use:   "file --dir D --channel C --tlp clear|green|amber|amber+strict|red [--recipient NAME|role:ROLE] --sector S [--sector S2] [--severity N] [--title T [--description D]] [--indicators FILE] [--evidence FILE]... [BUNDLE.json]",
		Short: "File an incident report: a STIX bundle or indicator lines, its TLP marking, the sectors hit and the severity",
		Long: `file sends an incident report on a channel. BUNDLE.json is a STIX 2.1 bundle
holding an incident or indicators (STIX patterns, checked), and whatever else
the report carries: observed data, infrastructure, attack patterns, malware,
evidence artifacts. --title (and --description) adds an incident of that name;
--indicators FILE ("-" for the standard input) adds an indicator per line of
FILE, as the web UI's form does: an IPv4 or IPv6 address, a network (CIDR), a
domain, a URL, an e-mail address, an MD5, SHA-1, SHA-256 or SHA-512 hash, or a
STIX pattern in brackets; empty lines and lines starting with # are skipped.
Without a bundle, --title is required. --evidence FILE (repeat for more) keeps
FILE in the node's blob folder and adds a file object naming its SHA-256 to
the report; the file's hash enters the channel's log in the transaction that
files the report, and the peer fetches the bytes. A refused filing enters
nothing (a file it kept stays in the blob folder, named by nothing).

Parley adds a STIX report referencing every object, marked with the TLP 2.0
level --tlp (required); each object without a TLP marking gets the same one.
The report carries the sectors hit and the severity. A TLP:RED report names
its recipients (--recipient NAME or role:ROLE): only they see it and its
objects, on both nodes.

Severity scale: ` + workflow.SeverityScale + ` (default 3).

Sectors (--sector, at least one, repeat or separate with commas) are the
codes of the 16 US critical-infrastructure sectors and of the EU NIS2 sectors:
` + sectorHelp() + `

A refusal names every refused field, one a line, in the words of the JSON API
and the web UI. It prints the new report's id.`,
		Example: `  parley report file --dir a --channel a-b --tlp amber --sector energy --severity 4 incident.json
  parley report file --dir a --channel a-b --tlp green --sector energy --title 'Beacons to a C2 server' --indicators iocs.txt`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return withHint(fmt.Errorf("one bundle file at most, got %d arguments", len(args)), "file the bundles one report each, or merge them")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f := workflow.ReportFiling{Channel: channel, Title: title, Description: description, TLP: tlp,
				Sectors: sectors, Severity: severity, Recipients: recipients}
			if len(args) == 1 {
				data, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				f.Bundle = data
			}
			if indicators != "" {
				var data []byte
				var err error
				if indicators == "-" {
					data, err = io.ReadAll(io.LimitReader(m.Stdin, 64<<20))
				} else {
					data, err = os.ReadFile(indicators)
				}
				if err != nil {
					return fmt.Errorf("--indicators: %w", err)
				}
				f.Indicators = string(data)
			}
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			refused := func(err error) error {
				if dialogue.FieldErrorsOf(err).Field("channel") != nil {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			if len(evidence) > 0 {
				// The form first, so that a refused one keeps no file.
				if err := wf.CheckReportFiling(cmd.Context(), f); err != nil {
					return refused(err)
				}
				if f.Evidence, err = m.putEvidence(cmd, n, evidence); err != nil {
					return err
				}
			}
			id, err := wf.FileReportFiling(cmd.Context(), f)
			if err != nil {
				return refused(err)
			}
			fmt.Fprintln(m.Stdout, id)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "the channel (id or title)")
	fl.StringVar(&tlp, "tlp", "", "the TLP 2.0 level: clear, green, amber, amber+strict or red (required)")
	fl.StringSliceVar(&sectors, "sector", nil, "a sector code the incident hit (repeat for more)")
	fl.IntVar(&severity, "severity", workflow.SeveritySignificant, "the severity: "+workflow.SeverityScale)
	fl.StringSliceVar(&recipients, "recipient", nil, "TLP:RED only (and required for it): a user NAME or role:ROLE who may read the report, on either node (repeat for more; name yourself to see it here)")
	fl.StringVar(&title, "title", "", "the incident's name, in a line: adds an incident (required without BUNDLE.json)")
	fl.StringVar(&description, "description", "", "the incident's description (with --title)")
	fl.StringVar(&indicators, "indicators", "", "a FILE of indicator lines, one a line (- for the standard input)")
	fl.StringArrayVar(&evidence, "evidence", nil, "an evidence FILE, kept in the blob folder and entered in the channel's log with the report (repeat for more)")
	return cmd
}

// putEvidence keeps the evidence files in the node's blob folder: the
// report's Evidence.
func (m *Main) putEvidence(cmd *cobra.Command, n *node.Node, names []string) ([]workflow.Evidence, error) {
	s, err := n.Blobs()
	if err != nil {
		return nil, err
	}
	var out []workflow.Evidence
	for _, name := range names {
		if name == "-" {
			return nil, withHint(errors.New("--evidence -: an evidence file needs a name"), "save it to a file and name that")
		}
		sum, size, err := m.putFile(cmd, s, name)
		if err != nil {
			return nil, fmt.Errorf("--evidence %w", err)
		}
		mt, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name)))
		out = append(out, workflow.Evidence{Name: filepath.Base(name), MediaType: mt, SHA256: sum, Size: size})
	}
	return out, nil
}

// sectorHelp lists the sector codes with their names, for help texts.
func sectorHelp() string {
	var b strings.Builder
	for _, s := range dialogue.Sectors {
		fmt.Fprintf(&b, "  %-24s %s (%s)\n", s.Code, s.Name(), strings.Join(s.Lists(), ", "))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *Main) newReportListCommand() *cobra.Command {
	var dir, channel, as string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir D [--channel C] [--as USER] [--json]",
		Short: "List the incident reports of a channel, or of every channel",
		Long: `list shows the incident reports. --as USER shows only what that user of the
node may see under TLP 2.0 (a RED report only to its named recipients);
without it, the node's operator sees every report.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			var rs []*workflow.Report
			if as != "" {
				u, uerr := n.Store.User(cmd.Context(), as)
				if uerr != nil {
					return withHint(fmt.Errorf("--as %s: %s", as, dialogue.Message(uerr)), "list the users with: parley user list --dir %s", n.Dir)
				}
				rs, err = wf.ReportsFor(cmd.Context(), u, channel)
			} else {
				rs, err = wf.Reports(cmd.Context(), channel)
			}
			if err != nil {
				return err
			}
			if asJSON {
				if rs == nil {
					rs = []*workflow.Report{}
				}
				return reportPrintJSON(m.Stdout, rs)
			}
			if len(rs) == 0 {
				fmt.Fprintln(m.Stdout, "No incident reports.")
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tFROM\tTLP\tSEVERITY\tSECTORS\tOBJECTS\tNAME")
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\n", r.ID, r.From, r.TLP, r.Severity, strings.Join(r.Sectors, ","), len(r.ObjectRefs), r.Name)
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel (id or title)")
	cmd.Flags().StringVar(&as, "as", "", "show only what this user may see (TLP 2.0)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func (m *Main) newReportShowCommand() *cobra.Command {
	var dir, as string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --dir D REPORT_ID [--as USER] [--json]",
		Short: "Show an incident report and its objects",
		Long: `show prints an incident report and the ids of its objects. --as USER shows it
only if that user may see it under TLP 2.0 (a RED report only to its named
recipients); without it, the node's operator sees every report.`,
		Args: exactArgs(1, "the report's id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			var r *workflow.Report
			if as != "" {
				u, uerr := n.Store.User(cmd.Context(), as)
				if uerr != nil {
					return withHint(fmt.Errorf("--as %s: %s", as, dialogue.Message(uerr)), "list the users with: parley user list --dir %s", n.Dir)
				}
				r, err = wf.ReportFor(cmd.Context(), u, args[0])
			} else {
				r, err = wf.Report(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, r)
			}
			fmt.Fprintf(m.Stdout, "Report %s\n  name:     %s\n  from:     %s\n  channel:  %s\n  created:  %s\n  TLP:      %s\n  severity: %d (%s)\n  sectors:  %s\n  objects:  %d\n",
				r.ID, r.Name, r.From, r.Channel, r.Created.UTC().Format("2006-01-02 15:04:05Z"), r.TLP, r.Severity, workflow.SeverityScale, strings.Join(r.Sectors, ", "), len(r.ObjectRefs))
			for _, ref := range r.ObjectRefs {
				fmt.Fprintf(m.Stdout, "    %s\n", ref)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&as, "as", "", "show it only if this user may see it (TLP 2.0)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}
