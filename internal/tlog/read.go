package tlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// ReadChunk is how many entry bundles ReadVerified fetches at once.
const ReadChunk = 16

// ReadVerified reads the entries [from, to) of a log served as C2SP
// tlog-tiles, in the tree of the given size and root hash (taken from a
// checkpoint the caller verified), and calls fn with each entry, in index
// order, once its leaf hash is checked against the hash tiles, which are
// themselves checked against root (sumdb's TileHashReader). It fetches
// ReadChunk entry bundles concurrently, then checks and hands them over in
// order; fn's error stops the read and is returned.
//
// The level-0 hash tile of a bundle is the leaf hashes of its entries, so
// it is computed from the bundle instead of fetched: the hash reader checks
// it against the level-1 tile (or the root) as it would a fetched one, so a
// bundle that does not match the tree is refused all the same, and the
// log's server is asked half as many requests. (Only then are the level-0
// tiles fetched, to name the entry that does not match.)
//
// A tile or entry that does not match is a *VerifyError (errors.Is
// ErrVerify); a fetch that failed is returned as the Fetcher gave it, so
// that a caller can retry later from the last entry fn accepted.
func ReadVerified(ctx context.Context, fetch Fetcher, size int64, root Hash, from, to int64, fn func(index int64, entry []byte) error) error {
	const op = "tlog.ReadVerified"
	if from < 0 || from > to || to > size {
		return errorf(op, ErrMalformed, "entries [%d, %d) are not in a tree of size %d", from, to, size)
	}
	if from == to {
		return nil
	}
	tr := &tileReader{ctx: ctx, fetch: fetch, cache: map[Tile][]byte{}}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tr)
	for k0 := from / TileWidth; k0*TileWidth < to; k0 += ReadChunk {
		k1 := min(k0+ReadChunk, (to+TileWidth-1)/TileWidth)
		n := int(k1 - k0)
		entries := make([][][]byte, n)
		leaves := make([][]Hash, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			k := k0 + int64(i)
			w := int(min(size-k*TileWidth, TileWidth))
			wg.Add(1)
			go func() {
				defer wg.Done()
				bt := Tile{H: TileHeight, L: -1, N: k, W: w}
				bundle, err := fetch(ctx, TilePath(bt))
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", TilePath(bt), err)
					return
				}
				es, err := ParseEntryBundle(bundle, w)
				if err != nil {
					errs[i] = verifyErr(op, "tile", k*TileWidth, "entry bundle %d: %s", k, messageOf(err))
					return
				}
				// The level-0 tile is the entries' leaf hashes; the hash
				// reader checks it against the tree when it asks for it.
				hs := make([]Hash, len(es))
				tile := make([]byte, 0, len(es)*HashSize)
				for j, e := range es {
					hs[j] = LeafHash(e)
					tile = append(tile, hs[j][:]...)
				}
				tr.prefetched(Tile{H: TileHeight, L: 0, N: k, W: w}, tile)
				entries[i], leaves[i] = es, hs
			}()
		}
		wg.Wait()
		// Hand over the bundles before the first that failed, then stop:
		// a connection cut mid-chunk costs only what did not arrive.
		var failed error
		for i, err := range errs {
			if err != nil {
				if i == 0 {
					return err
				}
				failed, n, k1 = err, i, k0+int64(i)
				break
			}
		}
		lo, hi := max(from, k0*TileWidth), min(to, k1*TileWidth)
		idx := make([]int64, 0, hi-lo)
		for i := lo; i < hi; i++ {
			idx = append(idx, tlog.StoredHashIndex(0, i))
		}
		hashes, err := hr.ReadHashes(idx)
		if err != nil && ctx.Err() == nil {
			// Some bundle does not match the tree: read the server's
			// level-0 tiles instead, to name the entry below (or the tile).
			tr.dropLevel0()
			hashes, err = hr.ReadHashes(idx)
		}
		if err != nil {
			var fe *fetchError
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.As(err, &fe):
				return fe.err
			}
			return verifyErr(op, "tile", lo, "hash tiles for entries [%d, %d): %v", lo, hi, err)
		}
		for i := range n {
			k := k0 + int64(i)
			for j, e := range entries[i] {
				at := k*TileWidth + int64(j)
				if at < lo || at >= hi {
					continue
				}
				if leaves[i][j] != hashes[at-lo] {
					return verifyErr(op, "entry", at, "does not hash to its leaf in the tree of the checkpoint")
				}
				if err := fn(at, e); err != nil {
					return err
				}
			}
		}
		if failed != nil {
			return failed
		}
		tr.dropLevel0()
	}
	return nil
}

// prefetched keeps a level-0 tile fetched ahead, for ReadTiles to use once.
func (t *tileReader) prefetched(tile Tile, data []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ahead == nil {
		t.ahead = map[Tile][]byte{}
	}
	t.ahead[tile] = data
}

// dropLevel0 forgets the tiles fetched ahead for a chunk done with.
func (t *tileReader) dropLevel0() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.ahead)
}

// ProveRemote returns the consistency proof from size old to the tree of
// the given size and root hash of a log served as C2SP tlog-tiles, built
// from its hash tiles, each checked against root. A witness that polls a
// log instead of being sent checkpoints uses it to decide the same way.
func ProveRemote(ctx context.Context, fetch Fetcher, size int64, root Hash, old int64) ([]Hash, error) {
	const op = "tlog.ProveRemote"
	if old < 0 || old > size {
		return nil, errorf(op, ErrMalformed, "size %d is not in a tree of size %d", old, size)
	}
	if old == 0 || old == size {
		return nil, nil
	}
	tr := &tileReader{ctx: ctx, fetch: fetch, cache: map[Tile][]byte{}}
	p, err := tlog.ProveTree(size, old, tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tr))
	if err != nil {
		var fe *fetchError
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &fe):
			return nil, fe.err // not the log's fault: try again later
		}
		return nil, verifyErr(op, "tile", -1, "proving size %d in the tree of size %d: %v", old, size, err)
	}
	return p, nil
}
