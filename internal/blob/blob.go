// Package blob keeps evidence blobs (artifact payloads, files) in a
// content-addressed folder: each blob is a file named by the SHA-256 of its
// bytes, at sha256/<first 2 hex digits>/<64 hex digits>. It stores bytes
// (Put), downloads them from another node by hash and resumes an
// interrupted download (Fetch), and serves them over HTTP with range
// support (Handler).
//
// A blob is never visible under its name before its hash was checked:
// bytes are written to a file under tmp/, hashed while written, synced,
// and only then renamed into place.
//
// It must not know peers, collections, logs or users: which blobs a log
// names, from whom to fetch them and who may read them are decided by the
// callers (the peering code passes Handler its allow function).
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
)

// The layout of a store's folder.
const (
	// HashDir is the folder of the kept blobs, named after the hash.
	HashDir = "sha256"
	// TmpDir is the folder of partial writes and downloads. Its files are
	// never blobs: they become blobs by a rename once checked.
	TmpDir = "tmp"
)

// copyBuffer is the size of the buffer Put and Fetch copy with: bigger
// than io.Copy's 32 KiB, for fewer system calls on big blobs.
const copyBuffer = 256 << 10

// Store is a content-addressed folder of blobs. Its methods are safe for
// concurrent use, also by several Store values on the same folder in one
// process.
type Store struct {
	// Dir is the absolute path of the folder.
	Dir string
	// MaxSize, when positive, is the largest blob Put and Fetch accept;
	// bigger ones are refused with an error of kind KindTooLarge.
	MaxSize int64
}

// Info describes a kept blob.
type Info struct {
	SHA256  [32]byte
	Size    int64
	ModTime time.Time
}

// StaleAfter is the age after which Open removes a temporary file left in
// tmp/ by a Put that never finished (a crash). Partial downloads are kept:
// the next Fetch of their blob resumes them.
const StaleAfter = 24 * time.Hour

// Open opens the blob folder dir, making it (mode 0700) and its sha256/
// and tmp/ folders when missing, and removes what unfinished Puts left in
// tmp/ more than StaleAfter ago.
func Open(dir string) (*Store, error) {
	const op = "blob.Open"
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, HashDir), filepath.Join(abs, TmpDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, dialogue.E(op, dialogue.KindOther, fmt.Errorf("making the blob folder: %w", err))
		}
	}
	s := &Store{Dir: abs}
	s.removeStale(time.Now().Add(-StaleAfter))
	return s, nil
}

// removeStale removes the files of unfinished Puts older than before.
// Failing to is not an error: they are only a waste of space.
func (s *Store) removeStale(before time.Time) {
	names, _ := filepath.Glob(filepath.Join(s.Dir, TmpDir, "put-*"))
	for _, name := range names {
		if fi, err := os.Lstat(name); err == nil && fi.ModTime().Before(before) {
			os.Remove(name)
		}
	}
}

// Hex is the lowercase hexadecimal form of a SHA-256: a blob's file name.
func Hex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }

// Path is where the blob with the given SHA-256 is kept (whether or not
// it is there).
func (s *Store) Path(sum [32]byte) string {
	h := Hex(sum)
	return filepath.Join(s.Dir, HashDir, h[:2], h)
}

// partPath is the partial download of the blob.
func (s *Store) partPath(sum [32]byte) string {
	return filepath.Join(s.Dir, TmpDir, Hex(sum)+".part")
}

