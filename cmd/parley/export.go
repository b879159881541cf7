package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// exportPage is how many objects export reads from the store at a time.
const exportPage = 1000

func (m *Main) newExportCommand() *cobra.Command {
	var dir, collection, since, as string
	var types []string
	var includeRestricted bool
	cmd := &cobra.Command{
		Use:   "export --dir DIR [--collection ID|TITLE] [--type T] [--since TIME] [--as USER] [--include-restricted]",
		Short: "Write a collection's objects as one STIX 2.1 bundle on standard output",
		Long: `export writes every version of the objects of a collection ("local" unless
--collection says otherwise) as one STIX 2.1 bundle, in the order they were
added. Each object is written byte for byte as it was received.

--type keeps only the given STIX types (repeat it, or separate with commas);
--since keeps only objects added to this node at or after TIME, an RFC 3339
timestamp such as 2024-05-01T00:00:00Z.

TLP: objects marked TLP:AMBER+STRICT or TLP:RED never leave the organisation,
so they are left out (their count is said on standard error) unless
--include-restricted writes them, with a warning. --as USER exports only what
that user of the node may see (TLP:RED only where the user is a named
recipient).`,
		Example: `  parley export --dir /var/lib/parley > local.json
  parley export --type indicator --since 2024-05-01T00:00:00Z > new-indicators.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f := dialogue.ObjectFilter{
				Types:    types,
				Versions: dialogue.VersionMatch{All: true},
				Limit:    exportPage,
			}
			if since != "" {
				t, err := stix.ParseTime(since)
				if err != nil {
					return withHint(fmt.Errorf("--since %q is not a timestamp: %v", since, err), "use RFC 3339 in UTC, such as 2024-05-01T00:00:00Z")
				}
				// added_after is exclusive and DateAdded has microseconds.
				f.AddedAfter = t.Truncate(time.Microsecond).Add(-time.Microsecond)
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			c, err := findCollection(ctx, n, collection)
			if err != nil {
				return err
			}
			tlp, err := newExportTLP(ctx, n.Store, c.ID, as, includeRestricted)
			if err != nil {
				return err
			}
			if _, err = writeBundle(ctx, m.Stdout, n.Store, c.ID, f, tlp.keep); err != nil {
				return err
			}
			tlp.report(m.Stderr)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&collection, "collection", dialogue.DefaultCollectionTitle, "the collection to export (id or title)")
	cmd.Flags().StringSliceVar(&types, "type", nil, "export only objects of this STIX type (repeatable)")
	cmd.Flags().StringVar(&since, "since", "", "export only objects added at or after this time (RFC 3339)")
	cmd.Flags().StringVar(&as, "as", "", "export only what this user of the node may see (TLP)")
	cmd.Flags().BoolVar(&includeRestricted, "include-restricted", false, "also write objects marked TLP:AMBER+STRICT or TLP:RED (they must not leave the organisation)")
	return cmd
}

// writeBundle streams the objects f selects and keep keeps as a bundle
// with a new id. The bundle is built by concatenation so that each
// object's bytes are exactly those stored. It returns the number of
// objects written.
func writeBundle(ctx context.Context, w io.Writer, st dialogue.Store, collectionID string, f dialogue.ObjectFilter, keep func(context.Context, *dialogue.Object) (bool, error)) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	count := 0
	for {
		page, err := st.FindObjects(ctx, collectionID, f)
		if err != nil {
			return count, err
		}
		for _, o := range page.Objects {
			if ok, err := keep(ctx, o); err != nil || !ok {
				if err != nil {
					return count, err
				}
				continue
			}
			if count > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n")
			bw.Write(o.Raw)
			count++
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	if count > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return count, bw.Flush()
}
