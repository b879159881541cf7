package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newRouteCommand, (*Main).newOriginsCommand)
}

func (m *Main) newRouteCommand() *cobra.Command {
	var dir, text, name string
	var about, infra, sectors, channels []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "route --dir D --about REPORT_ID --infra ADDR,... --text TEXT [--channel PEER=CHANNEL] [--json]",
		Short: "File an assistance request to each party whose territory holds the infrastructure",
		Long: `route groups the infrastructure (--infra: IPv4/IPv6 addresses, CIDRs, domain
names, URLs) by the territory where it lies, and files an assistance request
per party registered for a territory ('parley peer add --territory CC'),
carrying that party's part only.

Addresses and networks are looked up in the node's databases (the
configuration's "geoip" files, then DIR/geoip/*.mmdb). A domain, or a URL's
host, counts only as far as the objects of the channels holding the reports
resolve it to addresses (a domain-name object's resolves_to_refs,
observed-data, an indicator comparing domain-name:value and
domain-name:resolves_to_refs[*].value): no DNS query is made.

Each request goes on the oldest active channel shared with the party, or
the one --channel PEER=CHANNEL names (id or title; repeatable), and is about
the reports of --about that are on that channel: every such channel must
hold one. What lies on no party's territory (no-party), nowhere known
(unknown-territory), in a network spanning territories (mixed-territory) or
is not resolved (unresolved) is listed, and kept in every request filed.
Nothing is filed when any check fails, or when nothing can be routed.

It prints a line per request (id, party, territory, channel, items) and per
item not routed; with --json the whole result as one JSON document.`,
		Example: `  parley route --dir a --about report--… --infra 192.0.2.7,198.51.100.0/28,c2.example --text 'Please take these down'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, wf, err := m.reportWorkflow(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			e, err := openEnricher(n)
			if err != nil {
				return err
			}
			if e == nil {
				return withHint(fmt.Errorf("no database: the configuration lists no geoip file and %s has no .mmdb file", n.Dir+"/"+node.GeoIPDir),
					"put GeoLite2 or DB-IP Lite .mmdb files (a country and an ASN file) in %s/%s, or list them in the configuration's \"geoip\" field", n.Dir, node.GeoIPDir)
			}
			defer e.Close()
			f := workflow.RouteFiling{About: about, Infrastructure: infra, Text: text, Name: name, Sectors: sectors}
			for _, c := range channels {
				peerName, ch, ok := strings.Cut(c, "=")
				if !ok || peerName == "" || ch == "" {
					return withHint(fmt.Errorf("--channel %q: want PEER=CHANNEL", c), "name the peer and its channel (id or title): --channel party-b=a-b")
				}
				if f.Channels == nil {
					f.Channels = map[string]string{}
				}
				f.Channels[peerName] = ch
			}
			res, err := wf.RouteRequest(ctx, e.GeoDB(), f)
			if res != nil && asJSON && len(res.Requests) > 0 {
				if perr := reportPrintJSON(m.Stdout, res); perr != nil {
					return perr
				}
			}
			if err != nil {
				if res != nil && len(res.Requests) == 0 && dialogue.KindOf(err) == dialogue.KindInvalid && strings.Contains(err.Error(), "nothing lies on the territory") {
					return withHint(err, "register the party of a territory with: parley peer add --territory CC")
				}
				return err
			}
			if asJSON {
				return nil
			}
			w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "REQUEST\tPARTY\tTERRITORY\tCHANNEL\tINFRASTRUCTURE")
			for _, r := range res.Requests {
				var items []string
				for _, p := range r.Infrastructure {
					v := p.Value
					if len(p.Resolved) > 0 {
						v += " (" + strings.Join(p.Resolved, " ") + ")"
					}
					items = append(items, v)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Peer, r.Territory, r.Channel, strings.Join(items, ", "))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			for _, u := range res.Unrouted {
				cc := u.Territory
				if cc == "" {
					cc = "-"
				}
				fmt.Fprintf(m.Stdout, "not routed: %s (%s, %s)\n", u.Value, cc, u.Reason)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	fl := cmd.Flags()
	fl.StringSliceVar(&about, "about", nil, "the incident report(s) the requests are about")
	fl.StringSliceVar(&infra, "infra", nil, "addresses, CIDRs, domains or URLs to route")
	fl.StringVar(&text, "text", "", "what you ask the parties to do")
	fl.StringVar(&name, "name", "", "a short title (default: the text's first line)")
	fl.StringSliceVar(&sectors, "sector", nil, "sector codes (default: the reports' sectors)")
	fl.StringArrayVar(&channels, "channel", nil, "`PEER=CHANNEL`: the channel a party's request goes on (default: its oldest active one)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (m *Main) newOriginsCommand() *cobra.Command {
	var dir, channel string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "origins --dir D [--channel C] [--json]",
		Short: "Attacks by origin territory and by autonomous system, for both parties of each channel",
		Long: `origins counts, for each party of a channel (every channel unless --channel
says which), the incident reports it filed there by the territory and by
the autonomous system of the infrastructure they name: the addresses and
networks of the enrichment records of their indicators, observed-data,
infrastructure and address objects. Both nodes compute the same figures from
the same shared objects, when they enriched them with the same databases
(listed with the figures). A territory or AS shown as '-' is unknown, or a
network spanning several.

REPORTS counts the reports naming infrastructure there; ADDRESSES the
distinct addresses and networks. With --json, one JSON document: a list of
channels, each with its parties' figures and the databases used.`,
		Example: `  parley origins --dir a --channel a-b`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, wf, err := m.reportWorkflow(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			os, err := wf.Origins(cmd.Context(), channel)
			if err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
				}
				return err
			}
			if asJSON {
				return reportPrintJSON(m.Stdout, os)
			}
			for i, o := range os {
				if i > 0 {
					fmt.Fprintln(m.Stdout)
				}
				var dbs []string
				for _, d := range o.Databases {
					dbs = append(dbs, d.Type+" built "+d.Built.Format("2006-01-02"))
				}
				if len(dbs) == 0 {
					dbs = []string{"none"}
				}
				fmt.Fprintf(m.Stdout, "Channel %s (%s); databases: %s\n", o.Title, o.Channel, strings.Join(dbs, ", "))
				w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "REPORTED BY\tBY\tORIGIN\tREPORTS\tADDRESSES")
				for _, p := range o.Parties {
					fmt.Fprintf(w, "%s\treports\t\t%d\t(%d naming addresses)\n", p.Party, p.Reports, p.WithAddresses)
					for _, t := range p.Territories {
						cc := t.Territory
						if cc == "" {
							cc = "-"
						}
						fmt.Fprintf(w, "%s\tterritory\t%s\t%d\t%d\n", p.Party, cc, t.Reports, t.Addresses)
					}
					for _, a := range p.ASNs {
						as := "-"
						if a.ASN != 0 {
							as = strings.TrimSpace(fmt.Sprintf("AS%d %s", a.ASN, a.Org))
						}
						fmt.Fprintf(w, "%s\tAS\t%s\t%d\t%d\n", p.Party, as, a.Reports, a.Addresses)
					}
				}
				if err := w.Flush(); err != nil {
					return err
				}
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel (id or title)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}

