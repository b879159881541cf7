package tlog

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	mtestonly "github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

// memLog is an in-memory log: entries and their stored hashes.
type memLog struct {
	entries [][]byte
	hashes  MemHashes
}

func newMemLog(t testing.TB, n int) *memLog {
	t.Helper()
	l := &memLog{}
	for i := range n {
		l.entries = append(l.entries, fmt.Appendf(nil, `{"type":"note","n":%d}`, i))
	}
	if err := l.hashes.Append(l.entries...); err != nil {
		t.Fatal(err)
	}
	return l
}

func mustKey(t testing.TB, name string) (note.Signer, note.Verifier, string, string) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, skey, vkey
}

// TestRFC6962Vectors checks hashing, roots and proofs against the RFC 6962
// vectors that transparency-dev/merkle carries.
func TestRFC6962Vectors(t *testing.T) {
	if got, want := hex.EncodeToString(EmptyRoot[:]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("EmptyRoot = %s, want %s", got, want)
	}
	if !bytes.Equal(EmptyRoot[:], mtestonly.EmptyRootHash()) {
		t.Error("EmptyRoot differs from the merkle package's")
	}
	// RFC 6962 leaf hash of the empty entry.
	if got, want := LeafHash(nil), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"; hex.EncodeToString(got[:]) != want {
		t.Errorf("LeafHash(empty) = %x, want %s", got, want)
	}
	var m MemHashes
	for i, leaf := range mtestonly.LeafInputs()[:len(mtestonly.RootHashes())-1] {
		if err := m.Append(leaf); err != nil {
			t.Fatal(err)
		}
		root, err := TreeHash(int64(i+1), m)
		if err != nil {
			t.Fatal(err)
		}
		if want := mtestonly.RootHashes()[i+1]; !bytes.Equal(root[:], want) {
			t.Errorf("root at size %d = %x, want %x", i+1, root, want)
		}
	}
}

// TestProofRoundTrips proves and verifies inclusion and consistency at many
// sizes, and checks the proofs with the merkle package's reference tree.
func TestProofRoundTrips(t *testing.T) {
	l := newMemLog(t, 300)
	ref := mtestonly.New(hasher)
	ref.AppendData(l.entries...)
	sizes := []int64{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 255, 256, 257, 299, 300}
	for _, size := range sizes {
		root, err := TreeHash(size, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root[:], ref.HashAt(uint64(size))) {
			t.Fatalf("root at %d differs from the reference tree", size)
		}
		for _, idx := range []int64{0, size / 2, size - 1} {
			p, err := Prove(idx, size, l.hashes)
			if err != nil {
				t.Fatal(err)
			}
			refp, _ := ref.InclusionProof(uint64(idx), uint64(size))
			if len(refp) != len(p.Hashes) {
				t.Fatalf("inclusion %d@%d: %d hashes, reference %d", idx, size, len(p.Hashes), len(refp))
			}
			if err := p.Verify(LeafHash(l.entries[idx]), root); err != nil {
				t.Fatalf("inclusion %d@%d: %v", idx, size, err)
			}
			js := mustJSON(t, p)
			q, err := ParseInclusionProof(js)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Verify(LeafHash(l.entries[idx]), root); err != nil {
				t.Fatal(err)
			}
			if err := q.Verify(LeafHash([]byte("other")), root); !errors.Is(err, ErrBadProof) {
				t.Fatalf("wrong leaf: err = %v, want ErrBadProof", err)
			}
		}
		for _, old := range []int64{0, 1, size / 3, size - 1, size} {
			oldRoot, _ := TreeHash(old, l.hashes)
			p, err := ProveConsistency(old, size, l.hashes)
			if err != nil {
				t.Fatal(err)
			}
			q, err := ParseConsistencyProof(mustJSON(t, p))
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Verify(oldRoot, root); err != nil {
				t.Fatalf("consistency %d→%d: %v", old, size, err)
			}
			if old > 0 && old < size {
				if err := q.Verify(LeafHash(nil), root); !errors.Is(err, ErrBadProof) {
					t.Fatalf("consistency %d→%d with a wrong old root: err = %v", old, size, err)
				}
			}
		}
	}
}

