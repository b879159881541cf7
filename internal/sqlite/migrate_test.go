package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/parleyhq/parley/internal/dialogue"
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	version := func(db *DB) int64 {
		t.Helper()
		var v int64
		if err := db.r.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(db); v != int64(len(files)) {
		t.Errorf("fresh file: schema version %d, want %d", v, len(files))
	}
	var tables []string
	rows, err := db.r.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'goose_db_version' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if got := strings.Join(tables, " "); got != "collections grants objects pull_cursors statuses store_state tokens users" {
		t.Errorf("tables: %s", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing more and keeps the data.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	var applied int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(files) || version(db) != int64(len(files)) {
		t.Errorf("after reopen: %d migration rows, version %d; want %d", applied, version(db), len(files))
	}
}

// TestPragmas checks the settings every connection must run with.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, pool := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"foreign_keys": "1",
			"busy_timeout": "10000",
		} {
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, want)
			}
		}
	}
	var qo string
	if err := db.r.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("reader query_only = %s, %v", qo, err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "parley.db"))
	if err == nil {
		t.Fatal("Open in a missing folder succeeded")
	}
	if !strings.HasPrefix(err.Error(), "sqlite.Open: ") {
		t.Errorf("error %q does not name the op", err)
	}
}

// TestOpenOddPath opens a file whose path has characters that mean
// something in a URI.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b#c?d%20e&f")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "parley.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not where asked: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files made beside the folder: %v", entries)
	}
}

// TestTokenLastUsed checks that UserByToken records the last use, at most
// once a minute.
func TestTokenLastUsed(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return clock }
	if err := db.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}, "h"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, "alice", "hash", ""); err != nil {
		t.Fatal(err)
	}
	lastUsed := func() any {
		var v sql.NullInt64
		if err := db.r.QueryRow("SELECT last_used FROM tokens WHERE hash = 'hash'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !v.Valid {
			return nil
		}
		return fromMicros(v.Int64)
	}
	if v := lastUsed(); v != nil {
		t.Fatalf("new token last_used = %v", v)
	}
	use := func() {
		t.Helper()
		if _, err := db.UserByToken(ctx, "hash"); err != nil {
			t.Fatal(err)
		}
	}
	use()
	if v := lastUsed(); v != clock {
		t.Errorf("last_used = %v, want %v", v, clock)
	}
	first := clock
	clock = clock.Add(30 * time.Second)
	use()
	if v := lastUsed(); v != first {
		t.Errorf("after 30s: last_used = %v, want it kept at %v", v, first)
	}
	clock = clock.Add(31 * time.Second)
	use()
	if v := lastUsed(); v != clock {
		t.Errorf("after 61s: last_used = %v, want %v", v, clock)
	}
}

// TestMigrationOverData applies the first migration alone, stores
// versions in it, then lets Open apply the rest: superseded is filled in
// for the rows already there.
func TestMigrationOverData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	raw, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO collections (pk, id, title, created_at) VALUES (1, 'c', 'local', 0)",
		`INSERT INTO objects (collection_pk, id, version, type, spec_version, date_added, sha256, raw) VALUES
			(1, 'indicator--a', '2024-01-02T00:00:00.000000000Z', 'indicator', '2.1', 1, x'00', x'7b7d'),
			(1, 'indicator--a', '2024-01-01T00:00:00.000000000Z', 'indicator', '2.1', 2, x'00', x'7b7d'),
			(1, 'indicator--b', '2024-01-01T00:00:00.000000000Z', 'indicator', '2.1', 3, x'00', x'7b7d')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.FindObjects(ctx, "c", dialogue.ObjectFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range page.Objects {
		got = append(got, fmt.Sprint(o.ID, "@", o.DateAdded.UnixMicro()))
	}
	// indicator--a's last version is the one added first (date_added 1).
	if strings.Join(got, " ") != "indicator--a@1 indicator--b@3" {
		t.Errorf("last versions after migrating: %v", got)
	}
}