// routeRequest files a request per party of the territories the
// infrastructure lies on ('parley request file' without --channel): it
// prints each request's id, and what went to no party on standard error.
func (m *Main) routeRequest(ctx context.Context, n *node.Node, wf *workflow.Service, f workflow.RouteFiling) error {
	e, err := openEnricher(n)
	if err != nil {
		return err
	}
	if e == nil {
		return withHint(fmt.Errorf("no --channel, and no GeoIP database to route the request by territory"),
			"name the channel with --channel, or put .mmdb files in %s/%s", n.Dir, node.GeoIPDir)
	}
	defer e.Close()
	res, err := wf.RouteRequest(ctx, e.GeoDB(), f)
	if err != nil {
		if res != nil && len(res.Requests) == 0 && dialogue.KindOf(err) == dialogue.KindInvalid && strings.Contains(err.Error(), "nothing lies on the territory") {
			return withHint(err, "register the party of a territory with: parley peer add --territory CC, or name the channel with --channel")
		}
		return err
	}
	for _, r := range res.Requests {
		fmt.Fprintln(m.Stdout, r.ID)
	}
	for _, u := range res.Unrouted {
		fmt.Fprintf(m.Stderr, "not routed: %s (%s, %s)\n", u.Value, cmp.Or(u.Territory, "-"), u.Reason)
	}
	return nil
}