// Put stores the bytes of r and returns their SHA-256 and size. The bytes
// are hashed while written to a temporary file, which is synced and then
// renamed into place; the folder is synced after. Putting bytes that are
// kept already changes nothing. Over MaxSize, it is refused (KindTooLarge)
// and nothing is kept.
func (s *Store) Put(ctx context.Context, r io.Reader) (sum [32]byte, size int64, err error) {
	const op = "blob.Put"
	f, err := os.CreateTemp(filepath.Join(s.Dir, TmpDir), "put-*")
	if err != nil {
		return sum, 0, dialogue.E(op, kindOfFile(err), err)
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	src := r
	if s.MaxSize > 0 {
		src = io.LimitReader(r, s.MaxSize+1)
	}
	h := sha256.New()
	size, err = io.CopyBuffer(io.MultiWriter(f, h), ctxReader{ctx, src}, make([]byte, copyBuffer))
	if err != nil {
		return sum, 0, dialogue.E(op, kindOfCopy(ctx, err), fmt.Errorf("writing the blob: %w", err))
	}
	if s.MaxSize > 0 && size > s.MaxSize {
		return sum, 0, dialogue.Errorf(op, dialogue.KindTooLarge, "the blob is over the limit of %d bytes", s.MaxSize)
	}
	copy(sum[:], h.Sum(nil))
	if info, err := s.Stat(sum); err == nil && info.Size == size {
		return sum, size, nil // kept already
	}
	if err := f.Sync(); err != nil {
		return sum, 0, dialogue.E(op, kindOfFile(err), err)
	}
	if err := f.Close(); err != nil {
		return sum, 0, dialogue.E(op, kindOfFile(err), err)
	}
	tmp := f.Name()
	f = nil
	if err := s.install(tmp, sum); err != nil {
		os.Remove(tmp)
		return sum, 0, dialogue.E(op, kindOfFile(err), err)
	}
	return sum, size, nil
}

// install renames a checked, synced file into the blob's place and syncs
// the folders it changed.
func (s *Store) install(tmp string, sum [32]byte) error {
	final := s.Path(sum)
	shard := filepath.Dir(final)
	err := os.Mkdir(shard, 0o700)
	switch {
	case err == nil:
		if err := syncDir(filepath.Dir(shard)); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(shard)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens a kept blob for reading (KindNotFound when it is not kept).
func (s *Store) Open(sum [32]byte) (*os.File, error) {
	const op = "blob.Open"
	f, err := os.Open(s.Path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(op, sum)
	}
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	return f, nil
}

// Has reports whether the blob is kept.
func (s *Store) Has(sum [32]byte) (bool, error) {
	_, err := s.Stat(sum)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return false, nil
	}
	return err == nil, err
}

// Stat describes a kept blob (KindNotFound when it is not kept).
func (s *Store) Stat(sum [32]byte) (Info, error) {
	const op = "blob.Stat"
	fi, err := os.Stat(s.Path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, notFound(op, sum)
	}
	if err != nil {
		return Info{}, dialogue.E(op, dialogue.KindOther, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, dialogue.Errorf(op, dialogue.KindOther, "%s is not a regular file", s.Path(sum))
	}
	return Info{SHA256: sum, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List returns the kept blobs, ordered by hash. Files in the folder that
// are not named like blobs are skipped.
func (s *Store) List() ([]Info, error) {
	const op = "blob.List"
	shards, err := os.ReadDir(filepath.Join(s.Dir, HashDir))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	var out []Info
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.Dir, HashDir, sh.Name()))
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOther, err)
		}
		for _, f := range files {
			sum, err := ParseName(f.Name())
			if err != nil || !f.Type().IsRegular() || !strings.HasPrefix(f.Name(), sh.Name()) {
				continue
			}
			fi, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, dialogue.E(op, dialogue.KindOther, err)
			}
			out = append(out, Info{SHA256: sum, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(Hex(a.SHA256), Hex(b.SHA256)) })
	return out, nil
}

func notFound(op string, sum [32]byte) error {
	return dialogue.Errorf(op, dialogue.KindNotFound, "blob sha256:%s is not kept here", Hex(sum))
}

// ParseName parses a blob's name as used in file names and URLs: exactly
// 64 lowercase hexadecimal digits. The error says why a name is not one.
func ParseName(name string) ([32]byte, error) {
	var sum [32]byte
	if len(name) != 64 {
		return sum, fmt.Errorf("blob name %q: want 64 lowercase hexadecimal digits (a SHA-256), got %d characters", clip(name), len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return sum, fmt.Errorf("blob name %q: character %d is %q, want a lowercase hexadecimal digit", clip(name), i+1, runeAt(name, i))
		}
	}
	hex.Decode(sum[:], []byte(name))
	return sum, nil
}

// ParseSum parses a SHA-256 as a person writes it: 64 hexadecimal digits
// in either case, optionally after "sha256:". The error says why s is not
// one.
func ParseSum(s string) ([32]byte, error) {
	var sum [32]byte
	h := strings.TrimPrefix(s, "sha256:")
	if len(h) != 64 {
		return sum, fmt.Errorf("want 64 hexadecimal digits, optionally after \"sha256:\", got %d characters", len(h))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return sum, fmt.Errorf("character %d is %q, want a hexadecimal digit", len(s)-len(h)+i+1, runeAt(h, i))
		}
	}
	hex.Decode(sum[:], []byte(h))
	return sum, nil
}

// runeAt is the character at byte i of s, which follows only ASCII
// characters, so that i+1 is its position.
func runeAt(s string, i int) rune {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// clip shortens what is quoted back in an error.
func clip(s string) string { return dialogue.Clip(s, 80) }

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func kindOfCopy(ctx context.Context, err error) dialogue.Kind {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return dialogue.KindUnavailable
	}
	if k := kindOfFile(err); k != dialogue.KindOther {
		return k
	}
	return dialogue.KindOf(err)
}

// kindOfFile is the kind of a failure to write or sync a file of the
// store: KindDiskFull when the file system has no space left (ENOSPC),
// else KindOther.
func kindOfFile(err error) dialogue.Kind {
	if errors.Is(err, syscall.ENOSPC) {
		return dialogue.KindDiskFull
	}
	return dialogue.KindOther
}

// keyLocks serialises work on one blob across every Store of the process:
// one lock per partial-download path, dropped when nobody holds or waits.
var keyLocks = struct {
	sync.Mutex
	m map[string]*keyLock
}{m: map[string]*keyLock{}}

type keyLock struct {
	ch   chan struct{}
	refs int
}

// lock takes the blob's lock, or gives up when ctx is done.
func (s *Store) lock(ctx context.Context, sum [32]byte) (unlock func(), err error) {
	key := s.partPath(sum)
	keyLocks.Lock()
	l := keyLocks.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		keyLocks.m[key] = l
	}
	l.refs++
	keyLocks.Unlock()
	release := func() {
		keyLocks.Lock()
		l.refs--
		if l.refs == 0 {
			delete(keyLocks.m, key)
		}
		keyLocks.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
