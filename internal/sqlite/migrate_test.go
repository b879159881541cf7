package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
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
	if got := strings.Join(tables, " "); got != "alarms channels collections enrich_cursors enrich_links enrichments grants log_checkpoints log_entries log_hashes objects peer_logs peers pull_cursors received_index statuses store_state tokens users wanted_blobs witness_state" {
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

// TestMigrationIDHash applies the migrations up to 00002, stores versions
// under that schema, then lets Open apply 00003: id_hash is filled in, the
// unique (collection, id, version) index gives way to the id_hash one, and
// the store keeps every behaviour over the rows it converted. Down goes
// back to the unique index.
func TestMigrationIDHash(t *testing.T) {
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
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	const (
		a  = "indicator--0a000000-0000-4000-8000-000000000000"
		b  = "indicator--0b000000-0000-4000-8000-000000000000"
		v1 = "2024-01-01T00:00:00.000000000Z"
		v2 = "2024-01-02T00:00:00.000000000Z"
	)
	objJSON := func(id, modified string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00Z","modified":"` + modified + `"}`
	}
	if _, err := raw.Exec("INSERT INTO collections (pk, id, title, created_at) VALUES (1, 'c', 'local', 0)"); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		id, version string
		superseded  int
	}{{a, v1, 1}, {a, v2, 0}, {b, v1, 0}} {
		j := objJSON(r.id, r.version[:19]+"Z")
		sum := sha256.Sum256([]byte(j))
		if _, err := raw.Exec(`INSERT INTO objects (collection_pk, id, version, type, spec_version, created, modified, date_added, sha256, raw, superseded)
			VALUES (1, ?, ?, 'indicator', '2.1', ?, ?, ?, ?, ?, ?)`, r.id, r.version, v1, r.version, i+1, sum[:], []byte(j), r.superseded); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec("UPDATE store_state SET last_date_added = 3"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.r.Query("SELECT id, id_hash FROM objects")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var h int64
		if err := rows.Scan(&id, &h); err != nil {
			t.Fatal(err)
		}
		if h != idHash(id) {
			t.Errorf("%s: id_hash %d, want %d", id, h, idHash(id))
		}
	}
	rows.Close()
	var indexes string
	if err := db.r.QueryRow("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'objects' AND sql IS NOT NULL ORDER BY name)").Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != "objects_date_added objects_id_hash objects_large objects_type" {
		t.Errorf("indexes of objects: %s", indexes)
	}

	find := func(f dialogue.ObjectFilter) string {
		t.Helper()
		page, err := db.FindObjects(ctx, "c", f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range page.Objects {
			got = append(got, fmt.Sprint(o.ID[11:13], "@", o.DateAdded.UnixMicro()))
		}
		return strings.Join(got, " ")
	}
	if got := find(dialogue.ObjectFilter{IDs: []string{a}, Versions: dialogue.VersionMatch{All: true}}); got != "0a@1 0a@2" {
		t.Errorf("versions of a by id: %s", got)
	}
	if got := find(dialogue.ObjectFilter{Versions: dialogue.VersionMatch{First: true}}); got != "0a@1 0b@3" {
		t.Errorf("first versions: %s", got)
	}

	// Over the converted rows: same content is Unchanged with its first
	// DateAdded, other content a conflict, a new version supersedes.
	obj := func(id, modified, extra string) *dialogue.Object {
		m, _ := time.Parse(time.RFC3339, modified)
		c, _ := time.Parse(time.RFC3339, "2024-01-01T00:00:00Z")
		j := objJSON(id, modified)
		if extra != "" {
			j = j[:len(j)-1] + `,"name":"` + extra + `"}`
		}
		return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: c, Modified: m, Raw: []byte(j)}
	}
	res, err := db.AddObjects(ctx, "c", []*dialogue.Object{
		obj(a, "2024-01-02T00:00:00Z", ""),
		obj(b, "2024-01-01T00:00:00Z", "changed"),
		obj(b, "2024-01-03T00:00:00Z", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Status != dialogue.Unchanged || r.DateAdded.UnixMicro() != 2 {
		t.Errorf("stored version again: %v, date_added %d", r.Status, r.DateAdded.UnixMicro())
	}
	if r := res[1]; r.Status != dialogue.Rejected || dialogue.KindOf(r.Err) != dialogue.KindConflict {
		t.Errorf("stored version with other content: %v %v", r.Status, r.Err)
	}
	if r := res[2]; r.Status != dialogue.Added {
		t.Errorf("new version: %v %v", r.Status, r.Err)
	}
	added := res[2].DateAdded.UnixMicro()
	if got, want := find(dialogue.ObjectFilter{}), fmt.Sprint("0a@2 0b@", added); got != want {
		t.Errorf("last versions: %s, want %s", got, want)
	}
	// Deleting the latest version makes the one before it the last again.
	if _, err := db.DeleteObject(ctx, "c", b, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{Last: true}}); err != nil {
		t.Fatal(err)
	}
	if got := find(dialogue.ObjectFilter{}); got != "0a@2 0b@3" {
		t.Errorf("last versions after deleting b's latest: %s", got)
	}

	// Down restores the unique index, and it holds for the rows there.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err = sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p, err = goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec(`INSERT INTO objects (collection_pk, id, version, type, spec_version, date_added, sha256, raw)
		VALUES (1, ?, ?, 'indicator', '2.1', 99, x'00', x'7b7d')`, a, v1)
	if !isUnique(err) {
		t.Errorf("after Down, a second (collection, id, version) row: %v, want a UNIQUE violation", err)
	}
}

// TestIDHashCollision stores a row whose id_hash is another id's: the
// store tells the two ids apart by their ids.
func TestIDHashCollision(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	const (
		x = "indicator--0a000000-0000-4000-8000-000000000000"
		y = "indicator--0b000000-0000-4000-8000-000000000000"
	)
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := func(id string) *dialogue.Object {
		return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: mod, Modified: mod,
			Raw: []byte(`{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z"}`)}
	}
	if _, err := db.AddObjects(ctx, "c", []*dialogue.Object{obj(x)}); err != nil {
		t.Fatal(err)
	}
	// Forge the collision: x's row gets y's hash.
	if _, err := db.w.Exec("UPDATE objects SET id_hash = ? WHERE id = ?", idHash(y), x); err != nil {
		t.Fatal(err)
	}
	res, err := db.AddObjects(ctx, "c", []*dialogue.Object{obj(y)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != dialogue.Added {
		t.Fatalf("y, whose hash x's row has: %v %v, want added", res[0].Status, res[0].Err)
	}
	// Both rows have y's hash; only y's is y's.
	page, err := db.FindObjects(ctx, "c", dialogue.ObjectFilter{IDs: []string{y}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 1 || page.Objects[0].ID != y {
		t.Errorf("find %s: %v", y, page.Objects)
	}
	// Both are the last version of their object: neither superseded.
	var n int
	if err := db.r.QueryRow("SELECT count(*) FROM objects WHERE superseded = 0").Scan(&n); err != nil || n != 2 {
		t.Errorf("last versions: %d, %v; want 2", n, err)
	}
}

// TestMigrationLog writes objects under schema 00003 into two collections
// (one of them over tlog.MaxEntrySize bytes, rows out of seq order by
// date_added), then lets Open apply 00004: each collection's objects
// become its log's first entries in date_added order, with their stored
// hashes and no checkpoint; SignLogs signs one, and appends continue the
// log.
func TestMigrationLog(t *testing.T) {
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
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	objJSON := func(n int, pad int) []byte {
		return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"%s"}`,
			n, strings.Repeat("x", pad))
	}
	for _, c := range []string{"(1, 'c1', 'one', 0)", "(2, 'c2', 'two', 0)", "(3, 'c3', 'empty', 0)"} {
		if _, err := raw.Exec("INSERT INTO collections (pk, id, title, created_at) VALUES " + c); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][][]byte{}
	for _, r := range []struct {
		coll, n, added, pad int
	}{{1, 1, 30, 0}, {2, 2, 20, 0}, {1, 3, 10, 70000}, {1, 4, 40, 0}, {2, 5, 50, 0}} {
		j := objJSON(r.n, r.pad)
		sum := sha256.Sum256(j)
		id := fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", r.n)
		if _, err := raw.Exec(`INSERT INTO objects (collection_pk, id, id_hash, version, type, spec_version, created, modified, date_added, sha256, raw)
			VALUES (?, ?, ?, '2024-01-01T00:00:00.000000000Z', 'indicator', '2.1', '2024-01-01T00:00:00.000000000Z', '2024-01-01T00:00:00.000000000Z', ?, ?, ?)`,
			r.coll, id, idHash(id), r.added, sum[:], j); err != nil {
			t.Fatal(err)
		}
	}
	want["c1"] = [][]byte{tlog.ObjectEntry(objJSON(3, 70000)), objJSON(1, 0), objJSON(4, 0)}
	want["c2"] = [][]byte{objJSON(2, 0), objJSON(5, 0)}
	if _, err := raw.Exec("UPDATE store_state SET last_date_added = 50"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check := func(coll string, entries [][]byte) {
		t.Helper()
		size, err := db.LogSize(ctx, coll)
		if err != nil || size != int64(len(entries)) {
			t.Fatalf("%s: log size %d, %v; want %d", coll, size, err, len(entries))
		}
		got, err := db.LogEntries(ctx, coll, 0, size)
		if err != nil {
			t.Fatal(err)
		}
		for i := range entries {
			if !bytes.Equal(got[i], entries[i]) {
				t.Errorf("%s: entry %d = %.60q, want %.60q", coll, i, got[i], entries[i])
			}
		}
		var mem tlog.MemHashes
		if err := mem.Append(entries...); err != nil {
			t.Fatal(err)
		}
		idx := make([]int64, len(mem))
		for i := range idx {
			idx[i] = int64(i)
		}
		hs, err := db.LogHashes(ctx, coll, idx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range hs {
			if hs[i] != mem[i] {
				t.Errorf("%s: stored hash %d differs from tlog.MemHashes", coll, i)
			}
		}
	}
	check("c1", want["c1"])
	check("c2", want["c2"])
	check("c3", nil)
	for _, c := range []string{"c1", "c2", "c3"} {
		if _, err := db.LatestCheckpoint(ctx, c); dialogue.KindOf(err) != dialogue.KindNotFound {
			t.Errorf("%s: checkpoint after the migration: %v, want none", c, err)
		}
	}

	skey, vkey, err := tlog.GenerateKey("node.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := tlog.NewSigner(skey)
	verifier, _ := tlog.NewVerifier(vkey)
	db.SetLogSigner(func(coll string, size int64, root [32]byte) ([]byte, error) {
		return tlog.Sign(tlog.Checkpoint{Origin: "node.example/parley/" + coll, Size: size, Hash: root}, signer)
	})
	for range 2 { // the second signs nothing more
		if err := db.SignLogs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"c1", "c2"} {
		cps, err := db.Checkpoints(ctx, c)
		if err != nil || len(cps) != 1 || cps[0].Size != int64(len(want[c])) {
			t.Fatalf("%s: checkpoints after SignLogs: %d, %v", c, len(cps), err)
		}
		if _, err := tlog.Open(cps[0].Note, "node.example/parley/"+c, verifier); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	if cps, err := db.Checkpoints(ctx, "c3"); err != nil || len(cps) != 0 {
		t.Errorf("c3: an empty log got %d checkpoints (%v)", len(cps), err)
	}
	o := &dialogue.Object{ID: "indicator--00000009-0000-4000-8000-000000000000", Type: "indicator", Raw: objJSON(9, 0)}
	if _, err := db.AddObjects(ctx, "c1", []*dialogue.Object{o}); err != nil {
		t.Fatal(err)
	}
	check("c1", append(want["c1"], o.Raw))

	// Reopening computes nothing again.
	if err := db.fillLogHashes(ctx); err != nil {
		t.Fatal(err)
	}
	check("c1", append(want["c1"], o.Raw))
}

// TestMigrationPeers writes objects under schema 00004 (one over
// tlog.MaxEntrySize bytes, entered in the log by 00004), then lets Open
// apply 00005: the objects are this node's own (origin NULL, listed by
// ObjectSums), the large one is found by LargeObject through its partial
// index, peering works over the converted file, and Down goes back to
// 00004 keeping the objects.
func TestMigrationPeers(t *testing.T) {
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
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Objects as the store at 00004 wrote them: rows and their entries.
	objJSON := func(n int, pad int) []byte {
		return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"%s"}`,
			n, strings.Repeat("x", pad))
	}
	const coll = "0b5e1a39-7c9f-4a3e-9b0e-1f2d3c4b5a69"
	if _, err := raw.Exec("INSERT INTO collections (pk, id, title, created_at) VALUES (1, ?, 'local', 0)", coll); err != nil {
		t.Fatal(err)
	}
	var objs [][]byte
	for i, pad := range []int{0, 70000, 10} {
		j := objJSON(i+1, pad)
		sum := sha256.Sum256(j)
		id := fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i+1)
		res, err := raw.Exec(`INSERT INTO objects (collection_pk, id, id_hash, version, type, spec_version, created, modified, date_added, sha256, raw)
			VALUES (1, ?, ?, '2024-01-01T00:00:00.000000000Z', 'indicator', '2.1', '2024-01-01T00:00:00.000000000Z', '2024-01-01T00:00:00.000000000Z', ?, ?, ?)`,
			id, idHash(id), i+1, sum[:], j)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := res.LastInsertId()
		var data any
		if d := entryData(j); d != nil {
			data = d
		}
		if _, err := raw.Exec("INSERT INTO log_entries (collection_pk, idx, object_seq, data) VALUES (1, ?, ?, ?)", i, seq, data); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, j)
	}
	if _, err := raw.Exec("UPDATE store_state SET last_date_added = 3"); err != nil {
		t.Fatal(err)
	}
	// 00004's schema: no origin column yet.
	if _, err := raw.Exec("SELECT origin FROM objects"); err == nil {
		t.Fatal("objects has an origin column at 00004")
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var own int
	if err := db.r.QueryRow("SELECT count(*) FROM objects WHERE origin IS NULL").Scan(&own); err != nil || own != 3 {
		t.Errorf("objects of this node after the migration: %d, %v; want 3", own, err)
	}
	n := 0
	if err := db.ObjectSums(ctx, coll, func(dialogue.ObjectSum) error { n++; return nil }); err != nil || n != 3 {
		t.Errorf("ObjectSums after the migration: %d, %v; want 3", n, err)
	}
	got, err := db.LargeObject(ctx, coll, sha256.Sum256(objs[1]))
	if err != nil || !bytes.Equal(got, objs[1]) {
		t.Errorf("LargeObject of the migrated large object: %d bytes, %v", len(got), err)
	}
	if _, err := db.LargeObject(ctx, coll, sha256.Sum256(objs[0])); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("LargeObject of a small object: %v", err)
	}
	// The planner picks the partial index by itself for LargeObject's
	// conditions (LargeObject names it too: INDEXED BY fails rather than
	// scan).
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN SELECT raw FROM objects WHERE collection_pk = 1 AND sha256 = x'00' AND large = 1 AND origin IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if !strings.Contains(strings.Join(plan, "; "), "USING INDEX objects_large") {
		t.Errorf("the plan of LargeObject's query does not use objects_large: %q", plan)
	}
	// The log is intact: the migrated entries, then an append.
	if _, err := db.AddObjects(ctx, coll, []*dialogue.Object{{ID: "indicator--00000009-0000-4000-8000-000000000000", Type: "indicator", Raw: objJSON(9, 0)}}); err != nil {
		t.Fatal(err)
	}
	entries, err := db.LogEntries(ctx, coll, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range append(objs, objJSON(9, 0)) {
		if !bytes.Equal(entries[i], tlog.ObjectEntry(j)) {
			t.Errorf("entry %d = %.60q", i, entries[i])
		}
	}

	// Peering over the converted file.
	_, vkey, _ := tlog.GenerateKey("node-b.example")
	pin := sha256.Sum256([]byte("b"))
	if err := db.AddPeer(ctx, &dialogue.Peer{Name: "node-b.example", URL: "https://127.0.0.1:1", TLSPin: base64.StdEncoding.EncodeToString(pin[:]), LogKey: vkey}); err != nil {
		t.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "with b", Peer: "node-b.example"}
	if err := db.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := db.ActivateChannel(ctx, ch.ID, "node-b.example", time.Now()); err != nil {
		t.Fatal(err)
	}
	o := &dialogue.Object{ID: "indicator--00000010-0000-4000-8000-000000000000", Type: "indicator", Raw: objJSON(10, 0)}
	res, err := db.ApplyReceived(ctx, &dialogue.ApplyBatch{Peer: "node-b.example", CollectionID: ch.ID, From: 0, To: 1, Objects: []*dialogue.Object{o}})
	if err != nil || res.Added != 1 {
		t.Fatalf("ApplyReceived after the migration: %+v, %v", res, err)
	}
	if from, err := db.Origin(ctx, ch.ID, o.ID, time.Time{}); err != nil || from != "node-b.example" {
		t.Errorf("Origin after the migration: %q, %v", from, err)
	}

	// Down to 00004: the peering tables and the column go, the objects stay.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err = sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p, err = goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var tables, left int
	if err := raw.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name IN ('peers', 'channels', 'peer_logs', 'wanted_blobs', 'objects_large')").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("after Down: %d peering tables or indexes left, %v", tables, err)
	}
	if err := raw.QueryRow("SELECT count(*) FROM objects").Scan(&left); err != nil || left != 5 {
		t.Errorf("after Down: %d objects, %v; want 5", left, err)
	}
}
