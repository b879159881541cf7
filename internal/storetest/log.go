package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// LogStore is a store that keeps the record: what RunLog tests.
type LogStore interface {
	dialogue.Store
	dialogue.LogStore
}

// logNode is the node name of the test signer.
const logNode = "node-a.example"

// Signer is a checkpoint signer for tests, with its verifier.
type Signer struct {
	Sign     dialogue.LogSigner
	Verifier note.Verifier
	signer   note.Signer
}

// NewSigner generates a log key and returns a LogSigner that signs
// checkpoints with origin tlog.Origin(logNode, collectionID).
func NewSigner(t *testing.T) *Signer {
	t.Helper()
	skey, vkey, err := tlog.GenerateKey(logNode)
	must(t, err)
	s, err := tlog.NewSigner(skey)
	must(t, err)
	v, err := tlog.NewVerifier(vkey)
	must(t, err)
	return &Signer{
		Verifier: v,
		signer:   s,
		Sign: func(collectionID string, size int64, root [32]byte) ([]byte, error) {
			origin, err := tlog.Origin(logNode, collectionID)
			if err != nil {
				return nil, err
			}
			return tlog.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root}, s)
		},
	}
}

// RunLog runs the contract of the record on stores that open returns:
// open is called once per subtest with the checkpoint signer the store
// must use (nil: none) and must return a new, empty store; RunLog closes
// it.
func RunLog(t *testing.T, open func(t *testing.T, signer dialogue.LogSigner) LogStore) {
	tests := []struct {
		name   string
		signed bool
		fn     func(t *testing.T, s LogStore, sg *Signer)
	}{
		{"EntriesAreAddedObjects", true, testLogEntries},
		{"OneCheckpointPerCall", true, testLogCheckpoints},
		{"Unsigned", false, testLogUnsigned},
		{"LargeObject", true, testLogLarge},
		{"AppendBlob", true, testLogBlob},
		{"AddObjectsAndBlobs", true, testLogObjectsAndBlobs},
		{"Bounds", true, testLogBounds},
		{"LeafIndex", true, testLogLeafIndex},
		{"SetCheckpointNote", true, testLogSetNote},
		{"Witness", false, testLogWitness},
		{"DeleteKeepsLog", true, testLogDelete},
		{"LogsArePerCollection", true, testLogPerCollection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := NewSigner(t)
			var f dialogue.LogSigner
			if tt.signed {
				f = sg.Sign
			}
			s := open(t, f)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s, sg)
		})
	}
}

