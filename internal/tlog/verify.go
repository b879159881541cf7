package tlog

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/parleyhq/parley/internal/dialogue"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// StoredCheckpoint is a checkpoint as a store keeps it: the tree size (a
// column) and the signed note with the log's signature and the
// cosignatures received.
type StoredCheckpoint struct {
	Size int64
	Note []byte
}

// StoredLog is what VerifyLog checks: a log as a store holds it.
type StoredLog struct {
	// Origin is the log's checkpoint origin (see Origin).
	Origin string
	// Size is the number of entries the store says the log has.
	Size int64
	// Entries yields the entries in index order. Set Entries or Leaves.
	Entries iter.Seq2[[]byte, error]
	// Leaves yields the leaf hashes in index order, for a caller that keeps
	// entries elsewhere (LeafHash of each entry).
	Leaves iter.Seq2[Hash, error]
	// Hashes reads the stored-hash table.
	Hashes HashReader
	// Checkpoints are the stored checkpoints in increasing size order.
	Checkpoints []StoredCheckpoint
	// LogKey verifies the log's signature; Cosigners verify cosignatures
	// (unknown cosignatures are ignored, a bad known one fails).
	LogKey    note.Verifier
	Cosigners []note.Verifier
}

// Report is what a successful verification found.
type Report struct {
	// Entries is the number of entries checked.
	Entries int64
	// Checkpoints lists each checkpoint checked with its verified
	// cosigners.
	Checkpoints []CheckedCheckpoint
}

// CheckedCheckpoint is one verified checkpoint.
type CheckedCheckpoint struct {
	Size      int64
	Hash      Hash
	Cosigners []string
}

// verifyChunk is how many stored hashes VerifyLog reads per call.
const verifyChunk = 1 << 14

