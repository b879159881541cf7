package blob

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// smallDisk mounts a tmpfs of the given size (e.g. "1m") on a fresh
// folder and unmounts it at the end of the test. Mounting needs root (or
// CAP_SYS_ADMIN): without it the test is skipped, and
// TestKindOfFileENOSPC still checks the classification.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a %s tmpfs here (needs root): %v: %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestPutDiskFull: a Put that fills the disk fails with KindDiskFull
// (errors.Is ErrDiskFull), keeps nothing, and leaves no partial file.
func TestPutDiskFull(t *testing.T) {
	s, err := Open(smallDisk(t, "1m"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Put(context.Background(), bytes.NewReader(make([]byte, 2<<20)))
	if !errors.Is(err, dialogue.ErrDiskFull) || dialogue.KindOf(err) != dialogue.KindDiskFull {
		t.Fatalf("Put on a full disk: %v (kind %v), want KindDiskFull", err, dialogue.KindOf(err))
	}
	if msg := dialogue.Message(err); msg != dialogue.DiskFullMessage {
		t.Errorf("Message = %q, want %q", msg, dialogue.DiskFullMessage)
	}
	left, _ := os.ReadDir(s.Dir + "/" + TmpDir)
	if len(left) != 0 {
		t.Errorf("tmp/ holds %d files after the failed Put", len(left))
	}
	// Once there is room again, a small blob goes in.
	if _, _, err := s.Put(context.Background(), strings.NewReader("small")); err != nil {
		t.Errorf("Put after the failure: %v", err)
	}
}

// TestKindOfFileENOSPC: the classification alone, wherever the test runs.
// /dev/full answers every write with ENOSPC.
func TestKindOfFileENOSPC(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	_, werr := f.Write([]byte("x"))
	if werr == nil {
		t.Fatal("writing /dev/full succeeded")
	}
	if k := kindOfFile(werr); k != dialogue.KindDiskFull {
		t.Errorf("kindOfFile(%v) = %v, want KindDiskFull", werr, k)
	}
	if k := kindOfCopy(context.Background(), werr); k != dialogue.KindDiskFull {
		t.Errorf("kindOfCopy(%v) = %v, want KindDiskFull", werr, k)
	}
	if k := kindOfFile(os.ErrPermission); k != dialogue.KindOther {
		t.Errorf("kindOfFile(permission) = %v, want KindOther", k)
	}
}
