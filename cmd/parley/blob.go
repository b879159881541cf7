package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
)

func init() { moreCommands = append(moreCommands, (*Main).newBlobCommand) }

func (m *Main) newBlobCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blob",
		Short: "Add, get and list evidence blobs (files kept by their SHA-256)",
		Long: `Evidence (artifact payloads, files) is kept in the data folder by the SHA-256
of its bytes, under blobs/sha256/. Adding a blob to a collection enters its
hash and size in the collection's log; a peer fetches the bytes by hash and
checks them before it keeps them.`,
	}
	cmd.AddCommand(m.newBlobAddCommand(), m.newBlobGetCommand(), m.newBlobListCommand())
	return cmd
}

func (m *Main) newBlobAddCommand() *cobra.Command {
	var dir, coll string
	cmd := &cobra.Command{
		Use:   "add --dir DIR [--collection ID|TITLE] FILE...",
		Short: "Keep files as blobs and enter them in a collection's log",
		Long: `add keeps each FILE ("-" for standard input) in the node's blob folder and
enters its SHA-256 and size in the log of the collection (the default one,
"local", when none is named). Adding a file kept already changes nothing.
It prints one line per file: sha256:HEX SIZE FILE.`,
		Example: `  parley blob add --dir /var/lib/parley --collection incidents capture.pcap dropper.bin`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("no FILE given"), "see '%s --help'", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, l, c, err := m.openLog(ctx, dir, coll)
			if err != nil {
				return err
			}
			defer n.Close()
			s, err := n.Blobs()
			if err != nil {
				return err
			}
			for _, name := range args {
				sum, size, err := m.putFile(cmd, s, name)
				if err != nil {
					return err
				}
				if _, err := l.AppendBlob(ctx, c.ID, sum, size); err != nil {
					return fmt.Errorf("%s: kept as sha256:%s, but not entered in the log of collection %q: %s", name, blob.Hex(sum), c.Title, errorLine(err))
				}
				fmt.Fprintf(m.Stdout, "sha256:%s %d %s\n", blob.Hex(sum), size, name)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&coll, "collection", "", "the collection (id or title) whose log names the blobs (default local)")
	return cmd
}

// putFile keeps one file (or standard input, "-") in s.
func (m *Main) putFile(cmd *cobra.Command, s *blob.Store, name string) ([32]byte, int64, error) {
	var r io.Reader = m.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return [32]byte{}, 0, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return [32]byte{}, 0, err
		}
		if !fi.Mode().IsRegular() {
			return [32]byte{}, 0, fmt.Errorf("%s: not a regular file", name)
		}
		r = f
	}
	sum, size, err := s.Put(cmd.Context(), r)
	if err != nil {
		// The file's name first: errorLine keeps it and drops the ops.
		return sum, 0, fmt.Errorf("%s: %s", name, errorLine(err))
	}
	return sum, size, nil
}

func (m *Main) newBlobGetCommand() *cobra.Command {
	var dir, out string
	cmd := &cobra.Command{
		Use:   "get --dir DIR SHA256 [-o FILE]",
		Short: "Write a kept blob to standard output or a file",
		Long: `get writes the blob whose SHA-256 is given (64 hex digits, with or without
"sha256:") to standard output, or to FILE with -o (mode 0600, replaced only
once the whole blob is written). The bytes are hashed on the way: a blob
damaged on disk is an error. It will not write to a terminal: pass -o or
redirect the output.`,
		Example: `  parley blob get --dir /var/lib/parley sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 -o capture.pcap`,
		Args:    exactArgs(1, "one SHA256"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sum, err := blob.ParseSum(args[0])
			if err != nil {
				return withHint(fmt.Errorf("SHA256 argument %q: %w", args[0], err),
					"give the hash as 'parley blob list' prints it")
			}
			if out == "" && isTerminal(m.Stdout) {
				return withHint(errors.New("refusing to write a blob's bytes to a terminal"),
					"pass -o FILE, or redirect the output")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			s, err := n.Blobs()
			if err != nil {
				return err
			}
			f, err := s.Open(sum)
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return withHint(err, "list the kept blobs with: parley blob list --dir %s", n.Dir)
			}
			if err != nil {
				return err
			}
			defer f.Close()
			if out == "" {
				return copyChecked(m.Stdout, f, sum)
			}
			return writeChecked(out, f, sum)
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the blob to `FILE` instead of standard output")
	return cmd
}

// copyChecked copies a kept blob to w, hashing it on the way.
func copyChecked(w io.Writer, r io.Reader, sum [32]byte) error {
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
		return err
	}
	if got := [32]byte(h.Sum(nil)); got != sum {
		return fmt.Errorf("the kept blob sha256:%s is damaged: its bytes hash to sha256:%s", blob.Hex(sum), blob.Hex(got))
	}
	return nil
}

// writeChecked writes a kept blob to the file out: to a temporary file
// beside it, renamed to out once the bytes are checked.
func writeChecked(out string, r io.Reader, sum [32]byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := copyChecked(tmp, r, sum); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func (m *Main) newBlobListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the kept blobs with their sizes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			s, err := n.Blobs()
			if err != nil {
				return err
			}
			list, err := s.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SHA256\tSIZE")
			for _, b := range list {
				fmt.Fprintf(tw, "sha256:%s\t%d\n", blob.Hex(b.SHA256), b.Size)
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}