// checkLog checks the whole log of coll against want, its expected
// entries: the entries, the stored hashes (those of tlog.MemHashes built
// from want), every checkpoint's root and signature, and tlog.VerifyLog
// over the store.
func checkLog(t *testing.T, s LogStore, sg *Signer, coll string, want [][]byte) {
	t.Helper()
	size, err := s.LogSize(ctx, coll)
	must(t, err)
	if size != int64(len(want)) {
		t.Fatalf("LogSize = %d, want %d", size, len(want))
	}
	got, err := s.LogEntries(ctx, coll, 0, size)
	must(t, err)
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("entry %d = %.80q, want %.80q", i, got[i], want[i])
		}
	}
	var mem tlog.MemHashes
	must(t, mem.Append(want...))
	indexes := make([]int64, len(mem))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	hs, err := s.LogHashes(ctx, coll, indexes)
	must(t, err)
	for i := range mem {
		if hs[i] != mem[i] {
			t.Fatalf("stored hash %d = %x, want %x", i, hs[i], mem[i])
		}
	}
	_, err = s.LogHashes(ctx, coll, []int64{int64(len(mem))})
	wantKind(t, "LogHashes past the end", err, dialogue.KindNotFound)
	cps, err := s.Checkpoints(ctx, coll)
	must(t, err)
	origin, err := tlog.Origin(logNode, coll)
	must(t, err)
	var stored []tlog.StoredCheckpoint
	for _, c := range cps {
		root, err := tlog.TreeHash(c.Size, mem)
		must(t, err)
		if c.Root != root {
			t.Errorf("checkpoint at size %d: root %x, want %x", c.Size, c.Root, root)
		}
		signed, err := tlog.Open(c.Note, origin, sg.Verifier)
		if err != nil {
			t.Fatalf("checkpoint at size %d: %v", c.Size, err)
		}
		if signed.Checkpoint.Size != c.Size || signed.Checkpoint.Hash != c.Root {
			t.Errorf("checkpoint at size %d: note says size %d root %x", c.Size, signed.Checkpoint.Size, signed.Checkpoint.Hash)
		}
		if c.CollectionID != coll || c.CreatedAt.IsZero() {
			t.Errorf("checkpoint at size %d: collection %q, created %v", c.Size, c.CollectionID, c.CreatedAt)
		}
		stored = append(stored, tlog.StoredCheckpoint{Size: c.Size, Note: c.Note})
	}
	if len(cps) > 0 {
		latest, err := s.LatestCheckpoint(ctx, coll)
		must(t, err)
		if last := cps[len(cps)-1]; latest.Size != last.Size || !bytes.Equal(latest.Note, last.Note) {
			t.Errorf("LatestCheckpoint at size %d, want %d", latest.Size, last.Size)
		}
	}
	// An independent check of the whole stored log.
	_, err = tlog.VerifyLog(ctx, &tlog.StoredLog{
		Origin: origin,
		Size:   size,
		Entries: func(yield func([]byte, error) bool) {
			es, err := s.LogEntries(ctx, coll, 0, size)
			for _, e := range es {
				if !yield(e, err) {
					return
				}
			}
			if err != nil {
				yield(nil, err)
			}
		},
		Hashes: tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			hs, err := s.LogHashes(ctx, coll, indexes)
			out := make([]tlog.Hash, len(hs))
			for i := range hs {
				out[i] = hs[i]
			}
			return out, err
		}),
		Checkpoints: stored,
		LogKey:      sg.Verifier,
	})
	if err != nil {
		t.Errorf("VerifyLog: %v", err)
	}
}

func raws(objs ...*dialogue.Object) [][]byte {
	var out [][]byte
	for _, o := range objs {
		out = append(out, tlog.ObjectEntry(o.Raw))
	}
	return out
}

func testLogEntries(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	size, err := s.LogSize(ctx, c.ID)
	if err != nil || size != 0 {
		t.Fatalf("empty log: size %d, %v", size, err)
	}
	_, err = s.LatestCheckpoint(ctx, c.ID)
	wantKind(t, "LatestCheckpoint of an empty log", err, dialogue.KindNotFound)
	a1, a2, b, u := sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("malware", 2, 0), sco(3)
	add(t, s, c.ID, a2, b, u, a1) // in the order of the call, not of versions
	want := raws(a2, b, u, a1)
	checkLog(t, s, sg, c.ID, want)

	// Unchanged (the same bytes, or the same JSON written otherwise) and
	// rejected objects add no entry.
	spaced := *b
	spaced.Raw = bytes.Replace(b.Raw, []byte(`,"`), []byte(`, "`), 1)
	conflict := *u
	conflict.Raw = bytes.Replace(u.Raw, []byte(`"value":"198`), []byte(`"value":"192`), 1)
	bad := &dialogue.Object{ID: "x", Type: "indicator", Raw: []byte(`{}`)}
	c3 := sdo("indicator", 4, 0)
	res := add(t, s, c.ID, a1, &spaced, &conflict, bad, c3, c3)
	wantStatus := []dialogue.AddStatus{dialogue.Unchanged, dialogue.Unchanged, dialogue.Rejected, dialogue.Rejected, dialogue.Added, dialogue.Unchanged}
	for i, r := range res {
		if r.Status != wantStatus[i] {
			t.Errorf("object %d: %v, want %v", i, r.Status, wantStatus[i])
		}
	}
	want = append(want, raws(c3)...)
	checkLog(t, s, sg, c.ID, want)
}

