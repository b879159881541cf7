package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// TestInsertNeedsNoStatementJournal checks the program SQLite compiles
// for AddObjects' INSERT of several rows: SQLite gives such a statement a
// statement journal (a copy of every page it changes) when it "may
// abort" — a constraint that aborts the statement (OE_Abort, 2, in P2 of
// a Halt), an immediate foreign key (FkCounter with P1 0), a function
// call (a partial index's condition) or a trigger (Program). None may be
// there (migrations/00009).
func TestInsertNeedsNoStatementJournal(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := insertObjectsHead + insertObjectRow + ", " + insertObjectRow
	rows, err := db.r.QueryContext(ctx, "EXPLAIN "+q, make([]any, 2*insertColumns)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var fk, halts int
	for rows.Next() {
		var addr, p1, p2, p3 int
		var op string
		var p4, p5, comment any
		if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		switch op {
		case "Function", "PureFunc", "Program":
			t.Errorf("%d %s: the INSERT calls a function or a trigger", addr, op)
		case "Halt", "HaltIfNull":
			if p1 != 0 {
				halts++
			}
			if p2 == 2 {
				t.Errorf("%d %s %v: a constraint that aborts the statement (OE_Abort)", addr, op, p4)
			}
		case "FkCounter":
			fk++
			if p1 == 0 {
				t.Errorf("%d FkCounter: an immediate foreign key", addr)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The constraints are still there: NOT NULL columns, the unique
	// date_added, the foreign key.
	if fk == 0 || halts < 10 {
		t.Errorf("%d foreign key checks and %d constraint halts in the program: the constraints are gone", fk, halts)
	}
}

// TestObjectsForeignKeyDeferred checks that the foreign key of objects
// on collections still holds, at commit (migrations/00009).
func TestObjectsForeignKeyDeferred(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := "indicator--00000001-0000-4000-8000-000000000000"
	raw := []byte(`{"type":"indicator","id":"` + id + `"}`)
	sum := sha256.Sum256(raw)
	if _, err := tx.ExecContext(ctx, insertObject, 999, id, idHash(id), "", "indicator", "2.1", nil, nil, 1, sum[:], raw, false, nil, false, nil); err != nil {
		tx.Rollback()
		t.Fatalf("insert: %v (the check is deferred to the commit)", err)
	}
	err = tx.Commit()
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("commit of an object of no collection: %v, want a FOREIGN KEY error", err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM objects").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d objects after the failed commit, %v", n, err)
	}
}

// TestAddObjectsLarge checks that AddObjects marks an object over
// tlog.MaxEntrySize bytes as large, so that LargeObject finds it by its
// SHA-256, in a call of several chunks of rows, and no smaller one.
func TestAddObjectsLarge(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	var objs []*dialogue.Object
	for i := range 3*insertChunk + 1 {
		id := fmt.Sprintf("note--%08x-0000-4000-8000-000000000000", i)
		pad := 10
		switch i {
		case 7, 2*insertChunk + 3:
			pad = tlog.MaxEntrySize
		case 8: // exactly the largest entry
			pad = tlog.MaxEntrySize - len(`{"type":"note","id":"`+id+`","content":""}`)
		}
		raw := []byte(`{"type":"note","id":"` + id + `","content":"` + strings.Repeat("x", pad) + `"}`)
		objs = append(objs, &dialogue.Object{ID: id, Type: "note", SpecVersion: "2.1", Raw: raw})
	}
	if len(objs[8].Raw) != tlog.MaxEntrySize {
		t.Fatalf("object 8 has %d bytes", len(objs[8].Raw))
	}
	res, err := db.AddObjects(ctx, "c", objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != dialogue.Added {
			t.Fatalf("%s: %v %v", r.ID, r.Status, r.Err)
		}
	}
	for i, o := range objs {
		got, err := db.LargeObject(ctx, "c", sha256.Sum256(o.Raw))
		large := len(o.Raw) > tlog.MaxEntrySize
		switch {
		case large && (err != nil || !bytes.Equal(got, o.Raw)):
			t.Errorf("object %d (%d bytes): LargeObject %d bytes, %v", i, len(o.Raw), len(got), err)
		case !large && dialogue.KindOf(err) != dialogue.KindNotFound:
			t.Errorf("object %d (%d bytes): LargeObject %d bytes, %v; want KindNotFound", i, len(o.Raw), len(got), err)
		}
	}
}

// TestAppendHashesChunks checks the stored hashes that AddObjects writes,
// hashChunk at a time as blobs and the rest as a JSON array, against the
// hashes of the same entries computed in memory, over calls whose
// hashes cross chunks in several ways.
func TestAppendHashesChunks(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	var mem tlog.MemHashes
	next := 0
	for _, n := range []int{1, hashChunk/2 - 1, hashChunk + 1, 1, 3 * hashChunk, 7} {
		objs := make([]*dialogue.Object, n)
		var entries [][]byte
		for i := range objs {
			id := fmt.Sprintf("note--%08x-0000-4000-8000-000000000000", next)
			next++
			objs[i] = &dialogue.Object{ID: id, Type: "note", SpecVersion: "2.1", Raw: []byte(`{"type":"note","id":"` + id + `"}`)}
			entries = append(entries, tlog.ObjectEntry(objs[i].Raw))
		}
		if _, err := db.AddObjects(ctx, "c", objs); err != nil {
			t.Fatal(err)
		}
		if err := mem.Append(entries...); err != nil {
			t.Fatal(err)
		}
		indexes := make([]int64, len(mem))
		for i := range indexes {
			indexes[i] = int64(i)
		}
		got, err := db.LogHashes(ctx, "c", indexes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range mem {
			if got[i] != mem[i] {
				t.Fatalf("after a call of %d: stored hash %d of %d differs", n, i, len(mem))
			}
		}
		if _, err := db.LogHashes(ctx, "c", []int64{int64(len(mem))}); dialogue.KindOf(err) != dialogue.KindNotFound {
			t.Fatalf("after a call of %d: a hash past the %d stored: %v", n, len(mem), err)
		}
	}
}
