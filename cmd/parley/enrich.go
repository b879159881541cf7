package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/enrich/enrichnode"
	"github.com/parleyhq/parley/internal/node"
)

func init() { moreCommands = append(moreCommands, (*Main).newEnrichCommand) }

func (m *Main) newEnrichCommand() *cobra.Command {
	var dir, collection string
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "enrich --dir DIR [--collection ID|TITLE] [--all] [--json]",
		Short: "Give the addresses in stored objects a country and an autonomous system",
		Long: `enrich looks up, in the node's MaxMind-format databases, the country and the
autonomous system of every IPv4 and IPv6 address and network named by the
objects of a collection (every collection unless --collection says which):
in indicators' STIX patterns, in observed-data (its object_refs and its
objects), in infrastructure (its properties and the address objects related
to it) and in ipv4-addr and ipv6-addr objects. The result is kept beside each
object version, as its x_parley_enrichment record, with the database (type
and build date) that gave each field; the object's bytes never change.

A running node does this by itself for everything added, imported or
received. enrich catches up from where the enrichment got to, or from the
first object when the databases changed since; --all enriches every object
again.

The databases are the files of the configuration's "geoip" list, then the
node's DIR/geoip/*.mmdb, in name order. Each is checked in full first; a
broken one is refused, naming it.

It prints one line per address found: the object, its version, the address,
country, AS number and organisation ('-' when unknown), and where the object
names it. With --json it prints one JSON object per object version: its
collection, id, version (null when unversioned) and x_parley_enrichment.`,
		Example: `  parley enrich --dir /var/lib/parley
  parley enrich --collection incidents --all --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := m.openNode(ctx, dir)
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
			var cols []*dialogue.Collection
			if cmd.Flags().Changed("collection") {
				c, err := findCollection(ctx, n, collection)
				if err != nil {
					return err
				}
				cols = []*dialogue.Collection{c}
			} else if cols, err = n.Store.Collections(ctx); err != nil {
				return err
			}
			return m.enrich(ctx, e, cols, all, asJSON)
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&collection, "collection", "", "the collection to enrich (id or title; default every collection)")
	cmd.Flags().BoolVar(&all, "all", false, "enrich every object again, not only what is new since the last time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per object version")
	return cmd
}

// openEnricher opens the node's databases: nil when it has none.
func openEnricher(n *node.Node) (*enrich.Enricher, error) {
	e, err := enrichnode.Open(n, nil)
	if err != nil {
		return nil, withHint(err, "replace that file with a fresh copy, or remove it from the configuration's \"geoip\" list or %s/%s", n.Dir, node.GeoIPDir)
	}
	return e, nil
}

// enrichJSON is one line of enrich --json.
type enrichJSON struct {
	Collection string         `json:"collection"`
	ID         string         `json:"id"`
	Version    *string        `json:"version"`
	Enrichment *enrich.Record `json:"x_parley_enrichment"`
}

func (m *Main) enrich(ctx context.Context, e *enrich.Enricher, cols []*dialogue.Collection, all, asJSON bool) error {
	out := bufio.NewWriter(m.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	header := false
	var printErr error
	var total enrich.Stats
	for _, c := range cols {
		title := c.Title
		report := func(r enrich.Result) {
			if r.Record == nil || printErr != nil {
				return
			}
			version := "-"
			var vp *string
			if !r.Version.IsZero() {
				version = r.Version.UTC().Format(time.RFC3339Nano)
				vp = &version
			}
			if asJSON {
				printErr = enc.Encode(enrichJSON{Collection: title, ID: r.ObjectID, Version: vp, Enrichment: r.Record})
				return
			}
			if !header {
				fmt.Fprintln(tw, "OBJECT\tVERSION\tADDRESS\tCOUNTRY\tASN\tAS ORGANISATION\tVIA")
				header = true
			}
			for _, a := range r.Record.Addresses {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ObjectID, version, a.Addr,
					mixed(orDash(deref(a.Country)), a.MixedCountry), mixed(asnText(derefASN(a.ASN)), a.MixedAS), orDash(deref(a.ASOrg)), a.Via)
			}
		}
		st, err := e.CatchUp(ctx, c.ID, enrich.Options{All: all, Report: report})
		total.Scanned += st.Scanned
		total.Enriched += st.Enriched
		total.Addresses += st.Addresses
		if err != nil {
			tw.Flush()
			return fmt.Errorf("collection %q: %w", c.Title, err)
		}
	}
	if printErr != nil {
		return printErr
	}
	if !asJSON {
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(out, "%d object versions looked at, %d enriched, %d addresses (%s)\n", total.Scanned, total.Enriched, total.Addresses, e.Databases())
	}
	return out.Flush()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefASN(n *uint32) uint32 {
	if n == nil {
		return 0
	}
	return *n
}

// enrichImported enriches what an import added to the collection (and
// whatever else is new there), when the node has databases; it prints one
// line. A node without databases is left alone. The import is done
// whatever happens here: a failure is printed as a warning.
func (m *Main) enrichImported(ctx context.Context, n *node.Node, c *dialogue.Collection) {
	e, err := enrichnode.Open(n, nil)
	if err == nil && e == nil {
		return
	}
	if err != nil {
		fmt.Fprintf(m.Stdout, "warning: not enriched: %s\n", errorLine(err))
		return
	}
	defer e.Close()
	st, err := e.CatchUp(ctx, c.ID, enrich.Options{})
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintf(m.Stdout, "warning: not enriched: %s\n", errorLine(err))
		}
		return
	}
	fmt.Fprintf(m.Stdout, "enriched %d objects in %q: %d addresses\n", st.Enriched, c.Title, st.Addresses)
}
