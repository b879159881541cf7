package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
)

func (m *Main) newCollectionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "collection",
		Short: "Create, list and grant access to TAXII collections",
	}
	cmd.AddCommand(m.newCollectionCreateCommand(), m.newCollectionListCommand(), m.newCollectionGrantCommand())
	return cmd
}

func (m *Main) newCollectionCreateCommand() *cobra.Command {
	var dir, description string
	cmd := &cobra.Command{
		Use:   "create --dir DIR TITLE [--description TEXT]",
		Short: "Create a collection",
		Long: `create makes a new TAXII collection with a new id. Its title must be unique
on the node; commands accept it in place of the id. Nobody may read or write
it until 'parley collection grant' says so.`,
		Example: `  parley collection create --dir /var/lib/parley incidents --description "Incident reports"`,
		Args:    exactArgs(1, "one TITLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			title := strings.TrimSpace(args[0])
			if title == "" {
				return errors.New("the title is empty")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			c := &dialogue.Collection{Title: title, Description: description}
			if err := n.Store.CreateCollection(cmd.Context(), c); err != nil {
				if dialogue.KindOf(err) == dialogue.KindConflict {
					return withHint(err, "titles are unique on a node; list them with: parley collection list")
				}
				return err
			}
			fmt.Fprintf(m.Stdout, "Created collection %q with id %s.\n", c.Title, c.ID)
			fmt.Fprintf(m.Stdout, "Nobody can read or write it yet; for example:\n")
			fmt.Fprintf(m.Stdout, "  parley collection grant --dir %s %s --user '*' --read\n", n.Dir, c.ID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&description, "description", "", "what the collection holds")
	return cmd
}

func (m *Main) newCollectionListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the collections, with who may read and write them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			colls, err := n.Store.Collections(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTITLE\tACCESS\tDESCRIPTION")
			for _, c := range colls {
				grants, err := n.Store.Grants(cmd.Context(), c.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Title, grantsText(grants), c.Description)
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}

// grantsText is "*:rw alice:r", or "-" when nobody has access.
func grantsText(gs []dialogue.Grant) string {
	var parts []string
	for _, g := range gs {
		var a string
		if g.Read {
			a += "r"
		}
		if g.Write {
			a += "w"
		}
		if a == "" {
			continue
		}
		parts = append(parts, g.Principal+":"+a)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func (m *Main) newCollectionGrantCommand() *cobra.Command {
	var dir, user string
	var read, write bool
	cmd := &cobra.Command{
		Use:   "grant --dir DIR COLLECTION --user NAME|* [--read] [--write]",
		Short: "Set what a user (or every user, '*') may do in a collection",
		Long: `grant sets the access of one user, or of every authenticated user ("*"), to
a collection given by id or title. It replaces that principal's previous
grant: --read=false --write=false takes access away. Writing also needs a
role that may write (admin, expert, duty; not lead).`,
		Example: `  parley collection grant --dir /var/lib/parley incidents --user '*' --read
  parley collection grant --dir /var/lib/parley incidents --user alice --read --write`,
		Args: exactArgs(1, "one COLLECTION (id or title)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return withHint(errors.New("no user given"), "pass --user NAME, or --user '*' for every user")
			}
			if !cmd.Flags().Changed("read") && !cmd.Flags().Changed("write") {
				return withHint(errors.New("nothing to grant"), "pass --read, --write or both")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			c, err := findCollection(cmd.Context(), n, args[0])
			if err != nil {
				return err
			}
			if user != "*" {
				if _, err := n.Store.User(cmd.Context(), user); dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(fmt.Errorf("user %q does not exist", user), "list users with: parley user list")
				} else if err != nil {
					return err
				}
			}
			g := dialogue.Grant{CollectionID: c.ID, Principal: user, Read: read, Write: write}
			if err := n.Store.SetGrant(cmd.Context(), g); err != nil {
				return err
			}
			who := user
			if user == "*" {
				who = "every user"
			}
			fmt.Fprintf(m.Stdout, "%s may now %s collection %q.\n", who, accessText(read, write), c.Title)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&user, "user", "", "a user name, or '*' for every authenticated user")
	cmd.Flags().BoolVar(&read, "read", false, "may read the collection")
	cmd.Flags().BoolVar(&write, "write", false, "may add objects to the collection")
	return cmd
}

func accessText(read, write bool) string {
	switch {
	case read && write:
		return "read and write"
	case read:
		return "read"
	case write:
		return "write (but not read)"
	}
	return "neither read nor write"
}
