package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/stix"
)

// TestLogHidesWhatTheReaderMayNotSee: a user who may read a collection
// reads its checkpoint and hash tiles, but an entry bundle only when every
// entry of it is one the user may see, and an inclusion proof only of
// such an entry. A TLP:RED indicator naming no recipients is seen by no
// user, so its entry is neither served nor confirmed to alice.
func TestLogHidesWhatTheReaderMayNotSee(t *testing.T) {
	dir := newNode(t, "node-a")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", dir, "--user", "alice"))
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident.json")
	m, _ := serve(t, dir)
	coll := localCollection(t, m)
	f := &tileFetcher{t: t, client: httpsClient(t, dir), base: m.URL() + "/log/" + coll + "/", token: token}
	cp, resp := f.fetch("checkpoint")
	if resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %s", resp.Status)
	}
	size := strings.Split(string(cp), "\n")[1]
	if b, resp := f.fetch("tile/entries/000.p/" + size); resp.StatusCode != 200 {
		t.Fatalf("entries of CLEAR objects: %s %s", resp.Status, b)
	}

	// A RED indicator with no recipients: no user's to read.
	red := fmt.Sprintf(`{"type":"bundle","id":"bundle--6b0e3f3c-1f0a-4c51-9a0a-2f7c1b9d4e11","objects":[
	{"type":"indicator","spec_version":"2.1","id":"indicator--0c7e2d52-0d0e-4a8b-8c6d-4a3f3a6e9b01","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z",
	 "name":"secret","pattern":"[ipv4-addr:value = '198.51.100.77']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z","object_marking_refs":[%q]}]}`, stix.TLPRed.ID)
	path := filepath.Join(t.TempDir(), "red.json")
	if err := os.WriteFile(path, []byte(red), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", "--dir", dir, path)
	cp, resp = f.fetch("checkpoint")
	if resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %s", resp.Status)
	}
	newSize := strings.Split(string(cp), "\n")[1]
	if newSize == size {
		t.Fatalf("the RED indicator added no entry (size %s)", size)
	}
	b, resp := f.fetch("tile/entries/000.p/" + newSize)
	if resp.StatusCode != 403 || strings.Contains(string(b), "198.51.100.77") {
		t.Fatalf("entries with a RED one: %s %s, want 403 without its content", resp.Status, b)
	}
	// The hash tiles stay readable: the log is still verifiable.
	if _, resp := f.fetch("tile/0/000.p/" + newSize); resp.StatusCode != 200 {
		t.Errorf("hash tile: %s", resp.Status)
	}
	// The proof of the RED entry (the last) is refused as for an unknown
	// one; the proof of a CLEAR entry is served.
	var n int
	fmt.Sscan(newSize, &n)
	if b, resp := f.fetch(fmt.Sprintf("proof/inclusion?index=%d", n-1)); resp.StatusCode != 404 {
		t.Errorf("proof of the RED entry: %s %s, want 404", resp.Status, b)
	}
	if b, resp := f.fetch("proof/inclusion?index=0"); resp.StatusCode != 200 {
		t.Errorf("proof of a CLEAR entry: %s %s", resp.Status, b)
	}

	// verify --url as alice checks the whole tree: the hidden bundle's
	// entries by their hashes.
	keyA, pinA := keysOf(t, dir)
	var out, errOut syncBuffer
	vm := NewMain()
	vm.Stdout, vm.Stderr = &out, &errOut
	vm.Getenv = func(k string) string {
		if k == "PARLEY_TOKEN" {
			return token
		}
		return ""
	}
	ctx := context.Background()
	if err := vm.ParseFlags(ctx, []string{"verify", "--url", f.base, "--key", keyA, "--tls-pin", pinA}); err != nil {
		t.Fatal(err)
	}
	if err := vm.Run(ctx); err != nil {
		t.Fatalf("verify --url: %v\n%s", err, errOut.String())
	}
	if want := fmt.Sprintf("size %s root ", newSize); !strings.Contains(out.String(), want) || !strings.Contains(out.String(), fmt.Sprintf("0 entries checked, %s not yours to read", newSize)) {
		t.Errorf("verify --url printed %q", out.String())
	}
}
