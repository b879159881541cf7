package tlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"
)

func TestTilePaths(t *testing.T) {
	for _, c := range []struct {
		tile Tile
		path string
	}{
		{Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{Tile{H: 8, L: 0, N: 1234067, W: 8}, "tile/0/x001/x234/067.p/8"},
		{Tile{H: 8, L: 2, N: 0, W: 1}, "tile/2/000.p/1"},
		{Tile{H: 8, L: -1, N: 5, W: 256}, "tile/entries/005"},
		{Tile{H: 8, L: -1, N: 1000, W: 255}, "tile/entries/x001/000.p/255"},
		{Tile{H: 8, L: 63, N: 0, W: 256}, "tile/63/000"},
	} {
		if got := TilePath(c.tile); got != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.tile, got, c.path)
		}
		got, err := ParseTilePath(c.path)
		if err != nil || got != c.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v", c.path, got, err)
		}
	}
	// C2SP's example: a tree of 70,000 entries has 273 full level-0 tiles,
	// a partial of width 112, a full level-1 tile, a partial level-1 of
	// width 17 and a partial level-2 of width 1.
	var paths []string
	for _, tile := range sumtlog.NewTiles(TileHeight, 0, 70000) {
		if tile.W < TileWidth || tile.L > 0 {
			paths = append(paths, TilePath(tile))
		}
		if !TileInTree(tile, 70000) {
			t.Errorf("%s not in tree of 70000", TilePath(tile))
		}
	}
	if got, want := strings.Join(paths, " "), "tile/0/273.p/112 tile/1/000 tile/1/001.p/17 tile/2/000.p/1"; got != want {
		t.Errorf("tiles of 70000 = %s, want %s", got, want)
	}
	if TileInTree(Tile{H: 8, L: 0, N: 273, W: 113}, 70000) || TileInTree(Tile{H: 8, L: 1, N: 1, W: 18}, 70000) {
		t.Error("a tile beyond the tree is in it")
	}
}

func TestParseTilePathBad(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"", "does not start with"},
		{"tiles/0/000", "does not start with"},
		{"tile/8/0/000", `index element "0" does not begin with x`},
		{"tile/64/000", "level 64 is above 63"},
		{"tile/01/000", "leading zero"},
		{"tile/-1/000", "not a decimal"},
		{"tile/data/000", "not a decimal"},
		{"tile/0/00", "not three digits"},
		{"tile/0/0000", "not three digits"},
		{"tile/0/001/002", "does not begin with x"},
		{"tile/0/x000/002", "leading x000"},
		{"tile/0/x1/002", "not three digits"},
		{"tile/0/000.p/0", "width 0 is not between 1 and 255"},
		{"tile/0/000.p/256", "width 256"},
		{"tile/0/000.p/08", "leading zero"},
		{"tile/0/000.p/", "width \"\" is empty"},
		{"tile/0/000.p", "not three digits"},
		{"tile/0/x009/x223/x372/x036/x854/x775/808", "too large"},
		{"tile/0/x001/x000/x000/x000/x000/x000/x000/000", "8 elements, too many"},
		{"tile/0/x009/x223/x372/x036/x854/x776/000", "too large"},
		{"tile/entries/", "not three digits"},
	} {
		_, err := ParseTilePath(c.path)
		if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTilePath(%q) = %v, want an error containing %q", c.path, err, c.want)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/x001/x234/067.p/8", "tile/entries/000", "tile/3/999", "tile/0/x000/001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := ParseTilePath(path)
		if err != nil {
			return
		}
		if got := TilePath(tile); got != path {
			t.Fatalf("ParseTilePath(%q) = %+v, formats as %q", path, tile, got)
		}
		// sumdb's parser agrees on the same tile under its own path.
		st, err := sumtlog.ParseTilePath(tile.Path())
		if err != nil || st != tile {
			t.Fatalf("sumdb parses %q as %+v, %v; want %+v", tile.Path(), st, err, tile)
		}
	})
}

func TestTilesAndBundles(t *testing.T) {
	l := newMemLog(t, 600)
	// A full level-0 tile is the leaf hashes of its 256 entries.
	data, err := ReadTile(Tile{H: 8, L: 0, N: 1, W: 256}, 600, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := ParseHashTile(Tile{H: 8, L: 0, N: 1, W: 256}, data)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if h != LeafHash(l.entries[256+i]) {
			t.Fatalf("tile hash %d is not entry %d's leaf hash", i, 256+i)
		}
	}
	// A level-1 partial tile's hashes are the roots of full level-0 tiles.
	data, err = ReadTile(Tile{H: 8, L: 1, N: 0, W: 2}, 600, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	sub := MemHashes{}
	_ = sub.Append(l.entries[256:512]...)
	root, _ := TreeHash(256, sub)
	if !bytes.Equal(data[32:], root[:]) {
		t.Error("level-1 hash 1 is not the root of entries 256..511")
	}
	if _, err := ReadTile(Tile{H: 8, L: 0, N: 2, W: 89}, 600, l.hashes); !errors.Is(err, ErrNotFound) {
		t.Errorf("tile beyond the tree: %v", err)
	}
	// Entry bundles round-trip.
	b, err := EntryBundle(l.entries[512:600])
	if err != nil {
		t.Fatal(err)
	}
	es, err := ParseEntryBundle(b, 88)
	if err != nil || len(es) != 88 || !bytes.Equal(es[3], l.entries[515]) {
		t.Fatalf("bundle round trip: %d entries, %v", len(es), err)
	}
	if _, err := EntryBundle([][]byte{make([]byte, MaxEntrySize+1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized entry: %v", err)
	}
	for _, c := range []struct {
		data []byte
		want string
	}{
		{[]byte{0}, "entry 0: truncated length"},
		{[]byte{0, 5, 'a'}, "entry 0: length 5 beyond the end"},
		{[]byte{0, 1, 'a', 0}, "entry 1: truncated length"},
	} {
		if _, err := ParseEntryBundle(c.data, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseEntryBundle(%v) = %v, want %q", c.data, err, c.want)
		}
	}
	if _, err := ParseEntryBundle(b, 87); err == nil || !strings.Contains(err.Error(), "88 entries, want 87") {
		t.Errorf("wrong count: %v", err)
	}
}
