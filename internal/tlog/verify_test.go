package tlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	flog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

func TestParseCheckpointBad(t *testing.T) {
	h := "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	for _, c := range []struct{ text, want string }{
		{"", "is empty"},
		{"o\n1\n" + h, "does not end in a newline"},
		{"o\n1\n", "has 2 lines"},
		{"o\n1\n" + h + "\next\n", "line 4: extension lines"},
		{"\n1\n" + h + "\n", "line 1 (origin): is empty"},
		{"a b\n1\n" + h + "\n", "line 1 (origin): has a space"},
		{"a+b\n1\n" + h + "\n", "line 1 (origin): has a plus sign"},
		{"o\n01\n" + h + "\n", `line 2 (tree size) "01": has a leading zero`},
		{"o\n-1\n" + h + "\n", "line 2 (tree size) \"-1\": is not a decimal"},
		{"o\n\n" + h + "\n", "line 2 (tree size) \"\": is empty"},
		{"o\n9223372036854775808\n" + h + "\n", "is too large"},
		{"o\n1\nAAAA\n", `line 3 (root hash) "AAAA": is 3 bytes, want 32`},
		{"o\n1\n" + strings.TrimSuffix(h, "=") + "\n", "line 3 (root hash)"},
		{"o\n1\n" + h[:43] + "!\n", "is not standard base64"},
	} {
		_, err := ParseCheckpoint([]byte(c.text))
		if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseCheckpoint(%q) = %v, want an error containing %q", c.text, err, c.want)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Marshal(), text) {
			t.Fatalf("round trip %q → %q", text, c.Marshal())
		}
		// transparency-dev/formats reads the same values.
		var fc flog.Checkpoint
		if _, err := fc.Unmarshal(text); err != nil || fc.Origin != c.Origin || fc.Size != uint64(c.Size) || !bytes.Equal(fc.Hash, c.Hash[:]) {
			t.Fatalf("formats disagrees on %q: %+v, %v", text, fc, err)
		}
	})
}

// FuzzOpen feeds arbitrary notes to Open: it must never accept one that the
// log key did not sign.
func FuzzOpen(f *testing.F) {
	s, v, _, _ := mustKey(f, "cert-a.example")
	msg, _ := Sign(Checkpoint{Origin: "cert-a.example/parley/c", Size: 3, Hash: EmptyRoot}, s)
	f.Add(msg)
	f.Add([]byte("cert-a.example/parley/c\n3\n\n— cert-a.example AAAA\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		sc, err := Open(msg, "", v)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error %v is neither ErrMalformed nor ErrBadSignature", err)
			}
			return
		}
		if sc.Size != 3 || sc.Hash != EmptyRoot {
			t.Fatalf("opened a checkpoint the key never signed: %+v", sc.Checkpoint)
		}
	})
}

type storedFixture struct {
	log   *memLog
	cps   []StoredCheckpoint
	key   note.Verifier
	cosig note.Verifier
	orig  string
}

func newStoredFixture(t testing.TB, n int) *storedFixture {
	t.Helper()
	s, v, _, _ := mustKey(t, "cert-a.example")
	_, _, wskey, wvkey := mustKey(t, "cert-b.example")
	cs, _ := NewCosigner(wskey)
	cv, _ := NewCosignatureVerifier(wvkey)
	origin, _ := Origin("cert-a.example", "chan")
	f := &storedFixture{log: newMemLog(t, n), key: v, cosig: cv, orig: origin}
	w := NewWitness(cs, &MemWitnessState{}, map[string][]note.Verifier{origin: {v}})
	old := int64(0)
	for _, size := range []int64{1, int64(n) / 3, int64(n) / 2, int64(n)} {
		root, _ := TreeHash(size, f.log.hashes)
		msg, err := Sign(Checkpoint{Origin: origin, Size: size, Hash: root}, s)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := ProveConsistency(old, size, f.log.hashes)
		sigs, err := w.AddCheckpoint(context.Background(), (&AddCheckpointRequest{OldSize: old, Proof: p.Hashes, Checkpoint: msg}).Marshal())
		if err != nil {
			t.Fatal(err)
		}
		msg, err = AddCosignatures(msg, sigs, cv)
		if err != nil {
			t.Fatal(err)
		}
		f.cps = append(f.cps, StoredCheckpoint{Size: size, Note: msg})
		old = size
	}
	return f
}

