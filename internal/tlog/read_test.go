package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// memFetcher serves a memLog as C2SP tiles at its full size, with an
// optional fault.
func memFetcher(l *memLog, tamper func(path string, b []byte) ([]byte, error)) Fetcher {
	size := int64(len(l.entries))
	return func(ctx context.Context, path string) ([]byte, error) {
		tile, err := ParseTilePath(path)
		if err != nil {
			return nil, err
		}
		var b []byte
		if tile.L < 0 {
			start, end := EntryRange(tile)
			if !TileInTree(tile, size) {
				return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
			}
			b, _ = EntryBundle(l.entries[start:end])
		} else if b, err = ReadTile(tile, size, l.hashes); err != nil {
			return nil, err
		}
		if tamper != nil {
			return tamper(path, b)
		}
		return b, nil
	}
}

func TestReadVerified(t *testing.T) {
	ctx := context.Background()
	l := newMemLog(t, 5000)
	fetch := memFetcher(l, nil)
	for _, tc := range []struct{ size, from, to int64 }{
		{5000, 0, 5000}, {5000, 0, 1}, {5000, 255, 257}, {5000, 4999, 5000},
		{4097, 100, 4097}, {300, 0, 300}, {1, 0, 1}, {5000, 700, 700},
	} {
		root, err := TreeHash(tc.size, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		next := tc.from
		err = ReadVerified(ctx, fetch, tc.size, root, tc.from, tc.to, func(i int64, e []byte) error {
			if i != next || !bytes.Equal(e, l.entries[i]) {
				return fmt.Errorf("got entry %d, want %d", i, next)
			}
			next++
			return nil
		})
		if err != nil || next != tc.to {
			t.Errorf("size %d [%d,%d): stopped at %d: %v", tc.size, tc.from, tc.to, next, err)
		}
	}
}

func TestReadVerifiedRefuses(t *testing.T) {
	ctx := context.Background()
	l := newMemLog(t, 1000)
	root, _ := TreeHash(1000, l.hashes)
	other, _ := TreeHash(999, l.hashes)
	ok := func(int64, []byte) error { return nil }
	flip := func(target string) Fetcher {
		return memFetcher(l, func(path string, b []byte) ([]byte, error) {
			if path == target {
				b = bytes.Clone(b)
				b[len(b)-3] ^= 1
			}
			return b, nil
		})
	}
	down := errors.New("connection reset")
	var calls atomic.Int32
	for _, tc := range []struct {
		name  string
		fetch Fetcher
		root  Hash
		want  error
	}{
		{"wrong root", memFetcher(l, nil), other, ErrVerify},
		{"tampered entry", flip("tile/entries/001"), root, ErrVerify},
		{"tampered partial bundle", flip("tile/entries/003.p/232"), root, ErrVerify},
		{"tampered level-1 tile", flip("tile/1/000.p/3"), root, ErrVerify},
		{"fetch fails", memFetcher(l, func(path string, b []byte) ([]byte, error) {
			if calls.Add(1) > 3 {
				return nil, down
			}
			return b, nil
		}), root, down},
	} {
		err := ReadVerified(ctx, tc.fetch, 1000, tc.root, 0, 1000, ok)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if tc.name == "tampered entry" && !strings.Contains(err.Error(), "entry 511: does not hash to its leaf") {
			t.Errorf("%s: the error does not name the entry: %v", tc.name, err)
		}
	}
	// Level-0 hash tiles are computed from the bundles, never fetched: a
	// server that serves them wrong changes nothing.
	if err := ReadVerified(ctx, memFetcher(l, func(path string, b []byte) ([]byte, error) {
		if strings.HasPrefix(path, "tile/0/") {
			return nil, fmt.Errorf("%s fetched", path)
		}
		return b, nil
	}), 1000, root, 0, 1000, ok); err != nil {
		t.Errorf("level-0 tiles: %v", err)
	}
	if err := ReadVerified(ctx, memFetcher(l, nil), 1000, root, 10, 1001, ok); !errors.Is(err, ErrMalformed) {
		t.Errorf("range beyond the tree: %v", err)
	}
	stop := errors.New("stop")
	if err := ReadVerified(ctx, memFetcher(l, nil), 1000, root, 0, 1000, func(i int64, _ []byte) error {
		if i == 600 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
}

func TestProveRemote(t *testing.T) {
	ctx := context.Background()
	l := newMemLog(t, 3000)
	root, _ := TreeHash(3000, l.hashes)
	for _, old := range []int64{0, 1, 255, 256, 1000, 2999, 3000} {
		p, err := ProveRemote(ctx, memFetcher(l, nil), 3000, root, old)
		if err != nil {
			t.Fatalf("old %d: %v", old, err)
		}
		oldRoot, _ := TreeHash(old, l.hashes)
		if old > 0 && old < 3000 {
			if err := verifyConsistency(uint64(old), 3000, p, oldRoot, root); err != nil {
				t.Errorf("old %d: proof does not verify: %v", old, err)
			}
		}
	}
	other, _ := TreeHash(2999, l.hashes)
	if _, err := ProveRemote(ctx, memFetcher(l, nil), 3000, other, 1000); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong root: %v", err)
	}
}

// A fetch that fails mid-chunk still hands over, checked, every entry of
// the bundles before it.
func TestReadVerifiedKeepsWhatArrived(t *testing.T) {
	ctx := context.Background()
	l := newMemLog(t, 3000)
	root, _ := TreeHash(3000, l.hashes)
	down := errors.New("connection reset")
	fetch := memFetcher(l, func(path string, b []byte) ([]byte, error) {
		if path == "tile/entries/005" {
			return nil, down
		}
		return b, nil
	})
	var got int64
	err := ReadVerified(ctx, fetch, 3000, root, 100, 3000, func(i int64, e []byte) error {
		if i != 100+got || !bytes.Equal(e, l.entries[i]) {
			return fmt.Errorf("entry %d out of order", i)
		}
		got++
		return nil
	})
	if !errors.Is(err, down) {
		t.Fatalf("got %v, want the fetch's error", err)
	}
	if want := int64(5*TileWidth - 100); got != want {
		t.Errorf("handed over %d entries before the failed bundle, want %d", got, want)
	}
}

// A tile that cannot be fetched is a fetch failure, not a log that does
// not verify (which would raise an alarm against the peer).
func TestProveRemoteFetchFailure(t *testing.T) {
	l := newMemLog(t, 3000)
	root, _ := TreeHash(3000, l.hashes)
	down := errors.New("connection reset")
	_, err := ProveRemote(context.Background(), memFetcher(l, func(string, []byte) ([]byte, error) { return nil, down }), 3000, root, 1000)
	if !errors.Is(err, down) || errors.Is(err, ErrVerify) {
		t.Errorf("got %v, want the fetch's error and not ErrVerify", err)
	}
}