// VerifyLog rebuilds every leaf hash and the whole tree from a stored log's
// entries, compares them with the stored hashes, checks every checkpoint's
// signatures, that its root is the rebuilt tree's at its size, and that each
// is consistent with the next (with a proof built from the stored hashes).
// On failure the error (errors.Is ErrVerify, a *VerifyError) names the
// first broken entry, stored hash or checkpoint.
func VerifyLog(ctx context.Context, l *StoredLog) (*Report, error) {
	const op = "tlog.VerifyLog"
	if l.LogKey == nil {
		return nil, errorf(op, ErrMalformed, "no log key")
	}
	leaves := l.Leaves
	if l.Entries != nil {
		leaves = func(yield func(Hash, error) bool) {
			for e, err := range l.Entries {
				if !yield(LeafHash(e), err) {
					return
				}
			}
		}
	}
	if leaves == nil {
		return nil, errorf(op, ErrMalformed, "neither entries nor leaf hashes")
	}
	rebuilt := make(MemHashes, 0, tlog.StoredHashCount(max(l.Size, 0)))
	checked := int64(0)
	compare := func(upTo int64) error {
		for checked < upTo {
			end := min(upTo, checked+verifyChunk)
			idx := make([]int64, end-checked)
			for i := range idx {
				idx[i] = checked + int64(i)
			}
			got, err := l.Hashes.ReadHashes(idx)
			if err != nil || len(got) != len(idx) {
				lvl, n := tlog.SplitStoredHashIndex(checked)
				if lvl == 0 {
					return verifyErr(op, "entry", n, "its stored hashes cannot be read: %v", err)
				}
				return verifyErr(op, "stored hash", checked, "cannot be read: %v", err)
			}
			for i, h := range got {
				if h != rebuilt[checked+int64(i)] {
					x := checked + int64(i)
					lvl, n := tlog.SplitStoredHashIndex(x)
					if lvl == 0 {
						return verifyErr(op, "entry", n, "leaf hash differs from the stored hash (the entry or its stored hash was changed)")
					}
					return verifyErr(op, "stored hash", x, "level %d node %d differs from the hash rebuilt from the entries", lvl, n)
				}
			}
			checked = end
		}
		return nil
	}
	var n int64
	for leaf, err := range leaves {
		if err != nil {
			return nil, verifyErr(op, "entry", n, "cannot be read: %v", err)
		}
		if n >= l.Size {
			return nil, verifyErr(op, "entry", n, "is beyond the log's size %d", l.Size)
		}
		hs, err := tlog.StoredHashesForRecordHash(n, leaf, rebuilt)
		if err != nil {
			return nil, err
		}
		rebuilt = append(rebuilt, hs...)
		n++
		if int64(len(rebuilt))-checked >= verifyChunk {
			if err := compare(int64(len(rebuilt))); err != nil {
				return nil, err
			}
		}
		if n%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if n != l.Size {
		return nil, verifyErr(op, "log", -1, "the store says %d entries, %d were read", l.Size, n)
	}
	if err := compare(int64(len(rebuilt))); err != nil {
		return nil, err
	}

	rep := &Report{Entries: n}
	var prev *CheckedCheckpoint
	for i, sc := range l.Checkpoints {
		s, err := Open(sc.Note, l.Origin, l.LogKey, l.Cosigners...)
		if err != nil {
			return nil, verifyErr(op, "checkpoint", sc.Size, "%s", messageOf(err))
		}
		if s.Size != sc.Size {
			return nil, verifyErr(op, "checkpoint", sc.Size, "the signed note says size %d", s.Size)
		}
		if s.Size > n {
			return nil, verifyErr(op, "checkpoint", sc.Size, "is beyond the log's %d entries", n)
		}
		root, err := TreeHash(s.Size, rebuilt)
		if err != nil {
			return nil, err
		}
		if root != s.Hash {
			return nil, verifyErr(op, "checkpoint", sc.Size, "root hash %s differs from the tree rebuilt from the entries (%s)", s.Hash, root)
		}
		if prev != nil {
			if s.Size < prev.Size {
				return nil, verifyErr(op, "checkpoint", sc.Size, "comes after checkpoint %d at the larger size %d", i-1, prev.Size)
			}
			p, err := ProveConsistency(prev.Size, s.Size, l.Hashes)
			if err == nil {
				err = p.Verify(prev.Hash, s.Hash)
			}
			if err != nil {
				return nil, verifyErr(op, "checkpoint", sc.Size, "not consistent with the checkpoint at size %d: %s", prev.Size, messageOf(err))
			}
		}
		rep.Checkpoints = append(rep.Checkpoints, CheckedCheckpoint{Size: s.Size, Hash: s.Hash, Cosigners: s.Cosigners})
		prev = &rep.Checkpoints[len(rep.Checkpoints)-1]
	}
	return rep, nil
}

// messageOf is an error's text without op names.
func messageOf(err error) string {
	if de, ok := err.(*dialogue.Error); ok && de.Err != nil {
		return messageOf(de.Err)
	}
	return err.Error()
}

// Fetcher reads one resource of a remote log by its path under the log's
// URL prefix ("checkpoint", "tile/0/000", "tile/entries/000.p/5").
type Fetcher func(ctx context.Context, path string) ([]byte, error)

// RemoteLog is a log served as C2SP tlog-tiles, to check from its
// checkpoint and tiles alone.
type RemoteLog struct {
	Fetch     Fetcher
	Origin    string // the expected origin; empty accepts any
	LogKey    note.Verifier
	Cosigners []note.Verifier
	// Entry, when set, is called with each entry once its inclusion in the
	// verified checkpoint is checked.
	Entry func(index int64, entry []byte) error
	// Hidden, when set, says whether an entry bundle's fetch error means
	// that the reader may not read that bundle (a server that hands no
	// reader the content of an entry it may not see). Such a bundle's
	// leaf hashes are still read from the hash tiles and checked against
	// the checkpoint's root; its entries are counted in HiddenEntries.
	Hidden func(err error) bool
	// HiddenEntries is set by VerifyRemote: how many entries were in
	// bundles Hidden refused.
	HiddenEntries int64
}

// VerifyRemote fetches and verifies a remote log's checkpoint, checks its
// consistency with since (an earlier verified checkpoint; nil for none),
// and checks every entry of every entry bundle against the hash tiles,
// which are themselves checked against the checkpoint's root with
// golang.org/x/mod/sumdb/tlog's TileHashReader. It returns the verified
// checkpoint.
func VerifyRemote(ctx context.Context, r *RemoteLog, since *Checkpoint) (*Signed, error) {
	const op = "tlog.VerifyRemote"
	msg, err := r.Fetch(ctx, "checkpoint")
	if err != nil {
		return nil, fmt.Errorf("%s: fetching the checkpoint: %w", op, err)
	}
	s, err := Open(msg, r.Origin, r.LogKey, r.Cosigners...)
	if err != nil {
		return nil, verifyErr(op, "checkpoint", -1, "%s", messageOf(err))
	}
	tree := tlog.Tree{N: s.Size, Hash: s.Hash}
	tr := &tileReader{ctx: ctx, fetch: r.Fetch, cache: map[Tile][]byte{}}
	hr := tlog.TileHashReader(tree, tr)
	if since != nil {
		if since.Size > s.Size {
			return nil, verifyErr(op, "checkpoint", s.Size, "is smaller than the earlier checkpoint's size %d (a rollback)", since.Size)
		}
		if since.Size == s.Size && since.Hash != s.Hash {
			return nil, verifyErr(op, "checkpoint", s.Size, "has another root hash than the earlier checkpoint of the same size (a fork)")
		}
		if since.Size > 0 && since.Size < s.Size {
			p, err := tlog.ProveTree(s.Size, since.Size, hr)
			if err == nil {
				err = tlog.CheckTree(p, s.Size, s.Hash, since.Size, since.Hash)
			}
			if err != nil {
				return nil, verifyErr(op, "checkpoint", s.Size, "not consistent with the earlier checkpoint at size %d: %v", since.Size, err)
			}
		}
	}
	for k := int64(0); k*TileWidth < s.Size; k++ {
		w := int(min(s.Size-k*TileWidth, TileWidth))
		bt := Tile{H: TileHeight, L: -1, N: k, W: w}
		idx := make([]int64, w)
		for j := range idx {
			idx[j] = tlog.StoredHashIndex(0, k*TileWidth+int64(j))
		}
		data, err := r.Fetch(ctx, TilePath(bt))
		if err != nil && r.Hidden != nil && r.Hidden(err) {
			if _, err := hr.ReadHashes(idx); err != nil {
				return nil, verifyErr(op, "tile", -1, "hash tile for entries from %d: %v", k*TileWidth, err)
			}
			r.HiddenEntries += int64(w)
			continue
		}
		if err != nil {
			return nil, verifyErr(op, "tile", -1, "%s: %v", TilePath(bt), err)
		}
		entries, err := ParseEntryBundle(data, w)
		if err != nil {
			return nil, verifyErr(op, "tile", -1, "%s: %s", TilePath(bt), messageOf(err))
		}
		hashes, err := hr.ReadHashes(idx)
		if err != nil {
			return nil, verifyErr(op, "tile", -1, "hash tile for entries from %d: %v", k*TileWidth, err)
		}
		for j, e := range entries {
			if LeafHash(e) != hashes[j] {
				return nil, verifyErr(op, "entry", k*TileWidth+int64(j), "does not hash to its leaf in the tree of the checkpoint")
			}
			if r.Entry != nil {
				if err := r.Entry(k*TileWidth+int64(j), e); err != nil {
					return nil, err
				}
			}
		}
	}
	return s, nil
}

// tileReader adapts a Fetcher to sumdb's TileReader with C2SP paths. It
// keeps the tiles above level 0, which every entry bundle needs again,
// and uses once the level-0 tiles fetched ahead (ReadVerified).
type tileReader struct {
	ctx   context.Context
	fetch Fetcher
	mu    sync.Mutex
	cache map[Tile][]byte
	ahead map[Tile][]byte
}

func (t *tileReader) Height() int { return TileHeight }

// ReadTiles returns the tiles asked for, fetching those not at hand
// concurrently. The hash reader checks every one against the tree.
func (t *tileReader) ReadTiles(tiles []Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	errs := make([]error, len(tiles))
	var wg sync.WaitGroup
	for i, tile := range tiles {
		t.mu.Lock()
		b, ok := t.cache[tile]
		if !ok {
			b, ok = t.ahead[tile]
		}
		t.mu.Unlock()
		if ok {
			out[i] = b
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := t.fetch(t.ctx, TilePath(tile))
			if err != nil {
				errs[i] = &fetchError{fmt.Errorf("%s: %w", TilePath(tile), err)}
				return
			}
			out[i] = b
		}()
	}
	wg.Wait()
	for i, tile := range tiles {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if len(out[i]) != tile.W*HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", TilePath(tile), len(out[i]), tile.W*HashSize)
		}
	}
	return out, nil
}

// SaveTiles keeps verified tiles above level 0.
func (t *tileReader) SaveTiles(tiles []Tile, data [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, tile := range tiles {
		if tile.L > 0 {
			t.cache[tile] = data[i]
		}
	}
}

// fetchError marks a tile the Fetcher could not get (as opposed to one that
// does not match the tree), so that readers return it as a fetch failure.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }
