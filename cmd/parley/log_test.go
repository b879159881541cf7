package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/tlog"
)

// keysOf returns a node's log-key and tls-pin as `parley keys show` prints them.
func keysOf(t *testing.T, dir string) (logKey, pin string) {
	t.Helper()
	out := mustRun(t, "", "keys", "show", "--dir", dir)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "log-key ") || !strings.HasPrefix(lines[1], "tls-pin ") {
		t.Fatalf("keys show printed %q", out)
	}
	return strings.TrimPrefix(lines[0], "log-key "), strings.TrimPrefix(lines[1], "tls-pin ")
}

// c2spPath is the C2SP tlog-tiles path of a sumdb tile, made from sumdb's
// own Path (which has a height element and "data" for entry bundles), so
// that the reader shares no code with the writer's tlog.TilePath.
func c2spPath(t sumtlog.Tile) string {
	p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
	return strings.Replace(p, "tile/data/", "tile/entries/", 1)
}

// tileFetcher reads tiles over HTTPS for sumdb's TileHashReader.
type tileFetcher struct {
	t      *testing.T
	client *http.Client
	base   string
	token  string
}

func (f *tileFetcher) fetch(path string) ([]byte, *http.Response) {
	req, _ := http.NewRequest(http.MethodGet, f.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp
}

func (f *tileFetcher) Height() int { return 8 }

func (f *tileFetcher) ReadTiles(tiles []sumtlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		b, resp := f.fetch(c2spPath(t))
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %s", c2spPath(t), resp.Status)
		}
		out = append(out, b)
	}
	return out, nil
}

func (f *tileFetcher) SaveTiles([]sumtlog.Tile, [][]byte) {}

// TestLogEndToEnd serves two nodes over HTTPS. An independent reader
// (sumdb's note and tlog, not Parley's tlog) checks A's served checkpoint
// and every entry's inclusion; verify --url checks it too; B witnesses
// A's log and A stores B's cosignature.
func TestLogEndToEnd(t *testing.T) {
	ctx := context.Background()
	dirA, dirB := newNode(t, "node-a"), newNode(t, "node-b")
	keyA, pinA := keysOf(t, dirA)
	keyB, pinB := keysOf(t, dirB)
	mustRun(t, "", "witness", "trust", "--dir", dirB, keyA)
	mustRun(t, "", "witness", "trust", "--dir", dirA, keyB)
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", dirA, "--user", "alice"))
	mustRun(t, "", "import", "--dir", dirA, "testdata/bundles/incident.json")
	mustRun(t, "", "import", "--dir", dirA, "testdata/bundles/incident-v2.json")

	mA, _ := serve(t, dirA)
	mB, _ := serve(t, dirB)
	coll := localCollection(t, mA)
	base := mA.URL() + "/log/" + coll + "/"
	client := httpsClient(t, dirA)
	f := &tileFetcher{t: t, client: client, base: base, token: token}

	// The checkpoint, opened with sumdb's note and parsed by hand.
	msg, resp := f.fetch("checkpoint")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("checkpoint: %s %q %s", resp.Status, resp.Header.Get("Content-Type"), msg)
	}
	vA, err := note.NewVerifier(keyA)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(vA))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != "node-a/parley/"+coll || lines[3] != "" {
		t.Fatalf("checkpoint text %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size != 5 {
		t.Fatalf("size %q (%v), want 5 object versions", lines[1], err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		t.Fatalf("root %q", lines[2])
	}
	root := sumtlog.Hash(rootBytes)

	// Every entry: read from the entry bundle, hashed, proved from the hash
	// tiles with sumdb's TileHashReader and checked against the root.
	thr := sumtlog.TileHashReader(sumtlog.Tree{N: size, Hash: root}, f)
	bundle, resp := f.fetch(fmt.Sprintf("tile/entries/000.p/%d", size))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("entry bundle: %s %q %q", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	var entries [][]byte
	for off := 0; off < len(bundle); {
		l := int(binary.BigEndian.Uint16(bundle[off:]))
		entries = append(entries, bundle[off+2:off+2+l])
		off += 2 + l
	}
	if int64(len(entries)) != size {
		t.Fatalf("bundle has %d entries, want %d", len(entries), size)
	}
	for i, e := range entries {
		if e[0] != '{' || !json.Valid(e) {
			t.Errorf("entry %d is not an object's JSON: %.40q", i, e)
		}
		p, err := sumtlog.ProveRecord(size, int64(i), thr)
		if err != nil {
			t.Fatalf("ProveRecord(%d): %v", i, err)
		}
		if err := sumtlog.CheckRecord(p, size, root, int64(i), sumtlog.RecordHash(e)); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}

	// Tiles beyond the tree are 404; the log needs a user.
	for _, p := range []string{"tile/0/000", "tile/entries/000", "tile/0/000.p/6", "tile/1/000.p/1", "tile/0/001.p/1"} {
		if _, resp := f.fetch(p); resp.StatusCode != 404 {
			t.Errorf("%s: %s, want 404", p, resp.Status)
		}
	}
	if resp, _ := get(t, client, base+"checkpoint", nil); resp.StatusCode != 401 {
		t.Errorf("checkpoint without a user: %s", resp.Status)
	}
	if resp, _ := get(t, client, mA.URL()+"/log/no-such-collection/checkpoint", bearer(token)); resp.StatusCode != 404 {
		t.Errorf("unknown collection: %s", resp.Status)
	}

	// Proofs as JSON, by index and by leaf hash (hex and base64).
	leaf := sumtlog.RecordHash(entries[3])
	for _, q := range []string{"index=3&size=5", "leaf=" + hex.EncodeToString(leaf[:]), "leaf=" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(leaf[:]), "+", "%2B")} {
		body, resp := f.fetch("proof/inclusion?" + q)
		if resp.StatusCode != 200 {
			t.Fatalf("inclusion %s: %s %s", q, resp.Status, body)
		}
		var p struct {
			LeafIndex int64    `json:"leaf_index"`
			TreeSize  int64    `json:"tree_size"`
			Hashes    [][]byte `json:"hashes"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.LeafIndex != 3 || p.TreeSize != 5 {
			t.Fatalf("inclusion %s: %s (%v)", q, body, err)
		}
		var rp sumtlog.RecordProof
		for _, h := range p.Hashes {
			rp = append(rp, sumtlog.Hash(h))
		}
		if err := sumtlog.CheckRecord(rp, 5, root, 3, leaf); err != nil {
			t.Errorf("inclusion %s does not verify: %v", q, err)
		}
	}
	for q, want := range map[string]int{"index=5&size=5": 400, "index=1&size=6": 404, "old=2&new=6": 404, "frob=1": 400} {
		path := "proof/inclusion?" + q
		if strings.HasPrefix(q, "old") {
			path = "proof/consistency?" + q
		}
		if body, resp := f.fetch(path); resp.StatusCode != want {
			t.Errorf("%s: %s %s, want %d", path, resp.Status, body, want)
		}
	}

	// verify --url, with the pin and the token from PARLEY_TOKEN.
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errOut
	m.Getenv = func(k string) string {
		if k == "PARLEY_TOKEN" {
			return token
		}
		return ""
	}
	if err := m.ParseFlags(ctx, []string{"verify", "--url", base, "--key", keyA, "--tls-pin", pinA}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatalf("verify --url: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "ok node-a/parley/"+coll+": size 5 root "+lines[2]+", 5 entries checked") {
		t.Errorf("verify --url printed %q", out.String())
	}
	// With another node's key it fails.
	if _, err := runMain(t, "", "verify", "--url", base, "--key", keyB, "--tls-pin", pinA); err == nil {
		t.Error("verify --url with node B's key succeeded")
	}

	// Witnessing: B cosigns A's checkpoint; A keeps the cosignature.
	wclient, err := logapi.HTTPClient(pinB, false)
	if err != nil {
		t.Fatal(err)
	}
	witness := mB.URL() + logapi.WitnessPath
	sigs, err := logapi.AddCheckpoint(ctx, wclient, witness, 0, nil, msg)
	if err != nil {
		t.Fatalf("add-checkpoint: %v", err)
	}
	cvB, err := tlog.NewCosignatureVerifier(keyB)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := tlog.AddCosignatures(msg, sigs, cvB)
	if err != nil {
		t.Fatalf("AddCosignatures(%q): %v", sigs, err)
	}
	logA, _ := mA.node.Log()
	if err := logA.SetCheckpointNote(ctx, coll, size, cosigned); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "", "log", "show", "--dir", dirA); !strings.Contains(out, "cosigners node-b\n") || !strings.Contains(out, "size 5\n") {
		t.Errorf("log show after cosigning:\n%s", out)
	}

	// Stale: the witness knows size 5 now.
	_, err = logapi.AddCheckpoint(ctx, wclient, witness, 0, nil, msg)
	var we *logapi.WitnessError
	if !asWitnessError(err, &we) || we.Status != 409 || we.Known != 5 {
		t.Errorf("stale add-checkpoint: %v", err)
	}

	// A grows; the consistency proof from 5 gets the new checkpoint cosigned.
	// (mixed.json has invalid objects too: the valid ones are added.)
	runMain(t, "", "import", "--dir", dirA, "--partial", "testdata/bundles/mixed.json")
	cp, err := logA.LatestCheckpoint(ctx, coll)
	if err != nil || cp.Size <= 5 {
		t.Fatalf("after import: %+v, %v", cp, err)
	}
	proof, err := tlog.ProveConsistency(5, cp.Size, logapi.Hashes(ctx, logA, coll))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logapi.AddCheckpoint(ctx, wclient, witness, 5, proof.Hashes, cp.Note); err != nil {
		t.Fatalf("add-checkpoint 5 → %d: %v", cp.Size, err)
	}

	// A fork (same size, another root, signed by A's key), a bad proof and
	// unknown or wrong keys are refused.
	skey, err := os.ReadFile(filepath.Join(dirA, "keys", "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	signerA, err := tlog.NewSigner(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	origin := "node-a/parley/" + coll
	sign := func(s note.Signer, origin string, size int64, root tlog.Hash) []byte {
		b, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root}, s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	other := tlog.Hash{1, 2, 3}
	skeyX, _, _ := tlog.GenerateKey("node-a")
	signerX, _ := tlog.NewSigner(skeyX)
	skeyZ, _, _ := tlog.GenerateKey("node-z")
	signerZ, _ := tlog.NewSigner(skeyZ)
	for _, tc := range []struct {
		name   string
		old    int64
		proof  []tlog.Hash
		note   []byte
		status int
	}{
		{"fork", cp.Size, nil, sign(signerA, origin, cp.Size, other), 409},
		{"bad proof", cp.Size, []tlog.Hash{other}, sign(signerA, origin, cp.Size+1, other), 422},
		{"other key with A's name", cp.Size, nil, sign(signerX, origin, cp.Size, other), 403},
		{"unknown log", 0, nil, sign(signerZ, "node-z/parley/"+coll, 1, other), 404},
		{"malformed note", 0, nil, []byte(origin + "\nnonsense\n"), 400},
	} {
		_, err := logapi.AddCheckpoint(ctx, wclient, witness, tc.old, tc.proof, tc.note)
		var we *logapi.WitnessError
		if !asWitnessError(err, &we) || we.Status != tc.status || (tc.status == 409 && we.Known != -1) {
			t.Errorf("%s: %v, want status %d", tc.name, err, tc.status)
		}
	}

	// The whole stored log of A verifies, with B's cosignature.
	out2 := mustRun(t, "", "verify", "--dir", dirA)
	if !strings.Contains(out2, "ok "+coll+" (local): ") {
		t.Errorf("verify --dir printed %q", out2)
	}
}

func asWitnessError(err error, target **logapi.WitnessError) bool {
	for err != nil {
		if we, ok := err.(*logapi.WitnessError); ok {
			*target = we
			return true
		}
		if de, ok := err.(*dialogue.Error); ok {
			err = de.Err
			continue
		}
		return false
	}
	return false
}
