package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/sensors"
)

func (m *Main) newExportSensorsCommand() *cobra.Command {
	var src sourceFlags
	var format, out string
	cmd := &cobra.Command{
		Use:   "export-sensors --dir DIR [--channel C | --collection C] --format suricata-dataset|zeek-intel [-o FILE|DIR]",
		Short: "Write the indicators as Suricata datasets or a Zeek Intel file",
		Long: `export-sensors writes the values of the simple indicators (addresses,
networks, domain names, URLs, email addresses, file hashes) of a channel or a
collection (every collection when none is named) in a format sensors load:

  suricata-dataset  one file per dataset in the folder -o DIR: parley-ipv4.lst
                    (type ipv4), parley-ipv6.lst (ip), parley-domain.lst,
                    parley-url.lst, parley-email.lst (string: base64 lines),
                    parley-md5.lst (md5), parley-sha256.lst (sha256: hex), and
                    parley.rules with example rules
  zeek-intel        a Zeek Intel framework file (-o FILE, default standard
                    output): #fields indicator indicator_type meta.source
                    meta.desc, types Intel::ADDR, SUBNET, DOMAIN, URL, EMAIL,
                    FILE_HASH

Values a format cannot carry (networks and SHA-1 in datasets, domain
suffixes) and indicators that are not lists of values are counted on
standard error.`,
		Example: `  parley export-sensors --dir /var/lib/parley --channel "A-B incidents" --format zeek-intel -o /opt/zeek/intel/parley.dat
  parley export-sensors --format suricata-dataset -o /etc/suricata/parley`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "suricata-dataset" && format != "zeek-intel" {
				return withHint(fmt.Errorf("--format %q is not a sensor format", format), "use suricata-dataset or zeek-intel")
			}
			if format == "suricata-dataset" && out == "" {
				return withHint(errors.New("--format suricata-dataset writes several files: -o DIR is required"), "for example -o /etc/suricata/parley")
			}
			n, err := m.openNode(ctx, src.dir)
			if err != nil {
				return err
			}
			defer n.Close()
			inds, _, err := loadIndicators(ctx, n, src)
			if err != nil {
				return err
			}
			entries, skips := sensors.Entries(inds)
			switch format {
			case "zeek-intel":
				var w io.Writer = m.Stdout
				var f *os.File
				if out != "" && out != "-" {
					if f, err = os.Create(out); err != nil {
						return err
					}
					w = f
				}
				count, more, err := sensors.WriteZeekIntel(w, entries, "parley:"+n.Config.Name)
				if f != nil {
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
				if err != nil {
					return err
				}
				skips = append(skips, more...)
				if f != nil {
					fmt.Fprintf(m.Stdout, "Wrote %d Zeek Intel lines to %s.\n", count, out)
				}
			default:
				sets, more, err := sensors.WriteSuricataDatasets(out, entries)
				if err != nil {
					return err
				}
				skips = append(skips, more...)
				f, err := os.Create(out + "/parley.rules")
				if err != nil {
					return err
				}
				for i, d := range sets {
					if r := sensors.SuricataRule(d, 9_300_001+i); r != "" {
						fmt.Fprintln(f, r)
					}
				}
				if err := f.Close(); err != nil {
					return err
				}
				for _, d := range sets {
					fmt.Fprintf(m.Stdout, "%s\t%s\t%d\n", d.File, d.Type, d.Len)
				}
			}
			if len(skips) > 0 {
				fmt.Fprintf(m.Stderr, "parley: warning: %d values or indicators not exported, the first: %s: %s\n", len(skips), skips[0].IndicatorID, skips[0].Reason)
			}
			return nil
		},
	}
	m.sourceFlagsOn(cmd, &src)
	cmd.Flags().StringVar(&format, "format", "", "suricata-dataset or zeek-intel (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file (zeek-intel) or folder (suricata-dataset) to write")
	return cmd
}