func testLogCheckpoints(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	var want [][]byte
	var sizes []int64
	n := 0
	for _, batch := range []int{1, 7, 64, 3} {
		var objs []*dialogue.Object
		for range batch {
			objs = append(objs, sdo("indicator", n, 0))
			n++
		}
		add(t, s, c.ID, objs...)
		want = append(want, raws(objs...)...)
		sizes = append(sizes, int64(len(want)))
	}
	// A call that adds nothing makes no checkpoint.
	add(t, s, c.ID, sdo("indicator", 0, 0))
	cps, err := s.Checkpoints(ctx, c.ID)
	must(t, err)
	var got []int64
	for _, cp := range cps {
		got = append(got, cp.Size)
	}
	if fmt.Sprint(got) != fmt.Sprint(sizes) {
		t.Errorf("checkpoint sizes %v, want one per call: %v", got, sizes)
	}
	checkLog(t, s, sg, c.ID, want)
}

func testLogUnsigned(t *testing.T, s LogStore, _ *Signer) {
	c := newCollection(t, s, "local")
	objs := []*dialogue.Object{sdo("indicator", 1, 0), sdo("indicator", 2, 0)}
	add(t, s, c.ID, objs...)
	size, err := s.LogSize(ctx, c.ID)
	if err != nil || size != 2 {
		t.Errorf("LogSize without a signer = %d, %v; want 2", size, err)
	}
	_, err = s.LatestCheckpoint(ctx, c.ID)
	wantKind(t, "LatestCheckpoint without a signer", err, dialogue.KindNotFound)
	var mem tlog.MemHashes
	must(t, mem.Append(raws(objs...)...))
	hs, err := s.LogHashes(ctx, c.ID, []int64{0, 1, 2})
	must(t, err)
	for i := range hs {
		if hs[i] != mem[i] {
			t.Errorf("stored hash %d = %x, want %x", i, hs[i], mem[i])
		}
	}
}

// large returns an object whose JSON is over tlog.MaxEntrySize bytes.
func large(n int) *dialogue.Object {
	o := sdo("indicator", n, 0)
	pad := strings.Repeat("x", tlog.MaxEntrySize)
	o.Raw = append(bytes.TrimSuffix(o.Raw, []byte("}")), []byte(`,"description":"`+pad+`"}`)...)
	return o
}

func testLogLarge(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	small, big := sdo("indicator", 1, 0), large(2)
	add(t, s, c.ID, small, big)
	es, err := s.LogEntries(ctx, c.ID, 1, 2)
	must(t, err)
	kind, sum, size, err := tlog.ParseEntry(es[0])
	if err != nil || kind != tlog.EntryObjectRef || sum != sha256.Sum256(big.Raw) || size != int64(len(big.Raw)) {
		t.Errorf("entry of a %d-byte object = %q (%v, %v)", len(big.Raw), es[0], kind, err)
	}
	checkLog(t, s, sg, c.ID, raws(small, big))
	// Deleting it keeps the entry (the line, not the bytes).
	_, err = s.DeleteObject(ctx, c.ID, big.ID, dialogue.ObjectFilter{})
	must(t, err)
	checkLog(t, s, sg, c.ID, raws(small, big))
}

func testLogBlob(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	o := sdo("indicator", 1, 0)
	add(t, s, c.ID, o)
	sum := sha256.Sum256([]byte("evidence"))
	for i := range 3 {
		n, err := s.AppendBlob(ctx, c.ID, sum, 8)
		if err != nil || n != 2 {
			t.Fatalf("AppendBlob #%d = %d, %v; want size 2", i+1, n, err)
		}
	}
	// Another size is another entry.
	if n, err := s.AppendBlob(ctx, c.ID, sum, 9); err != nil || n != 3 {
		t.Fatalf("AppendBlob of another size = %d, %v; want 3", n, err)
	}
	_, err := s.AppendBlob(ctx, c.ID, sum, -1)
	wantKind(t, "AppendBlob of a negative size", err, dialogue.KindInvalid)
	_, err = s.AppendBlob(ctx, "nope", sum, 8)
	wantKind(t, "AppendBlob to an unknown collection", err, dialogue.KindNotFound)
	cps, err := s.Checkpoints(ctx, c.ID)
	must(t, err)
	if len(cps) != 3 {
		t.Errorf("%d checkpoints, want 3 (one object call, two new blobs)", len(cps))
	}
	checkLog(t, s, sg, c.ID, append(raws(o), tlog.BlobEntry(sum, 8), tlog.BlobEntry(sum, 9)))
	// The blob's entry is its own in the other collection.
	d := newCollection(t, s, "other")
	if n, err := s.AppendBlob(ctx, d.ID, sum, 8); err != nil || n != 1 {
		t.Errorf("AppendBlob to another collection = %d, %v; want 1", n, err)
	}
}

