package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
)

func init() { moreCommands = append(moreCommands, (*Main).newGeoCommand) }

func (m *Main) newGeoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "geo",
		Short: "Country and autonomous system of IP addresses, from MaxMind-format databases",
		Long: `geo answers, offline, in which country (ISO 3166-1 alpha-2) and in which
autonomous system an IP address or network lies, from .mmdb files: GeoLite2
or GeoIP2 Country, City and ASN, DB-IP Lite, or any MaxMind-format database
with the same fields. It names infrastructure and territory, never who used
them.`,
	}
	cmd.AddCommand(m.newGeoLookupCommand(), m.newGeoWriteDemoCommand())
	return cmd
}

// geoDirName is the folder of a node's data folder whose .mmdb files
// geo reads.
const geoDirName = "geoip"

func (m *Main) newGeoLookupCommand() *cobra.Command {
	var dir string
	var files []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lookup [--dir DIR] [--geoip FILE ...] [--json] ADDR...",
		Short: "Look up the country and autonomous system of addresses and networks",
		Long: `lookup answers for each ADDR, an IPv4 or IPv6 address or a network in CIDR
notation, or for each line of the standard input when ADDR is '-'.

The databases are the --geoip files, in the order given, then those of the
node in DIR (--dir, or $PARLEY_DIR): the files its configuration's "geoip"
field lists, then the .mmdb files of DIR/geoip, in name order.
For each field the first database that knows it answers: put a City file
before a Country file to prefer it, and add an ASN file for the autonomous
system. Every database is checked in full before the first answer; a
broken one is refused, naming it.

For a network, the answer is that of its first address; MIXED says that
other addresses of it get another country or AS.

Without --json it prints a table. With --json it prints one JSON object per
line and address, in the order given: ip, country, registered_country,
asn, as_org, db (the database that gave the country and the one that gave
the AS: type, build time, file), and for a network mixed_country and
mixed_as. An unknown field is null. An ADDR that is not an address gets a
line with an error, the others are answered, and parley exits with 1.`,
		Example: `  parley geo lookup --geoip GeoLite2-Country.mmdb --geoip GeoLite2-ASN.mmdb 192.0.2.1 2001:db8::/32
  parley geo lookup --dir /var/lib/parley --json - < addresses.txt`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("no address given"), "give one or more addresses or networks, or '-' to read them from the standard input")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := m.geoFiles(dir, cmd.Flags().Changed("dir"), files)
			if err != nil {
				return err
			}
			db, err := geo.Open(paths...)
			if err != nil {
				return withHint(err, "replace that file with a fresh copy, or leave it out")
			}
			defer db.Close()
			if len(args) == 1 && args[0] == "-" {
				args, err = readAddrLines(m.Stdin)
				if err != nil {
					return err
				}
			}
			return m.geoLookup(db, args, asJSON)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the node's data folder, whose geoip/*.mmdb are read (default $PARLEY_DIR)")
	cmd.Flags().StringArrayVar(&files, "geoip", nil, "a .mmdb `FILE` to read (repeatable; read before DIR/geoip)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line")
	return cmd
}

// geoFiles is the list of databases: the --geoip files, then the node's
// (node.GeoIPFiles: its configuration's geoip list, then DIR/geoip/*.mmdb).
// A folder without a configuration (not a node, just a geoip folder) gives
// its DIR/geoip/*.mmdb.
func (m *Main) geoFiles(dir string, dirGiven bool, files []string) ([]string, error) {
	if dir == "" {
		dir = m.Getenv("PARLEY_DIR")
	}
	paths := append([]string(nil), files...)
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if dirGiven || len(files) == 0 {
				return nil, withHint(fmt.Errorf("data folder %s: no such folder", dir), "pass the folder of a node, made by parley init")
			}
		}
		n := &node.Node{Dir: dir}
		cfg, err := node.ReadConfig(dir)
		switch {
		case err == nil:
			n.Config = *cfg
		case errors.Is(err, node.ErrNoNode):
			// A folder with a geoip folder and no node: its files alone.
		default:
			return nil, err
		}
		found, err := n.GeoIPFiles()
		if err != nil {
			return nil, err
		}
		seen := make(map[string]bool)
		for _, p := range paths {
			seen[filepath.Clean(p)] = true
		}
		for _, p := range found {
			if !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
		if len(paths) == 0 {
			return nil, withHint(fmt.Errorf("no database: the configuration lists no geoip file and %s has no .mmdb file", filepath.Join(dir, geoDirName)),
				"put GeoLite2 or DB-IP Lite .mmdb files there, list them in the configuration's \"geoip\" field, or pass --geoip FILE")
		}
	}
	if len(paths) == 0 {
		return nil, withHint(errors.New("no database given"), "pass --geoip FILE (repeatable), or --dir DIR of a node with DIR/%s/*.mmdb", geoDirName)
	}
	return paths, nil
}

// maxAddrLines bounds the addresses read from the standard input.
const maxAddrLines = 1 << 20

// readAddrLines reads one address per line; blank lines and lines that
// start with '#' are skipped.
func readAddrLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(out) == maxAddrLines {
			return nil, fmt.Errorf("standard input: more than %d addresses; split the list", maxAddrLines)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading addresses from the standard input: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("no address on the standard input")
	}
	return out, nil
}

// geoJSONError is the line of lookup --json for an argument that is not
// an address.
type geoJSONError struct {
	IP    string `json:"ip"`
	Error string `json:"error"`
}

// geoJSON is one line of lookup --json.
type geoJSON struct {
	IP                string    `json:"ip"`
	Country           *string   `json:"country"`
	RegisteredCountry *string   `json:"registered_country"`
	ASN               *uint32   `json:"asn"`
	ASOrg             *string   `json:"as_org"`
	DB                geoJSONDB `json:"db"`
	MixedCountry      *bool     `json:"mixed_country,omitempty"`
	MixedAS           *bool     `json:"mixed_as,omitempty"`
}

