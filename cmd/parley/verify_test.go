package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestVerifyTamper changes one byte of a stored entry, a stored hash, a
// checkpoint note and a checkpoint's signature, at random positions, in
// the SQLite file itself; verify --dir must fail every time and name what
// broke, and succeed again once the byte is restored.
func TestVerifyTamper(t *testing.T) {
	dir := newNode(t, "node-a")
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident.json")
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident-v2.json")
	if out := mustRun(t, "", "verify", "--dir", dir); !regexp.MustCompile(`^ok [0-9a-f-]{36} \(local\): 5 entries, 2 checkpoints, latest size 5 root \S+\n$`).MatchString(out) {
		t.Fatalf("verify of a good log printed %q", out)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		what  string
		table string // table, blob column and row key
		col   string
		key   string
		// pick restricts the byte positions (nil: any)
		pick func(b []byte) (lo, hi int)
		want string // a regexp the error must match
	}{
		{"entry (an object's stored bytes)", "objects", "raw", "seq", nil, `^collection [0-9a-f-]{36} \(local\): entry \d+: leaf hash differs`},
		{"stored hash", "log_hashes", "hash", "idx", nil, `: (entry \d+: leaf hash differs|stored hash \d+: level \d+ node \d+ differs)`},
		{"checkpoint", "log_checkpoints", "note", "size", nil, `: checkpoint at size \d+: `},
		{"signature", "log_checkpoints", "note", "size", func(b []byte) (int, int) {
			i := strings.LastIndex(string(b), " ") + 1 // the base64 of the signature line
			return i, len(b) - 1
		}, `: checkpoint at size \d+: checkpoint note: (malformed note|signature by node-a .*does not verify|signature by node-a is not canonical base64)`},
	} {
		for trial := 0; trial < 6; trial++ {
			rows, err := db.Query(fmt.Sprintf("SELECT %s, %s FROM %s", tc.key, tc.col, tc.table))
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				key int64
				b   []byte
			}
			var all []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.key, &r.b); err != nil {
					t.Fatal(err)
				}
				all = append(all, r)
			}
			rows.Close()
			r := all[rng.IntN(len(all))]
			lo, hi := 0, len(r.b)
			if tc.pick != nil {
				lo, hi = tc.pick(r.b)
			}
			pos := lo + rng.IntN(hi-lo)
			bad := append([]byte(nil), r.b...)
			bad[pos] ^= byte(1 + rng.IntN(255))
			update := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", tc.table, tc.col, tc.key)
			if _, err := db.Exec(update, bad, r.key); err != nil {
				t.Fatal(err)
			}
			_, err = runMain(t, "", "verify", "--dir", dir)
			if err == nil {
				t.Errorf("%s: byte %d of %s %d changed, verify succeeded", tc.what, pos, tc.key, r.key)
			} else if msg := errorLine(err); !regexp.MustCompile(tc.want).MatchString(msg) {
				t.Errorf("%s: byte %d of %s %d changed: error %q does not match %s", tc.what, pos, tc.key, r.key, msg, tc.want)
			}
			if _, err := db.Exec(update, r.b, r.key); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustRun(t, "", "verify", "--dir", dir)
}

// TestVerifyDeletedAndUnlogged: an object deleted from the collection
// (TAXII DELETE) stays in the record and the log still verifies; an object
// version put into the store behind the log's back is named.
func TestVerifyDeletedAndUnlogged(t *testing.T) {
	dir := newNode(t, "node-a")
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident.json")
	db, err := sql.Open("sqlite", filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What the store's DeleteObject does, on the oldest object.
	var seq int64
	if err := db.QueryRow("SELECT seq FROM objects ORDER BY seq LIMIT 1").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM objects WHERE seq = ?", seq); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "verify", "--dir", dir); !strings.HasPrefix(out, "ok ") {
		t.Fatalf("verify after a delete printed %q", out)
	}
	// An object row that no log entry commits to: a copy of another row
	// under a new id, inserted with SQL.
	if _, err := db.Exec(`INSERT INTO objects (collection_pk, id, id_hash, version, type, spec_version, created, modified, date_added, sha256, raw, superseded)
		SELECT collection_pk, 'identity--00000000-0000-4000-8000-000000000001', 1, version, type, spec_version, created, modified, date_added + 1000000, sha256, CAST(raw || ' ' AS BLOB), 0
		FROM objects ORDER BY seq DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	_, err = runMain(t, "", "verify", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "object identity--00000000-0000-4000-8000-000000000001 version ") ||
		!strings.Contains(err.Error(), "is stored but is not an entry of the log") {
		t.Fatalf("verify with an unlogged object: %v", err)
	}
}

// A store written before a transition's move was renamed holds
// transitions with "action" (a name STIX 2.1 reserves): verify still
// passes on it, and export gives the object as it was stored.
func TestVerifyLegacyTransition(t *testing.T) {
	dir := newNode(t, "node-a")
	legacy := `{"type":"parley-transition","spec_version":"2.1","id":"parley-transition--5d3c4b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",` +
		`"created":"2026-11-30T10:00:00.000Z","modified":"2026-11-30T10:00:00.000Z","created_by_ref":"identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8",` +
		`"extensions":{"extension-definition--6c1f5e3a-2b7d-4e0f-9a8c-1d3e5f7a9b2c":{"extension_type":"new-sdo"}},` +
		`"request_ref":"parley-request--3d8b4e5f-6071-4283-94a5-b6c7d8e9f0a1","action":"acknowledge","from_state":"submitted","to_state":"acknowledged"}`
	bundle := filepath.Join(t.TempDir(), "legacy.json")
	if err := os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--6e4d5c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b","objects":[`+legacy+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", "--dir", dir, bundle)
	if out := mustRun(t, "", "verify", "--dir", dir); !strings.HasPrefix(out, "ok ") {
		t.Fatalf("verify of a store with a legacy transition printed %q", out)
	}
	if out := mustRun(t, "", "export", "--dir", dir); !strings.Contains(out, legacy) {
		t.Errorf("export changed the legacy transition:\n%s", out)
	}
}