func (f *storedFixture) stored(entries [][]byte, hashes MemHashes, cps []StoredCheckpoint) *StoredLog {
	return &StoredLog{
		Origin: f.orig,
		Size:   int64(len(entries)),
		Entries: func(yield func([]byte, error) bool) {
			for _, e := range entries {
				if !yield(e, nil) {
					return
				}
			}
		},
		Hashes:      hashes,
		Checkpoints: cps,
		LogKey:      f.key,
		Cosigners:   []note.Verifier{f.cosig},
	}
}

func cloneBytes(bs [][]byte) [][]byte {
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = bytes.Clone(b)
	}
	return out
}

// TestVerifyLogTamper changes one byte of an entry, a stored hash, a
// checkpoint's text and a signature, at many random positions: VerifyLog
// fails every time and names what broke.
func TestVerifyLogTamper(t *testing.T) {
	ctx := context.Background()
	f := newStoredFixture(t, 700)
	rep, err := VerifyLog(ctx, f.stored(f.log.entries, f.log.hashes, f.cps))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 700 || len(rep.Checkpoints) != 4 || len(rep.Checkpoints[3].Cosigners) != 1 {
		t.Fatalf("report %+v", rep)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	flip := func(b []byte) { b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255)) }
	want := func(err error, what string, index int64) {
		t.Helper()
		var ve *VerifyError
		if !errors.Is(err, ErrVerify) || !errors.As(err, &ve) {
			t.Fatalf("err = %v, want a *VerifyError", err)
		}
		if ve.What != what || (index >= 0 && ve.Index != index) {
			t.Fatalf("err = %v, want %s %d", err, what, index)
		}
	}
	for range 50 {
		// An entry.
		i := rng.IntN(700)
		es := cloneBytes(f.log.entries)
		flip(es[i])
		_, err := VerifyLog(ctx, f.stored(es, f.log.hashes, f.cps))
		want(err, "entry", int64(i))

		// A stored hash.
		hs := append(MemHashes(nil), f.log.hashes...)
		x := int64(rng.IntN(len(hs)))
		hs[x][rng.IntN(HashSize)] ^= 1
		_, err = VerifyLog(ctx, f.stored(f.log.entries, hs, f.cps))
		if lvl, n := SplitStoredHashIndex(x); lvl == 0 {
			want(err, "entry", n)
		} else {
			want(err, "stored hash", x)
		}

		// A checkpoint: any byte of its text or of the log's signature line.
		k := rng.IntN(len(f.cps))
		cps := append([]StoredCheckpoint(nil), f.cps...)
		n := bytes.Clone(cps[k].Note)
		sigStart := bytes.LastIndex(n, []byte("\n\n")) + 2
		logLineEnd := sigStart + bytes.IndexByte(n[sigStart:], '\n')
		n[rng.IntN(logLineEnd)] ^= byte(1 + rng.IntN(255))
		cps[k].Note = n
		_, err = VerifyLog(ctx, f.stored(f.log.entries, f.log.hashes, cps))
		want(err, "checkpoint", f.cps[k].Size)

		// A signature's bytes (the log's or the witness's), after the key id.
		cps = append([]StoredCheckpoint(nil), f.cps...)
		sigLines := strings.Split(strings.TrimSuffix(string(f.cps[k].Note[sigStart:]), "\n"), "\n")
		j := rng.IntN(len(sigLines))
		name, b64, _ := strings.Cut(strings.TrimPrefix(sigLines[j], "— "), " ")
		raw, _ := base64.StdEncoding.DecodeString(b64)
		raw[4+rng.IntN(len(raw)-4)] ^= byte(1 + rng.IntN(255))
		sigLines[j] = "— " + name + " " + base64.StdEncoding.EncodeToString(raw)
		cps[k].Note = append(bytes.Clone(f.cps[k].Note[:sigStart]), strings.Join(sigLines, "\n")+"\n"...)
		_, err = VerifyLog(ctx, f.stored(f.log.entries, f.log.hashes, cps))
		want(err, "checkpoint", f.cps[k].Size)
	}
	// A checkpoint the log never had, and out of order.
	cps := []StoredCheckpoint{f.cps[2], f.cps[1]}
	_, err = VerifyLog(ctx, f.stored(f.log.entries, f.log.hashes, cps))
	want(err, "checkpoint", f.cps[1].Size)
	// Missing entries.
	_, err = VerifyLog(ctx, f.stored(f.log.entries[:699], f.log.hashes, f.cps))
	want(err, "checkpoint", 700)
}