// testLogObjectsAndBlobs: objects and blob entries go in together, one
// checkpoint for the call, a blob entered already adding nothing; a
// rejected object or a negative size writes neither.
func testLogObjectsAndBlobs(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	o := sdo("indicator", 1, 0)
	add(t, s, c.ID, o)
	old := sha256.Sum256([]byte("entered before"))
	_, err := s.AppendBlob(ctx, c.ID, old, 14)
	must(t, err)
	sum := sha256.Sum256([]byte("evidence"))
	want := append(raws(o), tlog.BlobEntry(old, 14))
	cps := func() int {
		t.Helper()
		cs, err := s.Checkpoints(ctx, c.ID)
		must(t, err)
		return len(cs)
	}
	before := cps()

	// A conflicting object: nothing of the call is written.
	clash := sdo("indicator", 1, 0)
	clash.Raw = []byte(strings.Replace(string(clash.Raw), `"name":"n0"`, `"name":"other"`, 1))
	r, err := s.AddObjectsAndBlobs(ctx, c.ID, []*dialogue.Object{sdo("indicator", 2, 0), clash}, []dialogue.BlobRef{{SHA256: sum, Size: 8}})
	must(t, err)
	if len(r) != 2 || r[0].Status != dialogue.Rejected || r[1].Status != dialogue.Rejected || dialogue.KindOf(r[1].Err) != dialogue.KindConflict {
		t.Errorf("a call with a conflicting object: %+v; want both rejected, the second for its conflict", r)
	}
	checkLog(t, s, sg, c.ID, want)
	// A negative size: nothing written either.
	_, err = s.AddObjectsAndBlobs(ctx, c.ID, []*dialogue.Object{sdo("indicator", 2, 0)}, []dialogue.BlobRef{{SHA256: sum, Size: -1}})
	wantKind(t, "a negative blob size", err, dialogue.KindInvalid)
	checkLog(t, s, sg, c.ID, want)
	if n := cps(); n != before {
		t.Errorf("%d checkpoints after two refused calls, want %d", n, before)
	}

	// The objects' entries, then the new blob's once (the one entered
	// before and the repeat add nothing), with one checkpoint.
	o2 := sdo("indicator", 2, 0)
	r, err = s.AddObjectsAndBlobs(ctx, c.ID, []*dialogue.Object{o2}, []dialogue.BlobRef{{SHA256: sum, Size: 8}, {SHA256: old, Size: 14}, {SHA256: sum, Size: 8}})
	must(t, err)
	if len(r) != 1 || r[0].Status != dialogue.Added {
		t.Errorf("AddObjectsAndBlobs = %+v, want the object added", r)
	}
	want = append(want, tlog.ObjectEntry(o2.Raw), tlog.BlobEntry(sum, 8))
	checkLog(t, s, sg, c.ID, want)
	if n := cps(); n != before+1 {
		t.Errorf("%d checkpoints, want %d (one for the call)", n, before+1)
	}
	// Blobs alone, and an unknown collection.
	sum2 := sha256.Sum256([]byte("more evidence"))
	_, err = s.AddObjectsAndBlobs(ctx, c.ID, nil, []dialogue.BlobRef{{SHA256: sum2, Size: 13}})
	must(t, err)
	checkLog(t, s, sg, c.ID, append(want, tlog.BlobEntry(sum2, 13)))
	_, err = s.AddObjectsAndBlobs(ctx, "nope", []*dialogue.Object{sdo("indicator", 3, 0)}, []dialogue.BlobRef{{SHA256: sum, Size: 8}})
	wantKind(t, "AddObjectsAndBlobs to an unknown collection", err, dialogue.KindNotFound)
}

