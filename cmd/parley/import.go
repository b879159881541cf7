package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
)

func (m *Main) newImportCommand() *cobra.Command {
	var dir, collection string
	var partial bool
	cmd := &cobra.Command{
		Use:   "import --dir DIR [--collection ID|TITLE] [--partial] FILE...",
		Short: "Import STIX 2.1 bundles into a collection",
		Long: `import validates every object of each FILE (a STIX 2.1 bundle, a single STIX
object, or a TAXII envelope {"objects": [...]}) and adds the valid ones to
a collection ("local" unless --collection says otherwise), each file in one
transaction. Importing the same object version again changes nothing.

A bundle with any invalid object is refused whole, and every invalid object
is listed with its reason; --partial imports the valid objects and rejects
the others. The exit status is non-zero when anything was rejected.`,
		Example: `  parley import --dir /var/lib/parley incident.json
  parley import --collection incidents --partial feed-*.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("no FILE to import"), "name one or more STIX 2.1 bundle files")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			c, err := findCollection(ctx, n, collection)
			if err != nil {
				return err
			}
			mode := ingest.AllOrNothing
			if partial {
				mode = ingest.EachOnItsOwn
			}
			var total ingest.Report
			var unreadable, refused int
			for _, file := range args {
				data, err := os.ReadFile(file)
				if err != nil {
					fmt.Fprintf(m.Stdout, "%s: cannot read: %s\n", file, errorLine(err))
					unreadable++
					continue
				}
				rep, err := ingest.File(ctx, server.WriteStore(n), c.ID, data, mode)
				if err != nil {
					if dialogue.KindOf(err) != dialogue.KindInvalid {
						return err
					}
					fmt.Fprintf(m.Stdout, "%s: not STIX 2.1 content (a bundle, an object or a TAXII envelope), nothing imported:\n", file)
					printStixError(m.Stdout, "  ", err)
					unreadable++
					continue
				}
				printReport(m.Stdout, file, rep)
				total.Added += rep.Added
				total.Unchanged += rep.Unchanged
				total.Rejected += rep.Rejected
				if rep.Refused {
					refused++
				}
			}
			if len(args) > 1 {
				fmt.Fprintf(m.Stdout, "total: %d new, %d unchanged, %d rejected in %q\n", total.Added, total.Unchanged, total.Rejected, c.Title)
			}
			if total.Added > 0 {
				m.enrichImported(ctx, n, c) // country and AS of the addresses, when the node has databases
			}
			switch {
			case refused > 0:
				return withHint(fmt.Errorf("%d of %d files refused: %d objects invalid", refused, len(args), total.Rejected),
					"fix the objects listed above, or pass --partial to import the valid ones")
			case total.Rejected > 0:
				return fmt.Errorf("%d objects rejected", total.Rejected)
			case unreadable > 0:
				return fmt.Errorf("%d of %d files could not be imported", unreadable, len(args))
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&collection, "collection", dialogue.DefaultCollectionTitle, "the collection to import into (id or title)")
	cmd.Flags().BoolVar(&partial, "partial", false, "import the valid objects of a bundle that has invalid ones")
	return cmd
}

// printReport prints one file's counts, then each rejection with its
// reason, then the warnings.
func printReport(w io.Writer, file string, rep *ingest.Report) {
	if rep.Refused {
		fmt.Fprintf(w, "%s: refused whole, nothing imported: 0 new, 0 unchanged, %d rejected\n", file, rep.Rejected)
	} else {
		fmt.Fprintf(w, "%s: %d new, %d unchanged, %d rejected\n", file, rep.Added, rep.Unchanged, rep.Rejected)
	}
	for _, r := range rep.Results {
		if r.Status != dialogue.Rejected {
			continue
		}
		var se stix.Errors
		var one *stix.Error
		switch {
		case errors.As(r.Err, &se), errors.As(r.Err, &one):
			printStixError(w, "  rejected: ", r.Err)
		default:
			id := r.ID
			if id == "" {
				id = fmt.Sprintf("object %d", r.Index)
			}
			fmt.Fprintf(w, "  rejected: %s: %s\n", id, errorLine(r.Err))
		}
	}
	for _, wr := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wr)
	}
}

// printStixError prints each broken rule of a STIX error on its own line.
func printStixError(w io.Writer, prefix string, err error) {
	var se stix.Errors
	if errors.As(err, &se) {
		for _, e := range se {
			fmt.Fprintf(w, "%s%s\n", prefix, e)
		}
		return
	}
	fmt.Fprintf(w, "%s%s\n", prefix, errorLine(err))
}