// TestVerifyRemote serves a log's checkpoint, tiles and entry bundles over
// a real HTTP server on 127.0.0.1 and checks it twice: with VerifyRemote,
// and with an independent reader built on golang.org/x/mod/sumdb/tlog
// (TileHashReader, CheckRecord, CheckTree) and note.Open.
func TestVerifyRemote(t *testing.T) {
	ctx := context.Background()
	f := newStoredFixture(t, 1000)
	current := f.cps[len(f.cps)-1]
	var tamperEntry = -1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/log/chan/")
		if p == "checkpoint" {
			w.Write(current.Note)
			return
		}
		tile, err := ParseTilePath(p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if tile.L < 0 {
			start, end := EntryRange(tile)
			if !TileInTree(tile, current.Size) {
				http.NotFound(w, r)
				return
			}
			es := cloneBytes(f.log.entries[start:end])
			if tamperEntry >= int(start) && tamperEntry < int(end) {
				es[tamperEntry-int(start)][0] ^= 1
			}
			b, _ := EntryBundle(es)
			w.Write(b)
			return
		}
		b, err := ReadTile(tile, current.Size, f.log.hashes)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	fetch := func(ctx context.Context, path string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/log/chan/"+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %s", path, resp.Status)
		}
		return b.Bytes(), nil
	}
	var seen int64
	remote := &RemoteLog{Fetch: fetch, Origin: f.orig, LogKey: f.key, Cosigners: []note.Verifier{f.cosig},
		Entry: func(i int64, e []byte) error { seen++; return nil }}
	first, _ := ParseCheckpoint([]byte(strings.SplitN(string(f.cps[1].Note), "\n\n", 2)[0] + "\n"))
	s, err := VerifyRemote(ctx, remote, &first)
	if err != nil {
		t.Fatal(err)
	}
	if s.Size != 1000 || seen != 1000 || len(s.Cosigners) != 1 {
		t.Fatalf("verified %+v, %d entries seen", s.Checkpoint, seen)
	}

	// Independent reader: sumdb's tlog and note only.
	msg, _ := fetch(ctx, "checkpoint")
	n, err := note.Open(msg, note.VerifierList(f.key))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(n.Text, "\n")
	var size int64
	fmt.Sscan(lines[1], &size)
	root, err := sumtlog.ParseHash(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	tr := independentReader{fetch: fetch}
	hr := sumtlog.TileHashReader(sumtlog.Tree{N: size, Hash: root}, tr)
	for i := int64(0); i < size; i++ {
		p, err := sumtlog.ProveRecord(size, i, hr)
		if err != nil {
			t.Fatal(err)
		}
		if err := sumtlog.CheckRecord(p, size, root, i, sumtlog.RecordHash(f.log.entries[i])); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	tp, err := sumtlog.ProveTree(size, first.Size, hr)
	if err != nil || sumtlog.CheckTree(tp, size, root, first.Size, first.Hash) != nil {
		t.Fatalf("consistency: %v", err)
	}

	// A changed entry in a bundle is named.
	tamperEntry = 517
	_, err = VerifyRemote(ctx, remote, nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.What != "entry" || ve.Index != 517 {
		t.Fatalf("tampered entry: %v", err)
	}
	tamperEntry = -1
	// A rollback to an older checkpoint is refused.
	current = f.cps[1]
	later, _ := ParseCheckpoint([]byte(strings.SplitN(string(f.cps[3].Note), "\n\n", 2)[0] + "\n"))
	if _, err := VerifyRemote(ctx, remote, &later); !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "rollback") {
		t.Fatalf("rollback: %v", err)
	}
}

// independentReader maps sumdb tiles to C2SP paths by hand, not with
// TilePath.
type independentReader struct {
	fetch func(context.Context, string) ([]byte, error)
}

func (independentReader) Height() int { return 8 }
func (r independentReader) ReadTiles(tiles []sumtlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		b, err := r.fetch(context.Background(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
func (independentReader) SaveTiles([]sumtlog.Tile, [][]byte) {}