func testLogBounds(t *testing.T, s LogStore, _ *Signer) {
	c := newCollection(t, s, "local")
	add(t, s, c.ID, sdo("indicator", 1, 0), sdo("indicator", 2, 0))
	for _, r := range []struct {
		start, end int64
		kind       dialogue.Kind
	}{
		{-1, 1, dialogue.KindInvalid},
		{2, 1, dialogue.KindInvalid},
		{0, 1<<16 + 1, dialogue.KindInvalid},
		{0, 3, dialogue.KindNotFound},
		{2, 3, dialogue.KindNotFound},
	} {
		_, err := s.LogEntries(ctx, c.ID, r.start, r.end)
		wantKind(t, fmt.Sprintf("LogEntries [%d, %d)", r.start, r.end), err, r.kind)
	}
	if es, err := s.LogEntries(ctx, c.ID, 2, 2); err != nil || len(es) != 0 {
		t.Errorf("LogEntries [2, 2) = %d entries, %v", len(es), err)
	}
	_, err := s.LogEntries(ctx, "nope", 0, 1)
	wantKind(t, "LogEntries of an unknown collection", err, dialogue.KindNotFound)
	_, err = s.LogSize(ctx, "nope")
	wantKind(t, "LogSize of an unknown collection", err, dialogue.KindNotFound)
	_, err = s.LogHashes(ctx, c.ID, []int64{-1})
	wantKind(t, "LogHashes of a negative index", err, dialogue.KindInvalid)
	_, err = s.Checkpoints(ctx, "nope")
	wantKind(t, "Checkpoints of an unknown collection", err, dialogue.KindNotFound)
}

func testLogLeafIndex(t *testing.T, s LogStore, _ *Signer) {
	c := newCollection(t, s, "local")
	var objs []*dialogue.Object
	for i := range 37 {
		objs = append(objs, sdo("indicator", i, 0))
	}
	add(t, s, c.ID, objs[:20]...)
	add(t, s, c.ID, objs[20:]...)
	for i, o := range objs {
		got, err := s.LeafIndex(ctx, c.ID, tlog.LeafHash(o.Raw))
		if err != nil || got != int64(i) {
			t.Errorf("LeafIndex of entry %d = %d, %v", i, got, err)
		}
	}
	// An interior hash is no leaf.
	hs, err := s.LogHashes(ctx, c.ID, []int64{tlog.StoredHashIndex(1, 0)})
	must(t, err)
	_, err = s.LeafIndex(ctx, c.ID, hs[0])
	wantKind(t, "LeafIndex of an interior hash", err, dialogue.KindNotFound)
}

func testLogSetNote(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	add(t, s, c.ID, sdo("indicator", 1, 0))
	cp, err := s.LatestCheckpoint(ctx, c.ID)
	must(t, err)
	// A second signature over the same text: what a cosignature adds.
	skey, vkey, err := tlog.GenerateKey("witness.example")
	must(t, err)
	w, err := tlog.NewSigner(skey)
	must(t, err)
	origin, err := tlog.Origin(logNode, c.ID)
	must(t, err)
	more, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: cp.Size, Hash: cp.Root}, sg.signer, w)
	must(t, err)
	must(t, s.SetCheckpointNote(ctx, c.ID, cp.Size, more))
	got, err := s.LatestCheckpoint(ctx, c.ID)
	must(t, err)
	if !bytes.Equal(got.Note, more) {
		t.Errorf("note after SetCheckpointNote:\n%s\nwant\n%s", got.Note, more)
	}
	wv, err := tlog.NewVerifier(vkey)
	must(t, err)
	if signed, err := tlog.Open(got.Note, origin, sg.Verifier, wv); err != nil || len(signed.Cosigners) != 1 {
		t.Errorf("stored note with a second signature: %v", err)
	}

	other, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: cp.Size, Hash: [32]byte{1}}, sg.signer)
	must(t, err)
	wantKind(t, "SetCheckpointNote with another root", s.SetCheckpointNote(ctx, c.ID, cp.Size, other), dialogue.KindInvalid)
	wantKind(t, "SetCheckpointNote without a blank line", s.SetCheckpointNote(ctx, c.ID, cp.Size, []byte("x\n")), dialogue.KindInvalid)
	wantKind(t, "SetCheckpointNote at a size with no checkpoint", s.SetCheckpointNote(ctx, c.ID, 7, more), dialogue.KindNotFound)
	wantKind(t, "SetCheckpointNote of an unknown collection", s.SetCheckpointNote(ctx, "nope", 1, more), dialogue.KindNotFound)
	got, err = s.LatestCheckpoint(ctx, c.ID)
	must(t, err)
	if !bytes.Equal(got.Note, more) {
		t.Errorf("a refused SetCheckpointNote changed the note")
	}
}