type geoJSONDB struct {
	Country *geoJSONSource `json:"country"`
	AS      *geoJSONSource `json:"as"`
}

type geoJSONSource struct {
	Type  string `json:"type"`
	Built string `json:"built"`
	File  string `json:"file"`
}

func jsonSource(s *geo.Source) *geoJSONSource {
	if s == nil {
		return nil
	}
	return &geoJSONSource{Type: s.Type, Built: s.Built.Format(time.RFC3339), File: s.File}
}

// nonEmpty is a pointer to s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// geoLookup answers for each argument; it returns an error naming the
// arguments that are not addresses, after answering for the others.
func (m *Main) geoLookup(db *geo.DB, args []string, asJSON bool) error {
	out := bufio.NewWriter(m.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "ADDRESS\tCOUNTRY\tREGISTERED\tASN\tAS ORGANISATION\tDATABASE")
	}
	var bad []string
	var firstErr error
	for _, a := range args {
		t, err := geo.ParseTarget(a)
		if err != nil {
			bad = append(bad, a)
			if firstErr == nil {
				firstErr = err
			}
			if asJSON {
				if err := enc.Encode(geoJSONError{IP: a, Error: errorLine(err)}); err != nil {
					return err
				}
			}
			continue
		}
		var r geo.PrefixResult
		if t.Network {
			r, err = db.LookupPrefix(t.Prefix)
		} else {
			r.Result, err = db.Lookup(t.Prefix.Addr())
		}
		if err != nil {
			return err
		}
		if asJSON {
			line := geoJSON{
				IP:                t.String(),
				Country:           nonEmpty(r.Country),
				RegisteredCountry: nonEmpty(r.RegisteredCountry),
				ASOrg:             nonEmpty(r.ASOrg),
				DB:                geoJSONDB{Country: jsonSource(r.CountryDB), AS: jsonSource(r.ASDB)},
			}
			if r.ASN != 0 {
				line.ASN = &r.ASN
			}
			if t.Network {
				line.MixedCountry, line.MixedAS = &r.MixedCountry, &r.MixedAS
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t,
			mixed(orDash(r.Country), r.MixedCountry), orDash(r.RegisteredCountry),
			mixed(asnText(r.ASN), r.MixedAS), orDash(r.ASOrg), dbText(r.Result))
	}
	if !asJSON {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return withHint(firstErr, "give IPv4 or IPv6 addresses (192.0.2.1, 2001:db8::1) or networks (192.0.2.0/24)")
	default:
		return withHint(dialogue.Errorf("", dialogue.KindInvalid, "%d arguments are not addresses (%s); the first: %s",
			len(bad), strings.Join(quoteAll(bad), ", "), dialogue.Message(firstErr)),
			"give IPv4 or IPv6 addresses (192.0.2.1, 2001:db8::1) or networks (192.0.2.0/24)")
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func asnText(n uint32) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("AS%d", n)
}

func mixed(s string, m bool) string {
	if m {
		return s + " MIXED"
	}
	return s
}

// dbText names the databases that answered: "GeoLite2-Country 2024-05-01"
// or, when two did, both joined by " + ".
func dbText(r geo.Result) string {
	name := func(s *geo.Source) string { return s.Type + " " + s.Built.Format(time.DateOnly) }
	switch {
	case r.CountryDB == nil && r.ASDB == nil:
		return "-"
	case r.ASDB == nil || r.ASDB == r.CountryDB:
		return name(r.CountryDB)
	case r.CountryDB == nil:
		return name(r.ASDB)
	default:
		return name(r.CountryDB) + " + " + name(r.ASDB)
	}
}

func (m *Main) newGeoWriteDemoCommand() *cobra.Command {
	var territories []string
	cmd := &cobra.Command{
		Use:   "write-demo FILE [--territories XA,XB]",
		Short: "Write a demo .mmdb that maps the documentation address ranges to two territories",
		Long: `write-demo writes a MaxMind-format database that holds no real data: the
address ranges reserved for documentation split between two territories,
each with its own autonomous system (reserved for documentation too):

  first,  AS64496: 192.0.2.0/24, 203.0.113.0/25,   2001:db8::/33
  second, AS64497: 198.51.100.0/24, 203.0.113.128/25, 2001:db8:8000::/33

The territories are ISO 3166-1 alpha-2 codes; the default, XA and XB, are
codes reserved for private use, so that no real state is named. 'parley
geo lookup --geoip FILE' reads it as it reads a real database.`,
		Example: `  parley geo write-demo demo.mmdb
  parley geo lookup --geoip demo.mmdb 192.0.2.1 203.0.113.0/24`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(territories) != 2 {
				return withHint(fmt.Errorf("--territories has %d codes; want two", len(territories)), "for example: --territories XA,XB")
			}
			path := args[0]
			if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("writing %s: folder %s does not exist", path, filepath.Dir(path))
			}
			ts := geo.DemoTerritories(strings.TrimSpace(territories[0]), strings.TrimSpace(territories[1]))
			if err := geo.WriteDemo(path, ts...); err != nil {
				return err
			}
			for _, t := range ts {
				nets := make([]string, len(t.Networks))
				for i, n := range t.Networks {
					nets[i] = n.String()
				}
				fmt.Fprintf(m.Stdout, "%s AS%d: %s\n", t.Country, t.ASN, strings.Join(nets, " "))
			}
			fmt.Fprintf(m.Stdout, "Wrote %s (%s).\n", path, geo.DemoType)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&territories, "territories", []string{"XA", "XB"}, "the two territories, as ISO 3166-1 alpha-2 codes")
	return cmd
}
