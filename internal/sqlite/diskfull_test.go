package sqlite_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
)

// TestDiskFull: a write that finds the disk full (SQLite's SQLITE_FULL,
// "database or disk is full") fails with KindDiskFull, whose message says
// so and no more. The database lives on a 2 MiB tmpfs; mounting it needs
// root, without which the test is skipped.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v: %s", err, strings.TrimSpace(string(out)))
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	hash := strings.Repeat("h", 64<<10)
	for i := range 100 { // 6.4 MiB at most: well over the disk
		err = db.CreateUser(ctx, &dialogue.User{Name: "user" + strconv.Itoa(i), Role: dialogue.RoleDuty}, hash)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, dialogue.ErrDiskFull) {
		t.Fatalf("writing past a full disk: %v (kind %v), want KindDiskFull", err, dialogue.KindOf(err))
	}
	if msg := dialogue.Message(err); msg != dialogue.DiskFullMessage {
		t.Errorf("Message = %q, want %q", msg, dialogue.DiskFullMessage)
	}
}
