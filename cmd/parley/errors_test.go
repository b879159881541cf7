package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/parleyhq/parley/internal/dialogue"
)

// TestErrorLine checks what a person sees of an error: op names removed,
// a raw SQLite error never shown, and one line.
func TestErrorLine(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, sqlErr := db.Exec("SELECT * FROM no_such_table")
	if sqlErr == nil {
		t.Fatal("no SQLite error")
	}
	_, pathErr := os.Open("/nonexistent/parley.json")

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"made here", errors.New("no data folder given"), "no data folder given"},
		{"with hint", withHint(errors.New("no user given"), "pass --user"), "no user given"},
		{"kind, op removed", dialogue.Errorf("sqlite.FindCollection", dialogue.KindNotFound, "collection %q does not exist", "x"), `collection "x" does not exist`},
		{"internal, op removed", dialogue.E("node.Init", dialogue.KindOther, pathErr), "open /nonexistent/parley.json: no such file or directory"},
		{"raw SQL, internal", dialogue.E("sqlite.Users", dialogue.KindOther, sqlErr), "internal database error in sqlite.Users"},
		{"raw SQL, wrapped with a reason", dialogue.Errorf("sqlite.AddObjects", dialogue.KindUnavailable, "the database is busy, try again: %w", sqlErr), "the database is busy, try again"},
		{"raw SQL under a CLI error", fmt.Errorf("closing: %w", dialogue.E("sqlite.Close", dialogue.KindOther, sqlErr)), "internal database error in sqlite.Close"},
		{"raw SQL alone", fmt.Errorf("listing: %w", sqlErr), "internal database error"},
		{"several lines", errors.New("a\n  b"), "a b"},
		{"disk full, a file", dialogue.E("blob.Put", dialogue.KindDiskFull, fmt.Errorf("writing the blob: %w", &os.PathError{Op: "write", Path: "/srv/blobs/tmp/put-1", Err: syscall.ENOSPC})),
			"writing the blob: write /srv/blobs/tmp/put-1: no space left on device"},
		{"disk full, the database", dialogue.Errorf("sqlite.CreateUser", dialogue.KindDiskFull, "the disk is full: %w", sqlErr), "the disk is full"},
		{"disk full, raw SQL still hidden", dialogue.E("webui", dialogue.KindOther, dialogue.E("sqlite.CreateUser", dialogue.KindDiskFull, sqlErr)), "internal database error in webui"},
	} {
		got := errorLine(tc.err)
		if got != tc.want {
			t.Errorf("%s: errorLine = %q, want %q", tc.name, got, tc.want)
		}
		if strings.Contains(got, "no_such_table") || strings.Contains(got, "SQL") {
			t.Errorf("%s: SQL leaked: %q", tc.name, got)
		}
	}
}