// TestAppendHashesBatches checks that batched appends store the same hashes
// as one-by-one appends.
func TestAppendHashesBatches(t *testing.T) {
	l := newMemLog(t, 1000)
	var store MemHashes
	for size, batch := int64(0), 1; size < 1000; batch = batch*3 + 1 {
		end := min(size+int64(batch), 1000)
		var leaves []Hash
		for _, e := range l.entries[size:end] {
			leaves = append(leaves, LeafHash(e))
		}
		hs, err := AppendHashes(size, leaves, store)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(store)) != StoredHashIndex(0, size) {
			t.Fatalf("batch from %d: store has %d hashes, StoredHashIndex says %d", size, len(store), StoredHashIndex(0, size))
		}
		store = append(store, hs...)
		size = end
	}
	if len(store) != len(l.hashes) {
		t.Fatalf("%d hashes, want %d", len(store), len(l.hashes))
	}
	for i := range store {
		if store[i] != l.hashes[i] {
			t.Fatalf("stored hash %d differs", i)
		}
	}
	if got := store.Size(); got != 1000 {
		t.Errorf("Size = %d", got)
	}
}

func mustJSON(t testing.TB, v interface{ marshalJSON() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.marshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoteVector opens the signed note of golang.org/x/mod/sumdb/note's
// documentation with its published key, and refuses it once changed.
func TestNoteVector(t *testing.T) {
	const vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	const msg = "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n" +
		"\n" +
		"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open([]byte(msg), note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(msg, "cryptography", "cryptographY", 1)
	if _, err := note.Open([]byte(bad), note.VerifierList(v)); err == nil {
		t.Fatal("changed note opened")
	}
}

func TestCheckpointSignOpen(t *testing.T) {
	s, v, skey, vkey := mustKey(t, "cert-a.example")
	origin, err := Origin("cert-a.example", "91a7b528-80eb-42ed-a74d-c6fbd5a26116")
	if err != nil {
		t.Fatal(err)
	}
	if origin != "cert-a.example/parley/91a7b528-80eb-42ed-a74d-c6fbd5a26116" {
		t.Fatalf("origin = %q", origin)
	}
	l := newMemLog(t, 10)
	root, _ := TreeHash(10, l.hashes)
	c := Checkpoint{Origin: origin, Size: 10, Hash: root}
	msg, err := Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(msg, origin, v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Checkpoint != c {
		t.Fatalf("opened %+v, want %+v", got.Checkpoint, c)
	}
	// The spec's example text parses.
	ex := "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	ec, err := ParseCheckpoint([]byte(ex))
	if err != nil || ec.Size != 20852163 || string(ec.Marshal()) != ex {
		t.Fatalf("spec example: %+v, %v", ec, err)
	}
	// Another node's key does not open it; a wrong origin is refused.
	_, v2, _, _ := mustKey(t, "cert-b.example")
	if _, err := Open(msg, origin, v2); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other key: err = %v, want ErrBadSignature", err)
	}
	if _, err := Open(msg, "cert-a.example/parley/other", v); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "origin") {
		t.Errorf("wrong origin: err = %v", err)
	}

	// A witness cosigns; the log adds the cosignature; Open reports it.
	_, _, wskey, wvkey := mustKey(t, "cert-b.example")
	cosigner, err := NewCosigner(wskey)
	if err != nil {
		t.Fatal(err)
	}
	ckey, err := CosignerKey(wvkey)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := NewCosignatureVerifier(ckey)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWitness(cosigner, &MemWitnessState{}, map[string][]note.Verifier{origin: {v}})
	req := &AddCheckpointRequest{OldSize: 0, Proof: nil, Checkpoint: msg}
	sigs, err := w.AddCheckpoint(context.Background(), req.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sigs, []byte("— cert-b.example ")) {
		t.Fatalf("cosignature lines = %q", sigs)
	}
	cosigned, err := AddCosignatures(msg, sigs, cv)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Open(cosigned, origin, v, cv)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cosigners) != 1 || got.Cosigners[0] != "cert-b.example" {
		t.Fatalf("cosigners = %v", got.Cosigners)
	}
	// The cosignature's timestamp is present (cosignature/v1).
	if again, _ := AddCosignatures(cosigned, sigs, cv); !bytes.Equal(again, cosigned) {
		t.Error("adding the same cosignature twice changed the note")
	}
	// The log key itself also cosigns (same key material, other key id).
	if _, err := NewCosigner(skey); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCosignatureVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	// Keys never appear in errors.
	if _, err := NewSigner(skey[:len(skey)-4]); err == nil || strings.Contains(err.Error(), skey[20:]) {
		t.Errorf("truncated signer key: err = %v", err)
	}
}

// kindIs checks an error's dialogue kind.
func kindIs(t *testing.T, err error, k dialogue.Kind) {
	t.Helper()
	if got := dialogue.KindOf(err); got != k {
		t.Errorf("kind of %v = %v, want %v", err, got, k)
	}
}
