package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// TestAddObjectsLargeCall adds a call large enough to be hashed on two
// goroutines and inserted in chunks of insertChunk rows, with invalid
// objects, repeats and conflicts in both halves, and then the same call
// again.
func TestAddObjectsLargeCall(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := func(n int, name string) *dialogue.Object {
		id := fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", n)
		return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: mod, Modified: mod,
			Raw: fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":%q}`, id, name)}
	}
	const n = 3 * parallelPrepare
	var objs []*dialogue.Object
	want := map[int]dialogue.AddStatus{}
	for i := range n {
		switch {
		case i%500 == 7: // no type
			o := obj(i, "a")
			o.Type = ""
			objs = append(objs, o)
			want[i] = dialogue.Rejected
		case i%500 == 9: // a repeat of the object before it
			objs = append(objs, obj(i-1, "a"))
			want[i] = dialogue.Unchanged
		case i%500 == 11: // that object again, with other content
			objs = append(objs, obj(i-3, "b"))
			want[i] = dialogue.Rejected
		default:
			objs = append(objs, obj(i, "a"))
			want[i] = dialogue.Added
		}
	}
	res, err := db.AddObjects(ctx, "c", objs)
	if err != nil {
		t.Fatal(err)
	}
	var added int
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("object %d (%s): %v %v, want %v", i, r.ID, r.Status, r.Err, want[i])
		}
		if r.Status == dialogue.Added {
			added++
		}
		if i%500 == 9 && r.DateAdded != res[i-1].DateAdded {
			t.Errorf("repeat %d: DateAdded %v, want the first one's %v", i, r.DateAdded, res[i-1].DateAdded)
		}
	}
	// The rows are inserted insertChunk at a time: each log entry points
	// at the row of its own object (the seqs a chunk's rows got), in the
	// order of the call.
	rows, err := db.r.QueryContext(ctx, `SELECT o.id, o.date_added FROM log_entries e JOIN objects o ON o.seq = e.object_seq ORDER BY e.idx`)
	if err != nil {
		t.Fatal(err)
	}
	var k int
	for rows.Next() {
		var id string
		var added int64
		if err := rows.Scan(&id, &added); err != nil {
			t.Fatal(err)
		}
		for k < len(res) && res[k].Status != dialogue.Added {
			k++
		}
		if k == len(res) {
			t.Fatalf("log entry of %s beyond the %d objects added", id, added)
		}
		if id != res[k].ID || added != res[k].DateAdded.UnixMicro() {
			t.Errorf("log entry %d: row of %s added %d, want %s added %d", k, id, added, res[k].ID, res[k].DateAdded.UnixMicro())
		}
		k++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	// Again: what was added is unchanged, with the same DateAdded.
	res2, err := db.AddObjects(ctx, "c", objs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res2 {
		w := want[i]
		if w == dialogue.Added {
			w = dialogue.Unchanged
			if r.DateAdded != res[i].DateAdded {
				t.Errorf("object %d again: DateAdded %v, want %v", i, r.DateAdded, res[i].DateAdded)
			}
		}
		if r.Status != w {
			t.Errorf("object %d again: %v %v, want %v", i, r.Status, r.Err, w)
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects != int64(added) {
		t.Errorf("%d objects stored, want %d", st.Objects, added)
	}
}

// TestBackgroundCheckpoint checks that imports are checkpointed into the
// database file while the store is open, by the background checkpoint
// (the writer's own would wait for 20,000 pages of WAL).
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.ckEvery = 64 << 10
	if err := db.CreateCollection(ctx, &dialogue.Collection{ID: "c", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var objs []*dialogue.Object
	pad := strings.Repeat("x", 1000)
	for i := range 200 { // 200 KB of JSON
		id := fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i)
		objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: mod, Modified: mod,
			Raw: fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":%q}`, id, pad)})
	}
	if _, err := db.AddObjects(ctx, "c", objs); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); size() < before+200_000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 10 s after the import (%d before): no checkpoint", size(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
