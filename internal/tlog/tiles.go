package tlog

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of C2SP tlog-tiles: a full tile holds
// 2^8 = 256 hashes (or entries).
const TileHeight = 8

// TileWidth is the number of hashes in a full tile.
const TileWidth = 1 << TileHeight

// MaxEntrySize is the largest entry an entry bundle can hold (its length
// prefix is a big-endian uint16).
const MaxEntrySize = 1<<16 - 1

// Tile is a tile coordinate. H is always TileHeight; L is the level (0 for
// leaf hashes), or -1 for an entry bundle; N is the index within the level;
// W is the width, TileWidth for a full tile or 1..255 for a partial one.
// (It is golang.org/x/mod/sumdb/tlog's Tile, so that TileHashReader works
// on it, but its path is C2SP's: see TilePath.)
type Tile = tlog.Tile

// TilePath returns the C2SP path of a tile: "tile/<L>/<N>[.p/<W>]" or
// "tile/entries/<N>[.p/<W>]", N in three-digit groups ("x001/x234/067").
// Unlike sumdb's Tile.Path it has no height element.
func TilePath(t Tile) string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.L < 0 {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.L))
	}
	b.WriteByte('/')
	b.WriteString(formatIndex(t.N))
	if t.W != TileWidth {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.W))
	}
	return b.String()
}

func formatIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// ParseTilePath parses a C2SP tile or entry-bundle path (without the log's
// URL prefix), refusing every spelling but the canonical one. Errors name
// the path element and the reason.
func ParseTilePath(path string) (Tile, error) {
	const op = "tlog.ParseTilePath"
	bad := func(format string, args ...any) (Tile, error) {
		return Tile{}, errorf(op, ErrMalformed, "tile path %q: "+format, append([]any{clip(path)}, args...)...)
	}
	f := strings.Split(path, "/")
	if len(f) < 3 || f[0] != "tile" {
		return bad("does not start with tile/<L>/ or tile/entries/")
	}
	t := Tile{H: TileHeight, W: TileWidth}
	if f[1] == "entries" {
		t.L = -1
	} else {
		l, err := parseDecimal(f[1])
		if err != nil {
			return bad("level %q %v", clip(f[1]), err)
		}
		if l > 63 {
			return bad("level %d is above 63", l)
		}
		t.L = int(l)
	}
	f = f[2:]
	if last := f[len(f)-1]; len(f) >= 2 && strings.HasSuffix(f[len(f)-2], ".p") {
		w, err := parseDecimal(last)
		if err != nil {
			return bad("width %q %v", clip(last), err)
		}
		if w < 1 || w >= TileWidth {
			return bad("width %d is not between 1 and 255", w)
		}
		t.W = int(w)
		f[len(f)-2] = strings.TrimSuffix(f[len(f)-2], ".p")
		f = f[:len(f)-1]
	}
	if len(f) > 7 {
		return bad("index has %d elements, too many", len(f))
	}
	for i, e := range f {
		last := i == len(f)-1
		if !last {
			if !strings.HasPrefix(e, "x") {
				return bad("index element %q does not begin with x", clip(e))
			}
			e = e[1:]
		}
		if len(e) != 3 || e[0] < '0' || e[0] > '9' || e[1] < '0' || e[1] > '9' || e[2] < '0' || e[2] > '9' {
			return bad("index element %q is not three digits", clip(f[i]))
		}
		d, _ := strconv.Atoi(e)
		if t.N > (1<<63-1-int64(d))/1000 {
			return bad("index is too large")
		}
		t.N = t.N*1000 + int64(d)
	}
	if len(f) > 1 && f[0] == "x000" {
		return bad("index has a leading x000 element")
	}
	return t, nil
}

// TileInTree reports whether a tile (or entry bundle) exists in a tree of
// the given size: all the hashes it holds are defined at that size.
func TileInTree(t Tile, size int64) bool {
	if t.H != TileHeight || t.W < 1 || t.W > TileWidth || t.N < 0 || t.L > 63 {
		return false
	}
	l := t.L
	if l < 0 {
		l = 0
	}
	if l*TileHeight >= 63 {
		return false
	}
	span := int64(1) << (l * TileHeight) // entries per hash
	start := t.N * TileWidth
	if start/TileWidth != t.N {
		return false
	}
	need := start + int64(t.W) // hashes at level l needed
	return need <= size/span
}

// ReadTile returns the bytes of a hash tile (W concatenated hashes) of the
// tree of the given size, from stored hashes. A tile not in that tree is
// ErrNotFound.
func ReadTile(t Tile, size int64, r HashReader) ([]byte, error) {
	const op = "tlog.ReadTile"
	if t.L < 0 {
		return nil, errorf(op, ErrMalformed, "%s is an entry bundle, not a hash tile", TilePath(t))
	}
	if !TileInTree(t, size) {
		return nil, errorf(op, ErrNotFound, "%s is not in a tree of size %d", TilePath(t), size)
	}
	b, err := tlog.ReadTileData(t, r)
	if err != nil {
		return nil, wrapf(op, ErrNotFound, err, "reading %s", TilePath(t))
	}
	return b, nil
}

// EntryRange returns the entry indexes [start, end) an entry bundle holds.
func EntryRange(t Tile) (start, end int64) {
	start = t.N * TileWidth
	return start, start + int64(t.W)
}

// EntryBundle encodes entries as a C2SP entry bundle: each entry as a
// big-endian uint16 length and its bytes.
func EntryBundle(entries [][]byte) ([]byte, error) {
	const op = "tlog.EntryBundle"
	if len(entries) > TileWidth {
		return nil, errorf(op, ErrTooLarge, "entry bundle of %d entries, more than %d", len(entries), TileWidth)
	}
	n := 0
	for i, e := range entries {
		if len(e) > MaxEntrySize {
			return nil, errorf(op, ErrTooLarge, "entry %d of the bundle is %d bytes, more than %d", i, len(e), MaxEntrySize)
		}
		n += 2 + len(e)
	}
	b := make([]byte, 0, n)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// ParseEntryBundle decodes an entry bundle of want entries (0: any number
// up to 256).
func ParseEntryBundle(data []byte, want int) ([][]byte, error) {
	const op = "tlog.ParseEntryBundle"
	var out [][]byte
	for off := 0; off < len(data); {
		if len(out) == TileWidth {
			return nil, errorf(op, ErrMalformed, "entry bundle: more than %d entries", TileWidth)
		}
		if len(data)-off < 2 {
			return nil, errorf(op, ErrMalformed, "entry bundle: entry %d: truncated length", len(out))
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		off += 2
		if len(data)-off < n {
			return nil, errorf(op, ErrMalformed, "entry bundle: entry %d: length %d beyond the end", len(out), n)
		}
		out = append(out, data[off:off+n:off+n])
		off += n
	}
	if want > 0 && len(out) != want {
		return nil, errorf(op, ErrMalformed, "entry bundle: %d entries, want %d", len(out), want)
	}
	return out, nil
}

// ParseHashTile splits a hash tile into its hashes, checking its width.
func ParseHashTile(t Tile, data []byte) ([]Hash, error) {
	const op = "tlog.ParseHashTile"
	if len(data) != t.W*HashSize {
		return nil, errorf(op, ErrMalformed, "%s: %d bytes, want %d", TilePath(t), len(data), t.W*HashSize)
	}
	out := make([]Hash, t.W)
	for i := range out {
		copy(out[i][:], data[i*HashSize:])
	}
	return out, nil
}