func testLogWitness(t *testing.T, s LogStore, _ *Signer) {
	const origin = "node-b.example/parley/c1"
	size, root, err := s.WitnessLatest(ctx, origin)
	if err != nil || size != 0 || root != ([32]byte{}) {
		t.Fatalf("WitnessLatest of an unknown origin = %d, %x, %v", size, root, err)
	}
	must(t, s.WitnessStore(ctx, origin, 0, 5, [32]byte{5}, []byte("note 5")))
	wantKind(t, "WitnessStore from a stale size", s.WitnessStore(ctx, origin, 0, 6, [32]byte{6}, []byte("note 6")), dialogue.KindConflict)
	wantKind(t, "WitnessStore from a size ahead", s.WitnessStore(ctx, origin, 7, 8, [32]byte{8}, []byte("note 8")), dialogue.KindConflict)
	must(t, s.WitnessStore(ctx, origin, 5, 9, [32]byte{9}, []byte("note 9")))
	size, root, err = s.WitnessLatest(ctx, origin)
	if err != nil || size != 9 || root != ([32]byte{9}) {
		t.Errorf("WitnessLatest = %d, %x, %v; want 9", size, root, err)
	}
	// Origins are independent.
	if size, _, err := s.WitnessLatest(ctx, origin+"x"); err != nil || size != 0 {
		t.Errorf("WitnessLatest of another origin = %d, %v", size, err)
	}
	// Of two concurrent stores from the same old size, one wins.
	errs := make(chan error, 2)
	for i := range 2 {
		go func() { errs <- s.WitnessStore(ctx, origin, 9, int64(10+i), [32]byte{byte(10 + i)}, []byte("n")) }()
	}
	var ok, conflicts int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case dialogue.KindOf(err) == dialogue.KindConflict:
			conflicts++
		default:
			t.Errorf("concurrent WitnessStore: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Errorf("concurrent WitnessStore: %d stored, %d conflicts; want 1 and 1", ok, conflicts)
	}
}

func testLogDelete(t *testing.T, s LogStore, sg *Signer) {
	c := newCollection(t, s, "local")
	a1, a2, b := sdo("indicator", 1, 0), sdo("indicator", 1, 1000), sdo("malware", 2, 0)
	add(t, s, c.ID, a1, a2, b)
	_, err := s.DeleteObject(ctx, c.ID, a1.ID, dialogue.ObjectFilter{})
	must(t, err)
	checkLog(t, s, sg, c.ID, raws(a1, a2, b))
	// A deleted version added again is a new entry.
	add(t, s, c.ID, a1)
	checkLog(t, s, sg, c.ID, raws(a1, a2, b, a1))
	if i, err := s.LeafIndex(ctx, c.ID, tlog.LeafHash(a1.Raw)); err != nil || i != 0 {
		t.Errorf("LeafIndex of a deleted then re-added object = %d, %v; want the first, 0", i, err)
	}
}

func testLogPerCollection(t *testing.T, s LogStore, sg *Signer) {
	c, d := newCollection(t, s, "one"), newCollection(t, s, "two")
	a, b := sdo("indicator", 1, 0), sdo("indicator", 2, 0)
	add(t, s, c.ID, a)
	add(t, s, d.ID, b, a)
	add(t, s, c.ID, b)
	checkLog(t, s, sg, c.ID, raws(a, b))
	checkLog(t, s, sg, d.ID, raws(b, a))
}
