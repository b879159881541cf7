package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/tlog"
)

// childEnv names the database file a re-executed test binary writes to
// before it is killed.
const childEnv = "PARLEY_SQLITE_DURABILITY_CHILD"

// childKeyEnv holds the signer key of the child's checkpoints.
const childKeyEnv = "PARLEY_SQLITE_DURABILITY_KEY"

// childOrigin is the origin of the child's checkpoints.
func childOrigin(collectionID string) string { return "node.example/parley/" + collectionID }

const (
	childBatches = 5
	childBatch   = 200
)

func childObject(n int) *dialogue.Object {
	id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n)
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, id, n%256)
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: t, Modified: t, Raw: []byte(raw)}
}

// runChild is the body of the re-executed process: it adds batches of
// objects, telling the parent on stdout after each AddObjects returns,
// and then waits to be killed.
func runChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	cs, err := db.Collections(ctx)
	if err != nil || len(cs) != 1 {
		fmt.Println("error", err)
		os.Exit(1)
	}
	signer, err := tlog.NewSigner(os.Getenv(childKeyEnv))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	db.SetLogSigner(func(collectionID string, size int64, root [32]byte) ([]byte, error) {
		return tlog.Sign(tlog.Checkpoint{Origin: childOrigin(collectionID), Size: size, Hash: root}, signer)
	})
	n := 0
	for b := range childBatches {
		objs := make([]*dialogue.Object, childBatch)
		for i := range objs {
			objs[i] = childObject(n)
			n++
		}
		if _, err := db.AddObjects(ctx, cs[0].ID, objs); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("added", b)
	}
	fmt.Println("done")
	time.Sleep(time.Minute) // killed long before; never closes the store
	os.Exit(2)
}

// TestDurability kills a process with SIGKILL right after AddObjects
// returned and checks that a reopened store has every object it added.
func TestDurability(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		runChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := &dialogue.Collection{Title: "local"}
	if err := db.CreateCollection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestDurability$")
	skey, vkey, err := tlog.GenerateKey("node.example")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), childEnv+"="+path, childKeyEnv+"="+skey)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	batches := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
		}
		if strings.HasPrefix(line, "added ") {
			batches++
			if batches == childBatches {
				// Kill at once, as soon as the last AddObjects returned.
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", err)
	}
	if batches != childBatches {
		t.Fatalf("child reported %d batches, want %d", batches, childBatches)
	}

	db, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.FindObjects(context.Background(), c.ID, dialogue.ObjectFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := childBatches * childBatch
	if len(page.Objects) != want {
		t.Fatalf("after kill -9, reopened store has %d objects, want %d", len(page.Objects), want)
	}
	for i, o := range page.Objects {
		if w := childObject(i); o.ID != w.ID || string(o.Raw) != string(w.Raw) {
			t.Fatalf("object %d = %s %q, want %s", i, o.ID, o.Raw, w.ID)
		}
	}

	// The log has an entry for every acknowledged object, and the last
	// checkpoint signs the tree of them all.
	size, err := db.LogSize(context.Background(), c.ID)
	if err != nil || size != int64(want) {
		t.Fatalf("after kill -9, log size %d (%v), want %d", size, err, want)
	}
	var mem tlog.MemHashes
	for i := range want {
		if err := mem.Append(childObject(i).Raw); err != nil {
			t.Fatal(err)
		}
	}
	root, err := tlog.TreeHash(size, mem)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := db.LatestCheckpoint(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tlog.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := tlog.Open(cp.Note, childOrigin(c.ID), v)
	if err != nil {
		t.Fatalf("last checkpoint after kill -9: %v", err)
	}
	if cp.Size != size || cp.Root != root || signed.Checkpoint.Hash != root || signed.Checkpoint.Size != size {
		t.Errorf("last checkpoint after kill -9: size %d root %x, want %d %x", cp.Size, cp.Root, size, root)
	}
	cps, err := db.Checkpoints(context.Background(), c.ID)
	if err != nil || len(cps) != childBatches {
		t.Errorf("after kill -9: %d checkpoints (%v), want one per batch, %d", len(cps), err, childBatches)
	}
}
