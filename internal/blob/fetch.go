package blob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// ErrMismatch is wrapped by the error Fetch returns (of kind KindInvalid)
// when the server sent bytes whose size or SHA-256 is not the blob's. The
// caller raises an alarm about the server: it served data that does not
// match what its log names.
var ErrMismatch = errors.New("the bytes received do not match the blob's SHA-256 and size")

// errRestart: the server cannot continue the partial download; start it
// over from the first byte.
var errRestart = errors.New("the server cannot resume the download")

// ETag is the entity tag under which Handler serves a blob:
// "sha256:<hex>", quoted. Fetch sends it in If-Range when it resumes.
func ETag(sum [32]byte) string { return `"sha256:` + Hex(sum) + `"` }

// Fetch downloads the blob want from url (a GET answered by Handler or
// alike) and keeps it. A blob kept already returns nil without a request.
//
// The bytes go to tmp/<hex>.part; an existing part (left by an
// interrupted Fetch) is resumed with "Range: bytes=N-" and If-Range. A
// server that answers 200 (ignoring the range) is read from the start; one
// that answers 416, or a Content-Range other than asked, makes Fetch start
// over once. The size and SHA-256 are checked before the blob is renamed
// into place.
//
// When they do not match, the part is deleted and the error, of kind
// KindInvalid, wraps ErrMismatch. When a resumed download does not match,
// the bytes kept from before may be the ones at fault (a crash can leave
// a part with garbage at its end), so Fetch first downloads the whole blob
// once more and reports ErrMismatch only when that fails too.
//
// A download cut off returns an error of kind KindUnavailable and keeps
// the part for the next Fetch. A status of the server maps to a kind
// through httpapi.KindOfStatus (404: KindNotFound). Concurrent Fetches of
// one blob in this process take turns (Fetches from two processes on one
// folder are not coordinated). Fetch waits as long as ctx and client let
// it: the caller sets a deadline.
func (s *Store) Fetch(ctx context.Context, client *http.Client, url string, want dialogue.BlobRef) error {
	const op = "blob.Fetch"
	name := "sha256:" + Hex(want.SHA256)
	if want.Size < 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "blob %s: size %d is negative", name, want.Size)
	}
	if s.MaxSize > 0 && want.Size > s.MaxSize {
		return dialogue.Errorf(op, dialogue.KindTooLarge, "blob %s: its size, %d bytes, is over the limit of %d bytes", name, want.Size, s.MaxSize)
	}
	if client == nil {
		client = http.DefaultClient
	}
	unlock, err := s.lock(ctx, want.SHA256)
	if err != nil {
		return dialogue.E(op, dialogue.KindUnavailable, fmt.Errorf("blob %s: %w", name, err))
	}
	defer unlock()

	switch info, err := s.Stat(want.SHA256); {
	case err == nil && info.Size == want.Size:
		return nil
	case err == nil:
		return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("blob %s: %w: it is kept with %d bytes, the reference says %d", name, ErrMismatch, info.Size, want.Size))
	case dialogue.KindOf(err) != dialogue.KindNotFound:
		return dialogue.E(op, dialogue.KindOf(err), err)
	}

	part := s.partPath(want.SHA256)
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return dialogue.E(op, kindOfFile(err), err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	d := &download{f: f, h: sha256.New(), want: want}
	if err := d.resume(); err != nil {
		return dialogue.E(op, dialogue.KindOther, fmt.Errorf("reading the partial download %s: %w", part, err))
	}

	retried := false // started over once already
	for {
		var err error
		if d.have < want.Size {
			err = d.get(ctx, client, url)
		}
		if err == nil {
			err = d.check()
		}
		switch {
		case err == nil:
		case (errors.Is(err, errRestart) || errors.Is(err, ErrMismatch) && d.fromPart) && !retried:
			retried = true
			if err := d.reset(); err != nil {
				return dialogue.E(op, dialogue.KindOther, err)
			}
			continue
		case errors.Is(err, ErrMismatch):
			f.Close()
			f = nil
			os.Remove(part)
			return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("blob %s from %s: %w", name, url, err))
		case errors.Is(err, errRestart):
			return dialogue.E(op, dialogue.KindUnavailable, fmt.Errorf("blob %s from %s: %w", name, url, err))
		default:
			return dialogue.E(op, dialogue.KindOf(err), fmt.Errorf("blob %s from %s: %w", name, url, err))
		}
		break
	}

	if err := f.Sync(); err != nil {
		return dialogue.E(op, kindOfFile(err), err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return dialogue.E(op, kindOfFile(err), err)
	}
	f = nil
	if err := s.install(part, want.SHA256); err != nil {
		return dialogue.E(op, kindOfFile(err), err)
	}
	return nil
}

// download is one blob's partial file and the hash of its bytes so far.
type download struct {
	f    *os.File
	h    hash.Hash
	want dialogue.BlobRef
	have int64 // bytes in f, all of them in h
	// fromPart is true while some of the bytes come from a part left by
	// an earlier Fetch rather than from this one's requests.
	fromPart bool
}

// resume hashes what the part holds already (dropping a part longer than
// the blob).
func (d *download) resume() error {
	fi, err := d.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > d.want.Size {
		return d.reset()
	}
	n, err := io.Copy(d.h, d.f)
	if err != nil {
		return err
	}
	d.have = n
	d.fromPart = n > 0
	return nil
}

// reset empties the part.
func (d *download) reset() error {
	if err := d.f.Truncate(0); err != nil {
		return err
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	d.h.Reset()
	d.have = 0
	d.fromPart = false
	return nil
}

// check compares the part with the blob wanted.
func (d *download) check() error {
	if d.have != d.want.Size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrMismatch, d.have, d.want.Size)
	}
	var got [32]byte
	d.h.Sum(got[:0])
	if got != d.want.SHA256 {
		return fmt.Errorf("%w: got sha256:%s", ErrMismatch, Hex(got))
	}
	return nil
}

// get makes one request for the bytes from d.have on and appends them.
func (d *download) get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return dialogue.E("", dialogue.KindInvalid, fmt.Errorf("the URL: %w", err))
	}
	from := d.have
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
		req.Header.Set("If-Range", ETag(d.want.SHA256))
	}
	resp, err := client.Do(req)
	if err != nil {
		return dialogue.E("", dialogue.KindUnavailable, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if from > 0 {
			if err := d.reset(); err != nil {
				return err
			}
			from = 0
		}
	case http.StatusPartialContent:
		if from == 0 {
			return fmt.Errorf("%w: it answered 206 to a request for the whole blob", errRestart)
		}
		start, _, total, err := ParseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return fmt.Errorf("%w: %w", errRestart, err)
		}
		if start != from {
			return fmt.Errorf("%w: it sent the bytes from %d, asked from %d", errRestart, start, from)
		}
		if total >= 0 && total != d.want.Size {
			return fmt.Errorf("%w: the server's blob has %d bytes, want %d", ErrMismatch, total, d.want.Size)
		}
	case http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: it answered 416 to the range from byte %d", errRestart, from)
	default:
		return dialogue.Errorf("", httpapi.KindOfStatus(resp.StatusCode), "the server answered %s", resp.Status)
	}
	rest := d.want.Size - from
	if resp.ContentLength >= 0 && resp.ContentLength != rest {
		return fmt.Errorf("%w: the server sends %d bytes from byte %d, want %d", ErrMismatch, resp.ContentLength, from, rest)
	}
	w := &appender{d: d}
	_, err = io.CopyBuffer(w, io.LimitReader(resp.Body, rest+1), make([]byte, copyBuffer))
	switch {
	case w.err != nil:
		return dialogue.E("", kindOfFile(w.err), fmt.Errorf("writing the partial download: %w", w.err))
	case err != nil:
		return dialogue.E("", dialogue.KindUnavailable, fmt.Errorf("the download stopped after %d of %d bytes (the next fetch resumes): %w", d.have, d.want.Size, err))
	case d.have > d.want.Size:
		return fmt.Errorf("%w: the server sent more than %d bytes", ErrMismatch, d.want.Size)
	}
	return nil
}

// appender writes to the part and the hash, counting, and keeps its own
// error apart from the network's.
type appender struct {
	d   *download
	err error
}

func (a *appender) Write(p []byte) (int, error) {
	n, err := a.d.f.Write(p)
	a.d.h.Write(p[:n])
	a.d.have += int64(n)
	if err != nil {
		a.err = err
	}
	return n, err
}

// ParseContentRange parses the Content-Range header of a 206 response:
// "bytes START-END/TOTAL", where TOTAL may be "*" (returned as -1). The
// error names the header and the reason.
func ParseContentRange(s string) (start, end, total int64, err error) {
	bad := func(format string, args ...any) (int64, int64, int64, error) {
		return 0, 0, 0, fmt.Errorf("Content-Range %q: %s", clip(s), fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return bad(`want the unit "bytes " first`)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return bad(`no "/" before the total length`)
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return bad(`want FIRST-LAST before "/"`)
	}
	if start, ok = digits(a); !ok {
		return bad("the first byte %q is not a decimal number", clip(a))
	}
	if end, ok = digits(b); !ok {
		return bad("the last byte %q is not a decimal number", clip(b))
	}
	if end < start {
		return bad("the last byte %d is before the first %d", end, start)
	}
	if tot == "*" {
		return start, end, -1, nil
	}
	if total, ok = digits(tot); !ok {
		return bad(`the total length %q is not a decimal number or "*"`, clip(tot))
	}
	if end >= total {
		return bad("the last byte %d is not before the total length %d", end, total)
	}
	return start, end, total, nil
}

// digits parses a non-negative decimal number without sign or spaces.
func digits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
